"""ingest + export over a Maildir of a few hundred varied messages."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO, Desk, Verdicts
from conftest import mail as plain_mail
from mailfactory import (
    QUOTE_MARK,
    SIGNATURE_MARK,
    Expected,
    render,
    special_emails,
    varied_emails,
    write_maildir,
)

from triage.cli import main
from triage.message import Classification, Message
from triage.parsing import parse_message, synthetic_message_id
from triage.store import Store


def build(root: Path, count: int) -> tuple[list[Expected], dict[str, bytes]]:
    items: list[tuple[str, str, bytes]] = []
    expected: list[Expected] = []
    raws: dict[str, bytes] = {}
    for name, mail, exp in varied_emails(count):
        raw = render(mail)
        items.append((name, exp.folder, raw))
        expected.append(exp)
        raws[name] = raw
    for name, raw, exp in special_emails():
        items.append((name, exp.folder, raw))
        expected.append(exp)
        raws[name] = raw
    write_maildir(root, items)
    for sub in ("cur", "new", "tmp"):
        for folder in (".Drafts", ".Sent", ".Billing"):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
    return expected, raws


def export(config: Path, fmt: str, capsys) -> str:
    assert main(["export", "--config", str(config), "--format", fmt]) == 0
    return capsys.readouterr().out


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_ingest_then_export_gives_one_correct_row_per_message(
        write_config, tmp_path: Path, capsys) -> None:
    expected, raws = build(tmp_path / "Maildir", 300)
    before = snapshot(tmp_path / "Maildir")
    config = write_config()

    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    out = capsys.readouterr().out
    clients = sum(exp.kind == "client" for exp in expected)
    assert (f"{len(expected)} new messages stored, {clients} client messages triaged "
            "(2 unreadable)") in out

    rows = [json.loads(line) for line in export(config, "jsonl", capsys).splitlines()]
    assert len(rows) == len(expected)
    by_id = {row["message_id"]: row for row in rows}
    for exp in expected:
        message_id = exp.message_id or synthetic_message_id(raws[exp.name])
        row = by_id[message_id]
        assert row["folder"] == exp.folder, exp.name
        assert row["from"] == exp.sender, exp.name
        assert row["subject"] == exp.subject, exp.name
        assert row["kind"] == exp.kind, exp.name
        assert (row["error"] is not None) == (exp.kind == "unreadable"), exp.name
        assert set(row) >= {"date", "to", "language", "category", "confidence", "hostility",
                            "thread_id", "evidence", "draft"}
        # Client messages carry the classifier's verdict; nothing else does.
        assert (row["category"] is not None) == (exp.kind == "client"), exp.name
        assert (row["hostility"] in (0, 1, 2, 3)) == (exp.kind == "client"), exp.name
    unreadable = [r for r in rows if r["kind"] == "unreadable"]
    assert {r["error"] for r in unreadable} == {
        "empty message", "no sender, recipient, subject or date, and no readable text"}

    # Nothing in the mailbox was moved, renamed, flagged or changed.
    assert snapshot(tmp_path / "Maildir") == before

    # Running it again adds nothing.
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    assert "0 new messages stored" in capsys.readouterr().out
    assert len(export(config, "jsonl", capsys).splitlines()) == len(expected)


def test_stored_text_is_what_the_client_wrote(write_config, tmp_path: Path, capsys) -> None:
    expected, _ = build(tmp_path / "Maildir", 120)
    config = write_config()
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    db = sqlite3.connect(tmp_path / "state" / "triage.db")
    bodies = dict(db.execute("SELECT message_id, body FROM messages"))
    quoted = dict(db.execute("SELECT message_id, quoted FROM messages"))
    for exp in expected:
        if exp.kind != "client" or not exp.message_id or not exp.own_text:
            continue
        body = bodies[exp.message_id]
        assert QUOTE_MARK not in body and SIGNATURE_MARK not in body, exp.name
        # Charsets that cannot hold a character turn it into "?": compare the rest.
        assert _ascii_words(exp.own_text) <= _ascii_words(body), (exp.name, body)
        assert (QUOTE_MARK in quoted[exp.message_id]) == exp.quoted, exp.name


def _ascii_words(text: str) -> set[str]:
    return {w for w in text.split() if w.isascii() and w.isalpha()}


def test_csv_export_has_the_same_rows_and_defuses_formulas(
        write_config, tmp_path: Path, capsys) -> None:
    build(tmp_path / "Maildir", 30)
    (tmp_path / "Maildir" / "new" / "1.evil").write_bytes(
        b"From: x@client.example\nSubject: =HYPERLINK(\"http://evil\")\nMessage-ID: <e@x>\n\nhi")
    config = write_config()
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(export(config, "csv", capsys))))
    assert len(rows) == 30 + len(list(special_emails())) + 1
    (evil,) = [r for r in rows if r["message_id"] == "<e@x>"]
    assert evil["subject"] == "'=HYPERLINK(\"http://evil\")"
    # The columns added last come last: a script reading them by position still works.
    assert list(rows[0])[-4:] == ["draft", "corrected", "relabelled", "leads"]
    assert all(json.loads(r["leads"]) == [] for r in rows if not r["category"])


def test_list_shows_the_newest_messages(write_config, tmp_path: Path, capsys) -> None:
    build(tmp_path / "Maildir", 10)
    config = write_config()
    main(["list", "--config", str(config)])
    assert "no messages stored yet" in capsys.readouterr().out
    main(["ingest", "--config", str(config), "--no-progress"])
    capsys.readouterr()
    assert main(["list", "--config", str(config), "--limit", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_a_missing_inbox_is_one_clear_line(write_config, tmp_path: Path, capsys) -> None:
    (tmp_path / "Maildir").mkdir()
    assert main(["ingest", "--config", str(write_config())]) == 78  # a configuration mistake
    err = capsys.readouterr().err
    assert "is not a Maildir" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", [["ingest"], ["run", "--once"]])
def test_a_missing_sent_folder_stops_the_run_and_names_the_key(
        write_config, tmp_path: Path, capsys, command: list[str]) -> None:
    # Without Sent the provider's own replies go unseen, and a draft they cancel
    # would be appended: a misspelt sent folder is an error, not a warning.
    build(tmp_path / "Maildir", 5)
    import shutil
    shutil.rmtree(tmp_path / "Maildir" / ".Sent")
    code = main([*command, "--config", str(write_config())])
    err = capsys.readouterr().err
    assert code == 78
    assert "folder 'Sent' does not exist" in err and "check [folders] sent" in err
    assert not list((tmp_path / "Maildir" / ".Drafts").glob("*/*"))


def test_a_missing_notice_folder_is_skipped_with_a_warning(
        write_config, tmp_path: Path, capsys, caplog) -> None:
    build(tmp_path / "Maildir", 5)
    import shutil
    shutil.rmtree(tmp_path / "Maildir" / ".Billing")
    assert main(["ingest", "--config", str(write_config()), "--no-progress"]) == 0
    assert "folder 'Billing' does not exist" in caplog.text
    assert "check [folders] notices in" in caplog.text and "skipping it" in caplog.text


@pytest.mark.parametrize("command", ["check-config", "ingest", "export", "list"])
def test_every_command_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "--config" in capsys.readouterr().out


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run([sys.executable, "-m", "triage", "--version"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.startswith("triage ")


def test_sigkill_during_ingest_never_skips_or_doubles_a_message(
        write_config, tmp_path: Path) -> None:
    """Kill ingest just after it commits some batch, at a random moment; the checkpoint
    is never ahead of what is stored, and the final run stores every message once."""
    expected, _ = build(tmp_path / "Maildir", 3000)
    config = write_config()
    db_path = tmp_path / "state" / "triage.db"
    rng = random.Random(3)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    kills, last = 0, 0
    for _ in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-m", "triage", "ingest", "--config", str(config), "--no-progress"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and _inbox_checkpoint(db_path) <= last:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.1))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        last = _inbox_checkpoint(db_path)
        _assert_checkpoints_not_ahead(db_path, tmp_path / "Maildir")
    assert kills >= 5, "ingest finished too fast to be interrupted; make the mailbox larger"
    done = subprocess.run(
        [sys.executable, "-m", "triage", "ingest", "--config", str(config), "--no-progress"],
        env=env, capture_output=True, text=True, check=True)
    assert "new messages stored" in done.stdout
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == len(expected)
    assert db.execute("SELECT count(*) FROM locations").fetchone()[0] == len(expected)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _inbox_checkpoint(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT last_uid FROM folders WHERE name = 'INBOX'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        db.close()


def _assert_checkpoints_not_ahead(db_path: Path, root: Path) -> None:
    """Every UID at or below a folder's checkpoint has its message stored."""
    if not db_path.exists():
        return
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        for name, validity, last_uid in db.execute(
                "SELECT name, uidvalidity, last_uid FROM folders"):
            key = str(root if name == "INBOX" else root / ("." + name))
            covered = {u for (u,) in db.execute(
                "SELECT uid FROM maildir_uids WHERE folder_key = ? AND uid <= ?", (key, last_uid))}
            stored = {u for (u,) in db.execute(
                "SELECT uid FROM locations WHERE folder = ? AND uidvalidity = ?",
                (name, validity))}
            assert len(covered) == last_uid or name != "INBOX"
            assert covered <= stored, (name, sorted(covered - stored)[:5])
    except sqlite3.OperationalError:  # killed before the schema was written
        pass
    finally:
        db.close()


