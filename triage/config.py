"""The configuration: one TOML file read into frozen dataclasses.

Every mistake in the file becomes one ``ConfigError`` line that names the file,
the key and what is expected. Passwords are never read from the file: they come
from an environment variable or a command (``read_password``).

Relative paths in the file are taken relative to the file's own folder.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import shlex
import ssl
import stat
import subprocess
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import platformdirs

from triage.corpus import LABELS
from triage.errors import ConfigError, SecretError

APP_NAME = "triage"
DEFAULT_PASSWORD_ENV = "TRIAGE_IMAP_PASSWORD"
DEFAULT_SMTP_PASSWORD_ENV = "TRIAGE_SMTP_PASSWORD"
LANGUAGES = ("es", "pt", "en")
_PASSWORD_COMMAND_TIMEOUT = 30

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Credentials:
    """Where a password comes from: exactly one of the two is set."""

    env: str | None = None
    command: str | None = None

    def describe(self) -> str:
        return f"${self.env}" if self.env else f"the password command {self.command!r}"


@dataclass(frozen=True, slots=True)
class MailboxConfig:
    """The mailbox: IMAP (implicit TLS or STARTTLS) or a local Maildir."""

    url: str
    scheme: str  # "imaps", "imap" or "maildir"
    tls: str  # "implicit", "starttls" or "none"
    user: str = ""
    host: str = ""
    port: int = 0
    path: Path | None = None
    ca_file: Path | None = None
    credentials: Credentials = Credentials(env=DEFAULT_PASSWORD_ENV)
    timeout: float = 60.0

    @property
    def is_maildir(self) -> bool:
        return self.scheme == "maildir"


@dataclass(frozen=True, slots=True)
class FoldersConfig:
    inbox: str = "INBOX"
    sent: str = "Sent"
    drafts: str = "Drafts"
    notices: tuple[str, ...] = ()

    @property
    def provider_folders(self) -> tuple[str, ...]:
        """Folders whose messages are the provider's own (possible proof)."""
        return (self.sent, *self.notices)

    @property
    def all_read(self) -> tuple[str, ...]:
        """Every folder triage reads, inbox first, without repeats."""
        return tuple(dict.fromkeys((self.inbox, self.sent, *self.notices)))

    def key_of(self, folder: str) -> str:
        """The [folders] key that names ``folder``, for an error message."""
        keys = {self.inbox: "inbox", self.sent: "sent", self.drafts: "drafts"}
        return keys.get(folder, "notices")


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    name: str
    addresses: tuple[str, ...]
    domains: tuple[str, ...]
    timezone: str
    signature: str = ""
    language: str = "en"

    def owns(self, address: str) -> bool:
        """True when ``address`` is the provider's: listed, or at one of its domains."""
        address = address.lower()
        if address in self.addresses:
            return True
        domain = address.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """How ``triage run`` watches the mailbox."""

    idle: bool = True  # wait with IDLE when the server has it
    idle_seconds: int = 600  # end and re-issue an IDLE this often (servers drop at 30 min)
    poll_seconds: int = 60  # without IDLE: look for new mail this often
    notices_seconds: int = 300  # Sent and the notice folders: read this often
    processes: int = 2  # 2: a helper process takes half of each large batch


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                   "sunday")
DRAFT_CATEGORIES = ("accusation", "payment_excuse", "scope_creep", "genuine_fault")


@dataclass(frozen=True, slots=True)
class CorrectionsConfig:
    """How the provider corrects a category (a folder to drop the message in, or an
    IMAP keyword), and how the model learns from the corrections."""

    enabled: bool = True
    create_folders: bool = False  # create the correction folders on the first run
    # (category, folder) and (category, keyword) pairs, in LABELS order.
    folders: tuple[tuple[str, str], ...] = (
        ("accusation", "Triage/Accusation"), ("payment_excuse", "Triage/Payment excuse"),
        ("scope_creep", "Triage/Scope creep"), ("genuine_fault", "Triage/Genuine fault"),
        ("other", "Triage/Other"))
    keywords: tuple[tuple[str, str], ...] = tuple((c, f"triage_{c}") for c in LABELS)
    retrain: bool = True  # triage run retrains by itself at retrain_at when there are new ones
    retrain_at: str = "03:00"  # in [provider] timezone
    weight: float = 20.0  # one correction counts as this many corpus messages
    tolerance: float = 0.02  # a new model may lose at most this much held-out macro-F1


