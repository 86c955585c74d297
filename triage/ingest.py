"""Reading new mail from the mailbox into the store, folder by folder.

For each folder: compare the mailbox's UIDVALIDITY with the stored checkpoint
(a change means reading the folder again from the start; messages already known
by Message-ID are not stored twice), list the UIDs past the checkpoint, fetch
them in batches, parse each, and store each batch together with the new
checkpoint. A message that cannot be parsed is stored as unreadable with the
reason, so it is listed and never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from triage.config import Config
from triage.errors import MailboxError
from triage.mailbox import Mailbox
from triage.message import Kind, Message
from triage.parsing import parse_message
from triage.store import Fetched, Store

log = logging.getLogger(__name__)

BATCH_SIZE = 200

Progress = Callable[[int], None]


@dataclass(slots=True)
class FolderReport:
    folder: str
    seen: int = 0
    added: int = 0
    unreadable: int = 0
    missing: bool = False


@dataclass(slots=True)
class IngestReport:
    folders: list[FolderReport] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.folders)

    @property
    def unreadable(self) -> int:
        return sum(f.unreadable for f in self.folders)


def kind_of(message: Message, folder: str, config: Config) -> Kind:
    """Who a message is from: the provider's own folders and addresses come first,
    then automated mail; everything else is a client's."""
    if message.unreadable:
        return Kind.UNREADABLE
    if folder in config.folders.provider_folders:
        return Kind.PROVIDER
    if message.sender and config.provider.owns(message.sender.email):
        return Kind.PROVIDER
    if message.automated:
        return Kind.AUTOMATED
    return Kind.CLIENT


def pending(mailbox: Mailbox, store: Store, folder: str) -> tuple[int, list[int]]:
    """The folder's UIDVALIDITY and the UIDs not yet stored."""
    status = mailbox.status(folder)
    checkpoint = store.checkpoint(folder)
    if checkpoint is None or checkpoint.uidvalidity != status.uidvalidity:
        if checkpoint is not None:
            log.warning(
                "%s: UIDVALIDITY changed (%d → %d): reading the folder again",
                folder, checkpoint.uidvalidity, status.uidvalidity,
            )
        store.reset_folder(folder, status.uidvalidity)
        last_uid = 0
    else:
        last_uid = checkpoint.last_uid
    return status.uidvalidity, mailbox.uids_after(folder, last_uid)


def ingest_folder(
    mailbox: Mailbox, store: Store, config: Config, folder: str, uidvalidity: int,
    uids: Sequence[int], progress: Progress | None = None,
) -> FolderReport:
    """Fetch, parse and store ``uids`` of ``folder`` in checkpointed batches."""
    report = FolderReport(folder=folder)
    for batch in _batches(uids, BATCH_SIZE):
        items = [
            Fetched(uid=f.uid, message=m, kind=kind_of(m, folder, config))
            for f in mailbox.fetch(folder, batch)
            for m in [parse_message(f.raw, f.arrival)]
        ]
        for item in items:
            if item.kind is Kind.UNREADABLE:
                report.unreadable += 1
                log.warning("%s UID %d is unreadable: %s", folder, item.uid,
                            item.message.unreadable)
        report.added += store.save_batch(folder, uidvalidity, items, last_uid=max(batch))
        report.seen += len(batch)
        if progress:
            progress(len(batch))
    return report


def ingest(
    mailbox: Mailbox, store: Store, config: Config,
    progress_factory: Callable[[str, int], Progress] | None = None,
) -> IngestReport:
    """Read every configured folder. A missing notice or Sent folder is reported
    and skipped; a missing inbox is an error."""
    report = IngestReport()
    for folder in config.folders.all_read:
        try:
            uidvalidity, uids = pending(mailbox, store, folder)
        except MailboxError as exc:
            if folder == config.folders.inbox:
                raise
            log.warning("%s; skipping it", exc)
            report.folders.append(FolderReport(folder=folder, missing=True))
            continue
        progress = progress_factory(folder, len(uids)) if progress_factory else None
        report.folders.append(
            ingest_folder(mailbox, store, config, folder, uidvalidity, uids, progress)
        )
    return report


def _batches(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
