"""The state database (SQLite): the only writer of triage's state.

Every message is stored once, keyed by its Message-ID, with one location row per
place it was read from (folder + UIDVALIDITY + UID). A folder's checkpoint (its
UIDVALIDITY and last UID read) is written in the same transaction as the
messages it covers, so a crash can neither skip nor double a message: after a
restart the reader asks again for everything past the last committed UID.

The schema has a version (``PRAGMA user_version``) and a list of migrations;
opening a database runs the ones it lacks.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from triage.corpus import LABELS
from triage.errors import StoreError
from triage.files import create_private, restrict
from triage.message import Address, Classification, Kind, Message
from triage.parsing import synthetic_message_id
from triage.threads import SUBJECT_WINDOW, ThreadKeys

log = logging.getLogger(__name__)

MIGRATIONS: tuple[str, ...] = (
    # 1: messages, where they were read from, folder checkpoints, Maildir UIDs.
    """
    CREATE TABLE folders (
        name TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid INTEGER NOT NULL DEFAULT 0,
        synced_at TEXT
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        synthetic_id INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL,
        error TEXT,
        sender TEXT,
        sender_name TEXT NOT NULL DEFAULT '',
        date TEXT NOT NULL,
        date_flagged INTEGER NOT NULL DEFAULT 0,
        subject TEXT NOT NULL DEFAULT '',
        in_reply_to TEXT,
        refs TEXT NOT NULL DEFAULT '[]',
        body TEXT NOT NULL DEFAULT '',
        quoted TEXT NOT NULL DEFAULT '',
        signature TEXT NOT NULL DEFAULT '',
        attachments TEXT NOT NULL DEFAULT '[]',
        automated TEXT,
        defects TEXT NOT NULL DEFAULT '[]',
        size INTEGER NOT NULL DEFAULT 0,
        ingested_at TEXT NOT NULL
    );
    CREATE INDEX messages_date ON messages(date);
    CREATE INDEX messages_sender ON messages(sender);
    CREATE TABLE addresses (
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('to', 'cc', 'bcc', 'reply_to')),
        position INTEGER NOT NULL,
        email TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        domain TEXT NOT NULL,
        PRIMARY KEY (message, role, position)
    );
    CREATE INDEX addresses_email ON addresses(email);
    CREATE INDEX addresses_domain ON addresses(domain);
    CREATE TABLE locations (
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        PRIMARY KEY (folder, uidvalidity, uid)
    );
    CREATE INDEX locations_message ON locations(message);
    CREATE TABLE maildir_folders (
        folder_key TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        next_uid INTEGER NOT NULL
    );
    CREATE TABLE maildir_uids (
        folder_key TEXT NOT NULL REFERENCES maildir_folders(folder_key) ON DELETE CASCADE,
        name TEXT NOT NULL,
        uid INTEGER NOT NULL,
        PRIMARY KEY (folder_key, name)
    );
    """,
    # 2: the classifier's verdict on client messages.
    """
    CREATE TABLE triage (
        message INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        language TEXT NOT NULL,
        category TEXT NOT NULL,
        confidence REAL NOT NULL,
        probabilities TEXT NOT NULL,
        hostility INTEGER NOT NULL,
        hostility_score REAL NOT NULL,
        model TEXT NOT NULL,
        triaged_at TEXT NOT NULL
    );
    CREATE INDEX triage_category ON triage(category);
    """,
    # 3: threads (see threads.py): each message's thread, and who the client side is.
    """
    ALTER TABLE messages ADD COLUMN thread_id TEXT;
    ALTER TABLE messages ADD COLUMN subject_key TEXT NOT NULL DEFAULT '';
    CREATE INDEX messages_thread ON messages(thread_id);
    CREATE INDEX messages_subject_key ON messages(subject_key, date);
    CREATE TABLE parties (
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        party TEXT NOT NULL,
        PRIMARY KEY (message, party)
    );
    CREATE INDEX parties_party ON parties(party);
    """,
    # 4: evidence (see evidence.py): the notices cited for each complaint, and
    # when the search last ran (NULL: due, also after an earlier notice arrives).
    """
    ALTER TABLE triage ADD COLUMN evidence_at TEXT;
    CREATE INDEX triage_evidence_due ON triage(message) WHERE evidence_at IS NULL;
    CREATE TABLE evidence (
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,
        notice INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        score REAL NOT NULL,
        excerpt TEXT NOT NULL,
        reasons TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (message, rank)
    );
    CREATE INDEX messages_kind_date ON messages(kind, date);
    """,
    # 5: reply drafts (see drafting.py): one row per planned reply, named in the
    # draft's X-Triage-Draft header by plan_id; at most one open plan per thread.
    # draft_checked: whether planning has looked at a triaged message yet.
    """
    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        plan_id TEXT NOT NULL UNIQUE,
        thread_id TEXT NOT NULL,
        message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        category TEXT NOT NULL,
        hostility INTEGER NOT NULL,
        language TEXT NOT NULL,
        due_at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('planned', 'appended', 'cancelled', 'held')),
        reason TEXT NOT NULL DEFAULT '',
        planned_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE UNIQUE INDEX drafts_one_open ON drafts(thread_id) WHERE state = 'planned';
    CREATE INDEX drafts_due ON drafts(due_at) WHERE state = 'planned';
    CREATE INDEX drafts_message ON drafts(message);
    ALTER TABLE triage ADD COLUMN draft_checked INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX triage_draft_due ON triage(message) WHERE draft_checked = 0;
    """,
    # 6: mail the tool sends itself (digest.py, alerts.py): one row per weekly
    # digest (key: the period's end) and per alerted message (key: its row), so that
    # each goes out once, also across restarts.
    """
    CREATE TABLE outgoing (
        kind TEXT NOT NULL CHECK (kind IN ('digest', 'alert')),
        key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sent', 'skipped')),
        detail TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX outgoing_at ON outgoing(kind, at);
    """,
    # 7: the provider's corrections (corrections.py) and the models retrained on them
    # (retraining.py). A correction names its message by Message-ID: a message moved to a
    # correction folder before triage read it is corrected once it is read.
    # triage.model_category keeps the model's own verdict of a corrected message.
    """
    CREATE TABLE corrections (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        old_label TEXT,
        new_label TEXT NOT NULL,
        source TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX corrections_message ON corrections(message_id, id);
    ALTER TABLE triage ADD COLUMN model_category TEXT;
    CREATE TABLE retrains (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        upto INTEGER NOT NULL,
        corrections INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('kept', 'rejected', 'failed', 'rolled_back')),
        score_before REAL,
        score_after REAL,
        model TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT ''
    );
    """,
    # 8: each party row carries its message's kind and date, and the index leads with
    # them (newest first, then in the order stored, as the sort before gave): finding a
    # client's notices of the proof window (and its complaints after a notice) walks
    # that stretch of the index, not every message of the client ever. At 100,000
    # messages that walk was most of a first sync. Rows of no message are dropped.
    """
    DELETE FROM parties WHERE message NOT IN (SELECT id FROM messages);
    ALTER TABLE parties ADD COLUMN kind TEXT NOT NULL DEFAULT '';
    ALTER TABLE parties ADD COLUMN date TEXT NOT NULL DEFAULT '';
    UPDATE parties SET kind = (SELECT m.kind FROM messages m WHERE m.id = parties.message),
                       date = (SELECT m.date FROM messages m WHERE m.id = parties.message);
    CREATE INDEX parties_window ON parties(party, kind, date DESC, message);
    DROP INDEX parties_party;
    """,
    # 9: the model's category of a message whose proof gave it another (evidence.py:
    # a reported failure the provider had announced is an accusation); NULL when the
    # category is the model's or a person's.
    """
    ALTER TABLE triage ADD COLUMN relabelled_from TEXT;
    """,
    # 10: beside the cited notices, the leads: notices not cited that a person may
    # still want to read (evidence.py, ``leads``). Complaints searched before are
    # searched again, to find theirs.
    """
    ALTER TABLE evidence ADD COLUMN cited INTEGER NOT NULL DEFAULT 1;
    UPDATE triage SET evidence_at = NULL;
    """,
)

ROLES = ("to", "cc", "bcc", "reply_to")
# How long before a complaint a provider's message can still be proof of it.
PROOF_WINDOW = timedelta(days=400)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True, slots=True)
class Fetched:
    """One parsed message ready to store, with where it was read from."""

    uid: int
    message: Message
    kind: Kind
    classification: Classification | None = None
    thread: ThreadKeys | None = None


def _make_private(path: Path) -> None:
    """Create the database owner-only before SQLite does: SQLite gives its -wal, -shm
    and -journal files the database's own mode. A database left readable by others
    (an older triage, a copy) holds client mail: tighten it, and say so once."""
    files = [path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal"))]
    loosened = [(file.name, old) for file in files if (old := restrict(file)) is not None]
    if loosened:
        log.warning("the state database %s was readable by other users (%s); triage made it "
                    "readable by its owner only", path,
                    ", ".join(f"{name} mode {old:03o}" for name, old in loosened))
    os.close(create_private(path, os.O_RDONLY))


# How long a connection waits for another's lock before giving up.
_BUSY_SECONDS = 30


class Store:
    """A connection to the state database; use it from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            _make_private(path)
            self.db = sqlite3.connect(str(path), isolation_level=None, timeout=_BUSY_SECONDS)
            self.db.row_factory = sqlite3.Row
            self._use_wal()
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the state database {path}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot create the state database {path}: {exc.strerror}") from None

    def _use_wal(self) -> None:
        """Switch to write-ahead logging. On a new database that takes an exclusive
        lock SQLite does not wait for: another process (or thread) opening the same
        new database at that moment made it fail at once with "database is locked".
        It is tried again for as long as a write would wait."""
        deadline = time.monotonic() + _BUSY_SECONDS
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -----------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the state database {self.path} is from a newer triage (schema {version}); "
                "upgrade triage"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # A new database is news to nobody; upgrading an old one is worth a line.
            log.log(logging.INFO if version else logging.DEBUG,
                    "migrating the state database %s to schema %d", self.path, number)
            self._run_script(script, number)

    def _run_script(self, script: str, number: int) -> None:
        statements = [s for s in script.split(";") if s.strip()]
        with self.transaction():
            # Another process (a second command opening the same new database)
            # may have migrated between our check and our write lock.
            if self.schema_version >= number:
                return
            for statement in statements:
                self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {number:d}")

    def transaction(self) -> _Transaction:
        return _Transaction(self.db, self.path)

    # --- checkpoints ------------------------------------------------------

    def checkpoint(self, folder: str) -> Checkpoint | None:
        row = self.db.execute(
            "SELECT uidvalidity, last_uid FROM folders WHERE name = ?", (folder,)
        ).fetchone()
        return Checkpoint(row["uidvalidity"], row["last_uid"]) if row else None

    def reset_folder(self, folder: str, uidvalidity: int) -> None:
        """Start the folder again from UID 0 under a new UIDVALIDITY."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO folders(name, uidvalidity, last_uid) VALUES (?, ?, 0) "
                "ON CONFLICT(name) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0",
                (folder, uidvalidity),
            )

    def save_batch(
        self, folder: str, uidvalidity: int, items: Sequence[Fetched], last_uid: int
    ) -> int:
        """Store a batch and move the folder's checkpoint to ``last_uid``, atomically.

        Returns how many messages were new (not already known by Message-ID).
        """
        added = 0
        now = _iso(datetime.now(UTC))
        with self.transaction():
            for item in items:
                row_id, new = self._insert_message(item.message, item.kind, now, item.thread)
                added += new
                if new and item.classification is not None:
                    self._insert_classification(row_id, item.classification, now)
                    self._apply_correction(row_id, item.message.message_id)
                if new and item.kind is Kind.PROVIDER:
                    self._search_again_after(item)
                self.db.execute(
                    "INSERT OR IGNORE INTO locations(folder, uidvalidity, uid, message) "
                    "VALUES (?, ?, ?, ?)",
                    (folder, uidvalidity, item.uid, row_id),
                )
            self.db.execute(
                "UPDATE folders SET last_uid = max(last_uid, ?), synced_at = ? "
                "WHERE name = ? AND uidvalidity = ?",
                (last_uid, now, folder, uidvalidity),
            )
        return added

    def _insert_message(self, message: Message, kind: Kind, now: str,
                        thread: ThreadKeys | None = None) -> tuple[int, int]:
        found = self.db.execute(
            "SELECT id FROM messages WHERE message_id = ?", (message.message_id,)
        ).fetchone()
        if found:
            return int(found["id"]), 0
        when = _iso(message.date or datetime.now(UTC))
        cursor = self.db.execute(
            """INSERT INTO messages(message_id, synthetic_id, kind, error, sender, sender_name,
                   date, date_flagged, subject, in_reply_to, refs, body, quoted, signature,
                   attachments, automated, defects, size, ingested_at, thread_id, subject_key)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                clean(message.message_id),
                int(message.synthetic_id),
                kind.value,
                clean(message.unreadable),
                clean(message.sender.email) if message.sender else None,
                clean(message.sender.name) if message.sender else "",
                when,
                int(message.date_flagged),
                clean(message.subject),
                clean(message.in_reply_to),
                _json([clean(r) for r in message.references]),
                clean(message.body),
                clean(message.quoted),
                clean(message.signature),
                _json([clean(a) for a in message.attachments]),
                clean(message.automated),
                _json([clean(d) for d in message.defects]),
                message.size,
                now,
                self._find_thread(message, thread) if thread else None,
                thread.subject if thread else "",
            ),
        )
        row_id = int(cursor.lastrowid or 0)
        if thread:
            self.db.executemany(
                "INSERT OR IGNORE INTO parties(message, party, kind, date) VALUES (?, ?, ?, ?)",
                [(row_id, party, kind.value, when) for party in thread.parties])
        rows = [
            (row_id, role, position, clean(a.email), clean(a.name), clean(a.domain))
            for role in ROLES
            for position, a in enumerate(getattr(message, role))
        ]
        self.db.executemany(
            "INSERT INTO addresses(message, role, position, email, name, domain) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        return row_id, 1

    def _find_thread(self, message: Message, keys: ThreadKeys) -> str:
        # 1. The headers: the thread of the nearest referenced message we have...
        for reference in keys.referenced:
            row = self.db.execute("SELECT thread_id FROM messages WHERE message_id = ? "
                                  "AND thread_id IS NOT NULL", (reference,)).fetchone()
            if row:
                return str(row[0])
        # ...or, for a root that arrives after its replies, the thread they named.
        if self.db.execute("SELECT 1 FROM messages WHERE thread_id = ? LIMIT 1",
                           (keys.own,)).fetchone():
            return keys.own
        if keys.root:
            return keys.root
        # 2. No headers: the same subject with the same client, not long before or after.
        if keys.subject and keys.parties and message.date is not None:
            marks = ",".join("?" * len(keys.parties))
            row = self.db.execute(
                f"""SELECT m.thread_id FROM messages m JOIN parties p ON p.message = m.id
                    WHERE m.subject_key = ? AND m.thread_id IS NOT NULL
                      AND m.date BETWEEN ? AND ? AND p.party IN ({marks})
                    ORDER BY m.date DESC LIMIT 1""",  # noqa: S608 - only placeholders
                (keys.subject, _iso(message.date - SUBJECT_WINDOW),
                 _iso(message.date + SUBJECT_WINDOW), *keys.parties)).fetchone()
            if row:
                return str(row[0])
        return keys.own

    def _search_again_after(self, item: Fetched) -> None:
        """A provider message that arrives after later complaints of its client were
        searched (Sent read after the inbox, mail imported late) may be their proof:
        mark those complaints due for another evidence search."""
        if item.thread is None or not item.thread.parties or item.message.date is None:
            return
        marks = ",".join("?" * len(item.thread.parties))
        # The party's client messages of the window, by the parties index alone.
        self.db.execute(
            f"""UPDATE triage SET evidence_at = NULL
                WHERE evidence_at IS NOT NULL AND message IN (
                    SELECT p.message FROM parties p
                    WHERE p.party IN ({marks}) AND p.kind = 'client'
                      AND p.date > ? AND p.date <= ?)""",  # noqa: S608 - only placeholders
            (*item.thread.parties, _iso(item.message.date),
             _iso(item.message.date + PROOF_WINDOW)))

    def _insert_classification(self, row_id: int, verdict: Classification, now: str) -> None:
        self.db.execute(
            """INSERT INTO triage(message, language, category, confidence, probabilities,
                   hostility, hostility_score, model, triaged_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (row_id, verdict.language, verdict.category, verdict.confidence,
             _json(verdict.probabilities), verdict.hostility, verdict.hostility_score,
             verdict.model, now),
        )

    # --- corrections (corrections.py, retraining.py) --------------------------------

    def record_correction(self, message_id: str, label: str, source: str, now: datetime
                          ) -> bool:
        """Record that the provider says ``message_id`` is ``label`` and apply it to its
        verdict (the draft is planned again, the evidence searched again). Not recorded
        twice: a folder drop when the latest correction already says ``label``; a
        keyword (seen again at every sync while it is set) when the latest keyword
        correction does. Returns whether anything was recorded."""
        if label not in LABELS:
            raise StoreError(f"{label!r} is not a category ({', '.join(LABELS)})")
        latest = self.db.execute(
            "SELECT new_label FROM corrections WHERE message_id = ? "
            "AND (? = 0 OR source LIKE 'keyword:%') ORDER BY id DESC LIMIT 1",
            (message_id, int(source.startswith("keyword:")))).fetchone()
        if latest is not None and latest[0] == label:
            return False
        verdict = self.db.execute(
            "SELECT t.category FROM triage t JOIN messages m ON m.id = t.message "
            "WHERE m.message_id = ?", (message_id,)).fetchone()
        current = verdict[0] if verdict else None
        self.db.execute(
            "INSERT INTO corrections(message_id, old_label, new_label, source, at) "
            "VALUES (?, ?, ?, ?, ?)", (message_id, current, label, source, _iso(now)))
        row = self.db.execute("SELECT id FROM messages WHERE message_id = ?",
                              (message_id,)).fetchone()
        if row is not None:
            self._apply_correction(int(row[0]), message_id)
        return True

    def _apply_correction(self, row_id: int, message_id: str) -> None:
        """Give a triaged message its latest correction's label, keeping the model's."""
        latest = self.db.execute(
            "SELECT new_label FROM corrections WHERE message_id = ? ORDER BY id DESC LIMIT 1",
            (message_id,)).fetchone()
        if latest is None:
            return
        updated = self.db.execute(
            """UPDATE triage SET
                   model_category = coalesce(model_category, relabelled_from, category),
                   relabelled_from = NULL, category = ?, draft_checked = 0,
                   evidence_at = NULL
               WHERE message = ? AND (category != ? OR model_category IS NULL)""",
            (latest[0], row_id, latest[0])).rowcount
        if updated:
            self.search_later_in_threads([row_id])

    def corrections(self, since: datetime | None = None, until: datetime | None = None
                    ) -> list[dict[str, Any]]:
        """Corrections recorded in [since, until), oldest first."""
        return [dict(r) for r in self.db.execute(
            "SELECT * FROM corrections WHERE at >= ? AND at < ? ORDER BY id",
            (_iso(since) if since else "", _iso(until) if until else "9999"))]

    def training_corrections(self) -> list[dict[str, Any]]:
        """Each corrected client message that triage has read, once, with its latest
        label: what retraining learns from."""
        return [dict(r) for r in self.db.execute(
            """SELECT c.id, m.message_id, m.subject, m.body, t.language, t.hostility,
                      c.new_label AS label
               FROM corrections c JOIN messages m ON m.message_id = c.message_id
               JOIN triage t ON t.message = m.id
               WHERE c.id = (SELECT max(id) FROM corrections d
                             WHERE d.message_id = c.message_id)
               ORDER BY c.id""")]

    def count_training_corrections(self) -> int:
        """How many messages ``training_corrections`` gives, without reading them."""
        return int(self.db.execute(
            """SELECT count(DISTINCT c.message_id)
               FROM corrections c JOIN messages m ON m.message_id = c.message_id
               JOIN triage t ON t.message = m.id""").fetchone()[0])

    def last_correction_id(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM corrections"
                                   ).fetchone()[0])

    def message_ids_at(self, folder: str, uidvalidity: int, uids: Sequence[int]
                       ) -> dict[int, str]:
        """The Message-IDs stored for these UIDs of ``folder``."""
        found: dict[int, str] = {}
        for start in range(0, len(uids), 500):
            chunk = list(uids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            found.update((int(r[0]), str(r[1])) for r in self.db.execute(
                f"""SELECT l.uid, m.message_id FROM locations l
                    JOIN messages m ON m.id = l.message
                    WHERE l.folder = ? AND l.uidvalidity = ? AND l.uid IN ({marks})""",  # noqa: S608
                (folder, uidvalidity, *chunk)))
        return found

    def folders_of(self, message_id: str) -> list[str]:
        """The folders a message was read from, first read first."""
        return [str(r[0]) for r in self.db.execute(
            """SELECT l.folder FROM locations l JOIN messages m ON m.id = l.message
               WHERE m.message_id = ? ORDER BY l.rowid""", (message_id,))]

    def record_retrain(self, outcome: str, upto: int, corrections: int, now: datetime,
                       before: float | None = None, after: float | None = None,
                       model: str = "", detail: str = "") -> None:
        with self.transaction():
            self.db.execute(
                """INSERT INTO retrains(at, upto, corrections, outcome, score_before,
                       score_after, model, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (_iso(now), upto, corrections, outcome, before, after, model, detail))

    def retrains(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Retraining attempts and rollbacks since ``since``, oldest first."""
        return [dict(r) for r in self.db.execute(
            "SELECT * FROM retrains WHERE at >= ? ORDER BY id",
            (_iso(since) if since else "",))]

    def known_message_ids(self, message_ids: Sequence[str]) -> set[str]:
        """Which of ``message_ids`` are stored already."""
        return set(self.identities(message_ids))

    def own_ids(self, messages: Sequence[Message]) -> list[Message]:
        """``messages``, each with a Message-ID of its own. Some senders give one
        Message-ID to different messages, and the store keeps one message per
        Message-ID: a message whose Message-ID already names another (stored, or
        earlier in ``messages``: another sender, subject or date) is kept under an id
        made from both, with a note, so that it is not taken for a copy and dropped."""
        seen = self.identities([m.message_id for m in messages])
        found = []
        for message in messages:
            own = identity(message)
            other = seen.get(message.message_id)
            if other is not None and not other.matches(own) and not message.synthetic_id:
                given = message.message_id
                message = replace(
                    message, message_id=synthetic_message_id(repr((given, *own)).encode()),
                    synthetic_id=True,
                    defects=(*message.defects, f"its Message-ID {given} also names another "
                             "message"))
                log.warning("the Message-ID %s names two different messages: the later one "
                            "is stored as %s", given, message.message_id)
            seen.setdefault(message.message_id, own)
            found.append(message)
        return found

    def identities(self, message_ids: Sequence[str]) -> dict[str, Identity]:
        """The stored messages of ``message_ids``, each with its ``identity``."""
        found: dict[str, Identity] = {}
        for start in range(0, len(message_ids), 500):
            chunk = list(message_ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            found.update((r["message_id"], Identity(r["sender"], None if r["date_flagged"]
                                                    else r["date"], r["subject"] or ""))
                         for r in self.db.execute(
                f"SELECT message_id, sender, date, date_flagged, subject FROM messages "  # noqa: S608
                f"WHERE message_id IN ({marks})", chunk))
        return found

    def count_triaged(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM triage").fetchone()[0])

    # --- evidence (evidence.py) -----------------------------------------------

    def message(self, message_id: str) -> dict[str, Any] | None:
        """One stored message by Message-ID (angle brackets optional), with its verdict,
        first folder and addresses."""
        wanted = message_id.strip()
        if not wanted.startswith("<"):
            wanted = f"<{wanted}>"
        row = self.db.execute(
            f"{_MESSAGE_SELECT} WHERE m.message_id IN (?, ?)",  # noqa: S608 - constant
            (wanted, wanted[1:-1])).fetchone()
        return self._record(row) if row else None

    def message_by_row(self, row_id: int) -> dict[str, Any]:
        row = self.db.execute(f"{_MESSAGE_SELECT} WHERE m.id = ?",  # noqa: S608 - constant
                              (row_id,)).fetchone()
        return self._record(row)

    def thread(self, thread_id: str) -> list[dict[str, Any]]:
        """Every stored message of a thread, oldest first."""
        rows = self.db.execute(f"{_MESSAGE_SELECT} WHERE m.thread_id = ? "  # noqa: S608
                               "ORDER BY m.date, m.id", (thread_id,)).fetchall()
        return [self._record(row) for row in rows]

    def _record(self, row: sqlite3.Row) -> dict[str, Any]:
        record = dict(row)
        record["addresses"] = self._addresses(int(row["id"]))
        return record

    def evidence_due(self, limit: int = 500) -> list[int]:
        """Triaged messages whose evidence search has not run since it last could change."""
        return [int(r[0]) for r in self.db.execute(
            "SELECT message FROM triage WHERE evidence_at IS NULL ORDER BY message LIMIT ?",
            (limit,))]

    def complaint(self, row_id: int) -> dict[str, Any] | None:
        row = self.db.execute(
            """SELECT m.id, m.message_id, m.date, m.subject, m.body, m.sender, m.sender_name,
                      m.thread_id, m.in_reply_to, t.category, t.probabilities, t.language,
                      t.model_category, t.relabelled_from,
                      EXISTS(SELECT 1 FROM messages e JOIN triage et ON et.message = e.id
                             WHERE e.thread_id = m.thread_id AND e.date < m.date
                               AND et.category = 'accusation') AS follows_accusation
               FROM messages m JOIN triage t ON t.message = m.id WHERE m.id = ?""",
            (row_id,)).fetchone()
        return dict(row) if row else None

    def proof_candidates(self, party: str, address: str, before: datetime,
                         limit: int = 300) -> list[tuple[int, str, bool]]:
        """The provider's messages to ``party`` (an organisation's domain or a free-mail
        address) in the PROOF_WINDOW before ``before``, newest first: row id,
        Message-ID, and whether it went to ``address`` itself. Read their contents
        with ``provider_messages`` (the evidence search keeps those it has read).
        The parties index gives them newest first (party, kind, date DESC), so SQLite
        walks only the window's stretch of it; CROSS JOIN keeps it from starting
        with the messages instead."""
        rows = self.db.execute(
            """SELECT m.id, m.message_id,
                      EXISTS(SELECT 1 FROM addresses a WHERE a.message = m.id
                             AND a.email = ? AND a.role != 'reply_to') AS to_complainant
               FROM parties p CROSS JOIN messages m ON m.id = p.message
               WHERE p.party = ? AND p.kind = 'provider' AND p.date < ? AND p.date >= ?
               ORDER BY p.date DESC, p.message LIMIT ?""",
            (address, party, _iso(before), _iso(before - PROOF_WINDOW), limit)).fetchall()
        return [(int(r["id"]), str(r["message_id"]), bool(r["to_complainant"])) for r in rows]

    def provider_messages(self, row_ids: Sequence[int]) -> list[dict[str, Any]]:
        """What the evidence search reads of stored messages: id, Message-ID, date,
        subject, body, sender, thread and recipients (to, cc, bcc)."""
        if not row_ids:
            return []
        marks = ",".join("?" * len(row_ids))
        rows = self.db.execute(
            f"""SELECT id, message_id, date, subject, body, sender, thread_id
                FROM messages WHERE id IN ({marks})""",  # noqa: S608 - only placeholders
            tuple(row_ids)).fetchall()
        recipients = self._recipients([int(row["id"]) for row in rows])
        return [dict(row, recipients=recipients[int(row["id"])]) for row in rows]

    def save_evidence(self, row_id: int, cited: Sequence[dict[str, Any]],
                      category: str | None = None,
                      leads: Sequence[dict[str, Any]] = ()) -> bool:
        """Replace a complaint's evidence with ``cited`` (best first: notice message_id,
        score, excerpt, reasons) and its leads with ``leads`` (the same, not cited:
        worth a person's look), and mark its search done. ``category`` is the one the
        proof gives it (None: the model's); a person's correction outranks it. A
        change of category is planned again (its draft is another reply). Returns
        whether the category changed."""
        with self.transaction():
            if category is not None:
                changed = self.db.execute(
                    """UPDATE triage SET relabelled_from = coalesce(relabelled_from, category),
                           category = ?, draft_checked = 0
                       WHERE message = ? AND model_category IS NULL AND category != ?""",
                    (category, row_id, category)).rowcount
            else:
                changed = self.db.execute(
                    """UPDATE triage SET category = relabelled_from, relabelled_from = NULL,
                           draft_checked = 0
                       WHERE message = ? AND relabelled_from IS NOT NULL""", (row_id,)).rowcount
            self.db.execute("DELETE FROM evidence WHERE message = ?", (row_id,))
            shown = [(item, 1) for item in cited] + [(item, 0) for item in leads]
            for rank, (item, is_cited) in enumerate(shown, start=1):
                self.db.execute(
                    """INSERT INTO evidence(message, rank, notice, score, excerpt, reasons,
                                            cited)
                       SELECT ?, ?, id, ?, ?, ?, ? FROM messages WHERE message_id = ?""",
                    (row_id, rank, float(item["score"]), clean(item["excerpt"]),
                     _json(item.get("reasons", [])), is_cited, item["message_id"]))
            self.db.execute("UPDATE triage SET evidence_at = ? WHERE message = ?",
                            (_iso(datetime.now(UTC)), row_id))
        return changed > 0

    def search_later_in_threads(self, row_ids: Sequence[int]) -> None:
        """Mark due for another evidence search the client messages that come after
        these in their threads: a follow-up is read with its thread's earlier
        categories (evidence.py), and one of those changed."""
        marks = ",".join("?" * len(row_ids))
        self.db.execute(
            f"""UPDATE triage SET evidence_at = NULL
                WHERE evidence_at IS NOT NULL AND message IN (
                    SELECT e.id FROM messages m JOIN messages e ON e.thread_id = m.thread_id
                    WHERE m.id IN ({marks}) AND e.date > m.date)""",  # noqa: S608
            tuple(row_ids))

    def evidence_of(self, row_id: int, cited: bool = True) -> list[dict[str, Any]]:
        """A message's cited notices (its leads when not ``cited``), best first, in the
        shape ``triage export`` shows."""
        return self.evidence_and_leads(row_id)[0 if cited else 1]

    def evidence_and_leads(self, row_id: int
                           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A message's cited notices and its leads, each best first, read at once."""
        found: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
        rows = self.db.execute(
            """SELECT e.notice, e.score, e.excerpt, e.reasons, e.cited, m.message_id, m.date,
                      m.subject
               FROM evidence e JOIN messages m ON m.id = e.notice
               WHERE e.message = ? ORDER BY e.rank""", (row_id,)).fetchall()
        recipients = self._recipients([int(row["notice"]) for row in rows])
        for row in rows:
            found[0 if row["cited"] else 1].append({
                "message_id": row["message_id"], "date": row["date"],
                "subject": row["subject"], "recipients": recipients[int(row["notice"])],
                "excerpt": row["excerpt"], "score": round(float(row["score"]), 3),
                "reasons": json.loads(row["reasons"]),
            })
        return found

    # --- reply drafts (drafting.py) ---------------------------------------------

    def threads_to_plan(self, with_open: bool = True, limit: int = 500
                        ) -> tuple[list[str], list[int]]:
        """Threads whose draft plan may have changed: those of triaged messages that
        planning has not looked at yet (returned too, to mark them), and those with an
        open plan (a provider's reply or a later client message may change it)."""
        rows = self.db.execute(
            """SELECT t.message, coalesce(m.thread_id, m.message_id) AS thread
               FROM triage t JOIN messages m ON m.id = t.message
               WHERE t.draft_checked = 0 ORDER BY t.message LIMIT ?""", (limit,)).fetchall()
        threads = dict.fromkeys(str(r["thread"]) for r in rows)
        if with_open:
            threads.update(dict.fromkeys(str(r[0]) for r in self.db.execute(
                "SELECT thread_id FROM drafts WHERE state = 'planned'")))
        return list(threads), [int(r["message"]) for r in rows]

    def thread_for_drafts(self, thread_id: str) -> list[dict[str, Any]]:
        """The client and provider messages of a thread, oldest first, with verdicts;
        ``refs`` holds the Message-IDs each one answers (In-Reply-To, References).
        (Not ``coalesce(thread_id, message_id) = ?``: no index serves that, and a
        backfill's planning then read the whole table once per thread.)"""
        rows = [dict(r) for r in self.db.execute(
            """SELECT m.id, m.kind, m.date, m.message_id, m.in_reply_to, m.refs,
                      t.category, t.hostility, t.language
               FROM messages m LEFT JOIN triage t ON t.message = m.id
               WHERE (m.thread_id = ? OR m.thread_id IS NULL AND m.message_id = ?)
                 AND m.kind IN ('client', 'provider')
               ORDER BY m.date, m.id""", (thread_id, thread_id))]
        for row in rows:
            row["refs"] = {*json.loads(row["refs"]), row.pop("in_reply_to") or ""}
        return rows

    def message_date(self, row_id: int) -> datetime:
        row = self.db.execute("SELECT date FROM messages WHERE id = ?", (row_id,)).fetchone()
        return datetime.fromisoformat(row[0])

    def answered(self, messages: Sequence[int]) -> bool:
        """Whether a draft was ever planned for any of these messages."""
        marks = ",".join("?" * len(messages))
        return self.db.execute(
            f"SELECT 1 FROM drafts WHERE message IN ({marks}) LIMIT 1",  # noqa: S608
            list(messages)).fetchone() is not None

    def open_draft(self, thread_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM drafts WHERE thread_id = ? AND state = 'planned'",
                              (thread_id,)).fetchone()
        return dict(row) if row else None

    def save_plan(self, plan: dict[str, Any], now: datetime) -> None:
        """Insert a plan, or rebuild the open one with the same plan_id."""
        self.db.execute(
            """INSERT INTO drafts(plan_id, thread_id, message, category, hostility, language,
                   due_at, state, planned_at)
               VALUES (:plan_id, :thread_id, :message, :category, :hostility, :language,
                       :due_at, 'planned', :now)
               ON CONFLICT(plan_id) DO UPDATE SET message = excluded.message,
                   category = excluded.category, hostility = excluded.hostility,
                   language = excluded.language, due_at = excluded.due_at,
                   planned_at = excluded.planned_at""",
            {**plan, "due_at": _iso(plan["due_at"]), "now": _iso(now)})

    def end_draft(self, plan_id: str, state: str, reason: str, now: datetime) -> None:
        """Close a plan: appended, cancelled or held (with the reason)."""
        self.db.execute("UPDATE drafts SET state = ?, reason = ?, done_at = ? "
                        "WHERE plan_id = ? AND state = 'planned'",
                        (state, clean(reason), _iso(now), plan_id))

    def mark_planned(self, rows: Sequence[int]) -> None:
        self.db.executemany("UPDATE triage SET draft_checked = 1 WHERE message = ?",
                            [(r,) for r in rows])

    def due_drafts(self, now: datetime) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(
            "SELECT * FROM drafts WHERE state = 'planned' AND due_at <= ? ORDER BY due_at, id",
            (_iso(now),))]

    def next_due(self) -> datetime | None:
        row = self.db.execute("SELECT min(due_at) FROM drafts WHERE state = 'planned'"
                              ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def drafts_of(self, row_id: int) -> list[dict[str, Any]]:
        """The drafts planned in answer to a message (export and show)."""
        return [{"state": r["state"], "category": r["category"], "due": r["due_at"],
                 "reason": r["reason"], "plan_id": r["plan_id"]}
                for r in self.db.execute(
                    "SELECT * FROM drafts WHERE message = ? ORDER BY id", (row_id,))]

    def thread_evidence(self, thread_id: str) -> list[dict[str, Any]]:
        """The evidence of every client message of a thread, best score first, each
        notice once."""
        found: dict[str, dict[str, Any]] = {}
        for row in self.db.execute(
                """SELECT m.id FROM messages m JOIN triage t ON t.message = m.id
                   WHERE coalesce(m.thread_id, m.message_id) = ?""", (thread_id,)):
            for item in self.evidence_of(int(row[0])):
                kept = found.get(item["message_id"])
                if kept is None or item["score"] > kept["score"]:
                    found[item["message_id"]] = item
        return sorted(found.values(), key=lambda e: -e["score"])

    # --- the digest and alerts (digest.py, alerts.py) ------------------------

    def client_verdicts(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The triaged client messages dated in [since, until), oldest first."""
        return [dict(r) for r in self.db.execute(
            """SELECT m.id, coalesce(m.thread_id, m.message_id) AS thread, m.message_id,
                      m.sender, m.sender_name, m.date, m.subject, m.body,
                      t.category, t.hostility, t.language
               FROM messages m JOIN triage t ON t.message = m.id
               WHERE m.kind = 'client' AND m.date >= ? AND m.date < ?
               ORDER BY m.date, m.id""", (_iso(since), _iso(until)))]

    def latest_draft(self, thread_id: str) -> dict[str, Any] | None:
        """The newest draft plan of a thread: state, due, reason."""
        row = self.db.execute(
            "SELECT state, due_at, reason, category FROM drafts WHERE thread_id = ? "
            "ORDER BY id DESC LIMIT 1", (thread_id,)).fetchone()
        return dict(row) if row else None

    def outgoing(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM outgoing WHERE kind = ? AND key = ?",
                              (kind, key)).fetchone()
        return dict(row) if row else None

    def record_outgoing(self, kind: str, key: str, state: str, detail: str,
                        now: datetime) -> None:
        """Record a digest or alert as sent (or skipped, with why): it is not sent again."""
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO outgoing(kind, key, state, detail, at) "
                "VALUES (?, ?, ?, ?, ?)", (kind, key, state, clean(detail), _iso(now)))

    def any_outgoing(self, kind: str) -> bool:
        return self.db.execute("SELECT 1 FROM outgoing WHERE kind = ? LIMIT 1",
                               (kind,)).fetchone() is not None

    def count_outgoing(self, kind: str, since: datetime, state: str = "sent") -> int:
        return int(self.db.execute(
            "SELECT count(*) FROM outgoing WHERE kind = ? AND state = ? AND at >= ?",
            (kind, state, _iso(since))).fetchone()[0])

    # --- Maildir UIDs (the UidRegistry of mailbox.MaildirMailbox) -----------

    def maildir_uids(self, folder_key: str, names: Sequence[str]) -> tuple[int, dict[str, int]]:
        with self.transaction():
            row = self.db.execute(
                "SELECT uidvalidity, next_uid FROM maildir_folders WHERE folder_key = ?",
                (folder_key,),
            ).fetchone()
            if row is None:
                uidvalidity, next_uid = _new_uidvalidity(), 1
                self.db.execute(
                    "INSERT INTO maildir_folders(folder_key, uidvalidity, next_uid) "
                    "VALUES (?, ?, 1)",
                    (folder_key, uidvalidity),
                )
            else:
                uidvalidity, next_uid = int(row["uidvalidity"]), int(row["next_uid"])
            known = {
                r["name"]: int(r["uid"])
                for r in self.db.execute(
                    "SELECT name, uid FROM maildir_uids WHERE folder_key = ?", (folder_key,)
                )
            }
            fresh = [name for name in names if name not in known]
            for name in fresh:
                known[name] = next_uid
                next_uid += 1
            self.db.executemany(
                "INSERT INTO maildir_uids(folder_key, name, uid) VALUES (?, ?, ?)",
                [(folder_key, name, known[name]) for name in fresh],
            )
            self.db.execute(
                "UPDATE maildir_folders SET next_uid = ? WHERE folder_key = ?",
                (next_uid, folder_key),
            )
        return uidvalidity, {name: known[name] for name in names}

    # --- reading ------------------------------------------------------------

    def count_messages(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM messages").fetchone()[0])

    def iter_messages(self) -> Iterator[dict[str, Any]]:
        """Every stored message as a dict, oldest first, with its first folder."""
        for row in self.db.execute(f"{_MESSAGE_SELECT} ORDER BY m.date, m.id"):  # noqa: S608
            yield self._record(row)

    def _addresses(self, row_id: int) -> dict[str, list[Address]]:
        found: dict[str, list[Address]] = {role: [] for role in ROLES}
        for r in self.db.execute(
            "SELECT role, email, name FROM addresses WHERE message = ? ORDER BY role, position",
            (row_id,),
        ):
            found[r["role"]].append(Address(name=r["name"], email=r["email"]))
        return found

    def _recipients(self, row_ids: Sequence[int]) -> dict[int, list[str]]:
        """Who each message went to: To, Cc and Bcc, in that order. One query for all
        (the evidence search asks for the recipients of dozens of notices at once)."""
        order = {"to": 0, "cc": 1, "bcc": 2}
        marks = ",".join("?" * len(row_ids))
        rows = sorted(self.db.execute(
            f"""SELECT message, role, position, email, name FROM addresses
                WHERE message IN ({marks}) AND role != 'reply_to'""",  # noqa: S608
            tuple(row_ids)), key=lambda r: (order[r["role"]], r["position"]))
        found: dict[int, list[str]] = {row_id: [] for row_id in row_ids}
        for r in rows:
            found[r["message"]].append(_display(r["name"], r["email"]))
        return found

    def integrity_check(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])


# A stored message with its first folder and its verdict (NULLs when not triaged).
_MESSAGE_SELECT = """
    SELECT m.*, (SELECT folder FROM locations l WHERE l.message = m.id
                 ORDER BY l.rowid LIMIT 1) AS folder,
           t.language, t.category, t.confidence, t.hostility, t.evidence_at,
           t.model_category, t.relabelled_from
    FROM messages m LEFT JOIN triage t ON t.message = m.id"""


class _Transaction:
    """``with store.transaction():`` BEGIN IMMEDIATE … COMMIT, ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write the state database {self.path}: {exc}") from None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if kind is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                self._rollback()
                raise StoreError(
                    f"cannot write the state database {self.path}: {error}"
                ) from None
        self._rollback()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"cannot write the state database {self.path}: {exc}") from None

    def _rollback(self) -> None:
        # SQLite has already rolled back by itself after some errors (a full disk).
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


def clean(value: str | None) -> str | None:
    """Text safe to store: lone surrogates (from undecodable headers) and NULs replaced."""
    if value is None:
        return None
    if value.isascii() and "\x00" not in value:
        return value
    fixed = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return fixed.replace("\x00", "\ufffd")


@functools.lru_cache(maxsize=4096)
def _display(name: str, email: str) -> str:
    """"Name <address>" as a header shows it; notices go to the same few addresses
    again and again, and building an Address each time was most of the search's reads."""
    return str(Address(name=name, email=email))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class Identity(NamedTuple):
    """What tells one message from another that carries the same Message-ID (some
    senders reuse one): the same message copied to two folders has the same sender,
    subject and date. The date is None where the message had none (its arrival
    stands in, and differs between copies)."""

    sender: str | None
    date: str | None
    subject: str

    def matches(self, other: Identity) -> bool:
        return (self.sender, self.subject) == (other.sender, other.subject) and (
            self.date is None or other.date is None or self.date == other.date)


def identity(message: Message) -> Identity:
    """``message``'s Identity, as it is stored."""
    return Identity(clean(message.sender.email) if message.sender else None,
                    None if message.date_flagged or message.date is None
                    else _iso(message.date), clean(message.subject) or "")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _new_uidvalidity() -> int:
    # Like Dovecot: the creation time, so a recreated record gets a new value.
    return int(datetime.now(UTC).timestamp())