@dataclass(frozen=True, slots=True)
class DraftsConfig:
    """Reply drafts: which categories get one, when they are due, what they say."""

    enabled: bool = True
    categories: tuple[str, ...] = DRAFT_CATEGORIES
    templates: Path | None = None  # a folder of <lang>/<category>.txt.j2 overrides
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    day_starts: str = "09:00"
    cooldown_hours: float = 12.0
    cooldown_hours_hostile: float = 36.0  # for hostility 3
    no_cooldown: tuple[str, ...] = ("genuine_fault",)
    max_age_days: int = 7  # older client mail (a first backfill) gets no draft
    sender: str = ""  # the From of drafts; default: the provider's first address
    payment_terms: tuple[tuple[str, str], ...] = ()  # (language, text)
    scope_terms: tuple[tuple[str, str], ...] = ()

    def terms(self, kind: str, lang: str) -> str:
        texts: dict[str, str] = dict(getattr(self, kind))
        return texts.get(lang, "")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    path: Path


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """The SMTP server the digest and alerts are sent through."""

    url: str
    host: str
    port: int
    tls: str  # "implicit", "starttls" or "none"
    user: str
    sender: str
    ca_file: Path | None = None
    credentials: Credentials | None = None


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """The weekly digest of hostile threads: when ``triage run`` sends it, to whom."""

    send: bool = False  # triage run sends it by itself (needs [smtp])
    to: tuple[str, ...] = ()  # default: the provider's first address
    weekday: int = 0  # Monday = 0
    time: str = "08:00"  # in [provider] timezone
    days: int = 7  # the period it covers


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """Immediate short alerts: a hostile genuine fault, a threat of lawyers or reviews."""

    enabled: bool = False
    to: tuple[str, ...] = ()  # default: the provider's first address
    max_per_hour: int = 3
    max_age_hours: int = 24  # older mail (a first backfill) raises no alert


@dataclass(frozen=True, slots=True)
class Config:
    source: Path
    mailbox: MailboxConfig
    folders: FoldersConfig
    provider: ProviderConfig
    store: StoreConfig
    smtp: SmtpConfig | None = None
    service: ServiceConfig = ServiceConfig()
    drafts: DraftsConfig = DraftsConfig()
    digest: DigestConfig = DigestConfig()
    alerts: AlertsConfig = AlertsConfig()
    corrections: CorrectionsConfig = CorrectionsConfig()

    @property
    def models_dir(self) -> Path:
        """Where retrained models live: beside the state database (the shipped model is
        never overwritten)."""
        return self.store.path.with_name(self.store.path.stem + "-models")

    def local(self, moment: datetime) -> datetime:
        """``moment`` with the provider's time zone when it has none (``--now``,
        ``--end``)."""
        if moment.tzinfo:
            return moment
        return moment.replace(tzinfo=zoneinfo.ZoneInfo(self.provider.timezone))

    @property
    def report_sender(self) -> str:
        """The From of the digest and alerts: [smtp] from, else the drafts' sender."""
        return self.smtp.sender if self.smtp else self.draft_sender

    def report_recipients(self, configured: tuple[str, ...]) -> tuple[str, ...]:
        """Where the digest or alerts go: the configured addresses, else the
        provider's first address."""
        if configured:
            return configured
        return (self.draft_sender,)

    @property
    def draft_sender(self) -> str:
        if self.drafts.sender:
            return self.drafts.sender
        if self.provider.addresses:
            return self.provider.addresses[0]
        return f"{APP_NAME}@{self.provider.domains[0]}"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "triage.toml"


def default_store_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "triage.db"


def locate_config(explicit: str | None) -> Path:
    """``--config``, else ``$TRIAGE_CONFIG``, else the user's config folder."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("TRIAGE_CONFIG")
    if from_env:
        return Path(from_env)
    path = default_config_path()
    if not path.exists():
        raise ConfigError(
            f"no configuration file: pass --config FILE, set TRIAGE_CONFIG, or create {path} "
            "(triage.example.toml shows every key)"
        )
    return path


# Every table and its keys, as triage.example.toml documents them. A key that is not
# here is a mistake (most often a misspelling), reported before anything else in its
# table, with the nearest known key.
SCHEMA: dict[str, tuple[str, ...]] = {
    "mailbox": ("url", "password_env", "password_command", "tls", "ca_file",
                "timeout_seconds"),
    "folders": ("inbox", "sent", "drafts", "notices"),
    "provider": ("name", "addresses", "domains", "timezone", "language", "signature"),
    "store": ("path",),
    "service": ("idle", "idle_seconds", "poll_seconds", "notices_seconds", "processes"),
    "drafts": ("enabled", "categories", "working_days", "day_starts", "cooldown_hours",
               "cooldown_hours_hostile", "no_cooldown", "max_age_days", "from", "templates",
               "payment_terms", "scope_terms"),
    "smtp": ("url", "from", "password_env", "password_command", "tls", "login", "ca_file"),
    "digest": ("send", "to", "weekday", "time", "days"),
    "alerts": ("enabled", "to", "max_per_hour", "max_age_hours"),
    "corrections": ("enabled", "create_folders", "folders", "keywords", "retrain",
                    "retrain_at", "weight", "tolerance"),
}
REQUIRED_TABLES = ("mailbox", "provider")
# Keys whose wrong value may be a password typed in the wrong place: never echoed.
_UNECHOED = ("password_env", "password_command")


def load_config(path: Path) -> Config:
    """Read and check the file; raise ``ConfigError`` with one clear line on any mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text, path) from None
    return _build(data, path)


