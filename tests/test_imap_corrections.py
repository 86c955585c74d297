"""Corrections against a real Dovecot on loopback: the provider moves or copies a
message into a correction folder, or sets a keyword on it, in their own IMAP client;
the service records the correction, re-plans the draft, and leaves exactly one copy
of the message in the inbox, also when it is stopped half-way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Verdicts, mail
from dovecot import PASSWORD, Dovecot
from imapclient import IMAPClient
from imapdesk import imap_config

from triage.config import Config, load_config
from triage.corrections import Corrector
from triage.daemon import Service
from triage.drafting import Drafter
from triage.errors import MailboxConnectionError
from triage.evidence import EvidenceFinder
from triage.mailbox import ImapMailbox
from triage.store import Store

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
COMPLAINT_ID = "<c1@tienda.example>"
COMPLAINT = mail(COMPLAINT_ID, NOW - timedelta(hours=1), "Rosa Vidal <rosa@tienda.example>",
                 "ana@agency.example", "Pedido 1", "Nadie nos avisó del corte de anoche.")
FOLDERS = ("Triage/Accusation", "Triage/Payment excuse", "Triage/Scope creep",
           "Triage/Genuine fault", "Triage/Other")


class Desk:
    """The service against the test's Dovecot, run once at a time with a fixed verdict."""

    def __init__(self, tmp_path: Path, dovecot: Dovecot, extra: str = "") -> None:
        path = imap_config(tmp_path, dovecot)
        path.write_text(path.read_text() + "\n[corrections]\ncreate_folders = true\n" + extra)
        self.config: Config = load_config(path)
        self.dovecot = dovecot
        self.verdicts = Verdicts()
        self.verdicts.by_id[COMPLAINT_ID] = ("accusation", 1, "es")

    def run(self, minutes: int = 0, mailbox: type[ImapMailbox] = ImapMailbox) -> Service:
        config = self.config
        with Store(config.store.path) as store:
            service = Service(
                config, store, self.verdicts,
                lambda: mailbox(config.mailbox, PASSWORD, timeout=10),
                evidence=EvidenceFinder(), drafter=Drafter(config, store),
                clock=lambda: NOW + timedelta(minutes=minutes),
                corrector=Corrector(config, store))
            service.run_once()
            return service

    def corrections(self) -> list[dict[str, object]]:
        with Store(self.config.store.path) as store:
            return store.corrections()

    def plans(self) -> list[tuple[object, object]]:
        with Store(self.config.store.path) as store:
            return [(r[0], r[1]) for r in store.db.execute(
                "SELECT state, category FROM drafts ORDER BY id")]


@pytest.fixture
def desk(tmp_path: Path, dovecot: Dovecot, password: str) -> Desk:
    dovecot.append("INBOX", [COMPLAINT])
    desk = Desk(tmp_path, dovecot)
    desk.run()
    return desk


@pytest.fixture
def client(dovecot: Dovecot) -> Iterator[IMAPClient]:
    """The provider's own mail client."""
    client = dovecot.client()
    try:
        yield client
    finally:
        client.logout()


def copies(client: IMAPClient, folder: str, message_id: str = COMPLAINT_ID) -> list[int]:
    client.select_folder(folder, readonly=True)
    return list(client.search(["HEADER", "MESSAGE-ID", message_id]))


def everything(client: IMAPClient, folder: str) -> list[int]:
    client.select_folder(folder, readonly=True)
    return list(client.search(["ALL"]))


def test_the_folders_are_created_and_subscribed_on_the_first_run(
        desk: Desk, client: IMAPClient) -> None:
    listed = {name for _flags, _sep, name in client.list_folders()}
    subscribed = {name for _flags, _sep, name in client.list_sub_folders()}
    assert set(FOLDERS) <= listed
    assert set(FOLDERS) <= subscribed


