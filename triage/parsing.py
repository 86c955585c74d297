"""Raw bytes of one email → a ``Message`` value.

The standard library's parser reads the MIME structure (of the first
MAX_PARSE_BYTES), mail-parser the address headers, the dates and the
attachments; this module picks the text the sender wrote, splits off the quote
and the signature (``textsplit``), recognises automated mail, and never raises:
a message it cannot read comes back with ``unreadable`` set to the reason.
"""

from __future__ import annotations

import codecs
import dataclasses
import email.errors
import email.feedparser
import email.header
import email.message
import email.utils
import hashlib
import logging
import re
from datetime import UTC, datetime

import mailparser

from triage.message import Address, Message
from triage.textsplit import html_to_text, split_reply

log = logging.getLogger(__name__)

# Bound the work one message can cause: nothing a classifier reads is past this.
MAX_PARSE_BYTES = 8 * 1024 * 1024
MAX_TEXT_CHARS = 100_000
# HTML is cut before it becomes text: its tree costs about 30 times its size, and
# the text kept (MAX_TEXT_CHARS) is at its start.
MAX_HTML_CHARS = 2_000_000
# Nothing needs a longer subject, and the classifier's tokeniser refuses a text
# of over a million characters.
MAX_SUBJECT_CHARS = 1000
# The parser is fed in pieces of this size (see _read_mime).
_FEED_BYTES = 64 * 1024
SYNTHETIC_DOMAIN = "triage.invalid"

_MSGID = re.compile(r"<[^<>\s]+>")
_AUTO_SUBJECT = re.compile(
    r"^\s*(respuesta autom[áa]tica|resposta autom[áa]tica|automatic reply|auto-?reply"
    r"|autoreply|out of (the )?office|fuera de (la )?oficina|ausente|aus[êe]ncia"
    r"|fora do escrit[óo]rio|undeliverable|undelivered mail|delivery status notification"
    r"|mail delivery failed|returned mail|no entregado|n[ãa]o entregue)\b",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)


def parse_message(raw: bytes, arrival: datetime | None = None) -> Message:
    """Parse ``raw``; ``arrival`` (the server's INTERNALDATE or file time) stands
    in for a missing or broken Date header. Never raises."""
    arrival = arrival or datetime.now(UTC)
    synthetic = synthetic_message_id(raw)
    if not raw or raw.isspace():  # not raw.strip(): that copies the message
        return Message(message_id=synthetic, synthetic_id=True, date=arrival,
                       date_flagged=True, unreadable="empty message", size=len(raw))
    truncated = len(raw) > MAX_PARSE_BYTES
    try:
        mime, repair = _read_mime(raw)
        # mail-parser raises on two kinds of damage that leave the rest readable.
        set_aside = _set_aside_start_boundary_defects(mime)
        defused = _defuse_broken_encoded_words(mime)
        parsed = mailparser.MailParser(mime)
        message = _build(parsed, raw, arrival, synthetic, truncated)
        notes = tuple(n for n in (set_aside, defused, repair) if n)
        if notes:
            message = dataclasses.replace(message, defects=(*message.defects, *notes))
        return message
    except RecursionError:
        reason = "MIME parts nested too deeply to read (a malformed or hostile message)"
    except Exception as exc:  # noqa: BLE001 - a broken message must never stop ingest
        reason = f"cannot parse the MIME structure ({type(exc).__name__}: {_short(str(exc))})"
    log.debug("unreadable message %s: %s", synthetic, reason)
    return Message(message_id=synthetic, synthetic_id=True, date=arrival,
                   date_flagged=True, unreadable=reason, size=len(raw))