def _syntax_error(reason: str, text: str, source: Path) -> ConfigError:
    """A TOML error with the table and key of its line: tomllib gives only a position
    (and "at end of document" for a mistake on the last line)."""
    position = re.search(r" \(at (?:line (\d+), column \d+|end of document)\)$", reason)
    if position:
        reason = reason[: position.start()]
    lines = text.splitlines()
    number = int(position.group(1)) if position and position.group(1) else len(lines)
    while number > 1 and not lines[number - 1].strip():
        number -= 1
    place = _place(lines, number)
    where = f"{place} (line {number})" if place else f"line {number}"
    if reason.startswith("Cannot overwrite a value"):
        return ConfigError(f"{source}: {where}: expected each key once in its table; "
                           "this line gives it again")
    if re.fullmatch(r"Cannot declare .* twice", reason):
        return ConfigError(f"{source}: {where}: expected each table once; this line "
                           "declares it again")
    return ConfigError(f'{source}: {where}: not valid TOML ({reason}); expected key = value, '
                       'with text in "quotes"')


def _place(lines: list[str], number: int) -> str:
    """"[table] key" for line ``number`` (1-based): its own key, or that of the line
    its value started on, under the last table header above it ("" when none)."""
    header = re.compile(r"\s*\[\[?\s*([\w.-]+)")
    key: str | None = None
    for index in range(min(number, len(lines)) - 1, -1, -1):
        line = lines[index]
        if found := header.match(line):
            table = found.group(1)
            return f"[{table}] {key}" if key else f"[{table}]"
        if key is None:
            pattern = r"\s*([\w-]+)\s*(=|$|\s)" if index == number - 1 else r"\s*([\w-]+)\s*="
            if found := re.match(pattern, line):
                key = found.group(1)
    return key or ""


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    """"; did you mean X?" for the nearest known name, or nothing."""
    by_lower = {name.lower(): name for name in known}
    close = difflib.get_close_matches(word.lower(), by_lower, n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]}?" if close else ""


def _shown(value: object) -> str:
    """A wrong value quoted for an error line: escaped, and cut when long."""
    text = str(value).lower() if isinstance(value, bool) else repr(value)  # TOML's spelling
    return text if len(text) <= 80 else text[:77] + "..."


