"""The service loop over a local Maildir (the IMAP side is in test_imap.py), its
backoff, and the JSON log format."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from pathlib import Path

import pytest
from conftest import deliver, make_maildir
from mailfactory import render, varied_emails

from triage.cli import JsonLines, main
from triage.config import load_config
from triage.daemon import Backoff, Service
from triage.errors import MailboxConnectionError
from triage.mailbox import Mailbox, MaildirMailbox
from triage.store import Store


def test_backoff_doubles_up_to_the_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(first=1.0, cap=60.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(10)]
    ceilings = [min(60.0, 2.0 ** n) for n in range(10)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, not in lock step
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_run_once_over_a_maildir_triages_client_mail(write_config, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    for n, (name, mail, _) in enumerate(varied_emails(30)):
        deliver(maildir, "INBOX", f"{1_790_000_000 + n}.{name}.host", render(mail))
    config = write_config()
    assert main(["run", "--once", "--config", str(config)]) == 0
    assert "30 new messages stored, 30 client messages triaged" in capsys.readouterr().out
    assert main(["run", "--once", "--dry-run", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "0 new messages stored" in out and "dry run" in out


def test_the_service_picks_up_new_mail_and_stops_promptly(write_config, tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    config = load_config(write_config(MINIMAL_SERVICE))
    mails = [render(mail) for _, mail, _ in varied_emails(3)]
    deliver(maildir, "INBOX", "1790000000.a.host", mails[0])
    stop = threading.Event()
    from triage.classify import MessageClassifier

    classifier = MessageClassifier()
    done = threading.Event()

    def serve() -> None:
        with Store(config.store.path) as store:
            assert config.mailbox.path is not None
            Service(config, store, classifier,
                    lambda: MaildirMailbox(config.mailbox.path, store), stop=stop).run_forever()
        done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deliver(maildir, "INBOX", "1790000001.b.host", mails[1])

    def triaged() -> int:
        with Store(config.store.path) as store:
            return store.count_triaged()

    deadline = time.monotonic() + 20
    while triaged() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert triaged() == 2
    started = time.monotonic()
    stop.set()
    assert done.wait(10)
    assert time.monotonic() - started < 3


MINIMAL_SERVICE = """
[mailbox]
url = "maildir:{maildir}"

[provider]
name = "Ana Ruiz, Web Agency"
domains = ["agency.example"]

[store]
path = "{store}"

[service]
poll_seconds = 1
"""


class FlakyMailbox:
    """Fails to connect ``failures`` times, then hands out a real Maildir mailbox."""

    def __init__(self, failures: int, make: object) -> None:
        self.failures = failures
        self.make = make
        self.attempts = 0

    def __call__(self) -> Mailbox:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise MailboxConnectionError("IMAP connection failed (mail.example:993): refused")
        return self.make()  # type: ignore[operator, no-any-return]


def test_an_outage_is_logged_once_and_retried_with_backoff(
        write_config, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    maildir = make_maildir(tmp_path / "Maildir")
    config = load_config(write_config(MINIMAL_SERVICE))
    stop = threading.Event()
    from triage.classify import MessageClassifier

    with Store(config.store.path) as store:
        assert config.mailbox.path is not None
        path = config.mailbox.path
        opener = FlakyMailbox(4, lambda: MaildirMailbox(path, store))
        service = Service(config, store, MessageClassifier(), opener, stop=stop,
                          backoff=Backoff(first=0.01, cap=0.05))
        deliver(maildir, "INBOX", "1790000000.a.host",
                render(next(iter(varied_emails(1)))[1]))
        threading.Timer(2.0, stop.set).start()
        report = service.run_forever()
    assert opener.attempts == 5
    assert report.outages == 1
    assert report.triaged == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("reconnecting with backoff" in w for w in warnings) == 1
    assert sum("is back after" in w for w in warnings) == 1


def test_json_log_lines_carry_the_triage_fields() -> None:
    record = logging.LogRecord("triage.triaged", logging.INFO, __file__, 1,
                               "%s from %s", ("INBOX UID 3", "a@b.example"), None)
    record.triage = {"category": "accusation", "hostility": 2, "sender": "a@b.example"}
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "INBOX UID 3 from a@b.example"
    assert (line["category"], line["hostility"], line["level"]) == ("accusation", 2, "info")