class Fragile(Verdicts):
    """A classifier that breaks on one message, as a bug in a library might."""

    def classifications(self, messages: Sequence[Message]) -> list[Classification]:
        if any("BOOM" in (m.subject or "") for m in messages):
            raise ValueError("E088: text of length 2000000 exceeds maximum")
        return super().classifications(messages)


def test_a_message_that_breaks_the_classifier_is_recorded_and_the_rest_triaged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    desk = Desk(tmp_path)
    when = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for n in range(5):
        subject = "BOOM" if n == 2 else f"Consulta {n}"
        desk.deliver("INBOX", plain_mail(f"<m{n}@client.example>", when,
                                         "bruno@client.example", "ana@agency.example",
                                         subject, "¿Qué pasó con la web?"))
    desk.verdicts = Fragile()
    report = desk.run(when).report
    assert (report.added, report.triaged, report.unreadable) == (5, 4, 1)
    with Store(desk.config.store.path) as store:
        rows = {r["message_id"]: r for r in store.iter_messages()}
    assert rows["<m2@client.example>"]["kind"] == "unreadable"
    assert "cannot be classified: ValueError: E088" in rows["<m2@client.example>"]["error"]
    assert all(rows[f"<m{n}@client.example>"]["category"] for n in (0, 1, 3, 4))
    assert "INBOX UID 3 cannot be classified" in caplog.text