class _Table:
    """One TOML table being read: typed getters that fail with the key's full name."""

    def __init__(self, data: dict[str, Any], name: str, source: Path) -> None:
        self.data = data
        self.name = name
        self.source = source

    def fail(self, key: str, expected: str, got: object = None) -> ConfigError:
        where = f"[{self.name}] {key}" if key else f"[{self.name}]"
        shown = got is not None and key.partition(".")[0] not in _UNECHOED
        tail = f", got {_shown(got)}" if shown else ""
        return ConfigError(f"{self.source}: {where}: expected {expected}{tail}")

    def has(self, key: str) -> bool:
        assert key in SCHEMA[self.name], f"[{self.name}] {key} is not in SCHEMA"
        return key in self.data

    def get(self, key: str, kind: type[T], expected: str, default: T | None = None) -> T | None:
        if not self.has(key):
            return default
        value = self.data[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise self.fail(key, expected, value)
        return value

    def require(self, key: str, kind: type[T], expected: str) -> T:
        value = self.get(key, kind, expected)
        if value is None:
            raise self.fail(key, expected + " (the key is missing)")
        return value

    def text(self, key: str, default: str = "", required: bool = False,
             multiline: bool = False) -> str:
        """A string, stripped. Only ``multiline`` text may hold line breaks or be
        empty; elsewhere an empty value is a mistake, not a way to ask for the default."""
        value = (self.require(key, str, "a string") if required
                 else self.get(key, str, "a string"))
        if value is None:
            return default
        value = value.strip()
        if multiline:
            return value
        if not value:
            hint = "" if required else "; leave the key out for the default"
            raise self.fail(key, "a non-empty string" + hint, value)
        if not _one_line(value):
            raise self.fail(key, "one line of text with no control characters", value)
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, "a list of strings", [])
        assert value is not None
        if not all(isinstance(v, str) and v.strip() and _one_line(v) for v in value):
            raise self.fail(key, "a list of non-empty strings of one line each", value)
        return tuple(v.strip() for v in value)

    def path(self, key: str) -> Path | None:
        value = self.text(key)
        return self.resolve(key, value) if value else None

    def resolve(self, key: str, value: str) -> Path:
        """``~`` is a home folder; a relative path is taken from the file's folder."""
        try:
            path = Path(value).expanduser()
        except RuntimeError:  # ~name of a user this machine does not know
            raise self.fail(key, "a path whose ~ names a user of this machine", value) from None
        return path if path.is_absolute() else (self.source.parent / path).resolve()

    def kind(self, key: str, path: Path) -> str:
        """What is at ``path``: "file", "folder", "other" or "" (nothing)."""
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            return ""
        except OSError as exc:
            raise self.fail(key, f"a path triage may look at ({exc.strerror})",
                            str(path)) from None
        return ("folder" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode)
                else "other")

    def check_unknown(self) -> None:
        known = SCHEMA[self.name]
        for key in self.data:
            if key in known:
                continue
            if key == "password" and "password_env" in known:
                raise ConfigError(
                    f"{self.source}: [{self.name}] password: passwords are not read from the "
                    "configuration file; set password_env (an environment variable's name) "
                    "or password_command instead"
                )
            raise ConfigError(f"{self.source}: [{self.name}] {key}: unknown key"
                              f"{_did_you_mean(key, known)} (expected one of: "
                              f"{', '.join(known)})")


def _one_line(text: str) -> bool:
    return not any(unicodedata.category(c) == "Cc" for c in text)


def _table(data: dict[str, Any], name: str, source: Path) -> _Table:
    value = data.get(name, None)
    if value is None:
        if name in REQUIRED_TABLES:
            raise ConfigError(f"{source}: [{name}]: this table is missing")
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{name}]: expected a table, got {_shown(value)}")
    table = _Table(value, name, source)
    table.check_unknown()
    return table


def _unknown_table(name: str, value: object, source: Path) -> ConfigError:
    if isinstance(value, dict):
        return ConfigError(f"{source}: [{name}]: unknown table{_did_you_mean(name, SCHEMA)} "
                           f"(expected one of: {', '.join(SCHEMA)})")
    homes = [f"[{table}]" for table, keys in SCHEMA.items() if name in keys]
    return ConfigError(f"{source}: {name}: a key outside any table; expected it under "
                       f"{' or '.join(homes) if homes else 'a table such as [mailbox]'}")


def _build(data: dict[str, Any], source: Path) -> Config:
    for name, value in data.items():
        if name not in SCHEMA:
            raise _unknown_table(name, value, source)
    readers: dict[str, Callable[[_Table], Any]] = {
        "mailbox": _mailbox, "folders": _folders, "provider": _provider, "store": _store,
        "smtp": _smtp, "service": _service, "drafts": _drafts, "digest": _digest,
        "alerts": _alerts, "corrections": _corrections,
    }
    built: dict[str, Any] = {}
    for name, reader in readers.items():
        if name in data or name in REQUIRED_TABLES:
            built[name] = reader(_table(data, name, source))
    defaults: dict[str, Callable[[], Any]] = {
        "folders": FoldersConfig, "store": lambda: StoreConfig(path=default_store_path()),
        "service": ServiceConfig, "drafts": DraftsConfig, "digest": DigestConfig,
        "alerts": AlertsConfig, "corrections": CorrectionsConfig,
    }
    for name, default in defaults.items():
        built.setdefault(name, default())
    for name, wants_mail in (("digest", built["digest"].send),
                             ("alerts", built["alerts"].enabled)):
        if wants_mail and "smtp" not in built:
            key = "send" if name == "digest" else "enabled"
            raise ConfigError(f"{source}: [{name}] {key}: mail is sent through [smtp], "
                              "which is missing; add it or set this to false")
    folders, corrections = built["folders"], built["corrections"]
    taken = {_folder_key(f) for f in (*folders.all_read, folders.drafts)}
    for category, folder in corrections.folders:
        if _folder_key(folder) in taken:
            raise ConfigError(
                f"{source}: [corrections] folders.{category}: expected a folder of its own, "
                f"not one of [folders] (messages dropped there go back to the inbox), "
                f"got {_shown(folder)}")
    return Config(source=source, **built)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _credentials(table: _Table, default_env: str) -> Credentials:
    env = table.text("password_env", default_env)
    if not _ENV_NAME.fullmatch(env):
        raise table.fail("password_env", f"the name of an environment variable such as "
                         f"{default_env} (not the password itself)", env)
    if table.has("password_command"):
        if table.has("password_env"):
            raise table.fail("password_command",
                             "either password_env or password_command, not both")
        command = table.text("password_command")
        try:
            if not shlex.split(command):
                raise ValueError("empty")
        except ValueError:
            raise table.fail("password_command", "a command line (with its quotes closed)",
                             command) from None
        return Credentials(command=command)
    return Credentials(env=env)


