"""Reading new mail from the mailbox into the store, folder by folder.

For each folder: compare the mailbox's UIDVALIDITY with the stored checkpoint
(a change means reading the folder again from the start; messages already known
by Message-ID are not stored twice, and a different message under a known
Message-ID gets an id of its own: Store.own_ids), list the UIDs past the
checkpoint, fetch them in batches, parse each, and store each batch together with
the new checkpoint. A message that cannot be parsed is stored as unreadable with the
reason, so it is listed and never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Protocol

from triage.config import Config
from triage.errors import MailboxConnectionError, MailboxError, MissingFolderError
from triage.mailbox import FetchedMessage, Mailbox
from triage.message import Classification, Kind, Message
from triage.parsing import parse_message
from triage.store import Fetched, Store
from triage.threads import thread_keys
from triage.workers import Splitter, share

log = logging.getLogger(__name__)
# The one line per triaged message has its own logger, so that a bulk import with
# a progress bar can leave it out.
triaged_log = logging.getLogger("triage.triaged")

BATCH_SIZE = 200

Progress = Callable[[int], None]


class Classifier(Protocol):
    """What ingest needs of the classifier: a verdict per client message."""

    def classifications(self, messages: Sequence[Message]) -> list[Classification]: ...


class EvidenceSearch(Protocol):
    """Finds the notices that answer each triaged complaint (evidence.EvidenceFinder)."""

    def update(self, store: Store, stop: Callable[[], bool] | None = None,
               helper: Splitter | None = None) -> int: ...


@dataclass(slots=True)
class FolderReport:
    folder: str
    seen: int = 0
    added: int = 0
    triaged: int = 0
    unreadable: int = 0
    missing: bool = False


@dataclass(slots=True)
class IngestReport:
    folders: list[FolderReport] = field(default_factory=list)
    searched: int = 0  # complaints whose evidence was searched

    @property
    def added(self) -> int:
        return sum(f.added for f in self.folders)

    @property
    def triaged(self) -> int:
        return sum(f.triaged for f in self.folders)

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
    classifier: Classifier | None = None, stop: Callable[[], bool] | None = None,
    helper: Splitter | None = None,
) -> FolderReport:
    """Fetch, parse, classify and store ``uids`` of ``folder`` in batches; each batch,
    its verdicts and the folder's checkpoint are committed together. With a
    ``helper``, another process parses and classifies part of each batch."""
    report = FolderReport(folder=folder)
    for batch in _batches(uids, BATCH_SIZE):
        if stop is not None and stop():
            break
        fetched = [(folder, f) for f in mailbox.fetch(folder, batch)]
        items = share(helper, "read", fetched, partial(read_fetched, config))
        for item in items:
            if item.kind is Kind.UNREADABLE:
                report.unreadable += 1
                log.warning("%s UID %d is unreadable: %s", folder, item.uid,
                            item.message.unreadable)
        items = [replace(item, message=message, thread=thread_keys(message, config.provider.owns))
                 if message is not item.message else item
                 for item, message in zip(items, store.own_ids([i.message for i in items]),
                                          strict=True)]
        new = _new_items(store, items)
        if classifier is not None:
            clients = [i for i, item in enumerate(items)
                       if new[i] and item.kind is Kind.CLIENT]
            verdicts = _classify(classifier, [items[i] for i in clients], helper)
            for i, verdict in zip(clients, verdicts, strict=True):
                if isinstance(verdict, str):
                    report.unreadable += 1
                    log.warning("%s UID %d cannot be classified: %s", folder, items[i].uid,
                                verdict)
                    items[i] = replace(items[i], kind=Kind.UNREADABLE, message=replace(
                        items[i].message, unreadable=f"cannot be classified: {verdict}"))
                else:
                    items[i] = replace(items[i], classification=verdict)
        report.added += store.save_batch(folder, uidvalidity, items, last_uid=max(batch))
        for item, is_new in zip(items, new, strict=True):
            if is_new and item.classification is not None:
                report.triaged += 1
                _log_triaged(folder, item)
        report.seen += len(batch)
        if progress:
            progress(len(batch))
    return report


def read_fetched(config: Config, fetched: Sequence[tuple[str, FetchedMessage]]) -> list[Fetched]:
    """Each (folder, fetched message) parsed, with who it is from and its thread keys."""
    return [Fetched(uid=f.uid, message=m, kind=kind_of(m, folder, config),
                    thread=thread_keys(m, config.provider.owns))
            for folder, f in fetched
            # Its whole size, not only what was read of it.
            for m in [replace(parse_message(f.raw, f.arrival), size=f.size)]]


def _classify(classifier: Classifier, items: Sequence[Fetched],
              helper: Splitter | None = None) -> list[Classification | str]:
    """A verdict per item, or the reason it has none: a message that breaks the
    classifier is recorded with the reason, and the rest of its batch is classified."""
    messages = [item.message for item in items]
    try:
        return share(helper, "classify", messages, classifier.classifications)
    except Exception:  # noqa: BLE001, S110 - one at a time below finds the message
        pass
    verdicts: list[Classification | str] = []
    for item in items:
        try:
            verdicts.extend(classifier.classifications([item.message]))
        except Exception as exc:  # noqa: BLE001 - one message must not stop the service
            verdicts.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
    return verdicts


def _new_items(store: Store, items: Sequence[Fetched]) -> list[bool]:
    """For each item, whether its message is not stored yet (nor earlier in the batch)."""
    known = store.known_message_ids([item.message.message_id for item in items])
    flags = []
    for item in items:
        message_id = item.message.message_id
        flags.append(message_id not in known)
        known.add(message_id)
    return flags


def _log_triaged(folder: str, item: Fetched) -> None:
    verdict = item.classification
    assert verdict is not None
    sender = item.message.sender.email if item.message.sender else "(no sender)"
    # One line per message, never its text: who, what, how hostile.
    triaged_log.info("%s UID %d from %s: %s, hostility %d, confidence %.2f, %s",
             folder, item.uid, sender, verdict.category, verdict.hostility,
             verdict.confidence, verdict.language,
             extra={"triage": {"folder": folder, "uid": item.uid, "sender": sender,
                               "message_id": item.message.message_id,
                               "category": verdict.category, "hostility": verdict.hostility,
                               "confidence": verdict.confidence,
                               "language": verdict.language}})


MissingFolder = Callable[[str, MailboxError], None]


def warn_missing(folder: str, exc: MailboxError) -> None:
    log.warning("%s; skipping it", exc)


def folder_error(config: Config, folder: str, exc: MailboxError) -> MailboxError:
    """The error to raise or report for a folder that cannot be opened: when it
    does not exist, one that names the [folders] key to fix."""
    if isinstance(exc, MissingFolderError):
        return MissingFolderError(f"{exc}; check [folders] {config.folders.key_of(folder)} "
                                  f"in {config.source}")
    return exc


def ingest(
    mailbox: Mailbox, store: Store, config: Config,
    progress_factory: Callable[[str, int], Progress] | None = None,
    classifier: Classifier | None = None,
    folders: Sequence[str] | None = None,
    on_missing: MissingFolder = warn_missing,
    stop: Callable[[], bool] | None = None,
    evidence: EvidenceSearch | None = None,
    helper: Splitter | None = None,
) -> IngestReport:
    """Read ``folders`` (default: every configured folder). A missing notice folder
    is reported to ``on_missing`` and skipped; a missing inbox or Sent folder is an
    error (without Sent, the provider's own replies, which cancel a draft, and its
    notices there would go unseen). Then search the evidence of every complaint that
    is due: after all the folders, because on a first sync the inbox is read before
    the Sent folder that answers it."""
    report = IngestReport()
    for folder in folders if folders is not None else config.folders.all_read:
        if stop is not None and stop():
            break
        try:
            uidvalidity, uids = pending(mailbox, store, folder)
        except MailboxError as exc:
            if isinstance(exc, MailboxConnectionError):
                raise
            if folder in (config.folders.inbox, config.folders.sent):
                raise folder_error(config, folder, exc) from None
            on_missing(folder, folder_error(config, folder, exc))
            report.folders.append(FolderReport(folder=folder, missing=True))
            continue
        progress = progress_factory(folder, len(uids)) if progress_factory else None
        report.folders.append(ingest_folder(
            mailbox, store, config, folder, uidvalidity, uids, progress, classifier, stop,
            helper))
    if evidence is not None and not (stop is not None and stop()):
        report.searched = evidence.update(store, stop, helper)
    return report


def _batches(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
