"""What a message is about, in words that bridge a complaint and a notice.

A client writes "nos dejaron sin correo toda la noche"; the notice that answers
it said "ventana de mantenimiento programado del servidor de correo", perhaps in
another language. The two share almost no words, but they share subjects: the
mail service, and an interruption of it. Each topic below is one such subject,
matched in Spanish, Portuguese and English on folded text (lower case, no
accents); a complaint and a notice are compared by the topics they share.

Topics are deliberately about the thing and the event, not the client's mood:
the effect a client sees ("caído", "down", "no funciona") and the cause a notice
announces ("mantenimiento", "migração", "upgrade") are one topic.

Besides topics, a few *marks* say what kind of message a notice is: marketing,
a receipt for a paid invoice (or word that a payment failed), or a change to an
earlier notice (rescheduled, cancelled, corrected, replaced), which makes the earlier
one stale; ``version_of`` and ``is_offer`` read the version and the offer a subject
names, for a new version of a proposal.
"""

from __future__ import annotations

import re

from triage.concepts import lexicon_counts, lexicon_pattern

TOPICS: dict[str, tuple[str, ...]] = {
    "mail": (
        r"correos?\b", r"e-?mails?\b", r"mails?\b", r"buzon", r"caixas? (de )?(correio|e-?mail"
        r"|entrada|postal)", r"mailbox", r"webmail", r"outlook", r"mx\d*\b", r"smtp", r"imap",
        r"pop3?\b", r"rebot", r"devuelt", r"bounc", r"spam", r"bandeja de entrada", r"inbox",
        r"correio eletronico", r"mensajes? (no )?(llega|entra|sal)", r"mensagens?",
    ),
    # Space: a mailbox or a disk that fills up, which turns into bounced mail.
    "storage": (
        r"quota", r"cuota de (espacio|almacenamiento|correo|buzon)", r"capacidad", r"capacidade",
        r"espacio\b", r"espaco\b", r"storage", r"almacenamiento", r"armazenamento", r"disco",
        r"disk\b", r"llen[oa]\b", r"chei[oa]\b", r"\bfull\b", r"\d+ ?[gm]b\b", r"ocupad",
        r"lotad", r"limite de (espacio|espaco|almacenamiento)",
    ),
    "web": (
        r"web\b", r"sitio", r"paginas?\b", r"site\b", r"sites\b", r"website", r"tienda",
        r"loja", r"shop", r"store\b", r"e-?commerce", r"wordpress", r"woocommerce",
        r"shopify", r"plugins?", r"tema\b", r"theme", r"landing", r"checkout", r"carrito",
        r"carrinho", r"\bcart\b", r"hosting", r"hospedaje", r"alojamiento", r"hospedagem",
        r"alojamento", r"formulario", r"form\b", r"pedidos", r"encomendas", r"orders",
    ),
    "interruption": (
        r"mantenimiento", r"manutenc", r"maintenance", r"ventana", r"janela", r"window",
        r"migra", r"actualiza", r"atualiza", r"update", r"upgrade", r"reinici", r"reboot",
        r"restart", r"interrump", r"interrup", r"downtime", r"parada", r"cortes?\b", r"cortad",
        r"caid[oa]", r"se cayo", r"caiu", r"fora do ar", r"down\b", r"outage", r"offline",
        r"fuera de (servicio|linea)", r"sin (servicio|correo|web|pagina|acceso|sistema)",
        r"sem (servico|email|e-mail|site|acesso|sistema)", r"no (funciona|carga|anda|abre|llega"
        r"|llegan|entra|entran)", r"nao (funciona|carrega|abre|chega|chegam|entra|entram)",
        r"not working", r"stopped working", r"unavailable", r"indisponib", r"inaccesib",
        r"intermiten", r"lento|lentitud|slow", r"apagon|blackout", r"cambio de servidor",
        r"troca de servidor", r"nuevo hardware|novo hardware|new hardware", r"trabajos",
        r"trabalhos", r"works\b", r"sin correo", r"without (email|mail|access|service)",
    ),
    "domain": (
        r"dns", r"dominios?\b", r"domains?\b", r"registrador", r"registrar", r"registros",
        r"records?\b", r"spf", r"dkim", r"dmarc", r"nameservers?", r"servidores de nombres",
        r"zona\b", r"zone\b", r"propagac", r"propagat", r"caduc", r"expir", r"renovacion del"
        r" dominio", r"renovacao do dominio", r"ssl", r"certificad", r"certificate", r"https",
    ),
    "access": (
        r"contrasenas?", r"senhas?", r"passwords?", r"claves?\b", r"acceso", r"acesso",
        r"access\b", r"login", r"log in", r"iniciar sesion", r"usuarios?\b", r"usernames?",
        r"autentica", r"authenticat", r"2fa", r"mfa", r"doble factor", r"dois fatores",
        r"two-factor", r"verificacion en dos", r"bloqueo de cuenta", r"locked out",
        r"credencial", r"credential", r"vpn",
    ),
    "data": (
        r"copias? de seguridad", r"backups?", r"respaldo", r"restaur", r"restor", r"recuper",
        r"retencion", r"retencao", r"retention", r"archivos", r"arquivos", r"files\b",
        r"datos\b", r"dados\b", r"\bdata\b", r"borrad", r"apagad", r"deleted", r"perdid",
        r"perdemos|perdimos|lost\b", r"nube|nuvem|cloud",
    ),
    "devices": (
        r"impresora", r"impressora", r"printer", r"router", r"wi-?fi", r"red\b", r"rede\b",
        r"network", r"firewall", r"switch", r"servidor", r"server", r"ordenador",
        r"computador", r"pcs?\b", r"portatil", r"notebook", r"laptop", r"camaras?\b",
        r"cameras?\b", r"cctv", r"telefon", r"centralita", r"voip", r"equipos", r"equipamentos",
        r"antivirus", r"windows", r"office 365|microsoft 365|m365", r"licencia", r"licenca",
        r"licen[cs]e",
    ),
    "billing": (
        r"facturas?\b", r"facturacion", r"faturas?\b", r"faturacao", r"faturamento",
        r"invoices?", r"invoiced", r"boletos?", r"recibos?", r"nf\b", r"nfs?-?e", r"nota fiscal",
        r"cobr", r"pagos?\b", r"pagar", r"pagad", r"pagamentos?", r"payments?", r"pay\b",
        r"paid\b", r"abono", r"cuota", r"mensualidad", r"mensalidade", r"honorarios",
        r"fees?\b", r"importe", r"monto", r"montante", r"amount", r"transferencia",
        r"transfer", r"pix\b", r"domicilia", r"debito", r"debit", r"cargo", r"charge",
        r"bill\b", r"billing", r"saldo", r"balance", r"deuda", r"divida", r"debt", r"tarjeta",
        r"cartao", r"card\b", r"iva\b", r"vat\b", r"\d+[.,]\d{2} ?(€|eur)", r"r\$", r"us\$",
        r"reais", r"pesos", r"euros", r"dolares", r"dollars", r"pounds", r"rupees",
    ),
    "overdue": (
        r"vencid", r"vencimiento", r"vencimento", r"vence\b", r"vencer", r"overdue",
        r"pendiente", r"pendente", r"em aberto", r"outstanding", r"atrasad", r"atraso",
        r"retraso", r"late (payment|fee)", r"recordatorio", r"lembrete", r"reminder",
        r"intimaci", r"impago", r"unpaid", r"due\b", r"plazo de pago", r"prazo de pagamento",
        r"fecha limite", r"data limite", r"\d\.?o? aviso", r"(second|final|last) notice",
        r"ultimo aviso", r"segundo aviso",
    ),
    "suspension": (
        r"suspend", r"suspens", r"suspenso", r"bloque", r"bloqueio", r"desactiv", r"desativ",
        r"deactivat", r"disabled", r"reactiv", r"reativ", r"religa", r"reconect", r"reconnect",
        r"restablec", r"restabelec", r"reinstat", r"liberar", r"liberac", r"libera\b",
        r"desbloque", r"unblock", r"cortar (el|o) servicio", r"cut off", r"turn(ed)? off",
        r"switch(ed)? off", r"service back", r"de vuelta", r"de volta", r"back online",
        r"vuelva a funcionar", r"volte a funcionar",
    ),
    "agreement": (
        r"propuesta", r"proposta", r"proposal", r"presupuesto", r"orcamento", r"cotizac",
        r"cotacao", r"quot(e|ation)", r"estimate", r"contrat", r"contract", r"alcance",
        r"escopo", r"scope", r"condiciones", r"condicoes", r"terms\b", r"plan\b", r"planes",
        r"plano\b", r"planos", r"paquete", r"pacote", r"package", r"poliza", r"avenca",
        r"compromiso", r"compromisso", r"engagement letter", r"incluid", r"inclui", r"includ",
        r"excluid", r"exclui", r"exclud", r"aparte", r"a parte", r"por separado",
        r"separately", r"adicional", r"additional", r"extras?\b", r"horas? (extra|adicional)",
        r"hourly", r"por hora", r"revision", r"revisao", r"revisoes", r"rondas?\b",
        r"rodadas?", r"rounds?\b", r"cambios", r"alteracoes", r"changes\b", r"acordad",
        r"combinad", r"agreed", r"aceptad", r"aprovad", r"approved", r"accepted",
        r"mantenimiento mensual", r"retainer", r"sla\b", r"tarifa", r"tariff", r"rate\b",
    ),
    "deadline": (
        r"entrega", r"delivery", r"deliver", r"plazo", r"prazo", r"deadline", r"urgen",
        r"rush", r"express", r"24 ?h", r"48 ?h", r"manana", r"amanha", r"tomorrow",
        r"dias habiles", r"dias uteis", r"working days", r"business days", r"cronograma",
        r"calendario del proyecto", r"timeline", r"schedule", r"fecha de (entrega|lanzamiento)",
        r"data de (entrega|lancamento)", r"lanzamiento", r"lancamento", r"launch", r"go-?live",
        r"hasta el \d", r"ate (o dia|dia) \d", r"by \w+day", r"documentos?", r"documents?",
        r"cierre|fechamento|cut-?off", r"recepcion de", r"recebimento", r"received your",
    ),
    "hours": (
        r"fin(es)? de semana", r"fim de semana", r"weekends?", r"sabado", r"domingo",
        r"saturday", r"sunday", r"feriado", r"festivo", r"holiday", r"madrugada",
        r"noche", r"nocturn", r"night", r"overnight", r"after hours", r"out of hours",
        r"fuera de horario", r"fora do horario", r"horario", r"business hours",
        r"office hours", r"24/?7", r"guardia", r"plantao", r"on-?call", r"urgencias",
        r"emergenc", r"atencion", r"atendimento",
    ),
    "move": (
        r"mudanza", r"mudanca", r"traslado", r"cambio de oficina", r"office move",
        r"relocat", r"nueva oficina", r"nova sede", r"novo escritorio", r"new office",
        r"moving\b", r"instalacion", r"instalacao", r"installation", r"install", r"cableado",
        r"cabeamento", r"cabling", r"puestos", r"postos de trabalho", r"workstations",
    ),
    "price": (
        r"aumento", r"reajuste", r"subida", r"increase", r"nueva tarifa", r"nova tabela",
        r"new pric", r"precios?", r"precos?", r"prices?", r"pricing", r"valor(es)?\b",
        r"ipc|ipca|inflac|inflat|indexac",
    ),
    "content": (
        r"redes sociales", r"redes sociais", r"social media", r"instagram", r"facebook",
        r"tiktok", r"linkedin", r"posts?\b", r"publicaciones", r"publicacoes", r"contenidos?",
        r"conteudos?", r"content\b", r"blog", r"articulos", r"artigos", r"articles", r"copy\b",
        r"textos", r"texts\b", r"fotos", r"photos", r"imagenes", r"imagens", r"images",
        r"videos?", r"reels", r"stories", r"newsletter mensual", r"email marketing",
    ),
    "seo": (
        r"seo\b", r"posicionamiento", r"posicionamento", r"ranking", r"google", r"ads\b",
        r"adwords", r"campan", r"campaign", r"trafico", r"trafego", r"traffic",
        r"keywords", r"palabras clave", r"palavras-chave", r"search console", r"analytics",
        r"backlinks?", r"enlaces", r"visitas", r"visits",
    ),
    "translation": (
        r"traduc", r"translat", r"palabras", r"palavras", r"words\b", r"idiomas?", r"language",
        r"ingles", r"english", r"frances", r"french", r"aleman", r"german", r"portugues",
        r"espanol", r"spanish", r"jurad", r"juramentad", r"sworn", r"certified", r"apostill",
        r"revisor", r"proofread", r"interpret", r"legendas|subtitul|subtitles",
    ),
    "accounting": (
        r"impuestos?", r"impostos?", r"tax(es)?\b", r"iva\b", r"vat\b", r"irpf", r"irs\b",
        r"ganancias", r"declaraci", r"declarac", r"returns?\b", r"modelo \d+", r"nomina",
        r"folha de pagamento", r"payroll", r"sueldos", r"salarios", r"contabil", r"bookkeep",
        r"accounts\b", r"cierre contable", r"trimestr", r"quarter", r"afip|sat\b|hacienda|"
        r"receita federal|financas|hmrc|gst\b", r"esocial|seguridad social|seguranca social",
        r"balance sheet|balanco|balance general", r"auditor", r"conciliac|reconcil",
        r"facturas de (compra|proveedores|gastos)", r"recibos de gastos|expenses|gastos",
    ),
    "design": (
        r"logo", r"logotipo", r"diseno", r"design", r"identidad", r"identidade", r"marca\b",
        r"branding", r"brand\b", r"folleto", r"flyer", r"banner", r"tarjetas", r"cartoes",
        r"business cards", r"mockup", r"maqueta", r"layout", r"boceto", r"esboco", r"sketch",
        r"ilustrac", r"illustrat", r"tipografia", r"typograph", r"paleta", r"palette",
        r"impresion|impressao|print\b", r"packaging|embalagem|etiqueta|label",
    ),
    "software": (
        r"app\b", r"apps\b", r"aplicacion", r"aplicativo", r"application", r"software",
        r"sistema", r"system\b", r"erp\b", r"crm\b", r"bugs?\b", r"errores", r"erros\b",
        r"errors\b", r"version", r"versao", r"release", r"android", r"ios\b", r"api\b",
        r"integraci", r"integrac", r"integrat", r"funcionalidad", r"funcionalidade",
        r"feature", r"modulo", r"module", r"desarroll", r"desenvolv", r"develop",
    ),
}