_MAILBOX_URL = "imaps://user@host[:port], imap://user@host[:port] or maildir:/path"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_domain(name: str) -> bool:
    """A DNS name (international ones too): dot-separated labels of letters, digits
    and hyphens."""
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_DOMAIN.fullmatch(name))


def _network_url(
    table: _Table, url: str, schemes: dict[str, tuple[str, int]], expected: str
) -> tuple[str, str, str, int, str]:
    """Split ``scheme://user@host[:port]``; return (scheme, user, host, port, tls)."""
    shown = re.sub(r"(//[^/@]*?):[^/@]*@", r"\1:…@", url)  # never a password in an error
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise table.fail("url", expected + " with a port from 1 to 65535", shown) from None
    if parts.scheme not in schemes or not parts.hostname or not parts.username:
        raise table.fail("url", expected, shown)
    if parts.password is not None:
        raise table.fail("url", expected + " with no password in it (use password_env)", shown)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise table.fail("url", expected + " with nothing after the host", shown)
    if port == 0:
        raise table.fail("url", expected + " with a port from 1 to 65535", shown)
    host = parts.hostname
    if not (is_loopback(host) or _is_domain(host.rstrip("."))):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise table.fail("url", expected + " where host is a host name or an IP address",
                             shown) from None
    tls, default_port = schemes[parts.scheme]
    return parts.scheme, unquote(parts.username), host, port or default_port, tls


def _tls_mode(table: _Table, scheme_tls: str, host: str) -> str:
    tls = table.text("tls", scheme_tls)
    if scheme_tls == "implicit":
        # The tls key is for plain-scheme URLs; a TLS URL is always implicit TLS,
        # and asking it for no encryption is a contradiction, not a choice.
        if tls not in ("implicit", "starttls"):
            raise table.fail("tls", '"implicit" or no tls key for a TLS (…s://) url', tls)
        return "implicit"
    if tls not in ("starttls", "none"):
        raise table.fail("tls", '"starttls" or "none"', tls)
    if tls == "none" and not is_loopback(host):
        raise table.fail(
            "tls", f'"starttls": "none" is accepted only for loopback hosts, not {host!r}', tls
        )
    return tls


def _mailbox(table: _Table) -> MailboxConfig:
    url = table.text("url", required=True)
    if url.startswith("maildir:"):
        raw = url[len("maildir:") :]
        if raw.startswith("//"):
            raw = raw[2:]
        if not raw:
            raise table.fail("url", _MAILBOX_URL, url)
        return MailboxConfig(
            url=url, scheme="maildir", tls="none", path=table.resolve("url", raw)
        )
    scheme, user, host, port, scheme_tls = _network_url(
        table, url, {"imaps": ("implicit", 993), "imap": ("starttls", 143)}, _MAILBOX_URL
    )
    return MailboxConfig(
        url=url,
        scheme=scheme,
        tls=_tls_mode(table, scheme_tls, host),
        user=user,
        host=host,
        port=port,
        ca_file=_ca_file(table),
        credentials=_credentials(table, DEFAULT_PASSWORD_ENV),
        timeout=float(_seconds(table, "timeout_seconds", 60, 5, 3600)),
    )


def _seconds(table: _Table, key: str, default: int, low: int, high: int) -> int:
    return _whole(table, key, default, low, high, "seconds")


def _service(table: _Table) -> ServiceConfig:
    idle = table.get("idle", bool, "true or false", True)
    return ServiceConfig(
        idle=bool(idle),
        # Servers may end an IDLE after 30 minutes (RFC 2177): stay well below.
        idle_seconds=_seconds(table, "idle_seconds", 600, 10, 1500),
        poll_seconds=_seconds(table, "poll_seconds", 60, 1, 3600),
        notices_seconds=_seconds(table, "notices_seconds", 300, 10, 86400),
        # A second process only helps where there is a second core.
        processes=_whole(table, "processes", min(2, os.cpu_count() or 1), 1, 2, "processes"),
    )