def test_two_different_messages_with_one_message_id_are_both_kept_and_triaged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Some mailers give every message the same Message-ID; the second message must not
    # be taken for a copy of the first, while a real copy still is.
    desk = Desk(tmp_path)
    when = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    first = plain_mail("<same@client.example>", when, "bruno@client.example",
                       "ana@agency.example", "La web no carga", "Desde ayer no carga.")
    second = plain_mail("<same@client.example>", when + timedelta(days=1),
                        "bruno@client.example", "ana@agency.example", "Factura de octubre",
                        "No pienso pagar esta factura.")
    for raw in (first, second, first):  # the first delivered twice: a copy
        desk.deliver("INBOX", raw)
    before = snapshot(desk.root)
    report = desk.run(when + timedelta(days=2)).report
    assert (report.added, report.triaged) == (2, 2)
    with Store(desk.config.store.path) as store:
        rows = {r["subject"]: r for r in store.iter_messages()}
        assert set(rows) == {"La web no carga", "Factura de octubre"}
        assert rows["La web no carga"]["message_id"] == "<same@client.example>"
        kept = rows["Factura de octubre"]["message_id"]
        assert kept != "<same@client.example>"
        assert "No pienso pagar" in rows["Factura de octubre"]["body"]
        assert all(r["category"] is not None for r in rows.values())  # both triaged
        assert "its Message-ID <same@client.example> also names another message" in (
            store.db.execute("SELECT defects FROM messages WHERE message_id = ?",
                             (kept,)).fetchone()[0])
        # Read again (a new UIDVALIDITY), each gets the id it was stored under.
        again = store.own_ids([parse_message(raw, when) for raw in (second, first)])
        assert [m.message_id for m in again] == [kept, "<same@client.example>"]
    assert f"stored as {kept}" in caplog.text
    assert snapshot(desk.root) == before
