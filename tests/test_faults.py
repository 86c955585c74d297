"""Faults against the real Dovecot: the service killed at random moments, the server
stopped, connections cut in the middle of a FETCH or left silent, folders deleted and
recreated, a full disk. After each, every message is stored and triaged exactly once,
every due draft is in Drafts exactly once, and the store is whole.

The kill loop runs ``TRIAGE_KILL_ROUNDS`` rounds (20 by default, as in CI); the README
gives the figures of a longer run by hand.
"""

from __future__ import annotations

import email
import email.message
import email.utils
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO, deliver, make_maildir
from dovecot import DRAFTS, USER, Dovecot
from imapdesk import Running, client_message, imap_config, make_service, wait_until
from mailfactory import huge_message, render, varied_emails
from tcpproxy import Proxy

from triage.classify import MessageClassifier
from triage.config import Config, load_config
from triage.mailbox import READ_LIMIT, MaildirMailbox
from triage.message import DRAFT_HEADER
from triage.store import Store

KILL_ROUNDS = int(os.environ.get("TRIAGE_KILL_ROUNDS", "20"))


@pytest.fixture
def proxy(dovecot: Dovecot) -> Iterator[Proxy]:
    """A proxy of the test's own in front of Dovecot's implicit-TLS port."""
    server = Proxy(dovecot.tls_port)
    try:
        yield server
    finally:
        server.close()


def proxied_config(tmp_path: Path, dovecot: Dovecot, proxy: Proxy, extra: str = "") -> Config:
    path = imap_config(tmp_path, dovecot, extra=extra)
    path.write_text(path.read_text().replace(f":{dovecot.tls_port}", f":{proxy.port}"))
    return load_config(path)


def recent_mailbox(dovecot: Dovecot, clients: int, notices: int, seed: int = 5) -> set[str]:
    """``clients`` client messages of the last days (so that drafts fall due: genuine
    faults at once, the rest at a working morning that has passed) and ``notices``
    billing reminders; returns every Message-ID."""
    start = datetime.now(UTC) - timedelta(hours=60)
    mails = [mail for _, mail, _ in varied_emails(clients, seed=seed, start=start,
                                                   step=timedelta(hours=60) / clients)]
    raws = [render(mail) for mail in mails]
    reminders = [client_message(10_000 + n, "Recordatorio: la factura FAC-1 vence el 7.",
                                sender="billing@agency.example") for n in range(notices)]
    client = dovecot.client()
    try:
        for first in range(0, len(raws), 300):
            client.multiappend("INBOX", raws[first:first + 300])
        if reminders:
            client.multiappend("Billing", reminders)
    finally:
        client.logout()
    ids = {mail.message_id for mail in mails}
    ids.update(email.message_from_bytes(raw)["Message-ID"] for raw in reminders)
    return ids


def draft_plans_in(dovecot: Dovecot) -> list[str]:
    """The plan id of every message in the Drafts folder, duplicates kept."""
    client = dovecot.client()
    try:
        client.select_folder(DRAFTS, readonly=True)
        uids = client.search(["ALL"])
        part = f"BODY.PEEK[HEADER.FIELDS ({DRAFT_HEADER.upper()})]".encode()
        found = []
        for first in range(0, len(uids), 500):
            for data in client.fetch(uids[first:first + 500], [part.decode()]).values():
                header = next(v for k, v in data.items() if k.startswith(b"BODY[HEADER"))
                found.extend(" ".join(v.split()) for v in
                             email.message_from_bytes(header).get_all(DRAFT_HEADER, []))
        return found
    finally:
        client.logout()


def read_only(db_path: Path) -> sqlite3.Connection | None:
    if not db_path.exists():
        return None
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)


def progress(db_path: Path) -> tuple[int, int]:
    """(messages stored, drafts appended), as another process sees them."""
    db = read_only(db_path)
    if db is None:
        return (0, 0)
    try:
        stored = db.execute("SELECT count(*) FROM messages").fetchone()[0]
        appended = db.execute(
            "SELECT count(*) FROM drafts WHERE state = 'appended'").fetchone()[0]
        return (int(stored), int(appended))
    except sqlite3.OperationalError:  # killed before the schema was written
        return (0, 0)
    finally:
        db.close()