# Marks: not what a notice is about, but what kind of notice it is.
MARKS: dict[str, tuple[str, ...]] = {
    "marketing": (
        r"novedades", r"novidades?", r"newsletter", r"boletin", r"promo", r"oferta",
        r"descuento", r"desconto", r"discount", r"black friday", r"hot sale", r"cyber",
        r"dicas", r"consejos", r"tips\b", r"webinar", r"nuevos planes", r"novos planos",
        r"new plans", r"lanzamos", r"lancamos", r"we've launched", r"we launched",
        r"te presentamos", r"apresentamos", r"introducing", r"sorteo", r"sorteio",
        r"giveaway", r"gratis por tiempo|gratis durante", r"cupon|cupom|coupon",
        r"darse de baja|descadastr|unsubscribe", r"calendario (fiscal|tributario)",
        r"obrigacoes fiscais de", r"vencimientos de \w+:", r"what'?s new", r"que hay de nuevo",
    ),
    "paid": (
        r"pago recibido", r"hemos recibido (su|tu) pago", r"pagamento (confirmado|recebido)",
        r"recebemos (o seu|seu) pagamento", r"payment (received|confirmed|confirmation)",
        r"thank you for your payment", r"gracias por (su|tu) pago", r"obrigad[oa] pelo pagamento",
        r"recibo de pago", r"receipt for", r"recibo\b", r"paid in full", r"quitad",
    ),
    # What says a payment did not happen. It outweighs "paid" in the same lines: in
    # Spain a "recibo" is also the direct debit ("recibo devuelto", "recibo pendiente").
    "unpaid": (
        r"devuelt", r"devolvi", r"devolvid", r"devolt", r"impagad", r"rechazad", r"recusad",
        r"fallid",
        r"no pagad", r"nao pag", r"failed", r"declined", r"bounced", r"returned",
        r"overdue", r"vencid", r"em atraso", r"unpaid", r"pendiente", r"pendente",
    ),
    # Read in the subject only: in a body "reemplazaremos el concentrador", "corrección
    # de una vulnerabilidad" or "la factura queda cancelada" (paid, in much of Latin
    # America) change no earlier notice.
    "change": (
        r"reprogram", r"aplaz", r"pospuest", r"posterg", r"nueva fecha", r"cambio de fecha",
        r"adiad", r"remarcad", r"reagend", r"nova data", r"alteracao de data", r"reschedul",
        r"postpon", r"(?:has been|have been|was|is) moved to",
        r"moved to (?:mon|tue|wed|thu|fri|sat|sun|next|the \d|\d)", r"new date",
        # Cancelled, not "will be cancelled on May 14" (a warning, not a change).
        r"(?<!will be )(?<!sera )(?<!serao )(?<!seran )(?:cancelad|cancelled|canceled|anulad)",
        r"correcc", r"correcao", r"corrigid", r"correct(ed|ion)", r"rectific", r"retific",
        r"reissued", r"reemitid", r"reemissao", r"replaces", r"supersed",
        r"(?:reemplaza|sustituye|substitui) (?:a |al |o )?(?:la |el |a |o )?anterior",
        r"(propuesta|proposta|proposal|presupuesto|orcamento|cotizacion|quote"
        r"|estimate|contrato|contract) (actualizad|atualizad|revisad|corregid|corrigid|updated"
        r"|revised|corrected)", r"(updated|revised|corrected) (proposal|quote|estimate|invoice"
        r"|contract|schedule|date)",
    ),
    # Read in the opening lines: the notice says outright that it replaces another.
    "replaces": (
        r"replaces", r"supersed", r"queda sin efecto", r"fica sem efeito",
        r"ignore (the|our) (previous|earlier)", r"(?:reemplaza|sustituye|substitui)"
        r" (?:a |al |o )?(?:la |el |a |o )?(?:anterior|factura|fatura|propuesta|proposta"
        r"|presupuesto|orcamento|aviso)",
        r"(?:has|have) been (?:rescheduled|postponed|moved to)",
        r"(?:ha|han) sido (?:reprogramad|aplazad|pospuest|posterg)",
        r"(?:foi|foram) (?:adiad|remarcad|reagendad)",
    ),
}

