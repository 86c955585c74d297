"""Build the bundled demo mailbox (corpus/demo/mailbox) from the labelled corpus.

A small Spanish web agency, Ruiz & Costa Web (ruizcosta.example), with clients
writing in Spanish, Portuguese and English: INBOX holds their mail in every
format mail clients produce (plain, HTML-only, multipart, QP and base64, five
charsets), plus auto-replies, a newsletter, a bounce and a few broken messages;
Sent and Billing hold the agency's own notices. Deterministic: the same corpus
gives the same files.

Run: .venv/bin/python corpus/demo/build_demo.py
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests"))

from mailfactory import (  # noqa: E402
    CHARSETS,
    ENCODINGS,
    SHAPES,
    Email,
    render,
    special_emails,
    write_maildir,
)

AGENCY = ("Ana Ruiz", "ana@ruizcosta.example")
BILLING = ("Facturación Ruiz & Costa", "billing@ruizcosta.example")
CLIENT_COUNT = 260
SEED = 2026

NOTICES = {
    "es": [
        ("Mantenimiento programado del servidor de correo: sábado {day} de 22:00 a 02:00",
         "Hola,\n\nOs escribimos para avisar de que el sábado {day} de noviembre, entre las "
         "22:00 y las 02:00, haremos un mantenimiento programado del servidor de correo. "
         "Durante esa ventana el correo puede tardar en llegar o no estar disponible.\n\n"
         "No hace falta que hagáis nada. Si tenéis un envío importante esa noche, avisadnos."),
        ("Propuesta: rediseño de la web (alcance y precio)",
         "Hola,\n\nAdjuntamos la propuesta del rediseño: portada, cinco páginas interiores y "
         "formulario de contacto, con dos rondas de cambios incluidas. La tienda online y el "
         "blog quedan fuera de este alcance y se presupuestan aparte.\n\nPrecio: 2.400 € + IVA."),
    ],
    "pt": [
        ("Aviso de manutenção programada: sábado {day}, das 22h às 2h",
         "Olá,\n\nInformamos que no sábado, dia {day}, das 22h às 2h, faremos uma manutenção "
         "programada no servidor de hospedagem. Os sites podem ficar indisponíveis por alguns "
         "minutos nesse período.\n\nNão é necessária nenhuma ação da sua parte."),
        ("Proposta comercial: loja virtual",
         "Olá,\n\nSegue a proposta da loja virtual: até 50 produtos cadastrados, integração com "
         "PIX e boleto, e uma rodada de ajustes. Fotos dos produtos e textos ficam por conta do "
         "cliente.\n\nValor: R$ 6.500,00 em duas parcelas."),
    ],
    "en": [
        ("Scheduled maintenance: Saturday {day}, 10pm to 2am",
         "Hello,\n\nThis is to let you know that on Saturday {day} November, between 10pm and "
         "2am, we will carry out scheduled maintenance on the web server. Your site may be "
         "unavailable for short periods during that window.\n\nNo action is needed on your side."),
        ("Proposal: monthly SEO retainer",
         "Hello,\n\nPlease find our proposal for the SEO retainer: a monthly report, up to eight "
         "hours of on-page work and one strategy call. Content writing and paid ads are not "
         "included.\n\nPrice: £650 per month, invoiced on the 1st, payable within 15 days."),
    ],
}
REMINDERS = {
    "es": ("Recordatorio: factura {invoice} vence el {day} de noviembre",
           "Estimado cliente:\n\nLe recordamos que la factura {invoice} por importe de {amount} "
           "vence el {day} de noviembre. Puede pagarla por transferencia a la cuenta indicada "
           "en la factura.\n\nSi ya la ha pagado, ignore este mensaje."),
    "pt": ("Lembrete: fatura {invoice} vence dia {day}",
           "Prezado cliente,\n\nLembramos que a fatura {invoice}, no valor de {amount}, vence no "
           "dia {day}. O pagamento pode ser feito por PIX ou boleto.\n\nSe já pagou, "
           "desconsidere esta mensagem."),
    "en": ("Reminder: invoice {invoice} is due on {day} November",
           "Dear customer,\n\nThis is a reminder that invoice {invoice} for {amount} is due on "
           "{day} November. You can pay by bank transfer to the account on the invoice.\n\n"
           "If you have already paid, please ignore this message."),
}
AMOUNTS = {"es": "1.210,00 €", "pt": "R$ 890,00", "en": "£540.00"}


def load_corpus() -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for path in sorted((REPO / "corpus").glob("*.jsonl")) or sorted(
            (REPO / "corpus" / "parts").glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            records += [json.loads(line) for line in lines if line.strip()]
    if not records:
        raise SystemExit("no corpus found under corpus/: build it first")
    return records


def client_mail(records: list[dict[str, object]], rng: random.Random
                ) -> list[tuple[str, str, bytes, str]]:
    start = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    picked = rng.sample(records, min(CLIENT_COUNT, len(records)))
    items = []
    for n, record in enumerate(picked):
        lang = str(record["lang"])
        company = f"cliente{n % 60:02d}.example"
        sender = (f"Cliente {n % 60:02d}", f"contacto{n % 3}@{company}")
        mail = Email(
            lang=lang, sender=sender, to=[AGENCY], subject=str(record["subject"]),
            text=str(record["body"]), date=start + timedelta(minutes=53 * n + rng.randrange(40)),
            message_id=f"<demo{n:04d}.{record['id']}@{company}>", shape=rng.choice(SHAPES),
            charset=rng.choice(CHARSETS), encoding=rng.choice(ENCODINGS), provider=AGENCY)
        items.append((f"in{n:04d}", "INBOX", render(mail), company))
    return items


def provider_mail(companies: list[str], rng: random.Random) -> list[tuple[str, str, bytes]]:
    items = []
    start = datetime(2026, 10, 20, 17, 0, tzinfo=UTC)
    for n, company in enumerate(sorted(set(companies))[:40]):
        lang = ("es", "pt", "en")[n % 3]
        subject, body = NOTICES[lang][n % 2]
        when = start + timedelta(hours=19 * n)
        day = 7 + (n % 3) * 7
        mail = Email(lang=lang, sender=AGENCY, to=[("", f"contacto{n % 3}@{company}")],
                     subject=subject.format(day=day), text=body.format(day=day), date=when,
                     message_id=f"<notice{n:03d}@ruizcosta.example>", provider=AGENCY)
        items.append((f"sent{n:03d}", "Sent", render(mail)))
        r_subject, r_body = REMINDERS[lang]
        fields = {"invoice": f"FAC-2026-{410 + n:04d}", "day": day, "amount": AMOUNTS[lang]}
        reminder = Email(
            lang=lang, sender=BILLING, to=[("", f"contacto{n % 3}@{company}")],
            subject=r_subject.format(**fields), text=r_body.format(**fields),
            date=when + timedelta(days=2), message_id=f"<reminder{n:03d}@ruizcosta.example>",
            headers={"Auto-Submitted": "auto-generated"}, provider=AGENCY)
        items.append((f"bill{n:03d}", "Billing", render(reminder)))
    return items


def main() -> None:
    rng = random.Random(SEED)
    target = HERE / "mailbox"
    if target.exists():
        shutil.rmtree(target)
    clients = client_mail(load_corpus(), rng)
    items = [(name, folder, raw) for name, folder, raw, _ in clients]
    items += provider_mail([company for *_, company in clients], rng)
    items += [(name, expected.folder, raw.replace(b"agency.example", b"ruizcosta.example"))
              for name, raw, expected in special_emails(SEED)]
    write_maildir(target, items)
    for folder in ("", ".Sent", ".Billing", ".Drafts"):
        for sub in ("cur", "new", "tmp"):
            keep = target / folder / sub / ".gitkeep"
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.touch()
    print(f"{len(items)} messages written to {target}")


if __name__ == "__main__":
    main()
