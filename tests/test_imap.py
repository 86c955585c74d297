"""The IMAP side and the service, against a real Dovecot on loopback (tests/dovecot.py)."""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Verdicts, mail
from dovecot import DRAFTS, PASSWORD, Dovecot
from imapdesk import (
    IMAP_CONFIG,
    Running,
    client_message,
    imap_config,
    make_service,
    wait_until,
)
from mailfactory import render, special_emails, varied_emails

from triage.classify import MessageClassifier
from triage.config import load_config
from triage.daemon import Service
from triage.drafting import Drafter
from triage.drafts import tone_problems
from triage.errors import MailboxAuthError, MailboxConnectionError, MailboxError
from triage.evidence import EvidenceFinder
from triage.mailbox import ImapMailbox
from triage.store import Store

# --- first sync, flags, exactly once -------------------------------------------


def test_first_sync_stores_and_triages_everything_once_and_changes_no_flag(
    tmp_path: Path, dovecot: Dovecot, password: str, classifier: MessageClassifier,
) -> None:
    clients = [render(mail) for _, mail, _ in varied_emails(60)]
    dovecot.append("INBOX", clients[:40])
    dovecot.append("INBOX", clients[40:], flags=(b"\\Seen",))
    specials = list(special_emails())
    for _name, raw, expected in specials:
        if expected.folder in ("Sent", "Billing"):
            dovecot.append(expected.folder, [raw])
    before = {f: dovecot.flags(f) for f in ("INBOX", "Sent", "Billing")}
    config = load_config(imap_config(tmp_path, dovecot))

    with Store(config.store.path) as store:
        report = make_service(config, store, classifier).run_once()
        sent = sum(1 for _, _, e in specials if e.folder in ("Sent", "Billing"))
        assert report.added == 60 + sent
        assert report.triaged == 60
        assert store.count_triaged() == 60
        rows = list(store.iter_messages())
        assert all(r["category"] for r in rows if r["kind"] == "client")
        assert not any(r["category"] for r in rows if r["kind"] == "provider")

        again = make_service(config, store, classifier).run_once()
        assert (again.added, again.triaged) == (0, 0)
        assert store.count_messages() == 60 + sent

    # Nothing was marked read, or changed in any other way.
    after = {f: dovecot.flags(f) for f in ("INBOX", "Sent", "Billing")}
    strip = {f: {u: set(fl) - {b"\\Recent"} for u, fl in flags.items()}
             for f, flags in before.items()}
    assert {f: {u: set(fl) - {b"\\Recent"} for u, fl in flags.items()}
            for f, flags in after.items()} == strip
    assert sum(b"\\Seen" in fl for fl in strip["INBOX"].values()) == 20