def test_a_moved_message_is_corrected_and_moved_back_once_unread(
        desk: Desk, client: IMAPClient) -> None:
    assert desk.plans() == [("planned", "accusation")]
    client.select_folder("INBOX")
    client.move(client.search(["ALL"]), "Triage/Payment excuse")
    assert copies(client, "INBOX") == []

    desk.run(minutes=5)

    assert len(copies(client, "INBOX")) == 1
    assert everything(client, "Triage/Payment excuse") == []
    [fixed] = desk.corrections()
    assert (fixed["old_label"], fixed["new_label"]) == ("accusation", "payment_excuse")
    assert desk.plans() == [("cancelled", "accusation"), ("planned", "payment_excuse")]
    # Put back as it was: still unread.
    assert all(b"\\Seen" not in f for f in desk.dovecot.flags("INBOX").values())


def test_a_copied_message_leaves_one_copy_in_the_inbox(
        desk: Desk, client: IMAPClient) -> None:
    client.select_folder("INBOX")
    client.copy(client.search(["ALL"]), "Triage/Other")

    desk.run(minutes=5)

    assert len(copies(client, "INBOX")) == 1
    assert everything(client, "Triage/Other") == []
    assert desk.plans() == [("cancelled", "accusation")]


def test_a_keyword_set_in_the_mail_client_corrects_the_message_once(
        desk: Desk, client: IMAPClient) -> None:
    client.select_folder("INBOX")
    [uid] = client.search(["ALL"])
    client.add_flags([uid], [b"triage_scope_creep"])

    desk.run(minutes=5)
    desk.run(minutes=10)

    assert [(c["new_label"], c["source"]) for c in desk.corrections()] == [
        ("scope_creep", "keyword:triage_scope_creep")]
    assert desk.plans() == [("cancelled", "accusation"), ("planned", "scope_creep")]
    # The keyword is the provider's: left on the message.
    assert b"triage_scope_creep" in desk.dovecot.flags("INBOX")[uid]


class CopyOnly(ImapMailbox):
    """A server without MOVE: COPY, then UID EXPUNGE of that one message (UIDPLUS)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.capabilities.discard(b"MOVE")


def test_without_move_only_the_corrected_message_is_expunged(
        desk: Desk, client: IMAPClient) -> None:
    # Something the provider is deleting from the folder: neither a correction nor
    # expunged by triage.
    other = mail("<mine@agency.example>", NOW, "ana@agency.example", "ana@agency.example",
                 "A note", "Keep me.")
    client.append("Triage/Other", other, flags=[b"\\Deleted"])
    client.select_folder("INBOX")
    client.move(client.search(["ALL"]), "Triage/Other")

    desk.run(minutes=5, mailbox=CopyOnly)

    assert len(copies(client, "INBOX")) == 1
    assert copies(client, "Triage/Other") == []
    assert len(copies(client, "Triage/Other", "<mine@agency.example>")) == 1
    assert copies(client, "INBOX", "<mine@agency.example>") == []
    assert [c["message_id"] for c in desk.corrections()] == [COMPLAINT_ID]


class DiesBeforeMoving(ImapMailbox):
    """The connection drops after the correction is recorded, before the message is
    put back (a crash, a server restart)."""

    def move_back(self, folder: str, uid: int, to: str) -> bool:
        raise MailboxConnectionError("connection lost (test)")


class DiesAfterCopying(CopyOnly):
    """Without MOVE: the copy reached the inbox, then the connection dropped before
    the original left the correction folder."""

    def _expunge_one(self, uid: int) -> bool:
        raise MailboxConnectionError("connection lost (test)")


@pytest.mark.parametrize("dying", [DiesBeforeMoving, DiesAfterCopying])
def test_a_run_stopped_half_way_neither_loses_nor_doubles_the_message(
        desk: Desk, client: IMAPClient, dying: type[ImapMailbox]) -> None:
    client.select_folder("INBOX")
    client.move(client.search(["ALL"]), "Triage/Genuine fault")

    with pytest.raises(MailboxConnectionError):
        desk.run(minutes=5, mailbox=dying)
    # The message is somewhere, once or twice, never nowhere.
    assert copies(client, "INBOX") + copies(client, "Triage/Genuine fault")

    desk.run(minutes=10)

    assert len(copies(client, "INBOX")) == 1
    assert everything(client, "Triage/Genuine fault") == []
    assert [c["new_label"] for c in desk.corrections()] == ["genuine_fault"]
