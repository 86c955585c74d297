"""Shared test helpers: configuration files and Maildir trees made on the fly."""

from __future__ import annotations

import email
import email.policy
import textwrap
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from dovecot import PASSWORD, Dovecot

from triage.classify import MessageClassifier
from triage.config import Config, load_config
from triage.corrections import Corrector
from triage.daemon import Service
from triage.drafting import Drafter
from triage.evidence import EvidenceFinder
from triage.mailbox import MaildirMailbox
from triage.message import Classification, Message
from triage.reports import Reporter
from triage.store import Store

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
FIXTURES_MAIL = DATA / "mail"

MINIMAL_CONFIG = """
[mailbox]
url = "maildir:{maildir}"

[folders]
inbox = "INBOX"
sent = "Sent"
drafts = "Drafts"
notices = ["Billing"]

[provider]
name = "Ana Ruiz, Web Agency"
addresses = ["ana@agency.example", "billing@agency.example"]
domains = ["agency.example"]
timezone = "Europe/Madrid"

[store]
path = "{store}"
"""


def make_maildir(root: Path, folders: tuple[str, ...] = ("Sent", "Drafts", "Billing")) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for sub in ("cur", "new", "tmp"):
            (root / ("." + folder.replace("/", ".")) / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver(maildir: Path, folder: str, name: str, raw: bytes, sub: str = "new") -> Path:
    """Put ``raw`` in a Maildir folder as a file called ``name`` (a unique name)."""
    base = maildir if folder == "INBOX" else maildir / ("." + folder.replace("/", "."))
    path = base / sub / (name if sub == "new" else name + ":2,S")
    path.write_bytes(raw)
    return path


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    return make_maildir(tmp_path / "Maildir")


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config file; ``text`` may use {maildir} and {store}."""

    def write(text: str = MINIMAL_CONFIG, name: str = "triage.toml") -> Path:
        path = tmp_path / name
        path.write_text(
            textwrap.dedent(text).format(
                maildir=tmp_path / "Maildir", store=tmp_path / "state" / "triage.db"
            ),
            encoding="utf-8",
        )
        return path

    return write


class Verdicts:
    """A stand-in classifier: the verdict is chosen by the test per Message-ID."""

    def __init__(self) -> None:
        self.by_id: dict[str, tuple[str, int, str]] = {}

    def classifications(self, messages: Sequence[Message]) -> list[Classification]:
        out = []
        for message in messages:
            category, hostility, lang = self.by_id.get(message.message_id, ("other", 0, "es"))
            out.append(Classification(language=lang, category=category, confidence=0.9,
                                      probabilities={category: 0.9}, hostility=hostility,
                                      hostility_score=float(hostility)))
        return out


def mail(message_id: str, when: datetime, sender: str, to: str, subject: str, body: str,
         reply_to: str = "", parent: str = "") -> bytes:
    """A plain-text message; ``parent`` makes it a reply (In-Reply-To, References)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id
    if parent:
        message["In-Reply-To"] = parent
        message["References"] = parent
    message.set_content(body)
    return bytes(message)


class Desk:
    """A Maildir mailbox, its store and the service, run once at a chosen moment."""

    def __init__(self, tmp_path: Path, extra: str = "") -> None:
        self.root = make_maildir(tmp_path / "Maildir")
        path = tmp_path / "triage.toml"
        path.write_text(MINIMAL_CONFIG.format(maildir=self.root, store=tmp_path / "state.db")
                        + extra, encoding="utf-8")
        self.config: Config = load_config(path)
        self.config_path = path
        self.verdicts = Verdicts()
        self.count = 0

    def deliver(self, folder: str, raw: bytes, verdict: tuple[str, int, str] | None = None
                ) -> None:
        self.count += 1
        if verdict is not None:
            message_id = email.message_from_bytes(raw)["Message-ID"]
            self.verdicts.by_id[message_id] = verdict
        deliver(self.root, folder, f"{1_790_000_000 + self.count}.m{self.count}.host", raw)

    def run(self, now: datetime, dry_run: bool = False, drafter: Drafter | None = None,
            reporter: Callable[[Config, Store], Reporter] | None = None) -> Service:
        with Store(self.config.store.path) as store:
            assert self.config.mailbox.path is not None
            root = self.config.mailbox.path
            service = Service(self.config, store, self.verdicts,
                              lambda: MaildirMailbox(root, store),
                              evidence=EvidenceFinder(),
                              drafter=drafter or Drafter(self.config, store),
                              clock=lambda: now, dry_run=dry_run,
                              reporter=reporter(self.config, store) if reporter else None,
                              corrector=Corrector(self.config, store))
            service.run_once()
            return service

    def drafts(self) -> list[EmailMessage]:
        folder = self.root / ".Drafts"
        files = sorted((folder / "cur").iterdir()) + sorted((folder / "new").iterdir())
        return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
                for f in files]  # type: ignore[misc]

    def plans(self) -> list[dict[str, object]]:
        with Store(self.config.store.path) as store:
            return [dict(r) for r in store.db.execute("SELECT * FROM drafts ORDER BY id")]


# --- the real IMAP server (tests/dovecot.py) --------------------------------------


@pytest.fixture(scope="session")
def classifier() -> MessageClassifier:
    """The shipped model, loaded once for the tests that need a real one."""
    return MessageClassifier()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot of the test's own, on loopback ports (tests/dovecot.py)."""
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRIAGE_TEST_IMAP_PASSWORD", PASSWORD)
    return PASSWORD