def _read_mime(raw: bytes) -> tuple[email.message.Message, str | None]:
    """The MIME tree of the first MAX_PARSE_BYTES of ``raw``, its header block
    repaired (see repair_header_block), and the repair made.

    The parser is fed in pieces: given the whole message at once it holds copies
    of it as text (about nine times its size at the peak), fed it holds about three.
    """
    view = memoryview(raw)[:MAX_PARSE_BYTES]
    head, repair = repair_header_block(bytes(view[:_HEADER_SCAN_BYTES]))
    head, transcoded = utf8_header_lines(head)
    if transcoded:
        repair = f"{repair}; {transcoded}" if repair else transcoded
    parser = email.feedparser.BytesFeedParser()
    parser.feed(head)
    for start in range(_HEADER_SCAN_BYTES, len(view), _FEED_BYTES):
        parser.feed(bytes(view[start : start + _FEED_BYTES]))
    return parser.close(), repair


_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
_HEADER_SCAN_BYTES = 64 * 1024


def _set_aside_start_boundary_defects(mime: email.message.Message) -> str | None:
    """Take the "start boundary not found" defects out of the parts; return that
    defect's name when there were any.

    On that defect mail-parser (4.8) looks for lost parts in the top-level epilogue,
    and raises when there is none, as in a message cut inside a nested multipart:
    the sender and subject would be lost with it. Those parts are not read here
    anyway (the text comes from the parts the standard parser found).
    """
    found = False
    for part in mime.walk():
        kept = [d for d in part.defects
                if not isinstance(d, email.errors.StartBoundaryNotFoundDefect)]
        found = found or len(kept) < len(part.defects)
        part.defects[:] = kept
    return "StartBoundaryNotFoundDefect" if found else None


_ADDRESS_HEADERS = ("from", "sender", "reply-to", "to", "cc", "bcc", "delivered-to")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")


def _defuse_broken_encoded_words(mime: email.message.Message) -> str | None:
    """Keep as plain text the encoded words of address headers that cannot be decoded
    (damaged base64, as in "=?utf-8?b?TWFy`MOt?="); return a note when there were any.

    mail-parser (4.8) raises on such a word in a display name, and the message
    would lose its sender with it.
    """
    fixed = []
    for name in _ADDRESS_HEADERS:
        values = [str(v) for v in mime.get_all(name, [])]
        defused = [_ENCODED_WORD.sub(_plain_if_broken, v) for v in values]
        if defused != values:
            del mime[name]
            for value in defused:
                mime[name] = value
            fixed.append(name)
    return f"undecodable encoded words kept as text in {', '.join(fixed)}" if fixed else None


def _plain_if_broken(word: re.Match[str]) -> str:
    try:
        email.header.decode_header(word.group())
    except email.errors.HeaderParseError:
        return word.group()[2:-2]  # without "=?" and "?=" it is no longer an encoded word
    return word.group()


def repair_header_block(raw: bytes) -> tuple[bytes, str | None]:
    """Drop stray lines without a colon from inside a header block.

    The standard parser takes such a line as the start of the body and loses
    every header after it (often Subject and Message-ID). A line is dropped only
    when at least two real header lines come before it and another one after.
    """
    head = raw[:_HEADER_SCAN_BYTES]
    end = _header_end(head)
    if end < 0:
        return raw, None
    lines = head[:end].split(b"\n")
    kept: list[bytes] = []
    dropped = 0
    for i, line in enumerate(lines):
        stray = not line[:1].isspace() and not _HEADER_LINE.match(line) and not (
            i == 0 and line.startswith(b"From "))
        if stray and len(kept) >= 2 and any(_HEADER_LINE.match(x) for x in lines[i + 1 :]):
            dropped += 1
            continue
        kept.append(line)
    if not dropped:
        return raw, None
    return b"\n".join(kept) + raw[end:], f"{dropped} header line(s) without a colon skipped"


def _header_end(head: bytes) -> int:
    """Where the header block of ``head`` ends (-1 when it does not end in it)."""
    return min((i for i in (head.find(b"\n\n"), head.find(b"\r\n\r\n")) if i >= 0),
               default=-1)


