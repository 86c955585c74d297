"""Reply drafts: which template, what it may say, when it is due, and the mail.

A draft is a calm, firm reply in the client's language that a person reviews and
sends; triage never sends it. This module is pure: values in, text or an
``EmailMessage`` out. The store plans drafts and the service appends due ones.

Templates are jinja2 files ``<lang>/<category>.txt.j2``, built in under
``triage/replies/``; a folder named in the config overrides any of them. They
render in jinja2's sandbox with undefined names as errors, so a user template
cannot reach Python objects and a misspelt variable fails loudly. What a client
wrote reaches a template only as values: a client writing ``{{ ... }}`` gets it
back as text, never run. The variables are listed in ``VARIABLES``.

Every rendered reply is checked for tone (``tone_problems``) before it can be
appended: no exclamation marks, no shouting, no hostile or blaming words, and
the client's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime as babel_datetime
from jinja2.sandbox import SandboxedEnvironment

from triage.errors import TriageError
from triage.language import detect_language
from triage.message import DRAFT_HEADER
from triage.nlp import fold
from triage.threads import party, strip_prefixes

if TYPE_CHECKING:
    from triage.config import Config

BUILT_IN = Path(__file__).resolve().parent / "replies"
LANGUAGES = ("es", "pt", "en")
CATEGORIES = ("accusation", "payment_excuse", "scope_creep", "genuine_fault")

# What a template can use (documented in the README; tests hold the built-in
# templates to it).
VARIABLES: dict[str, str] = {
    "client_name": "the client's display name, or empty",
    "client_address": "the client's address (where the reply goes)",
    "subject": "the client's subject without Re:/Fwd: prefixes",
    "received": "when the client's message arrived, e.g. '14 de noviembre a las 18:02'",
    "category": "accusation, payment_excuse, scope_creep or genuine_fault",
    "hostility": "0-3, the highest in the thread",
    "language": "es, pt or en",
    "evidence": "the cited notices, best first; each has when, date, subject, to, excerpt",
    "codes": "reference codes the client mentioned (invoice numbers...)",
    "amounts": "amounts the client mentioned",
    "payment_terms": "[drafts] payment_terms from the config, in this language, or empty",
    "scope_terms": "[drafts] scope_terms from the config, in this language, or empty",
    "provider_name": "[provider] name",
    "signature": "[provider] signature (or the name when there is none)",
}



class TemplateError(TriageError):
    """A reply template cannot be loaded or rendered."""


@dataclass(frozen=True, slots=True)
class Cited:
    """A cited notice as a template sees it."""

    when: str  # localised date and time, e.g. "14 de noviembre a las 18:02"
    date: str  # localised date only
    subject: str
    to: str  # the recipients on the client's side, comma-separated
    excerpt: str


@dataclass(frozen=True, slots=True)
class ReplyContext:
    client_name: str
    client_address: str
    subject: str
    received: str
    category: str
    hostility: int
    language: str
    evidence: tuple[Cited, ...] = ()
    codes: tuple[str, ...] = ()
    amounts: tuple[str, ...] = ()
    payment_terms: str = ""
    scope_terms: str = ""
    provider_name: str = ""
    signature: str = ""

    def variables(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in VARIABLES}


_DATE_TIME = {"es": "d 'de' MMMM 'a las' HH:mm", "pt": "d 'de' MMMM 'às' HH:mm",
              "en": "d MMMM 'at' HH:mm"}
_DATE_TIME_YEAR = {"es": "d 'de' MMMM 'de' y 'a las' HH:mm",
                   "pt": "d 'de' MMMM 'de' y 'às' HH:mm", "en": "d MMMM y 'at' HH:mm"}
_DATE = {"es": "d 'de' MMMM", "pt": "d 'de' MMMM", "en": "d MMMM"}
_DATE_YEAR = {"es": "d 'de' MMMM 'de' y", "pt": "d 'de' MMMM 'de' y", "en": "d MMMM y"}


def local_when(moment: datetime, lang: str, zone: ZoneInfo, now: datetime,
               with_time: bool = True) -> str:
    """A date as a person writes it in ``lang``, in the provider's time zone; the
    year only when it is not the current one."""
    local = moment.astimezone(zone)
    same_year = local.year == now.astimezone(zone).year
    if with_time:
        pattern = (_DATE_TIME if same_year else _DATE_TIME_YEAR)[lang]
    else:
        pattern = (_DATE if same_year else _DATE_YEAR)[lang]
    return babel_datetime(local, pattern, locale=lang)


class Templates:
    """The reply templates: the user's folder first, then the built-in ones."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        loaders: list[jinja2.BaseLoader] = []
        if folder is not None:
            if not folder.is_dir():
                raise TemplateError(f"the templates folder {folder} does not exist; "
                                    "create it or remove [drafts] templates from the config")
            loaders.append(jinja2.FileSystemLoader(str(folder)))
        loaders.append(jinja2.FileSystemLoader(str(BUILT_IN)))
        self.env = SandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
            autoescape=False, keep_trailing_newline=True)

    @staticmethod
    def name(lang: str, category: str) -> str:
        return f"{lang}/{category}.txt.j2"

    def is_user(self, lang: str, category: str) -> bool:
        """Whether the template comes from the user's folder."""
        return self.folder is not None and (self.folder / self.name(lang, category)).is_file()

    def render(self, context: ReplyContext) -> str:
        name = self.name(context.language, context.category)
        try:
            template = self.env.get_template(name)
            text = template.render(context.variables())
        except jinja2.TemplateNotFound:
            raise TemplateError(f"no reply template {name}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"reply template {name}, line {exc.lineno}: "
                                f"{exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"reply template {name}: {exc.message}; the variables "
                                f"are {', '.join(VARIABLES)}") from None
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateError(f"reply template {name} tried something the sandbox "
                                f"forbids: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a user template's own error, held with it
            raise TemplateError(f"reply template {name} failed: {type(exc).__name__}: "
                                f"{exc}") from None
        return _tidy(text)

    def check(self, context: ReplyContext) -> list[str]:
        """The tone problems of what the template itself writes for this context.

        What came from mail (the client's name and subject, the cited notices'
        subjects and excerpts, the codes) is quoted fact, not the reply's tone: a
        client who shouts in the subject must not hold back a calm reply. So the
        template is rendered again with those values blanked and that is checked.
        """
        blank = replace(
            context, client_name="N", subject="…", client_address="n@example.invalid",
            codes=tuple("1" for _ in context.codes),
            amounts=tuple("1" for _ in context.amounts),
            evidence=tuple(replace(e, subject="…", to="n@example.invalid", excerpt="…")
                           for e in context.evidence))
        return tone_problems(self.render(blank), context.language)


def _tidy(text: str) -> str:
    """At most one empty line in a row, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if not line and tidy and not tidy[-1]:
            continue
        tidy.append(line)
    return "\n".join(tidy) + "\n"


# --- tone -------------------------------------------------------------------

# Words a calm, firm reply does not use: blame, scorn, threats, sarcasm markers.
# Matched on folded text (lower case, no accents) at word starts.
_HOSTILE = {
    "es": (r"culpa suya", r"su culpa", r"vuestra culpa", r"incompeten", r"ridicul",
           r"absurd", r"obviamente", r"evidentemente", r"como ya (le|les|te) (dij|explic)",
           r"como ya sabe", r"(usted|ustedes|vosotros) deberia", r"(usted|ustedes) debio",
           r"no es nuestro problema",
           r"no leyo", r"no lee", r"mentir", r"mentira", r"inaceptable", r"vergonz",
           r"exigimos", r"amenaz", r"abogad", r"denuncia", r"estupid", r"tont",
           r"de una vez", r"por enesima"),
    "pt": (r"culpa sua", r"sua culpa", r"culpa de voces", r"incompeten", r"ridicul",
           r"absurd", r"obviamente", r"evidentemente", r"como ja (lhe|te) (diss|expli)",
           r"como ja sabe", r"(voce|voces|o senhor|a senhora) deveria",
           r"nao e problema nosso",
           r"nao e nosso problema", r"nao leu", r"mentir", r"mentira", r"inaceitave",
           r"vergonh", r"exigimos", r"ameac", r"advogad", r"process", r"estupid",
           r"burr", r"de uma vez", r"pela enesima"),
    "en": (r"your fault", r"incompeten", r"ridiculous", r"absurd", r"obviously",
           r"clearly you", r"as (we|i) (already|have already) (told|explained)",
           r"as you (already|should) know", r"you should have", r"not our problem",
           r"did not read", r"didn't read", r"failed to read", r"\bliar", r"lying",
           r"unacceptable", r"shameful", r"we demand", r"threat", r"lawyer",
           r"legal action", r"stupid", r"idiot", r"once and for all", r"for the last time",
           r"blame"),
}
_HOSTILE_PATTERNS = {lang: re.compile(r"(?<![a-z])(?:" + "|".join(words) + ")")
                     for lang, words in _HOSTILE.items()}
# A shouted word: four or more capital letters with no digit or hyphen (so that
# "INV-2291" and "NF 3345" are not), outside a short list of acronyms.
_SHOUT = re.compile(r"(?<![\w-])[A-ZÁÉÍÓÚÂÊÔÃÕÀÇÑÜ]{4,}(?![\w-])")
_ACRONYMS = frozenset("""
HTTP HTTPS HTML SMTP IMAP POP3 DKIM DMARC VOIP CNPJ CUIT NIPC RFID GDPR LGPD RGPD
HOSTING PDF JPEG ASAP SEPA IBAN SWIFT BIC SAAS CRM ERP""".split())


def tone_problems(text: str, lang: str) -> list[str]:
    """Why a reply's own words are not calm enough to leave in Drafts; empty when
    they are. ``Templates.check`` runs it on the template's words alone."""
    problems = []
    if "!" in text or "¡" in text:
        problems.append("an exclamation mark")
    shouted = [w for w in _SHOUT.findall(text) if w not in _ACRONYMS]
    if shouted:
        problems.append("shouting (" + ", ".join(sorted(set(shouted))[:3]) + ")")
    pattern = _HOSTILE_PATTERNS.get(lang)
    if pattern is not None:
        found = sorted({m.group(0) for m in pattern.finditer(fold(text))})
        if found:
            problems.append("hostile or blaming words (" + ", ".join(found[:3]) + ")")
    detected = detect_language(text)
    if detected != lang:
        problems.append(f"written in {detected}, not in the client's {lang}")
    return problems


# --- when a draft is due -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Schedule:
    """The provider's working week and the cool-downs (hours) per hostility."""

    zone: ZoneInfo
    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    start: time = time(9, 0)  # when the working day starts
    cooldown_hours: float = 12.0
    cooldown_hours_hostile: float = 36.0  # hostility 3
    no_cooldown: frozenset[str] = frozenset({"genuine_fault"})

    def due(self, received: datetime, category: str, hostility: int) -> datetime:
        """When a draft for a client message becomes due: at once for a category
        without cool-down; otherwise at least the cool-down after the message and
        at the start of a working day (the next working morning)."""
        if category in self.no_cooldown:
            return received
        hours = self.cooldown_hours_hostile if hostility >= 3 else self.cooldown_hours
        # Added in UTC, so a daylight-saving change does not stretch or shrink it.
        earliest = (received.astimezone(UTC) + timedelta(hours=hours)).astimezone(self.zone)
        day = earliest.date()
        for _ in range(8):
            morning = datetime.combine(day, self.start, tzinfo=self.zone)
            if day.weekday() in self.days and morning >= earliest:
                return morning
            day += timedelta(days=1)
        return earliest  # no working days configured: the cool-down alone

    @classmethod
    def from_config(cls, config: Config) -> Schedule:
        drafts = config.drafts
        hour, minute = (int(part) for part in drafts.day_starts.split(":"))
        return cls(zone=ZoneInfo(config.provider.timezone), days=frozenset(drafts.working_days),
                   start=time(hour, minute), cooldown_hours=drafts.cooldown_hours,
                   cooldown_hours_hostile=drafts.cooldown_hours_hostile,
                   no_cooldown=frozenset(drafts.no_cooldown))


# --- what a thread needs ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Decision:
    """What a thread needs now: a reply to ``answer`` due at ``due``, or (``answer``
    None) no draft, with the reason."""

    answer: int | None
    category: str = ""
    hostility: int = 0
    language: str = ""
    due: datetime | None = None
    reason: str = ""
    trigger: int = 0  # the newest client message that wants a reply
    since: tuple[int, ...] = ()  # the client messages since the provider last wrote


def decide(thread: Sequence[Mapping[str, Any]], schedule: Schedule,
           categories: Sequence[str]) -> Decision:
    """The reply a thread needs, from its client and provider messages (oldest first;
    each with id, kind, date, category, hostility, language, message_id and refs,
    the Message-IDs it answers).

    The provider having the last word ends it: they have answered. A provider
    message that answers the client's newest message (In-Reply-To or References)
    counts as the last word even when its Date is earlier (a client's clock that
    runs fast). Otherwise the reply answers the client's newest message, with the
    category of the newest one that wants a draft and the highest hostility since
    the provider last wrote, due after the cool-down from that newest message, so
    each new client message starts the cool-down again.
    """
    if not thread:
        return Decision(None, reason="the thread is empty")
    last = thread[-1]
    if last["kind"] == "provider":
        when = str(last["date"])[:16].replace("T", " ")
        return Decision(None, reason=f"the provider replied in the thread ({when} UTC)")
    for message in thread:
        if message["kind"] == "provider" and last["message_id"] in message["refs"]:
            return Decision(None, reason="the provider replied in the thread")
    since: list[Mapping[str, Any]] = []
    for message in reversed(thread):
        if message["kind"] == "provider":
            break
        if message["category"] is not None:
            since.append(message)
    since.reverse()
    wanted = [m for m in since if m["category"] in categories]
    if not since or not wanted:
        return Decision(None, reason="no client message in the thread needs a reply")
    newest = since[-1]
    received = datetime.fromisoformat(str(newest["date"]))
    category = str(wanted[-1]["category"])
    hostility = max(int(m["hostility"]) for m in since)
    return Decision(answer=int(newest["id"]), category=category, hostility=hostility,
                    language=str(newest["language"] or wanted[-1]["language"]),
                    due=schedule.due(received, category, hostility),
                    trigger=int(wanted[-1]["id"]), since=tuple(int(m["id"]) for m in since))


# --- the draft mail ---------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def header_value(text: str) -> str:
    """A header value built from client input: one line, whatever it held, and no
    RFC 2047 encoded-word left in it. The email package decodes any "=?...?=" in a
    header it is given, also inside an address or a Message-ID, and writes what it
    decoded as it is, line breaks included: a client's name or subject holding
    "=?utf-8?q?x=0D=0ABcc:_...?=" would add a header to the draft. A zero-width
    space after the "=" keeps the text as it was written and nothing to decode."""
    return " ".join(_CONTROL.sub(" ", text).split()).replace("=?", "=\u200b?")


@dataclass(frozen=True, slots=True)
class Original:
    """The client message a draft answers."""

    message_id: str
    references: tuple[str, ...]
    sender_name: str
    sender: str
    reply_to: str  # the Reply-To address, or empty
    subject: str
    date: datetime
    body: str


def reply_subject(subject: str) -> str:
    base = header_value(strip_prefixes(subject)) if subject else ""
    return f"Re: {base}" if base else "Re:"


def draft_message(original: Original, reply: str, *, sender: str, sender_name: str = "",
                  plan_id: str,
                  category: str, hostility: int, lang: str, zone: ZoneInfo,
                  now: datetime) -> EmailMessage:
    """The draft as it goes into Drafts: to the client (Reply-To honoured), threaded
    with In-Reply-To and References, the client's message quoted below."""
    mail = EmailMessage()
    mail["From"] = Address(display_name=header_value(sender_name),
                           addr_spec=header_value(sender))
    to = original.reply_to or original.sender
    name = header_value(original.sender_name) if not original.reply_to else ""
    mail["To"] = Address(display_name=name, addr_spec=header_value(to))
    mail["Subject"] = reply_subject(original.subject)
    mail["Date"] = format_datetime(now)
    domain = sender.rpartition("@")[2] or "triage.invalid"
    mail["Message-ID"] = make_msgid(domain=header_value(domain))
    parent = header_value(original.message_id)
    mail["In-Reply-To"] = parent
    refs = [header_value(r) for r in original.references if header_value(r)]
    mail["References"] = " ".join([*refs[-10:], parent])
    mail["X-Triage-Category"] = category
    mail["X-Triage-Hostility"] = str(hostility)
    mail[DRAFT_HEADER] = plan_id
    mail.set_content(reply + "\n" + _quote(original, lang, zone, now))
    return mail


_WROTE = {"es": "El {when}, {who} escribió:", "pt": "Em {when}, {who} escreveu:",
          "en": "On {when}, {who} wrote:"}


def _quote(original: Original, lang: str, zone: ZoneInfo, now: datetime) -> str:
    who = original.sender_name or original.sender
    line = _WROTE.get(lang, _WROTE["en"]).format(
        when=local_when(original.date, lang if lang in _WROTE else "en", zone, now),
        who=header_value(who))
    quoted = "\n".join("> " + row if row else ">" for row in original.body.splitlines())
    return f"\n{line}\n{quoted}\n"


def cited_from(evidence: Sequence[Mapping[str, object]], lang: str, zone: ZoneInfo,
               now: datetime, client: str) -> tuple[Cited, ...]:
    """The stored evidence (triage export's shape) as templates see it: dates in
    the provider's zone and the client's language, only the recipients on the
    client's side, the client's party as the evidence search sees it (not the
    provider's own address of a Bcc'd mass notice)."""
    side = party(client)
    cited = []
    for item in evidence:
        moment = datetime.fromisoformat(str(item["date"]))
        recipients = [str(r) for r in item.get("recipients", ()) or ()]  # type: ignore[attr-defined]
        emails = [r.rpartition("<")[2].rstrip(">").strip() for r in recipients]
        ours = [e for e in emails if party(e) == side] or emails[:1]
        cited.append(Cited(
            when=local_when(moment, lang, zone, now),
            date=local_when(moment, lang, zone, now, with_time=False),
            subject=header_value(str(item["subject"])), to=", ".join(ours),
            excerpt=header_value(str(item.get("excerpt", "")))))
    return tuple(cited)