def test_run_once_over_2000_messages_then_nothing_to_do(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    clients = [render(mail) for _, mail, _ in varied_emails(1800, seed=11)]
    notices = [client_message(n, "Recordatorio: la factura FAC-1 vence el 7.",
                              sender="billing@agency.example") for n in range(200)]
    client = dovecot.client()
    try:
        for start in range(0, len(clients), 300):
            client.multiappend("INBOX", clients[start:start + 300])
        client.multiappend("Billing", notices)
    finally:
        client.logout()
    config_path = imap_config(tmp_path, dovecot)
    env = {**os.environ, "TRIAGE_TEST_IMAP_PASSWORD": password}

    first = subprocess.run(
        [sys.executable, "-m", "triage", "run", "--once", "--config", str(config_path)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert first.returncode == 0, first.stderr
    assert "2000 new messages stored, 1800 client messages triaged" in first.stdout
    with Store(load_config(config_path).store.path) as store:
        assert store.count_messages() == 2000
        assert store.count_triaged() == 1800
        assert store.integrity_check() == "ok"

    second = subprocess.run(
        [sys.executable, "-m", "triage", "run", "--once", "--config", str(config_path)],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert second.returncode == 0, second.stderr
    assert "0 new messages stored, 0 client messages triaged" in second.stdout


def test_a_helper_process_gives_the_same_triage_and_evidence_as_one_process(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    """``[service] processes = 2`` forks a helper that reads, classifies and searches
    half of each large batch: the store must end up as one process leaves it. The
    mail has what must cross to the helper: IMAP arrival times, every format the
    factory makes, client mail without a Date header, and notices cited as proof."""
    clients = [render(mail) for _, mail, _ in varied_emails(260, seed=17)]
    notices = [_reminder_before(raw) for raw in clients[:60]]
    undated = [b"From: x@tienda.example\r\nSubject: sin fecha\r\n\r\nNo llega el correo.\r\n"]
    client = dovecot.client()
    try:
        client.multiappend("INBOX", clients + undated)
        client.multiappend("Billing", notices)
    finally:
        client.logout()
    env = {**os.environ, "TRIAGE_TEST_IMAP_PASSWORD": password}
    exports = []
    for processes in (1, 2):
        root = tmp_path / f"p{processes}"
        root.mkdir()
        config_path = imap_config(root, dovecot)
        with config_path.open("a", encoding="utf-8") as config:
            config.write(f"processes = {processes}\n")
        run = subprocess.run(
            [sys.executable, "-m", "triage", "run", "--once", "-v", "--config",
             str(config_path)], capture_output=True, text=True, env=env, timeout=300,
            check=False)
        assert run.returncode == 0, run.stderr
        assert "321 new messages stored, 261 client messages triaged" in run.stdout
        # The helper did its part: it never failed, nor gave a batch back.
        assert "one process" not in run.stderr
        assert "the helper could not" not in run.stderr
        exported = root / "export.jsonl"
        subprocess.run([sys.executable, "-m", "triage", "export", "--config", str(config_path),
                        "-o", str(exported)], env=env, check=True, capture_output=True)
        exports.append(exported.read_text(encoding="utf-8"))
    assert exports[0] == exports[1]
    rows = [json.loads(line) for line in exports[1].splitlines()]
    assert sum(bool(row["evidence"]) for row in rows) > 0


def _reminder_before(raw: bytes) -> bytes:
    """A billing reminder to the sender of ``raw``, sent two days before it."""
    original = email.message_from_bytes(raw, policy=email.policy.default)
    reminder = email.message.EmailMessage()
    reminder["From"] = "Facturación <billing@agency.example>"
    reminder["To"] = str(original["From"])
    reminder["Subject"] = "Recordatorio: factura FAC-2026-0412 pendiente de pago"
    reminder["Date"] = format_datetime(
        email.utils.parsedate_to_datetime(str(original["Date"])) - timedelta(days=2))
    reminder.set_content("La factura FAC-2026-0412 de 120,00 EUR venció el día 7. Si el pago "
                         "no llega en 10 días el servicio quedará suspendido.")
    return bytes(reminder)


def test_uidvalidity_change_rereads_without_duplicates(
    tmp_path: Path, dovecot: Dovecot, password: str, classifier: MessageClassifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dovecot.append("INBOX", [client_message(n) for n in range(5)])
    config = load_config(imap_config(tmp_path, dovecot))
    with Store(config.store.path) as store:
        make_service(config, store, classifier).run_once()
        dovecot.set_uidvalidity("INBOX", 4242)
        dovecot.append("INBOX", [client_message(99)])
        report = make_service(config, store, classifier).run_once()
        assert (report.added, report.triaged) == (1, 1)
        assert store.count_messages() == 6
        assert store.checkpoint("INBOX").uidvalidity == 4242  # type: ignore[union-attr]
    assert "UIDVALIDITY changed" in caplog.text


# --- waiting, outages, stopping ------------------------------------------------


def test_new_mail_during_idle_is_triaged_at_once(
    tmp_path: Path, dovecot: Dovecot, password: str, classifier: MessageClassifier,
) -> None:
    config = load_config(imap_config(tmp_path, dovecot))
    running = Running(config, classifier)
    assert wait_until(lambda: (config.store.path.exists() and running.stored() == 0), 20)
    time.sleep(0.5)  # let it settle into IDLE
    dovecot.append("INBOX", [client_message(1)])
    started = time.monotonic()
    assert wait_until(lambda: running.stored() == 1, 10)
    # IDLE tells at once (Dovecot waits about half a second); polling every 30 s would not.
    assert time.monotonic() - started < 5
    assert running.finish() < 5


def test_without_idle_new_mail_is_found_by_polling(
    tmp_path: Path, dovecot: Dovecot, password: str, classifier: MessageClassifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="imapclient")
    path = imap_config(tmp_path, dovecot)
    path.write_text(path.read_text().replace("idle_seconds = 30", "idle = false\npoll_seconds = 2"))
    config = load_config(path)
    running = Running(config, classifier)
    time.sleep(1.0)
    dovecot.append("INBOX", [client_message(1)])
    assert wait_until(lambda: running.stored() == 1, 10)
    running.finish()
    # The commands the client sent (imaplib logs them as "> b'TAG COMMAND ...'").
    sent = [r.getMessage().split()[2].strip("'") for r in caplog.records
            if r.name.startswith("imapclient") and r.getMessage().startswith("> ")]
    assert "NOOP" in sent
    assert "IDLE" not in sent


def test_server_restart_and_dropped_connection_are_caught_up(
    tmp_path: Path, dovecot: Dovecot, password: str, classifier: MessageClassifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO")
    config = load_config(imap_config(tmp_path, dovecot))
    running = Running(config, classifier)
    dovecot.append("INBOX", [client_message(1)])
    assert wait_until(lambda: running.stored() == 1, 20)

    dovecot.stop()
    time.sleep(1.0)
    dovecot.start()
    dovecot.append("INBOX", [client_message(2)])  # arrives during/after the outage
    assert wait_until(lambda: running.stored() == 2, 20)

    dovecot.kick()  # the server drops the session in the middle of IDLE
    dovecot.append("INBOX", [client_message(3)])
    assert wait_until(lambda: running.stored() == 3, 20)
    running.finish()
    outage_lines = [r for r in caplog.records
                    if "reconnecting with backoff" in r.getMessage()]
    back_lines = [r for r in caplog.records if "is back after" in r.getMessage()]
    assert 1 <= len(outage_lines) <= 2  # one per outage, not one per attempt
    assert len(back_lines) == len(outage_lines)


def test_sigterm_stops_the_service_within_seconds(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    config_path = imap_config(tmp_path, dovecot)
    env = {**os.environ, "TRIAGE_TEST_IMAP_PASSWORD": password}
    process = subprocess.Popen(
        [sys.executable, "-m", "triage", "run", "--log-format", "json", "--config",
         str(config_path)], stderr=subprocess.PIPE, text=True, env=env)
    try:
        dovecot.append("INBOX", [client_message(1)])
        store_path = load_config(config_path).store.path

        def triaged() -> bool:
            if not store_path.exists():
                return False
            with Store(store_path) as store:
                return store.count_triaged() == 1

        assert wait_until(triaged, 30)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = process.wait(timeout=15)
        assert time.monotonic() - started < 5
        assert code == 0
        lines = [json.loads(line) for line in process.stderr.read().splitlines()
                 if line.strip()]
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()  # type: ignore[union-attr]
    triaged_lines = [line for line in lines if line.get("category")]
    assert len(triaged_lines) == 1
    assert triaged_lines[0]["sender"] == "cliente@tienda.example"
    assert triaged_lines[0]["hostility"] in (0, 1, 2, 3)
    # The log says who and what, never the text.
    assert all("inaceptable" not in json.dumps(line) for line in lines)


# --- drafts ------------------------------------------------------------------------


def test_draft_goes_to_the_special_use_drafts_folder_flagged_draft(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    config = load_config(imap_config(tmp_path, dovecot))
    mailbox = ImapMailbox(config.mailbox, PASSWORD)
    try:
        folder = mailbox.drafts_folder(config.folders.drafts)
        assert folder == DRAFTS  # found by SPECIAL-USE, not the configured "Drafts"
        mailbox.append_draft(folder, client_message(7, "Borrador de respuesta."),
                             datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    finally:
        mailbox.close()
    flags = dovecot.flags(DRAFTS)
    assert len(flags) == 1
    assert b"\\Draft" in next(iter(flags.values()))
    assert b"\\Seen" not in next(iter(flags.values()))


def test_due_drafts_are_appended_once_threaded_and_citing_the_notice(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    madrid = ZoneInfo("Europe/Madrid")
    notice = mail(
        "<notice17@agency.example>", datetime(2026, 11, 14, 17, 2, tzinfo=UTC),
        "Ana Ruiz <ana@agency.example>", "ops@brewery.example",
        "Scheduled maintenance of the mail server on Tuesday 17 November",
        "On Tuesday 17 November, from 22:00 to 02:00, we will carry out scheduled maintenance "
        "of the mail server. Mail may be unavailable during that window. No action is needed "
        "on your side.")
    complaint = mail(
        "<tuesday@brewery.example>", datetime(2026, 11, 20, 18, 0, tzinfo=madrid),
        "Tom Hale <tom@brewery.example>", "Ana Ruiz <ana@agency.example>",
        "No email all Tuesday night",
        "Nobody told us our email would be down all Tuesday night for maintenance of the "
        "mail server. We lost orders.")
    fault = mail(
        "<fora@padaria.example>", datetime(2026, 11, 23, 8, 30, tzinfo=madrid),
        "Rita Sousa <rita@padaria.example>", "Ana Ruiz <ana@agency.example>",
        "Site fora do ar", "Bom dia, o site está fora do ar desde as 8h com erro 500.")
    dovecot.append("Sent", [notice])
    dovecot.append("INBOX", [complaint, fault])
    config = load_config(imap_config(tmp_path, dovecot))
    verdicts = Verdicts()
    verdicts.by_id = {"<tuesday@brewery.example>": ("accusation", 2, "en"),
                      "<fora@padaria.example>": ("genuine_fault", 1, "pt")}
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=madrid)

    def run_once() -> None:
        with Store(config.store.path) as store:
            Service(config, store, verdicts,
                    lambda: ImapMailbox(config.mailbox, PASSWORD, timeout=10),
                    evidence=EvidenceFinder(), drafter=Drafter(config, store),
                    clock=lambda: monday).run_once()

    run_once()
    client = dovecot.client()
    try:
        client.select_folder(DRAFTS, readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]", "FLAGS"])
    finally:
        client.logout()
    drafts = {}
    for data in fetched.values():
        assert b"\\Draft" in data[b"FLAGS"]
        draft = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
        drafts[draft["In-Reply-To"]] = draft
    assert set(drafts) == {"<tuesday@brewery.example>", "<fora@padaria.example>"}
    english = drafts["<tuesday@brewery.example>"]
    assert english["To"] == "Tom Hale <tom@brewery.example>"
    assert english["Subject"] == "Re: No email all Tuesday night"
    assert english["X-Triage-Category"] == "accusation"
    reply, _, quoted = english.get_content().partition("\nOn 20 November")
    assert "On 14 November at 18:02 we wrote to ops@brewery.example" in reply
    assert "Scheduled maintenance of the mail server" in reply
    assert tone_problems(reply, "en") == []
    assert "> Nobody told us" in quoted
    portuguese = drafts["<fora@padaria.example>"]
    assert portuguese["X-Triage-Category"] == "genuine_fault"
    assert tone_problems(portuguese.get_content().partition("\nEm ")[0], "pt") == []

    # A crash after the append, before the store recorded it: the next run finds
    # the draft in the folder by its X-Triage-Draft header and appends nothing.
    with Store(config.store.path) as store:
        store.db.execute("UPDATE drafts SET state = 'planned', done_at = NULL")
    run_once()
    assert len(dovecot.flags(DRAFTS)) == 2
    with Store(config.store.path) as store:
        states = [r[0] for r in store.db.execute("SELECT state FROM drafts")]
    assert states == ["appended", "appended"]
    # Client mail is left as it was: nothing marked read.
    assert all(b"\\Seen" not in flags for flags in dovecot.flags("INBOX").values())


# --- connections: TLS, STARTTLS, plain, passwords -------------------------------


def test_starttls_and_plain_loopback_connections_work(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    for extra in ('tls = "starttls"', 'tls = "none"'):
        config = load_config(imap_config(tmp_path, dovecot, scheme="imap", extra=extra))
        mailbox = ImapMailbox(config.mailbox, PASSWORD)
        try:
            assert "INBOX" in mailbox.list_folders()
            assert mailbox.client.use_uid
        finally:
            mailbox.close()


def test_wrong_host_name_is_refused(tmp_path: Path, dovecot: Dovecot, password: str) -> None:
    # The certificate names "localhost"; 127.0.0.1 is the same server under another name.
    config = load_config(imap_config(tmp_path, dovecot, host="127.0.0.1"))
    with pytest.raises(MailboxConnectionError, match="certificate of 127.0.0.1 was refused"):
        ImapMailbox(config.mailbox, PASSWORD)
    starttls = load_config(imap_config(tmp_path, dovecot, host="127.0.0.1", scheme="imap",
                                       extra='tls = "starttls"'))
    with pytest.raises(MailboxConnectionError, match="certificate"):
        ImapMailbox(starttls.mailbox, PASSWORD)


def test_unknown_certificate_authority_is_refused(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    path = imap_config(tmp_path, dovecot)
    path.write_text(path.read_text().replace(f'ca_file = "{dovecot.ca_file}"', ""))
    with pytest.raises(MailboxConnectionError, match="ca_file"):
        ImapMailbox(load_config(path).mailbox, PASSWORD)


def test_missing_starttls_is_an_error_not_a_downgrade(tmp_path: Path) -> None:
    # A small server of the test's own that offers no STARTTLS.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    heard: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"* OK fake server ready\r\n")
            data = b""
            while b"\r\n" not in data:
                data += conn.recv(1024)
            heard.append(data)
            tag = data.split()[0]
            conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            heard.append(conn.recv(1024))

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    path = tmp_path / "triage.toml"
    path.write_text(IMAP_CONFIG.format(
        url=f"imap://someone@localhost:{port}", ca=path, extra="",
        store=tmp_path / "db").replace(f'ca_file = "{path}"', ""), encoding="utf-8")
    with pytest.raises(MailboxConnectionError, match="does not offer STARTTLS"):
        ImapMailbox(load_config(path).mailbox, "never-sent-password")
    server.join(timeout=5)
    listener.close()
    assert not any(b"never-sent-password" in h for h in heard)
    assert not any(b"LOGIN" in h.upper() for h in heard)


def test_wrong_password_is_one_clear_line_and_no_retry(
    tmp_path: Path, dovecot: Dovecot, classifier: MessageClassifier,
) -> None:
    config_path = imap_config(tmp_path, dovecot)
    wrong = "wrong-Pa55word-xyz"
    env = {**os.environ, "TRIAGE_TEST_IMAP_PASSWORD": wrong}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "triage", "run", "--config", str(config_path)],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 77  # EX_NOPERM: a service manager must not restart it
    assert time.monotonic() - started < 30  # not retried in a loop
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("triage: error: the IMAP server localhost refused the login")
    assert "TRIAGE_TEST_IMAP_PASSWORD" in lines[-1]
    assert "Traceback" not in done.stderr
    assert wrong not in done.stderr + done.stdout
    assert dovecot.log().count("auth failed") + dovecot.log().count("Aborted login") <= 2

    config = load_config(config_path)
    with Store(config.store.path) as store:
        service = Service(config, store, classifier,
                          lambda: ImapMailbox(config.mailbox, wrong))
        with pytest.raises(MailboxAuthError):
            service.run_forever()


def test_check_config_logs_in_and_finds_every_folder(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    path = imap_config(tmp_path, dovecot)
    env = {**os.environ, "TRIAGE_TEST_IMAP_PASSWORD": PASSWORD}

    def check(config: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "triage", "check-config", "--config",
                               str(config)], capture_output=True, text=True, env=environment,
                              timeout=60, check=False)

    done = check(path, env)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("ok: ") and "INBOX, Sent, Billing found" in done.stdout
    misspelt = tmp_path / "misspelt.toml"
    misspelt.write_text(path.read_text(encoding="utf-8").replace('sent = "Sent"',
                                                                  'sent = "Snet"'))
    done = check(misspelt, env)
    assert done.returncode == 78
    assert "folder 'Snet' does not exist" in done.stderr and "check [folders] sent" in done.stderr
    wrong = check(path, {**env, "TRIAGE_TEST_IMAP_PASSWORD": "wrong-Pa55word-xyz"})
    assert wrong.returncode == 77 and "refused the login" in wrong.stderr
    for run in (done, wrong):
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
        assert PASSWORD not in run.stderr + run.stdout
    assert "wrong-Pa55word-xyz" not in wrong.stderr + wrong.stdout


def test_missing_inbox_folder_is_a_clear_error(
    tmp_path: Path, dovecot: Dovecot, password: str,
) -> None:
    config = load_config(imap_config(tmp_path, dovecot))
    mailbox = ImapMailbox(config.mailbox, PASSWORD)
    try:
        with pytest.raises(MailboxError, match="folder 'Nowhere' does not exist"):
            mailbox.status("Nowhere")
    finally:
        mailbox.close()

