"""Cross-language concepts: the same idea in Spanish, Portuguese and English.

The corpus has a few hundred examples per category and language, so a cue the
model learns in one language ("nadie nos avisó") does not help it in another
("ninguém avisou", "nobody told us"). Each concept below matches those phrasings
in the three languages, on folded text (lower case, no accents, so missing
accents match too), and becomes one token the model sees in every language.
"""

from __future__ import annotations

import re

CONCEPTS: dict[str, tuple[str, ...]] = {
    "not_told": (
        r"nadie (nos |me )?(aviso|avisaron|informo|dijo|comunico)",
        r"no (nos |me )?(avisaron|avisasteis|avisaste|informaron|notificaron|dijeron nada)",
        r"sin (ningun |previo |ningun tipo de )?aviso", r"ningun (aviso|correo|mail|email)",
        r"nunca (nos |me )?(avisaron|dijeron|informaron|llego)",
        r"ninguem (nos |me )?(avisou|informou|comunicou|falou)",
        r"nao (fomos|fui|foram) (avisad|informad|notificad|comunicad)",
        r"nao (nos |me )?(avisaram|informaram|comunicaram|falaram)",
        r"sem (nenhum |qualquer |aviso )?(aviso|comunicado|notificacao)",
        r"(nobody|no one|noone|no-one) (told|warned|informed|notified|said)",
        r"without (any )?(warning|notice|heads up)", r"never (told|informed|warned|notified)",
        r"(weren't|were not|wasn't|was not|never got|didn't get|did not get) (told|informed|"
        r"warned|notified|any notice|any warning|any email)", r"no (prior )?(warning|notice)",
    ),
    "claim_fixed": (
        r"(dijiste|dijeron|dijo|habias dicho|habian dicho|aseguraron|me aseguraste) que (ya )?"
        r"(estaba|quedo|quedaba|lo habian|habian|habias)",
        r"supuestamente (ya )?(arreglad|solucionad|resuelt|estaba)", r"(otra vez|de nuevo) (el|la)",
        r"(disseram|falaram|garantiram|voce disse) que (ja )?(estava|tinha|tinham|ia)",
        r"supostamente (ja )?(resolvid|arrumad|consertad|corrigid)",
        r"you (said|told me|told us|promised|assured)", r"(supposedly|apparently) (fixed|sorted)",
        r"was supposed to (be|have)", r"(back|again) (again|already)",
    ),
    "blame": (
        r"culpa", r"responsabilidad", r"responsable", r"responsabilidade", r"responsaveis?",
        r"your fault", r"responsib", r"blame", r"negligen", r"(su|vuestro|seu|your) (error|erro|"
        r"mistake|problema|problem)",
    ),
    "scam": (
        r"estafa", r"fraude", r"golpe", r"\bscam", r"fraud", r"\brobo\b", r"roubo", r"ladron",
        r"ladroes", r"thie(f|ves)", r"rip.?off", r"cheat", r"enganar|enganad|engano",
        r"tomar el pelo", r"sacaneando|sacanagem",
    ),
    "outage": (
        r"caid[oa]s?\b", r"se cayo", r"no (funciona|carga|anda|abre|entra|llega|llegan)",
        r"fuera de (servicio|linea)", r"sin (servicio|correo|web|pagina|sistema|internet|acceso)",
        r"caiu|fora do ar|nao (funciona|carrega|abre|entra|chega|chegam)|parou|travou",
        r"sem (acesso|email|e-mail|site|sistema)", r"\bdown\b", r"outage", r"not working",
        r"\boffline\b", r"error (500|502|503|404)|erro (500|502|503|404)|\b50[0234]\b",
        r"(can't|cannot|can not|unable to) (access|log|send|receive|open)", r"stopped working",
        r"broken", r"\bbounc", r"rebot|rechaz|rejeit|rejected",
    ),
    "provider_cause": (
        r"(desde|despues de|tras|luego de) (la|su|vuestra|tu|el) (actualizacion|migracion|cambio"
        r"|mantenimiento|update)", r"(rompieron|rompisteis|borraron|borrasteis|cambiaron|"
        r"tocaron|desconfiguraron)", r"depois (da|do) (atualizacao|migracao|mudanca|manutencao"
        r"|update)", r"(quebraram|apagaram|mudaram|mexeram|desconfiguraram)",
        r"after (your|the) (update|migration|change|changes|maintenance|upgrade|move)",
        r"you (broke|changed|deleted|removed|updated|migrated|moved)", r"since you",
        r"(cobraron|cobrado|cobraram|cobrada|cobrou|charged|billed) (dos veces|doble|duas vezes|"
        r"em dobro|twice|double)", r"(double|duplicate|duplicated) (charge|invoice|billing)",
        r"(factura|fatura|invoice) (equivocada|incorrecta|errada|wrong|duplicad)",
        r"overcharg", r"(perdieron|perdimos|se perdieron|perderam|perdemos|lost) (los |os |all |"
        r"our |todos )?(correos|mails|emails|e-mails|datos|dados|data|archivos|arquivos|files)",
        r"(plazo|prazo|deadline) (vencid|perdid|incumplid|missed|passed)",
        r"missed (the )?deadline",
        r"(no|nao|not) (entregaron|entregaram|delivered)",
    ),
    "pay_later": (
        r"(te|le|les|os|lhe|lhes) (pago|pagare|pagamos|transfiero|deposito)",
        r"(pagare|pagaremos|pagamos|pago|vou pagar|vamos pagar|pagarei|pagaremos|i'll pay|"
        r"i will pay|we'll pay|we will pay|can pay|will settle|pay (you )?(next|on|by|when|after"
        r"|at the end))", r"(semana|mes|quincena) que (viene|vem)", r"proxim[ao] (semana|mes)",
        r"next (week|month|friday|monday)", r"(el|na|on) (lunes|segunda|monday|viernes|sexta|"
        r"friday)", r"fin de mes|final do mes|end of (the )?month|dia do pagamento|payday",
        r"viaj|travel|de vacaciones|de ferias|on holiday", r"banco|bank", r"sueldo|salario|salary",
        r"(no|nao|haven't|have not|hasn't) (me |nos )?(han |ha |tem |foi )?(pagado|pago|paid)",
        r"(plazo|prazo|extension|extend|mas tiempo|mais tempo|more time|parcel|cuotas|installment)",
        r"(when|once|as soon as) (i|we) (get paid|am paid|are paid|receive)",
        r"(cuando|en cuanto|apenas) (me|nos) (paguen|pague|depositen|cobre)",
        r"(quando|assim que) (eu |a gente )?(receber|me pagarem|cair o)",
        r"(until|till|by) the \d{1,2}(st|nd|rd|th)?", r"hasta el \d{1,2}", r"ate o dia \d{1,2}",
        r"give (me|us) (until|till|a few|some|more)", r"(dame|denme|deme) (hasta|unos|mas)",
        r"(me|nos) (da|de|dao) (ate|mais|uns)",
    ),
    "reactivate": (
        r"reactiv|reativ|religa|desbloque|unblock|restor|reconect|reconnect|turn (it )?back on",
        r"\blibera|\bliberar|\bliberem|\bliberen|switch (it )?back on|put (it )?back (up|online)",
        r"suspend|suspens|suspenso|bloquead|blocked|cortaron|cortado|cut off|cortaram",
        r"(vuelvan|volver) a (activar|encender|subir)",
    ),
    "receipt": (r"comprobante|recibo|comprovante|receipt|proof of payment|transfer confirmation"
                r"|captura de pantalla|screenshot|\bpix\b|boleto|transferencia|transfer|deposit",),
    "invoice": (r"factura|fatura|invoice|\bnf\b|nota fiscal|cobro|cobranca|billing|bill\b",),
    "extra": (
        r"ya que (estas|estan|estais|estan con)", r"de paso", r"aprovechando|aproveitando",
        r"ja que (voce|voces|vcs|vc) (esta|estao)", r"while you('re| are) (at it|there|in)",
        r"adicional|additional|\bextra\b|one more|otra cosa|mais uma|outra coisa",
        r"(cambiito|cosita|detallito|coisinha|rapidinho|rapidito|cosa rapida|coisa rapida|"
        r"quick (thing|change|favou?r)|small (change|thing|favou?r)|just a (small|quick))",
        r"gratis|sin costo|sin cargo|sin coste|de graca|sem custo|\bfree\b|no (extra )?charge|"
        r"without charg|cortesia|courtesy", r"(ya |ja |already )?(incluid|inclus|included)",
        r"24/?7|fin de semana|fim de semana|weekend|domingo|sunday|sabado|saturday|madrugada|"
        r"de noche|a noite|overnight", r"(para|by|ate|hasta) (manana|amanha|tomorrow|hoy|hoje|"
        r"today|tonight)", r"revision|ronda|rodada|round|version|versao|cambio|change|ajuste",
    ),
    "agreement": (
        r"presupuest|cotizacion|orcamento|\bquote\b|quotation|estimate|propuesta|proposta|"
        r"proposal|contrat|contract|alcance|escopo|scope|plan basico|plano basico|basic plan|"
        r"acordado|acordamos|combinado|combinamos|agreed|pacote|paquete|package",
    ),
    "thanks": (r"gracias|obrigad|thanks|thank you|agradezco|agradeco|appreciate|valeu|genial|"
               r"perfecto|perfeito|excelente|great job|well done",),
    "schedule": (r"reunion|reuniao|meeting|\bcall\b|llamada|ligacao|agenda|schedule|cita|"
                 r"horario|calendar|calendario|videollamada|zoom|meet\b|teams",),
}