def _categories(table: _Table, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    categories = table.strings(key) if table.has(key) else default
    for category in categories:
        if category not in DRAFT_CATEGORIES:
            raise table.fail(key, "categories among " + ", ".join(DRAFT_CATEGORIES), category)
    return categories


def _drafts(table: _Table) -> DraftsConfig:
    enabled = table.get("enabled", bool, "true or false", True)
    categories = _categories(table, "categories", DRAFT_CATEGORIES)
    templates = table.path("templates")
    if templates is not None and table.kind("templates", templates) != "folder":
        raise table.fail("templates", "the path of an existing folder of reply templates",
                         str(templates))
    days = table.strings("working_days") if table.has("working_days") else DAY_NAMES[:5]
    working_days = [_weekday(table, "working_days", day,
                             'day names such as ["mon", "tue", "wed"]') for day in days]
    if not working_days:
        raise table.fail("working_days", "at least one working day", [])
    starts = _time_of_day(table, "day_starts", "09:00")
    no_cooldown = _categories(table, "no_cooldown", ("genuine_fault",))
    sender = table.text("from")
    if sender:
        _check_address(table, "from", sender, "the e-mail address drafts are written from, "
                       "with no name (the name is [provider] name)")
    return DraftsConfig(
        enabled=bool(enabled), categories=categories, templates=templates,
        working_days=tuple(sorted(set(working_days))), day_starts=starts,
        cooldown_hours=_hours(table, "cooldown_hours", 12),
        cooldown_hours_hostile=_hours(table, "cooldown_hours_hostile", 36),
        no_cooldown=no_cooldown,
        max_age_days=_whole(table, "max_age_days", 7, 1, 3650, "days"),
        sender=sender, payment_terms=_per_language(table, "payment_terms"),
        scope_terms=_per_language(table, "scope_terms"))


def _weekday(table: _Table, key: str, name: str, expected: str) -> int:
    """Monday = 0, from "mon" or "monday" in any case."""
    for number, names in enumerate(zip(DAY_NAMES, _DAY_FULL_NAMES, strict=True)):
        if name.lower() in names:
            return number
    raise table.fail(key, expected, name)


def _check_address(table: _Table, key: str, value: str, expected: str) -> None:
    """A bare address (no name, no line break) or a one-line error naming the key."""
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError, HeaderParseError):
        raise table.fail(key, expected, value) from None


def _addresses(table: _Table, key: str) -> tuple[str, ...]:
    """A list of recipients; leaving the key out (not an empty list) asks for the
    provider's first address."""
    expected = 'a list of e-mail addresses such as ["ana@agency.example"]'
    found = table.strings(key)
    if table.has(key) and not found:
        raise table.fail(key, expected + "; leave the key out for the first [provider] "
                         "address", [])
    for value in found:
        _check_address(table, key, value, expected)
    return found


def _time_of_day(table: _Table, key: str, default: str) -> str:
    value = table.text(key, default)
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        raise table.fail(key, 'a time of day such as "09:00"', value)
    return value.zfill(5)


def _digest(table: _Table) -> DigestConfig:
    send = table.get("send", bool, "true or false", False)
    return DigestConfig(
        send=bool(send), to=_addresses(table, "to"),
        weekday=_weekday(table, "weekday", table.text("weekday", "mon"),
                         'a day name such as "mon"'),
        time=_time_of_day(table, "time", "08:00"),
        days=_whole(table, "days", 7, 1, 92, "days"))


def _alerts(table: _Table) -> AlertsConfig:
    enabled = table.get("enabled", bool, "true or false", False)
    return AlertsConfig(
        enabled=bool(enabled), to=_addresses(table, "to"),
        max_per_hour=_whole(table, "max_per_hour", 3, 1, 60, "alerts"),
        max_age_hours=_whole(table, "max_age_hours", 24, 1, 720, "hours"))


# An IMAP keyword is an atom (RFC 3501); these characters are safe in every client.
_KEYWORD = re.compile(r"[A-Za-z0-9_.$-]{1,64}")