def assert_whole(config: Config, dovecot: Dovecot, ids: set[str], clients: int) -> None:
    """Every message stored and triaged once, every due draft in Drafts once."""
    with Store(config.store.path) as store:
        assert store.integrity_check() == "ok"
        db = store.db
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == len(ids)
        stored = {r[0] for r in db.execute("SELECT message_id FROM messages")}
        assert stored == ids
        assert db.execute("SELECT count(*) FROM locations").fetchone()[0] == len(ids)
        assert store.count_triaged() == clients
        assert db.execute("SELECT count(DISTINCT message) FROM triage").fetchone()[0] == clients
        appended = {r[0] for r in db.execute(
            "SELECT plan_id FROM drafts WHERE state = 'appended'")}
        assert not store.due_drafts(datetime.now(UTC)), "a due draft was never appended"
    in_drafts = draft_plans_in(dovecot)
    assert len(in_drafts) == len(set(in_drafts)), "a draft was appended twice"
    assert set(in_drafts) == appended


def service(config_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "triage", "run", "--config", str(config_path), *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# --- SIGKILL --------------------------------------------------------------------------


def test_sigkill_at_random_moments_of_a_backfill_loses_and_doubles_nothing(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    """Kill the service with SIGKILL, restart it, again and again: each round lets it
    make some progress (a batch stored or a draft appended) and kills it a random
    moment later, so the kills land in fetching, storing, searching and appending."""
    clients = 1800
    ids = recent_mailbox(dovecot, clients, notices=200)
    config_path = imap_config(tmp_path, dovecot)
    config = load_config(config_path)
    db_path = config.store.path
    rng = random.Random(8)
    busy_kills = 0
    for _ in range(KILL_ROUNDS):
        before = progress(db_path)
        process = service(config_path)
        # Once the work is done nothing moves: kill an idle service after a while.
        deadline = time.monotonic() + 10
        while (process.poll() is None and progress(db_path) == before
               and time.monotonic() < deadline):
            time.sleep(0.01)
        moved = progress(db_path) != before
        time.sleep(rng.uniform(0.0, 0.5))
        assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()  # type: ignore[union-attr]
        busy_kills += moved
        db = read_only(db_path)
        if db is not None:
            with db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            db.close()
    # Most kills must have landed while there was work left, not in an idle service.
    assert busy_kills >= KILL_ROUNDS // 2, (busy_kills, progress(db_path))

    last = subprocess.run(
        [sys.executable, "-m", "triage", "run", "--once", "--config", str(config_path)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=600, check=False)
    assert last.returncode == 0, last.stderr
    assert_whole(config, dovecot, ids, clients)
    # The kill loop's own figures, for the README (pytest -s shows them).
    print(f"\n{KILL_ROUNDS} SIGKILLs, {busy_kills} during work; final state {progress(db_path)}")


# --- the server goes away, the connection breaks or falls silent -------------------


def test_dovecot_stopped_in_the_middle_of_a_backfill_is_caught_up(
    tmp_path: Path, dovecot: Dovecot, password: str, classifier: MessageClassifier,
) -> None:
    ids = recent_mailbox(dovecot, 1200, notices=0)
    config = load_config(imap_config(tmp_path, dovecot))
    running = Running(config, classifier)
    assert wait_until(lambda: config.store.path.exists() and running.stored() > 0, 60)
    dovecot.stop()  # while the service is fetching
    assert running.stored() < len(ids), "the backfill ended before the server stopped"
    time.sleep(1.5)
    dovecot.start()
    dovecot.append("INBOX", [client_message(1)])  # arrived during the outage
    assert wait_until(lambda: running.stored() == len(ids) + 1, 120)
    running.finish()
    assert running.service is not None
    assert running.service.report.outages >= 1


def test_a_connection_cut_in_the_middle_of_a_fetch_is_caught_up(
    tmp_path: Path, dovecot: Dovecot, proxy: Proxy, password: str,
    classifier: MessageClassifier,
) -> None:
    ids = recent_mailbox(dovecot, 600, notices=0)
    # Past the greeting, login and first commands: inside the first FETCH answer.
    proxy.cut_after(200_000)
    config = proxied_config(tmp_path, dovecot, proxy)
    running = Running(config, classifier)
    assert wait_until(lambda: proxy.cuts == 1, 60)
    proxy.cut_after(150_000)  # and once more, later in the backfill
    assert wait_until(lambda: config.store.path.exists() and running.stored() == len(ids), 120)
    assert proxy.cuts == 2
    dropped = proxy.drop()  # a reset while idling
    assert dropped >= 1
    dovecot.append("INBOX", [client_message(1)])
    assert wait_until(lambda: running.stored() == len(ids) + 1, 60)
    running.finish()
    with Store(config.store.path) as store:
        assert store.count_triaged() == len(ids) + 1
        assert store.integrity_check() == "ok"


def test_a_server_that_stops_answering_is_a_timeout_not_a_hang(
    tmp_path: Path, dovecot: Dovecot, proxy: Proxy, password: str,
    classifier: MessageClassifier, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO")
    dovecot.append("INBOX", [client_message(n) for n in range(3)])
    config = proxied_config(tmp_path, dovecot, proxy, extra="timeout_seconds = 5")
    running = Running(config, classifier)
    assert wait_until(lambda: config.store.path.exists() and running.stored() == 3, 60)
    time.sleep(0.5)  # in IDLE now
    assert proxy.stall() == 1  # the open session falls silent; new ones still work
    dovecot.append("INBOX", [client_message(n) for n in range(3, 6)])
    # IDLE hears nothing; the service ends its IDLE at idle_seconds, gets no answer
    # within timeout_seconds, reconnects and catches up.
    assert wait_until(lambda: running.stored() == 6, 90)
    running.finish()
    assert any("reconnecting with backoff" in r.getMessage() for r in caplog.records)
    assert proxy.connections >= 2


def test_a_server_silent_in_the_middle_of_a_fetch_is_a_timeout(
    tmp_path: Path, dovecot: Dovecot, proxy: Proxy, password: str,
    classifier: MessageClassifier,
) -> None:
    ids = recent_mailbox(dovecot, 600, notices=0)
    config = proxied_config(tmp_path, dovecot, proxy, extra="timeout_seconds = 5")
    running = Running(config, classifier)
    assert wait_until(lambda: config.store.path.exists() and running.stored() > 0, 60)
    proxy.stall()
    assert running.stored() < len(ids), "the backfill ended before the server fell silent"
    assert wait_until(lambda: running.stored() == len(ids), 120)
    running.finish()
    assert proxy.connections >= 2


# --- folders and the disk -----------------------------------------------------------


def test_a_notice_folder_deleted_and_recreated_is_read_again_without_duplicates(
    tmp_path: Path, dovecot: Dovecot, password: str, classifier: MessageClassifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A folder of the user's own (the test server creates Billing by itself).
    dovecot.doveadm("mailbox", "create", "-u", USER, "Avisos")
    notice = client_message(500, "Recordatorio: la factura FAC-9 vence el 7.",
                            sender="billing@agency.example")
    dovecot.append("Avisos", [notice])
    dovecot.append("INBOX", [client_message(1)])
    path = imap_config(tmp_path, dovecot)
    path.write_text(path.read_text().replace('notices = ["Billing"]', 'notices = ["Avisos"]'))
    config = load_config(path)
    with Store(config.store.path) as store:
        make_service(config, store, classifier).run_once()
        assert store.count_messages() == 2
        dovecot.doveadm("mailbox", "delete", "-u", USER, "Avisos")
        gone = make_service(config, store, classifier).run_once()
        assert gone.added == 0
        assert "'Avisos' does not exist" in caplog.text and "skipping it" in caplog.text
        # What was stored from the deleted folder stays: the store is a record.
        assert store.count_messages() == 2
        dovecot.doveadm("mailbox", "create", "-u", USER, "Avisos")
        later = client_message(501, "Aviso: mantenimiento el sábado de 22 a 23 h.",
                               sender="billing@agency.example")
        dovecot.append("Avisos", [notice, later])
        back = make_service(config, store, classifier).run_once()
        assert back.added == 1  # the old notice is known by its Message-ID
        assert store.count_messages() == 3
        assert store.integrity_check() == "ok"
    assert "Avisos: UIDVALIDITY changed" in caplog.text


@pytest.fixture
def bare_dovecot() -> Iterator[Dovecot]:
    """A Dovecot with no Drafts folder until someone creates one."""
    server = Dovecot(drafts_auto=False)
    server.start()
    try:
        yield server
    finally:
        server.remove()


def test_a_missing_drafts_folder_is_created(
    tmp_path: Path, bare_dovecot: Dovecot, password: str, classifier: MessageClassifier,
) -> None:
    bare_dovecot.doveadm("mailbox", "delete", "-u", USER, DRAFTS, ok=(0, 68))
    recent_mailbox(bare_dovecot, 30, notices=0)
    path = imap_config(tmp_path, bare_dovecot)
    path.write_text(path.read_text().replace('drafts = "Drafts"', f'drafts = "{DRAFTS}"'))
    config = load_config(path)
    client = bare_dovecot.client()
    assert not client.folder_exists(DRAFTS)
    client.logout()
    with Store(config.store.path) as store:
        report = make_service(config, store, classifier, drafts=True).run_once()
        assert report.drafts.appended >= 1
        assert len(draft_plans_in(bare_dovecot)) == report.drafts.appended


def test_a_drafts_folder_the_server_will_not_create_is_one_warning_and_no_loss(
    tmp_path: Path, bare_dovecot: Dovecot, password: str, classifier: MessageClassifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recent_mailbox(bare_dovecot, 30, notices=0)
    path = imap_config(tmp_path, bare_dovecot)
    # A name Dovecot refuses to create: its hierarchy separator twice in a row.
    path.write_text(path.read_text().replace('drafts = "Drafts"', 'drafts = "Drafts//x"'))
    config = load_config(path)
    with Store(config.store.path) as store:
        service = make_service(config, store, classifier, drafts=True)
        first = service.run_once()
        waiting = first.drafts.failed
        assert first.drafts.appended == 0 and waiting >= 1
        service.run_once()  # the next sync: the same drafts wait, nothing said twice
        warnings = [r.getMessage() for r in caplog.records if "not appended" in r.getMessage()]
        assert len(warnings) == 1, warnings
        assert "refused to create it" in warnings[0] and "[folders] drafts" in warnings[0]
        # The drafts are still planned, for when the folder exists.
        assert len(store.due_drafts(datetime.now(UTC))) == waiting
        assert store.count_triaged() == 30


def test_a_full_disk_stops_the_run_with_one_line_and_the_next_run_finishes(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    ids = recent_mailbox(dovecot, 600, notices=0)
    config_path = imap_config(tmp_path, dovecot)
    config = load_config(config_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def small_disk() -> None:  # runs in the child: files may not grow past 1 MB
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    full = subprocess.run(
        [sys.executable, "-m", "triage", "run", "--once", "--config", str(config_path)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
        preexec_fn=small_disk)  # noqa: PLW1509 - the limit is the point of the test
    assert full.returncode != 0
    error_lines = [line for line in full.stderr.splitlines() if "error" in line.lower()]
    assert len(error_lines) == 1, full.stderr
    assert "state database" in error_lines[0]
    assert "Traceback" not in full.stderr
    with Store(config.store.path) as store:
        assert store.integrity_check() == "ok"
        half = store.count_messages()
        assert 0 < half < len(ids)
        assert store.count_triaged() == half  # every stored client message has its verdict
        checkpoint = store.checkpoint("INBOX")
        assert checkpoint is not None and checkpoint.last_uid == half

    done = subprocess.run(
        [sys.executable, "-m", "triage", "run", "--once", "--config", str(config_path)],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    with Store(config.store.path) as store:
        assert store.count_messages() == len(ids)
        assert store.count_triaged() == len(ids)


# --- a huge message -----------------------------------------------------------------


def test_a_50_mb_message_is_read_only_up_to_the_bound_and_triaged(
    tmp_path: Path, dovecot: Dovecot, proxy: Proxy, password: str,
    classifier: MessageClassifier,
) -> None:
    raw = huge_message(50_000_000, "<huge@bodega.example>", when=datetime.now(UTC))
    dovecot.append("INBOX", [raw, client_message(1)])
    config = proxied_config(tmp_path, dovecot, proxy)
    with Store(config.store.path) as store:
        report = make_service(config, store, classifier).run_once()
        assert (report.added, report.triaged, report.unreadable) == (2, 2, 0)
        row = next(r for r in store.iter_messages() if r["message_id"] == "<huge@bodega.example>")
        # Its whole size as the server counts it (CRLF line ends), not what was read.
        assert row["size"] == len(raw.replace(b"\n", b"\r\n"))
        assert row["category"] is not None
    # What came over the wire: the bound and the protocol around it, not 50 MB.
    assert proxy.from_server < READ_LIMIT + 2_000_000, proxy.from_server


def test_a_huge_maildir_file_is_read_only_up_to_the_bound(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    path = deliver(root, "INBOX", "huge", huge_message(20_000_000, "<huge@bodega.example>"))
    with Store(tmp_path / "db") as store:
        box = MaildirMailbox(root, store)
        (fetched,) = box.fetch("INBOX", box.uids_after("INBOX", 0))
    assert len(fetched.raw) == READ_LIMIT
    assert fetched.size == path.stat().st_size