def utf8_header_lines(raw: bytes) -> tuple[bytes, str | None]:
    """Header lines of raw 8-bit text that is not UTF-8 read as Windows-1252 and
    written as UTF-8, with a note when there were any.

    Mail programs that do not encode headers send them in their own code page,
    Latin-1 or Windows-1252 for Spanish and Portuguese ("José Muñoz", "¡mañana!").
    The standard parser keeps such bytes as escapes that mail-parser then drops or
    shows as codes, and a reply draft would greet "Jos\\udce9". Raw UTF-8 lines
    are read well and left as they are.
    """
    end = _header_end(raw[:_HEADER_SCAN_BYTES])
    if end < 0 or raw[:end].isascii():
        return raw, None
    lines = raw[:end].split(b"\n")
    read = 0
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines[i] = line.decode("cp1252", errors="replace").encode("utf-8")
            read += 1
    if not read:
        return raw, None
    return (b"\n".join(lines) + raw[end:],
            f"{read} header line(s) of raw 8-bit text read as Windows-1252")


def synthetic_message_id(raw: bytes) -> str:
    """A stable Message-ID for mail that has none: the same bytes give the same id."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_DOMAIN}>"


def _build(
    parsed: mailparser.MailParser, raw: bytes, arrival: datetime, synthetic: str,
    truncated: bool,
) -> Message:
    msg: email.message.Message = parsed.message
    message_id = _first_id(_header(msg, "message-id"))
    date = parsed.date
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    text, text_notes = _body_text(msg)
    split = split_reply(text[:MAX_TEXT_CHARS])
    sender = _addresses(parsed.from_)
    defects = tuple(_defects(parsed)) + tuple(text_notes)
    if truncated:
        defects += (f"message larger than {MAX_PARSE_BYTES} bytes: only the start was read",)
    subject = _clean_header_text(parsed.subject)
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[:MAX_SUBJECT_CHARS]
        defects += (f"subject longer than {MAX_SUBJECT_CHARS} characters: cut",)
    message = Message(
        message_id=message_id or synthetic,
        synthetic_id=message_id is None,
        in_reply_to=_first_id(_header(msg, "in-reply-to")),
        references=tuple(_MSGID.findall(_header(msg, "references"))),
        sender=sender[0] if sender else None,
        to=_recipients(msg, "to", parsed.to),
        cc=_recipients(msg, "cc", parsed.cc),
        bcc=_recipients(msg, "bcc", parsed.bcc),
        reply_to=_recipients(msg, "reply-to", parsed.reply_to),
        date=date or arrival,
        date_flagged=date is None,
        subject=subject,
        body=split.body,
        quoted=split.quoted,
        signature=split.signature,
        attachments=tuple(_attachment_names(parsed)),
        automated=_automated_reason(msg, parsed),
        defects=defects,
        size=len(raw),
    )
    return _check_readable(message, msg, raw)


def _check_readable(message: Message, msg: email.message.Message, raw: bytes) -> Message:
    """Mark as unreadable what has neither mail headers nor readable text."""
    has_headers = any(msg.get(h) for h in ("from", "to", "subject", "date", "message-id"))
    text = message.body + message.quoted + message.signature
    if has_headers or (text.strip() and _looks_like_text(raw)):
        return message
    reason = "no sender, recipient, subject or date, and no readable text"
    return Message(message_id=message.message_id, synthetic_id=message.synthetic_id,
                   date=message.date, date_flagged=True, unreadable=reason,
                   defects=message.defects, size=message.size)


def _looks_like_text(raw: bytes) -> bool:
    """Whether the start of ``raw`` is text rather than binary data."""
    sample = raw[:4096].decode("utf-8", errors="replace")
    bad = sum(1 for ch in sample if ch == "\ufffd" or (not ch.isprintable() and ch not in "\r\n\t"))
    return bad <= len(sample) * 0.1


def _header(msg: email.message.Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - header classes can fail on hostile bytes
        return ""
    return str(value) if value is not None else ""


def _first_id(value: str) -> str | None:
    found = _MSGID.search(value)
    return found.group(0) if found else None


def _clean_header_text(value: object) -> str:
    text = value if isinstance(value, str) else ""
    # Unfold (RFC 5322: drop the line break, keep the white space after it); a
    # header value is one line, so any stray CR or LF goes too.
    return re.sub(r"[\r\n]+", "", text).replace("\t", " ").strip()


def _addresses(value: object) -> tuple[Address, ...]:
    if not isinstance(value, list):
        return ()
    result: list[Address] = []
    for item in value:
        if isinstance(item, tuple) and len(item) == 2 and "@" in str(item[1]):
            result.append(Address(name=_clean_header_text(item[0]), email=str(item[1]).lower()))
    return tuple(result)


def _recipients(msg: email.message.Message, name: str, parsed: object) -> tuple[Address, ...]:
    """An address header's addresses as mail-parser read them, with those it missed
    where an encoded word holds a comma. Python's own mail writer (3.11, 3.12) folds
    a list of names with accents so that the comma between two addresses can end up
    inside an encoded word ("=?utf-8?q?=2C?="); mail-parser then reads the addresses
    on either side of it as one (or none), and a notice sent that way would seem
    sent to fewer people. Those are read again from the header's decoded text."""
    found = _addresses(parsed)
    try:
        raw = [str(v) for v in msg.get_all(name, [])]
    except Exception:  # noqa: BLE001 - header classes can fail on hostile bytes
        return found
    if found and not any(_comma_inside(word.group()) for value in raw
                         for word in _ENCODED_WORD.finditer(value)):
        return found
    known = {a.email for a in found}
    more: dict[str, Address] = {}
    for display, address in email.utils.getaddresses([_decoded(v) for v in raw]):
        address = address.lower()
        if "@" in address and address not in known and address not in more:
            clean = "".join(ch for ch in _clean_header_text(display) if ch.isprintable())
            more[address] = Address(name=clean.strip(" ,;"), email=address)
    return found + tuple(more.values())