def _corrections(table: _Table) -> CorrectionsConfig:
    defaults = CorrectionsConfig()
    folders = _by_category(table, "folders", dict(defaults.folders),
                           "a folder name of one line, e.g. \"Triage/Acusación\"",
                           lambda name: "\\" not in name and name.upper() != "INBOX")
    keywords = _by_category(table, "keywords", dict(defaults.keywords),
                            "an IMAP keyword: letters, digits, _ . $ - (e.g. triage_other)",
                            _KEYWORD.fullmatch)
    number = (int, float)
    weight = table.get("weight", number, "a number from 1 to 1000", 20.0)  # type: ignore[arg-type]
    if isinstance(weight, bool) or not 1 <= float(weight) <= 1000:  # type: ignore[arg-type]
        raise table.fail("weight", "a number from 1 to 1000", weight)
    tolerance = table.get("tolerance", number, "a number from 0 to 0.5", 0.02)  # type: ignore[arg-type]
    if isinstance(tolerance, bool) or not 0 <= float(tolerance) <= 0.5:  # type: ignore[arg-type]
        raise table.fail("tolerance", "a number from 0 to 0.5", tolerance)
    return CorrectionsConfig(
        enabled=bool(table.get("enabled", bool, "true or false", True)),
        create_folders=bool(table.get("create_folders", bool, "true or false", False)),
        folders=folders, keywords=keywords,
        retrain=bool(table.get("retrain", bool, "true or false", True)),
        retrain_at=_time_of_day(table, "retrain_at", "03:00"),
        weight=float(weight), tolerance=float(tolerance))  # type: ignore[arg-type]


def _by_category(table: _Table, key: str, defaults: dict[str, str], expected: str,
                 valid: Callable[[str], object]) -> tuple[tuple[str, str], ...]:
    """A sub-table of one name per category (``folders = {other = "Triage/Otros"}``):
    the categories left out keep their defaults; every name must be different."""
    given = table.get(key, dict, "a table of names by category ("
                      + ", ".join(LABELS) + ")", {})
    assert given is not None
    names = dict(defaults)
    for category, value in given.items():
        if category not in LABELS:
            raise table.fail(f"{key}.{category}", "a category among " + ", ".join(LABELS)
                             + _did_you_mean(category, LABELS), category)
        if not isinstance(value, str) or not _one_line(value.strip()) \
                or not value.strip() or not valid(value.strip()):
            raise table.fail(f"{key}.{category}", expected, value)
        names[category] = value.strip()
    seen: dict[str, str] = {}
    for category in LABELS:
        other = seen.setdefault(names[category].lower(), category)
        if other != category:
            raise table.fail(f"{key}.{category}", f"a name of its own, not the same as "
                             f"{key}.{other}", names[category])
    return tuple((c, names[c]) for c in LABELS)


def _hours(table: _Table, key: str, default: float) -> float:
    value = table.get(key, (int, float), "a number of hours from 0 to 720", default)  # type: ignore[arg-type]
    if isinstance(value, bool) or not 0 <= float(value) <= 720:  # type: ignore[arg-type]
        raise table.fail(key, "a number of hours from 0 to 720", value)
    return float(value)  # type: ignore[arg-type]


def _whole(table: _Table, key: str, default: int, low: int, high: int, unit: str) -> int:
    expected = f"a whole number of {unit} from {low} to {high}"
    value = table.get(key, int, expected, default)
    assert value is not None
    if not low <= value <= high:
        raise table.fail(key, expected, value)
    return value


def _per_language(table: _Table, key: str) -> tuple[tuple[str, str], ...]:
    """A sub-table of texts by language: ``payment_terms = {es = "...", en = "..."}``."""
    value = table.get(key, dict, "a table of texts by language (es, pt, en)", {})
    assert value is not None
    texts = []
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise table.fail(f"{key}.{lang}", "texts under es, pt or en only", lang)
        if not isinstance(text, str) or not text.strip():
            raise table.fail(f"{key}.{lang}", "a non-empty text", text)
        text = " ".join(text.split())
        # Templates use it as a sentence of its own.
        texts.append((lang, text if text[-1] in ".!?…" else text + "."))
    return tuple(texts)


def _existing_file(table: _Table, key: str) -> Path | None:
    path = table.path(key)
    if path is not None and table.kind(key, path) != "file":
        raise table.fail(key, "the path of an existing file", str(path))
    return path


def _ca_file(table: _Table) -> Path | None:
    """Checked now: a wrong file would otherwise surface only at the first connection."""
    path = _existing_file(table, "ca_file")
    if path is not None:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=str(path))
        except (ssl.SSLError, OSError, ValueError):
            raise table.fail("ca_file", "a PEM file of certificate authorities",
                             str(path)) from None
    return path


