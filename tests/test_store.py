"""The state store: once per message, checkpoints never ahead of what is stored."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.errors import StoreError
from triage.message import Address, Kind, Message
from triage.store import MIGRATIONS, Fetched, Store
from triage.threads import thread_keys


def message(n: int, **changes: object) -> Message:
    fields: dict[str, object] = dict(
        message_id=f"<m{n}@client.example>",
        sender=Address("Cliente", "cliente@client.example"),
        to=(Address("Ana", "ana@agency.example"),),
        bcc=(Address("", "auditor@client.example"),),
        date=datetime(2026, 11, 3, 9, n % 60, tzinfo=UTC),
        subject=f"message {n}",
        body="hola",
    )
    fields.update(changes)
    return Message(**fields)  # type: ignore[arg-type]


def batch(*numbers: int) -> list[Fetched]:
    return [Fetched(uid=n, message=message(n), kind=Kind.CLIENT) for n in numbers]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state" / "t.db")
    yield s
    s.close()


def test_a_new_database_is_migrated_to_the_latest_schema(store: Store) -> None:
    assert store.schema_version == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StoreError, match="from a newer triage"):
        Store(path)


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the state database"):
        Store(path)


def test_batch_and_checkpoint_are_written_together(store: Store) -> None:
    store.reset_folder("INBOX", 7)
    assert store.save_batch("INBOX", 7, batch(1, 2, 3), last_uid=3) == 3
    assert store.checkpoint("INBOX").last_uid == 3
    assert store.count_messages() == 3


def test_a_failure_inside_a_batch_leaves_neither_messages_nor_checkpoint(store: Store) -> None:
    store.reset_folder("INBOX", 7)
    store.save_batch("INBOX", 7, batch(1), last_uid=1)
    broken = batch(2, 3) + [Fetched(uid=4, message=message(4, date="not a date"), kind=Kind.CLIENT)]
    with pytest.raises(AttributeError):
        store.save_batch("INBOX", 7, broken, last_uid=4)
    assert store.checkpoint("INBOX").last_uid == 1
    assert store.count_messages() == 1


def test_the_same_message_id_is_stored_once_with_every_location(store: Store) -> None:
    store.reset_folder("INBOX", 7)
    store.reset_folder("Archive", 9)
    assert store.save_batch("INBOX", 7, batch(1, 2), last_uid=2) == 2
    assert store.save_batch("Archive", 9, batch(2), last_uid=5) == 0
    assert store.count_messages() == 2
    places = store.db.execute("SELECT folder, uid FROM locations ORDER BY folder").fetchall()
    assert [tuple(p) for p in places] == [("Archive", 2), ("INBOX", 1), ("INBOX", 2)]


def test_a_new_uidvalidity_restarts_the_folder_without_duplicates(store: Store) -> None:
    store.reset_folder("INBOX", 7)
    store.save_batch("INBOX", 7, batch(1, 2), last_uid=2)
    store.reset_folder("INBOX", 8)
    assert store.checkpoint("INBOX").last_uid == 0
    renumbered = [Fetched(uid=n + 100, message=message(n), kind=Kind.CLIENT) for n in (1, 2, 3)]
    assert store.save_batch("INBOX", 8, renumbered, last_uid=103) == 1
    assert store.count_messages() == 3


def test_a_stale_uidvalidity_does_not_move_the_checkpoint(store: Store) -> None:
    store.reset_folder("INBOX", 8)
    store.save_batch("INBOX", 7, batch(1), last_uid=50)
    assert store.checkpoint("INBOX").last_uid == 0


def test_addresses_are_kept_with_their_roles(store: Store) -> None:
    store.reset_folder("INBOX", 1)
    store.save_batch("INBOX", 1, batch(1), last_uid=1)
    (record,) = list(store.iter_messages())
    assert [a.email for a in record["addresses"]["bcc"]] == ["auditor@client.example"]
    assert record["folder"] == "INBOX"
    domains = store.db.execute("SELECT domain FROM addresses ORDER BY role").fetchall()
    assert {d[0] for d in domains} == {"agency.example", "client.example"}


def test_text_that_sqlite_cannot_encode_is_repaired(store: Store) -> None:
    nasty = message(1, subject="bad \udcff surrogate", body="nul\x00byte")
    store.reset_folder("INBOX", 1)
    store.save_batch("INBOX", 1, [Fetched(1, nasty, Kind.CLIENT)], last_uid=1)
    (record,) = list(store.iter_messages())
    assert record["subject"] == "bad \ufffd surrogate"
    assert record["body"] == "nul\ufffdbyte"


def test_maildir_uids_are_stable_and_increasing(store: Store) -> None:
    validity, first = store.maildir_uids("/m", ["b", "a"])
    assert first == {"b": 1, "a": 2}
    again, second = store.maildir_uids("/m", ["a", "c", "b"])
    assert again == validity
    assert second == {"a": 2, "c": 3, "b": 1}
    other_validity, other = store.maildir_uids("/other", ["x"])
    assert other == {"x": 1}


def test_a_full_disk_is_a_clear_error_and_leaves_no_half_state(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    store.reset_folder("INBOX", 1)
    store.save_batch("INBOX", 1, batch(1), last_uid=1)
    # Cap the database at its current size: the next large batch cannot fit.
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    big = [Fetched(uid=n, message=message(n, body="x" * 50_000), kind=Kind.CLIENT)
           for n in range(2, 40)]
    with pytest.raises(StoreError, match="cannot write the state database"):
        store.save_batch("INBOX", 1, big, last_uid=39)
    assert store.checkpoint("INBOX").last_uid == 1
    assert store.count_messages() == 1
    assert store.integrity_check() == "ok"
    store.close()


def test_connections_opening_a_new_database_at_once_all_work(tmp_path: Path) -> None:
    """The service and a command (export, show) opening the same new state database
    at once. Switching it to write-ahead logging takes a lock SQLite does not wait
    for, and one of them used to fail with "database is locked" (about 1 round in 25
    here), so each of 200 rounds opens a new database from four threads released
    together."""
    errors: list[BaseException] = []
    for round_ in range(200):
        path = tmp_path / f"fresh{round_}.db"
        start = threading.Barrier(4)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            try:
                start.wait()
                with Store(path) as store:
                    assert store.schema_version == len(MIGRATIONS)
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


def _plans(store: Store, run: Callable[[], object], verb: str = "SELECT") -> list[str]:
    """The query plan of every ``verb`` statement ``run`` executes."""
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    try:
        run()
    finally:
        store.db.set_trace_callback(None)
    return [" / ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in statements if sql.lstrip().upper().startswith(verb)]


def test_the_searches_by_party_read_only_the_window_of_the_partys_index(store: Store
                                                                        ) -> None:
    """Left to choose, SQLite read every message of the proof window and then checked
    the party: the evidence search slowed down with every notice to anyone. Through an
    index of the party alone it read every message of the client ever, and sorted
    them: a first sync slowed down with the square of the mailbox."""
    notice = message(1, sender=Address("Ana", "ana@agency.example"),
                     to=(Address("", "cliente@client.example"),), bcc=())
    store.save_batch("Sent", 1, [Fetched(uid=1, message=notice, kind=Kind.PROVIDER,
                                         thread=thread_keys(notice, _agency))], last_uid=1)
    plans = _plans(store, lambda: store.proof_candidates(
        "client.example", "cliente@client.example", datetime(2026, 12, 1, tzinfo=UTC)))
    window = "parties_window (party=? AND kind=? AND date>? AND date<?)"
    assert any(window in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans
    again = message(2, sender=Address("Ana", "ana@agency.example"),
                    to=(Address("", "cliente@client.example"),), bcc=())
    # Storing a notice marks its client's later complaints for another search.
    plans = _plans(store, lambda: store.save_batch("Sent", 1, [Fetched(
        uid=2, message=again, kind=Kind.PROVIDER, thread=thread_keys(again, _agency))],
        last_uid=2), verb="UPDATE TRIAGE")
    searches = [plan for plan in plans if "parties" in plan]
    assert searches and all(window in plan and "messages" not in plan
                            for plan in searches), searches


def test_a_store_of_schema_7_keeps_its_notices_findable_after_the_upgrade(
        tmp_path: Path) -> None:
    """Schema 8 copies each message's kind and date into its party rows: a store
    written before must find the same notices afterwards."""
    path = tmp_path / "old.db"
    notice = message(1, sender=Address("Ana", "ana@agency.example"),
                     to=(Address("", "cliente@client.example"),), bcc=())
    complaint = message(2, sender=Address("", "cliente@client.example"),
                        to=(Address("Ana", "ana@agency.example"),), bcc=(),
                        date=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    with Store(path) as new:
        new.save_batch("Sent", 1, [Fetched(uid=1, message=notice, kind=Kind.PROVIDER,
                                           thread=thread_keys(notice, _agency))], last_uid=1)
        new.save_batch("INBOX", 1, [Fetched(uid=1, message=complaint, kind=Kind.CLIENT,
                                            thread=thread_keys(complaint, _agency))],
                       last_uid=1)
    # Back to what schema 7 had: party rows without a kind and a date (and no
    # relabelled_from, schema 9's, nor the evidence's cited, schema 10's).
    with sqlite3.connect(path) as db:
        db.executescript("""ALTER TABLE evidence DROP COLUMN cited;
                            ALTER TABLE triage DROP COLUMN relabelled_from;
                            DROP INDEX parties_window;
                            ALTER TABLE parties DROP COLUMN kind;
                            ALTER TABLE parties DROP COLUMN date;
                            CREATE INDEX parties_party ON parties(party);
                            PRAGMA user_version = 7;""")
    db.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        found = store.proof_candidates("client.example", "cliente@client.example",
                                       datetime(2026, 12, 1, tzinfo=UTC))
        assert [m for _, m, _ in found] == [notice.message_id]
        differ = store.db.execute(
            """SELECT count(*) FROM parties p JOIN messages m ON m.id = p.message
               WHERE p.kind != m.kind OR p.date != m.date""").fetchone()[0]
        kinds = {r[0] for r in store.db.execute("SELECT kind FROM parties")}
        assert differ == 0 and kinds == {"provider", "client"}


def _agency(address: str) -> bool:
    return address.endswith("@agency.example")