def _comma_inside(word: str) -> bool:
    """Whether an encoded word's text holds a comma."""
    try:
        parts = email.header.decode_header(word)
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        return False
    return any(b"," in (part if isinstance(part, bytes) else part.encode()) for part, _ in parts)


def _decoded(text: str) -> str:
    """A header's text with its encoded words decoded (left as it is when they are
    broken)."""
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        return text


def _attachment_names(parsed: mailparser.MailParser) -> list[str]:
    names = []
    for item in parsed.attachments:
        name = item.get("filename") if isinstance(item, dict) else None
        if isinstance(name, str) and name:
            names.append(_clean_header_text(name))
    return names


def _defects(parsed: mailparser.MailParser) -> list[str]:
    found: list[str] = []
    for category in sorted(parsed.defects_categories or ()):
        found.append(str(category))
    return found


# --- the text of the message ------------------------------------------------


def _body_text(msg: email.message.Message) -> tuple[str, list[str]]:
    """The plain text of the message body (HTML converted when there is no plain text)."""
    plain: list[str] = []
    damaged: list[str] = []  # plain text whose base64 was damaged: only the part we could read
    html: list[str] = []
    notes: list[str] = []
    for part in _text_parts(msg):
        text, note = decode_part(part)
        if note:
            notes.append(note)
        if not text.strip():
            continue
        if part.get_content_subtype() == "html":
            html.append(text)
        else:
            (damaged if note == DAMAGED_BASE64 else plain).append(text)
    if plain or (damaged and not html):
        return "\n\n".join(plain or damaged), notes
    if any(len(h) > MAX_HTML_CHARS for h in html):
        notes.append(f"HTML longer than {MAX_HTML_CHARS} characters: only the start was read")
    return "\n\n".join(html_to_text(h[:MAX_HTML_CHARS]) for h in html), notes


def _text_parts(msg: email.message.Message) -> list[email.message.Message]:
    """Inline text/plain and text/html parts, outside attachments and bounced mail."""
    found: list[email.message.Message] = []
    stack = [msg]
    while stack:
        part = stack.pop(0)
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                if part.get_content_type() == "multipart/report":
                    children = children[:1]  # the human-readable notice only
                stack[0:0] = [c for c in children if isinstance(c, email.message.Message)]
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            continue
        if part.get_content_maintype() == "multipart":
            # Its boundary never came (a cut or mislabelled message): the parser kept
            # its text whole, which is what the sender wrote, read as plain text.
            if part.get_payload():
                found.append(part)
            continue
        if part.get_content_maintype() == "text" and part.get_content_subtype() in (
                "plain", "html"):
            found.append(part)
    return found