def _folder_key(name: str) -> str:
    """INBOX is one folder in any case (RFC 3501); other names are as written."""
    return "INBOX" if name.upper() == "INBOX" else name


def _folders(table: _Table) -> FoldersConfig:
    names = {key: table.text(key, default) for key, default in
             (("inbox", "INBOX"), ("sent", "Sent"), ("drafts", "Drafts"))}
    notices = table.strings("notices")
    # Each folder has one role: drafts appended to the inbox would be read back as
    # mail, and client mail in a notices folder would count as the provider's proof.
    roles: dict[str, str] = {}
    for key, name in (*names.items(), *(("notices", n) for n in notices)):
        other = roles.setdefault(_folder_key(name), key)
        if other != key:
            raise table.fail(key, f"a folder of its own, not the same as [folders] {other}",
                             name)
    return FoldersConfig(notices=notices, **names)


def _provider(table: _Table) -> ProviderConfig:
    addresses = tuple(a.lower() for a in table.strings("addresses"))
    for address in addresses:
        _check_address(table, "addresses", address,
                       'a list of e-mail addresses such as ["ana@agency.example"]')
    domains = tuple(d.lower().lstrip("@") for d in table.strings("domains"))
    for domain in domains:
        if not _is_domain(domain):
            raise table.fail("domains", 'a list of domain names such as ["agency.example"]',
                             domain)
    if not addresses and not domains:
        raise table.fail("addresses", "at least one address or domain of the provider's own")
    timezone = table.text("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # A folder of the zone database ("Europe") or a name too long is an OSError.
        raise table.fail(
            "timezone", 'an IANA time zone such as "Europe/Madrid"', timezone
        ) from None
    language = table.text("language", "en")
    if language not in LANGUAGES:
        raise table.fail("language", "one of " + ", ".join(LANGUAGES), language)
    return ProviderConfig(
        name=table.text("name", required=True),
        addresses=addresses,
        domains=domains,
        timezone=timezone,
        signature=table.text("signature", multiline=True),
        language=language,
    )


def _store(table: _Table) -> StoreConfig:
    path = table.path("path")
    if path is None:
        return StoreConfig(path=default_store_path())
    if table.kind("path", path) == "folder":
        raise table.fail("path", "the path of the state database file, not of a folder",
                         str(path))
    existing = next(folder for folder in path.parents if table.kind("path", folder))
    if table.kind("path", existing) != "folder":
        raise table.fail("path", f"a path whose folders can be created, but {existing} is "
                         "not a folder", str(path))
    return StoreConfig(path=path)


_SMTP_URL = "smtps://user@host[:port] or smtp://user@host[:port]"


def _smtp(table: _Table) -> SmtpConfig:
    url = table.text("url", required=True)
    scheme, user, host, port, scheme_tls = _network_url(
        table, url, {"smtps": ("implicit", 465), "smtp": ("starttls", 587)}, _SMTP_URL
    )
    sender = table.text("from", required=True)
    _check_address(table, "from", sender, "the e-mail address the digest and alerts are "
                   "sent from, with no name, such as triage@agency.example")
    login = table.get("login", bool, "true or false", True)
    credentials = _credentials(table, DEFAULT_SMTP_PASSWORD_ENV)
    return SmtpConfig(
        url=url,
        host=host,
        port=port,
        tls=_tls_mode(table, scheme_tls, host),
        user=user,
        sender=sender,
        ca_file=_ca_file(table),
        credentials=credentials if login else None,
    )


def read_password(credentials: Credentials, what: str) -> str:
    """Fetch a password from the environment or a command; never echo it.

    ``what`` names the account in errors, e.g. ``"IMAP login ana@mail.example"``.
    """
    if credentials.env:
        value = os.environ.get(credentials.env)
        if not value:
            raise SecretError(
                f"no password for the {what}: set the environment variable {credentials.env}"
            )
        return value
    assert credentials.command is not None
    try:
        done = subprocess.run(  # noqa: S603 - the user's own command, run without a shell
            shlex.split(credentials.command),
            capture_output=True,
            timeout=_PASSWORD_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = (f"it did not finish in {_PASSWORD_COMMAND_TIMEOUT} s"
                  if isinstance(exc, subprocess.TimeoutExpired) else exc.strerror or str(exc))
        raise SecretError(
            f"no password for the {what}: the password command failed ({reason})"
        ) from None
    if done.returncode != 0:
        raise SecretError(
            f"no password for the {what}: the password command exited with {done.returncode}; "
            "run it yourself to see why"
        )
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        raise SecretError(f"no password for the {what}: the password command printed nothing")
    return lines[0]
