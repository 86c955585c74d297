"""Helpers for the tests that run the service against the real Dovecot: its
configuration, client mail, the service in a thread, and waiting for a condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from conftest import MINIMAL_CONFIG
from dovecot import PASSWORD, USER, Dovecot

from triage.classify import MessageClassifier
from triage.config import Config
from triage.corrections import Corrector
from triage.daemon import Backoff, Service
from triage.drafting import Drafter
from triage.evidence import EvidenceFinder
from triage.mailbox import ImapMailbox
from triage.store import Store

# The tests' usual configuration with an IMAP mailbox, and quicker service cycles.
IMAP_CONFIG = MINIMAL_CONFIG.replace('url = "maildir:{maildir}"', """url = "{url}"
password_env = "TRIAGE_TEST_IMAP_PASSWORD"
ca_file = "{ca}"
{extra}""") + """
[service]
idle_seconds = 30
notices_seconds = 10
"""


def imap_config(tmp_path: Path, dovecot: Dovecot, host: str = "localhost",
                scheme: str = "imaps", extra: str = "") -> Path:
    port = dovecot.tls_port if scheme == "imaps" else dovecot.port
    user = USER.replace("@", "%40")
    path = tmp_path / "triage.toml"
    path.write_text(IMAP_CONFIG.format(
        url=f"{scheme}://{user}@{host}:{port}", ca=dovecot.ca_file, extra=extra,
        store=tmp_path / "state" / "triage.db"), encoding="utf-8")
    return path


def client_message(n: int, text: str = "Nadie nos avisó del corte de anoche, es inaceptable.",
                   sender: str = "cliente@tienda.example") -> bytes:
    message = EmailMessage()
    message["From"] = f"Cliente {n} <{sender}>"
    message["To"] = "Ana Ruiz <ana@agency.example>"
    message["Subject"] = f"Consulta {n}"
    message["Date"] = format_datetime(datetime(2026, 11, 2, 9, n % 60, tzinfo=UTC))
    message["Message-ID"] = make_msgid(f"m{n}", domain="tienda.example")
    message.set_content(text)
    return bytes(message)


def make_service(config: Config, store: Store, classifier: MessageClassifier,
                 stop: threading.Event | None = None, drafts: bool = False) -> Service:
    """The service as ``triage run`` builds it; with ``drafts``, it also searches the
    evidence and plans and appends drafts."""
    def connect() -> ImapMailbox:
        return ImapMailbox(config.mailbox, PASSWORD, timeout=min(10.0, config.mailbox.timeout))

    return Service(config, store, classifier, connect, stop=stop,
                   backoff=Backoff(first=0.2, cap=1.0),
                   evidence=EvidenceFinder() if drafts else None,
                   drafter=Drafter(config, store) if drafts else None,
                   corrector=Corrector(config, store))


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class Running:
    """``Service.run_forever`` in a thread, with its own store connection."""

    def __init__(self, config: Config, classifier: MessageClassifier) -> None:
        self.config = config
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.service: Service | None = None
        self.thread = threading.Thread(target=self._run, args=(classifier,), daemon=True)
        self.thread.start()

    def _run(self, classifier: MessageClassifier) -> None:
        try:
            with Store(self.config.store.path) as store:
                self.service = make_service(self.config, store, classifier, self.stop)
                self.service.run_forever()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def stored(self) -> int:
        with Store(self.config.store.path) as store:
            return store.count_messages()

    def finish(self) -> float:
        started = time.monotonic()
        self.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the service did not stop"
        if self.error:
            raise self.error
        return time.monotonic() - started


