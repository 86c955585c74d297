"""The Maildir mailbox: stable UIDs, reads that change nothing, drafts appended."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import deliver

from triage.errors import MailboxError
from triage.mailbox import MaildirMailbox
from triage.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_folders_are_listed_with_inbox_first(maildir: Path, store: Store) -> None:
    (maildir / ".Triage.Accusation" / "cur").mkdir(parents=True)
    for sub in ("new", "tmp"):
        (maildir / ".Triage.Accusation" / sub).mkdir()
    box = MaildirMailbox(maildir, store)
    assert box.list_folders() == ["INBOX", "Billing", "Drafts", "Sent", "Triage/Accusation"]


def test_uids_are_stable_and_new_mail_gets_higher_ones(maildir: Path, store: Store) -> None:
    deliver(maildir, "INBOX", "1000.a.host", b"Subject: a\n\na")
    deliver(maildir, "INBOX", "1001.b.host", b"Subject: b\n\nb", sub="cur")
    box = MaildirMailbox(maildir, store)
    validity = box.status("INBOX").uidvalidity
    assert box.uids_after("INBOX", 0) == [1, 2]
    deliver(maildir, "INBOX", "0999.c.host", b"Subject: c\n\nc")
    again = MaildirMailbox(maildir, store)
    assert again.status("INBOX").uidvalidity == validity
    assert again.uids_after("INBOX", 2) == [3]
    assert [f.raw for f in again.fetch("INBOX", [3])] == [b"Subject: c\n\nc"]


def test_reading_changes_nothing_in_the_maildir(maildir: Path, store: Store) -> None:
    deliver(maildir, "INBOX", "1000.a.host", b"Subject: unread\n\nstill unread")
    before = snapshot(maildir)
    box = MaildirMailbox(maildir, store)
    list(box.fetch("INBOX", box.uids_after("INBOX", 0)))
    assert snapshot(maildir) == before
    assert (maildir / "new" / "1000.a.host").exists()


def test_a_file_moved_away_meanwhile_is_skipped(maildir: Path, store: Store) -> None:
    path = deliver(maildir, "INBOX", "1000.a.host", b"Subject: a\n\na")
    deliver(maildir, "INBOX", "1001.b.host", b"Subject: b\n\nb")
    box = MaildirMailbox(maildir, store)
    uids = box.uids_after("INBOX", 0)
    path.rename(maildir / "cur" / "1000.a.host:2,S")
    assert [f.uid for f in box.fetch("INBOX", uids)] == [2]
    # The next listing finds it under its new name, with the same UID.
    assert box.uids_after("INBOX", 0) == [1, 2]


def test_the_arrival_time_is_the_file_time(maildir: Path, store: Store) -> None:
    path = deliver(maildir, "INBOX", "1000.a.host", b"Subject: a\n\na")
    os.utime(path, (1_790_000_000, 1_790_000_000))
    box = MaildirMailbox(maildir, store)
    (fetched,) = box.fetch("INBOX", box.uids_after("INBOX", 0))
    assert fetched.arrival == datetime.fromtimestamp(1_790_000_000, UTC)


def test_missing_folder_and_non_maildir(maildir: Path, store: Store, tmp_path: Path) -> None:
    box = MaildirMailbox(maildir, store)
    with pytest.raises(MailboxError, match="folder 'Archive' does not exist"):
        box.status("Archive")
    with pytest.raises(MailboxError, match="is not a Maildir"):
        MaildirMailbox(tmp_path / "nothing", store)


def test_a_draft_is_appended_with_the_draft_flag(maildir: Path, store: Store) -> None:
    box = MaildirMailbox(maildir, store)
    box.append_draft("Drafts", b"Subject: Re: x\n\nreply", datetime(2026, 11, 3, tzinfo=UTC))
    (draft,) = list((maildir / ".Drafts" / "cur").iterdir())
    assert draft.name.endswith(":2,DS")
    assert draft.read_bytes() == b"Subject: Re: x\n\nreply"


def test_a_missing_drafts_folder_is_created(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "M"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    box = MaildirMailbox(root, store)
    box.append_draft("Drafts", b"Subject: d\n\nd", datetime(2026, 11, 3, tzinfo=UTC))
    assert (root / ".Drafts" / "maildirfolder").exists()
    assert "Drafts" in box.list_folders()