# An offer, from its subject: a proposal, a quote, a contract (and, with the "scope"
# type below, a statement of work): what a new version of the same offer replaces.
_OFFER_WORDS = (
    r"propuesta", r"proposta", r"proposal", r"presupuesto", r"orcamento", r"cotizac",
    r"cotacao", r"quot(e|ation)", r"estimate", r"contrat", r"contract",
)

# What a notice is, from its subject (and sender): the kind of proof it can be.
NOTICE_TYPES: dict[str, tuple[str, ...]] = {
    # A subject about what is included: an agreement even when it names fees
    # ("Honorarios 2026: alcance del servicio"). First, so that it is seen.
    "scope": (r"alcance", r"escopo", r"scope", r"statement of work", r"sow\b"),
    "billing": (
        r"facturas?\b", r"faturas?\b", r"invoices?", r"boletos?", r"recibos?", r"receipts?",
        r"nf\b", r"nfs?-?e", r"nota fiscal", r"cfdi", r"cobr", r"pagos?\b", r"pagamentos?",
        r"payments?", r"vencid", r"vencimiento", r"vencimento", r"overdue", r"recordatorio de"
        r" pago", r"aviso de (atraso|cobro|pago|suspens)", r"suspens", r"suspend", r"impago",
        r"unpaid", r"statement(?! of work)", r"estado de cuenta", r"extracto", r"saldo",
        r"honorarios",
        r"cuota", r"mensalidade", r"renovac", r"renewal", r"cargo", r"charge", r"reembolso",
        r"refund",
    ),
    "announcement": (
        r"mantenimiento", r"manutenc", r"maintenance", r"aviso\b", r"avisos\b", r"notice",
        r"important", r"comunicado", r"announcement", r"migra", r"actualizac", r"atualizac",
        r"update", r"upgrade", r"cambios? (en|de|no|na|em)", r"mudancas?", r"changes? to",
        r"nueva politica", r"nova politica", r"new policy", r"politica", r"policy", r"alerta",
        r"alert", r"interrup", r"corte", r"ventana", r"janela", r"window", r"programad",
        r"scheduled", r"reprogram", r"reagend", r"reschedul", r"horario", r"hours\b",
        r"feriado", r"festivo", r"holiday", r"recordatorio", r"lembrete", r"reminder",
        r"incidencia", r"incidente", r"incident", r"status", r"estado del servicio",
        # Advice and reports: "we checked your DNS, the MX records are missing".
        r"informe", r"relatorio", r"reports?\b", r"revision", r"revisao", r"diagnostic",
        r"recomendac", r"recommend", r"atencion", r"atencao", r"attention",
        r"accion requerida", r"acao necessaria", r"action required",
        # Warnings: a full mailbox, a quota, a domain or certificate about to expire.
        r"full\b", r"llen[oa]", r"chei[ao]", r"quota", r"limite", r"limit\b", r"warning",
        r"advertencia", r"expir", r"caduc",
        # Requests: "documents needed for your BAS", "necesitamos los accesos".
        r"needed\b", r"required\b", r"necesitamos", r"precisamos", r"pendiente", r"pendente",
        r"pending", r"waiting (on|for)", r"solicitud de", r"solicitacao de",
    ),
    "agreement": (
        *_OFFER_WORDS, r"condiciones",
        r"condicoes", r"terms\b", r"plan\b", r"plano\b",
        r"paquete", r"pacote", r"package", r"poliza", r"avenca", r"carta de compromis",
        r"engagement", r"acuerdo", r"acordo", r"agreement",
        r"resumen", r"resumo", r"summary", r"confirmac", r"confirmat", r"entrega", r"delivery",
        r"cronograma", r"timeline", r"brief", r"briefing",
    ),
}