_UTF8_FIRST = {None, "us-ascii", "ascii", "utf-8", "utf8", "iso-8859-1", "latin-1", "latin1",
               "iso-8859-15", "windows-1252", "cp1252"}
_UTF16_BOMS = (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)


def decode_part(part: email.message.Message) -> tuple[str, str | None]:
    """Decode one text part; return the text and a note when the charset lied or was
    unknown, or its base64 was damaged (DAMAGED_BASE64: the text is what could be read).

    Valid UTF-8 is taken as UTF-8 even when a Western charset is declared (a
    common lie of webmail), then the declared charset, then windows-1252, which
    is what undeclared 8-bit text from these clients almost always is.
    """
    known = len(part.defects)
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding must not stop parsing
        return "", "undecodable transfer encoding"
    if not isinstance(payload, bytes):
        return "", None
    # Decoding damaged base64 adds what it met to the part's defects (and gives back
    # what it could: the text up to the damage, or the encoded characters themselves).
    if any(isinstance(d, _BASE64_DEFECTS) for d in part.defects[known:]):
        text, note = _decoded_payload(payload, part)
        # What does not even decode in its charset is not text at all: nothing is kept.
        return ("", DAMAGED_BASE64) if note else (text, DAMAGED_BASE64)
    return _decoded_payload(payload, part)


# The note on a text part whose base64 is damaged: its text is what could be read.
DAMAGED_BASE64 = "damaged base64 in a text part"
_BASE64_DEFECTS = (email.errors.InvalidBase64CharactersDefect,
                   email.errors.InvalidBase64PaddingDefect,
                   email.errors.InvalidBase64LengthDefect)


def _decoded_payload(payload: bytes, part: email.message.Message) -> tuple[str, str | None]:
    declared = (part.get_content_charset() or "").lower() or None
    label = declared
    if declared in ("utf-16", "utf16") and not payload.startswith(_UTF16_BOMS):
        label = _utf16_order(payload)
    order = (["utf-8", label] if label in _UTF8_FIRST else [label, "utf-8"])
    for charset in [c for c in order if c]:
        try:
            return payload.decode(charset), None
        except (LookupError, ValueError):  # ValueError: codecs such as "undefined", "idna"
            continue
    note = f"text declared as {declared or 'no charset'} decoded as windows-1252"
    return payload.decode("cp1252", errors="replace"), note


def _utf16_order(payload: bytes) -> str | None:
    """The byte order of UTF-16 text without a byte-order mark, from where the zero
    bytes of Latin-script text fall (big-endian, RFC 2781's default, when even); None
    when there are none, which is 8-bit text under a wrong label, not UTF-16."""
    even, odd = payload[0::2].count(0), payload[1::2].count(0)
    if not even and not odd:
        return None
    return "utf-16-be" if even >= odd else "utf-16-le"


# --- automated mail ---------------------------------------------------------


def _automated_reason(msg: email.message.Message, parsed: mailparser.MailParser) -> str | None:
    """Why this looks like machine-sent mail, or None for a person's mail."""
    auto = _header(msg, "auto-submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    if _header(msg, "x-autoreply") or _header(msg, "x-autorespond"):
        return "auto-reply header"
    precedence = _header(msg, "precedence").strip().lower()
    if precedence in ("auto_reply", "bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    if _header(msg, "list-id") or _header(msg, "list-unsubscribe"):
        return "mailing list"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    sender = _addresses(parsed.from_)
    if sender and _BOUNCE_SENDERS.match(sender[0].email):
        return "bounce"
    if _AUTO_SUBJECT.match(_clean_header_text(parsed.subject)):
        return "automatic subject"
    return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
