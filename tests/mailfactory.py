"""Builds varied raw emails, and whole Maildirs of them, with what a parser must find.

Used by the tests (small text pool, every format) and by the demo builder
(corpus/demo/build_demo.py), which takes its automated and broken messages.
Deterministic for a given seed.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path

ENCODINGS = ("8bit", "quoted-printable", "base64")
SHAPES = ("plain", "plain", "plain", "html", "alternative", "mixed")
CHARSETS = ("utf-8", "utf-8", "iso-8859-1", "windows-1252", "undeclared", "lying-utf-8")

ATTRIBUTION = {
    "es": "El {weekday}, {day} nov 2026 a las 10:02, {name} <{addr}> escribió:",
    "pt": "Em {weekday}, {day} de nov. de 2026 às 10:02, {name} <{addr}> escreveu:",
    "en": "On {weekday}, Nov {day}, 2026 at 10:02 AM {name} <{addr}> wrote:",
}
OUTLOOK = {
    "es": "-----Mensaje original-----\nDe: {name} <{addr}>\nEnviado el: martes, 3 de noviembre"
          " de 2026 10:02\nPara: {client}\nAsunto: {subject}",
    "pt": "________________________________\nDe: {name} <{addr}>\nEnviada em: terça-feira, 3 de"
          " novembro de 2026 10:02\nPara: {client}\nAssunto: {subject}",
    "en": "-----Original Message-----\nFrom: {name} <{addr}>\nSent: Tuesday, November 3, 2026"
          " 10:02 AM\nTo: {client}\nSubject: {subject}",
}
MOBILE = {"es": "Enviado desde mi iPhone", "pt": "Enviado do meu iPhone",
          "en": "Sent from my iPhone"}
WEEKDAYS = {"es": "mar", "pt": "ter.", "en": "Tue"}
QUOTE_MARK = "QUOTEDPROVIDERTEXT"
SIGNATURE_MARK = "SIGNATUREBLOCKTEXT"


@dataclass(frozen=True)
class Expected:
    """What a correct parser and store must show for one generated message."""

    name: str
    folder: str
    message_id: str | None  # None: synthetic id expected
    sender: str | None
    subject: str
    kind: str
    own_text: str = ""
    quoted: bool = False
    date_flagged: bool = False


@dataclass
class Email:
    lang: str
    sender: tuple[str, str]
    to: list[tuple[str, str]]
    subject: str
    text: str
    date: datetime
    message_id: str | None
    quote: str = ""
    quote_style: str = "none"
    signature: str = ""
    shape: str = "plain"
    charset: str = "utf-8"
    encoding: str = "8bit"
    headers: dict[str, str] = field(default_factory=dict)
    provider: tuple[str, str] = ("Ana Ruiz", "ana@agency.example")


def render(mail: Email) -> bytes:
    """The raw bytes of ``mail``."""
    text = _compose_text(mail)
    head = _headers(mail)
    if mail.shape == "plain":
        return head + _text_part(text, "plain", mail.charset, mail.encoding, top=True)
    html = _as_html(mail, text)
    if mail.shape == "html":
        return head + _text_part(html, "html", mail.charset, mail.encoding, top=True)
    boundary = f"=_b{abs(hash((mail.subject, mail.date))) % 10**8:08d}"
    parts = [_text_part(text, "plain", mail.charset, mail.encoding)]
    subtype = "alternative"
    if mail.shape == "alternative":
        parts.append(_text_part(html, "html", "utf-8", "quoted-printable"))
    else:
        subtype = "mixed"
        parts.append(_attachment("factura.pdf", b"%PDF-1.4 fake pdf bytes\n" * 40))
    body = b"".join(b"--" + boundary.encode() + b"\n" + p + b"\n" for p in parts)
    return (head + f"MIME-Version: 1.0\nContent-Type: multipart/{subtype}; "
            f'boundary="{boundary}"\n\nThis is a multi-part message.\n'.encode()
            + body + b"--" + boundary.encode() + b"--\n")


def _compose_text(mail: Email) -> str:
    text = mail.text
    if mail.signature:
        text += "\n\n" + mail.signature
    if mail.quote_style == "bare":
        text += "\n\n" + "\n".join("> " + line for line in mail.quote.split("\n"))
    elif mail.quote_style in ("attribution", "outlook"):
        name, addr = mail.provider
        template = ATTRIBUTION[mail.lang] if mail.quote_style == "attribution" else OUTLOOK[
            mail.lang]
        header = template.format(weekday=WEEKDAYS[mail.lang], day=3, name=name, addr=addr,
                                 client=mail.sender[1], subject=mail.subject)
        quoted = mail.quote.split("\n")
        lines = ["> " + q for q in quoted] if mail.quote_style == "attribution" else quoted
        text += "\n\n" + header + "\n" + "\n".join(lines)
    return text + "\n"


def _headers(mail: Email) -> bytes:
    lines = [f"From: {_address(mail.sender)}",
             "To: " + ", ".join(_address(a) for a in mail.to),
             f"Subject: {_encoded(mail.subject)}"]
    if mail.date is not None:
        lines.append(f"Date: {format_datetime(mail.date)}")
    if mail.message_id:
        lines.append(f"Message-ID: {mail.message_id}")
    lines += [f"{k}: {v}" for k, v in mail.headers.items()]
    return ("\n".join(lines) + "\n").encode("ascii")


def _address(pair: tuple[str, str]) -> str:
    name, addr = pair
    if name and not name.isascii():
        return f"{Header(name, 'utf-8').encode()} <{addr}>"
    return formataddr(pair)


def _encoded(text: str) -> str:
    return Header(text, "utf-8").encode() if not text.isascii() else text


def _text_part(text: str, subtype: str, charset: str, encoding: str, top: bool = False
               ) -> bytes:
    data, declared = _charset_bytes(text, charset)
    if encoding == "base64":
        payload = base64.encodebytes(data)
    elif encoding == "quoted-printable":
        payload = quopri.encodestring(data)
    else:
        payload = data
    ctype = f"text/{subtype}" + (f"; charset={declared}" if declared else "")
    head = ("MIME-Version: 1.0\n" if top else "") + (
        f"Content-Type: {ctype}\nContent-Transfer-Encoding: {encoding}\n\n")
    return head.encode() + payload


def _charset_bytes(text: str, charset: str) -> tuple[bytes, str | None]:
    if charset == "undeclared":
        return text.encode("cp1252", "replace"), None
    if charset == "lying-utf-8":
        return text.encode("latin-1", "replace"), "utf-8"
    return text.encode(charset, "replace"), charset


def _attachment(name: str, data: bytes) -> bytes:
    return (f'Content-Type: application/pdf; name="{name}"\nContent-Transfer-Encoding: base64'
            f'\nContent-Disposition: attachment; filename="{name}"\n\n').encode() + (
        base64.encodebytes(data))


def _as_html(mail: Email, text: str) -> str:
    escaped = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in escaped.split("\n\n"))
    return f"<html><head><style>p{{margin:0}}</style></head><body>{paragraphs}</body></html>"


# --- whole mailboxes ------------------------------------------------------------

POOL = {
    "es": ["Nadie nos avisó del corte del sábado y perdimos ventas, ¿qué pasó?",
           "Les pago la factura el lunes, ahora estoy de viaje en Querétaro.",
           "¿Pueden añadir también una tienda online? Sin costo, claro.",
           "La web está caída desde las 8 y el correo tampoco funciona.",
           "Gracias por la reunión de ayer, quedamos el jueves a las diez."],
    "pt": ["Ninguém avisou da manutenção e ficamos sem e-mail a noite toda.",
           "Vou pagar o boleto semana que vem, o banco está lento.",
           "Dá para incluir mais três páginas no site? Coisa rápida.",
           "O servidor de vocês perdeu todos os e-mails de ontem à tarde.",
           "Obrigado pelo suporte, está tudo certo por aqui."],
    "en": ["Nobody told us about the maintenance window, this is unacceptable.",
           "I will pay the invoice next week, I am travelling until Friday.",
           "While you are at it, could you also redesign the logo for free?",
           "Your server lost every email we received yesterday afternoon.",
           "Thanks for the quick fix, see you at the review on Monday."],
}
NAMES = {"es": ["José Pérez", "Lucía Gómez", "Martín Díaz"],
         "pt": ["João Silva", "Ana Conceição", "Marta Sousa"],
         "en": ["John Smith", "Priya Nair", "Siobhan Kelly"]}


def varied_emails(count: int, seed: int = 7, texts: dict[str, list[str]] | None = None,
                  start: datetime = datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
                  step: timedelta = timedelta(minutes=37),
                  ) -> Iterable[tuple[str, Email, Expected]]:
    """``count`` client messages in every format, language, quote and signature style,
    dated ``step`` apart from ``start``."""
    rng = random.Random(seed)
    texts = texts or POOL
    for n in range(count):
        lang = ("es", "pt", "en")[n % 3]
        name = rng.choice(NAMES[lang])
        local = name.split()[0].lower().encode("ascii", "ignore").decode()
        addr = f"{local}{n % 40}@client{n % 25}.example"
        text = rng.choice(texts[lang])
        quote_style = rng.choice(("none", "none", "attribution", "outlook", "bare"))
        signature = rng.choice(("", "", f"-- \n{name}\n{SIGNATURE_MARK}", MOBILE[lang]))
        mail = Email(
            lang=lang, sender=(name, addr), to=[("Ana Ruiz", "ana@agency.example")],
            subject=f"{rng.choice(['Re: ', '', 'RE: RV: ', ''])}{text[:30]} #{n}",
            text=text, date=start + step * n,
            message_id=f"<c{n}.{seed}@{addr.split('@')[1]}>",
            quote=f"{QUOTE_MARK} maintenance notice {n}", quote_style=quote_style,
            signature=signature, shape=rng.choice(SHAPES), charset=rng.choice(CHARSETS),
            encoding=rng.choice(ENCODINGS),
        )
        yield f"c{n:05d}", mail, Expected(
            name=f"c{n:05d}", folder="INBOX", message_id=mail.message_id, sender=addr,
            subject=mail.subject, kind="client", own_text=text, quoted=quote_style != "none")


def special_emails(seed: int = 7) -> Iterable[tuple[str, bytes, Expected]]:
    """Automated, provider, broken and odd messages, with what must come out."""
    when = format_datetime(datetime(2026, 10, 2, 9, 0, tzinfo=UTC))
    cases: list[tuple[str, str, bytes, Expected]] = []

    def add(name: str, folder: str, raw: bytes, **expected: object) -> None:
        defaults: dict[str, object] = dict(name=name, folder=folder, message_id=None,
                                           sender=None, subject="", kind="client")
        defaults.update(expected)
        cases.append((name, folder, raw, Expected(**defaults)))  # type: ignore[arg-type]

    add("s-ooo", "INBOX", (
        f"From: Pedro <pedro@client1.example>\nTo: ana@agency.example\nDate: {when}\n"
        "Subject: Respuesta automática: factura\nMessage-ID: <ooo@client1.example>\n"
        "Auto-Submitted: auto-replied\n\nEstoy fuera de la oficina hasta el lunes.\n").encode(),
        message_id="<ooo@client1.example>", sender="pedro@client1.example",
        subject="Respuesta automática: factura", kind="automated")
    add("s-list", "INBOX", (
        f"From: News <news@lists.example>\nTo: ana@agency.example\nDate: {when}\n"
        "Subject: Weekly news\nMessage-ID: <list@lists.example>\nList-Id: <news.lists.example>\n"
        "List-Unsubscribe: <mailto:unsub@lists.example>\n\nThis week in hosting.\n").encode(),
        message_id="<list@lists.example>", sender="news@lists.example", subject="Weekly news",
        kind="automated")
    add("s-bounce", "INBOX", (
        f"From: MAILER-DAEMON@mx.agency-host.example\nTo: ana@agency.example\nDate: {when}\n"
        "Subject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce@mx.example>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; '
        'boundary="R"\n\n--R\nContent-Type: text/plain\n\nThe mail could not be delivered.\n'
        "--R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        "Final-Recipient: rfc822; x@y.example\nAction: failed\nStatus: 5.1.1\n\n--R--\n"
    ).encode(), message_id="<bounce@mx.example>", sender="mailer-daemon@mx.agency-host.example",
        subject="Undelivered Mail Returned to Sender", kind="automated")
    add("s-notice", "Sent", (
        "From: Ana Ruiz <ana@agency.example>\nTo: undisclosed-recipients:;\n"
        "Bcc: jose0@client0.example, it@client1.example\nDate: " + when + "\n"
        "Subject: Mantenimiento programado el sábado\nMessage-ID: <notice@agency.example>\n\n"
        "El sábado de 22:00 a 02:00 haremos mantenimiento del servidor de correo.\n").encode(),
        message_id="<notice@agency.example>", sender="ana@agency.example",
        subject="Mantenimiento programado el sábado", kind="provider")
    add("s-reminder", "Billing", (
        "From: Billing <billing@agency.example>\nTo: joao1@client1.example\nDate: " + when + "\n"
        "Subject: Lembrete: fatura 2231 vence amanhã\nMessage-ID: <rem2231@agency.example>\n"
        "Auto-Submitted: auto-generated\n\nA fatura 2231 de R$ 450,00 vence amanhã.\n").encode(),
        message_id="<rem2231@agency.example>", sender="billing@agency.example",
        subject="Lembrete: fatura 2231 vence amanhã", kind="provider")
    add("s-own-in-inbox", "INBOX", (
        "From: soporte@agency.example\nTo: ana@agency.example\nDate: " + when + "\n"
        "Subject: copia interna\nMessage-ID: <internal@agency.example>\n\nCopia.\n").encode(),
        message_id="<internal@agency.example>", sender="soporte@agency.example",
        subject="copia interna", kind="provider")
    add("s-no-id", "INBOX", (
        "From: Carla <carla@client9.example>\nTo: ana@agency.example\nDate: " + when + "\n"
        "Subject: sin identificador\n\nHola, ¿me confirman la cita?\n").encode(),
        sender="carla@client9.example", subject="sin identificador",
        own_text="Hola, ¿me confirman la cita?")
    add("s-bad-date", "INBOX", (
        b"From: Carla <carla@client9.example>\nTo: ana@agency.example\nDate: ayer por la tarde\n"
        b"Subject: fecha rara\nMessage-ID: <baddate@client9.example>\n\nTexto.\n"),
        message_id="<baddate@client9.example>", sender="carla@client9.example",
        subject="fecha rara", date_flagged=True)
    add("s-truncated", "INBOX", (
        "From: Bob <bob@client3.example>\nTo: ana@agency.example\nDate: " + when + "\n"
        "Subject: truncated\nMessage-ID: <trunc@client3.example>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="X"\n\n--X\nContent-Type: text/plain\n\n'
        "The site is down again since this morning.\n--X\nContent-Type: application/pdf\n"
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK").encode(),
        message_id="<trunc@client3.example>", sender="bob@client3.example", subject="truncated",
        own_text="The site is down again since this morning.")
    add("s-empty", "INBOX", b"", kind="unreadable", date_flagged=True)
    rng = random.Random(seed)
    add("s-garbage", "INBOX", bytes(rng.randrange(256) for _ in range(3000)),
        kind="unreadable", date_flagged=True)
    for name, _folder, raw, expected in cases:
        yield name, raw, expected


def write_maildir(root: Path, items: Iterable[tuple[str, str, bytes]], stamp: int = 1_790_000_000
                  ) -> None:
    """Deliver ``(name, folder, raw)`` items as Maildir files with stable unique names."""
    for n, (name, folder, raw) in enumerate(items):
        base = root if folder == "INBOX" else root / ("." + folder)
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        sub = "new" if n % 4 else "cur"
        unique = f"{stamp + n}.M{n}P1.demo_{name}"
        (base / sub / (unique + (":2,S" if sub == "cur" else ""))).write_bytes(raw)


def huge_message(size: int, message_id: str, seed: int = 7,
                 when: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) -> bytes:
    """A client's complaint in a text part followed by a base64 attachment of random
    bytes, ``size`` bytes in all: the shape of a message with a scan or a video."""
    head = (
        f"From: Marta Gil <marta@bodega.example>\nTo: Ana Ruiz <ana@agency.example>\n"
        f"Subject: Os mando el vídeo del error\nDate: {format_datetime(when)}\n"
        f"Message-ID: {message_id}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="=_huge"\n\n--=_huge\n'
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        "La web lleva caída desde ayer y nadie nos avisó. Adjunto el vídeo del error.\n"
        "--=_huge\nContent-Type: video/mp4; name=\"error.mp4\"\n"
        "Content-Transfer-Encoding: base64\n"
        'Content-Disposition: attachment; filename="error.mp4"\n\n').encode()
    tail = b"--=_huge--\n"
    room = max(0, size - len(head) - len(tail))
    # base64 with 76-character lines: 57 bytes of data per 77 bytes of text.
    data = random.Random(seed).randbytes(room // 77 * 57)
    body = base64.encodebytes(data)
    return head + body + b"\n" * (room - len(body)) + tail