OFFERS: tuple[str, ...] = (*_OFFER_WORDS, *NOTICE_TYPES["scope"])

# The version a subject names: "v2", "versión 3", "versão final", "first version".
_VERSION = re.compile(
    r"\b(?:v|version|versao) ?(?P<number>\d{1,2})\b"
    r"|\b(?P<final>final) (?:version|versao)\b|\b(?:version|versao) (?P<final2>final)\b"
    r"|\b(?P<first>first|primera|primeira) (?:version|versao)\b"
    r"|\b(?P<new>new|nueva|nova|second|segunda) (?:version|versao)\b")
FINAL_VERSION = 99

_TOPICS = lexicon_pattern(TOPICS)
_TYPES = lexicon_pattern(NOTICE_TYPES)
_MARKS = lexicon_pattern(MARKS)
_OFFERS = re.compile(r"\b(?:" + "|".join(OFFERS) + ")")


def topics(folded: str) -> dict[str, int]:
    """How often each topic occurs in folded text."""
    return lexicon_counts(_TOPICS, folded)


def notice_types(folded_subject: str) -> set[str]:
    """What kind of notice a subject line announces (billing, announcement, agreement)."""
    return set(lexicon_counts(_TYPES, folded_subject))


def marks(folded: str) -> set[str]:
    """Which kind marks folded text carries."""
    return set(lexicon_counts(_MARKS, folded))


def is_offer(folded_subject: str) -> bool:
    """Whether a subject line names an offer: a proposal, a quote, a statement of work."""
    return _OFFERS.search(folded_subject) is not None


def version_of(folded_subject: str) -> int:
    """The highest version a subject line names: 0 for none, ``FINAL_VERSION`` for
    "final", 1 for "first version", 2 for "new version" or "second version"."""
    found = 0
    for match in _VERSION.finditer(folded_subject):
        if match["number"]:
            found = max(found, int(match["number"]))
        elif match["final"] or match["final2"]:
            found = FINAL_VERSION
        else:
            found = max(found, 1 if match["first"] else 2)
    return found