def lexicon_pattern(lexicon: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    """One pass over folded text for a whole lexicon: an alternation of named
    groups, one per entry. Every entry starts at the start of a word, checked
    once per position before any alternative is tried; that keeps the pass fast
    and stops "culpa" matching inside "disculpa"."""
    return re.compile(r"\b(?=\w)(?:" + "|".join(
        f"(?P<{name}>" + "|".join(f"(?:{p})" for p in patterns) + ")"
        for name, patterns in lexicon.items()
    ) + ")")


def lexicon_counts(pattern: re.Pattern[str], folded: str) -> dict[str, int]:
    """How often each entry of a ``lexicon_pattern`` occurs in folded text."""
    counts: dict[str, int] = {}
    for match in pattern.finditer(folded):
        name = match.lastgroup or ""
        counts[name] = counts.get(name, 0) + 1
    return counts


_PATTERN = lexicon_pattern(CONCEPTS)


def concept_tokens(folded: str) -> list[str]:
    """One ``__name__`` token per concept occurrence in folded text (at most three
    each); question marks are counted directly."""
    counts = lexicon_counts(_PATTERN, folded)
    questions = folded.count("?")
    if questions:
        counts["question"] = questions
    return [f"__{name}__" for name, count in counts.items() for _ in range(min(3, count))]
