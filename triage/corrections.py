"""The provider's corrections, read from the mailbox itself.

The provider corrects a category the way they already sort mail: by dropping the
message into one of the correction folders (``Triage/Accusation`` ...), moved or
copied, or by setting one of the tool's IMAP keywords on it in the inbox. At each
sync of the inbox, ``Corrector.sync``:

- reads every message of each correction folder (but those flagged deleted),
  records its correction in the store (which re-plans its draft and searches its
  evidence again), then puts it back: a message its folder (where triage read it,
  else the inbox) no longer holds is moved back there; a copy whose original is
  still there is removed from the correction folder. The correction is committed
  before the message is touched, and recording it again is a no-op, so a crash at
  any point neither loses the message nor leaves two copies of it: the next sync
  finds it still in the correction folder, or already back;
- looks up the inbox messages that carry a correction keyword and records those.

Nothing else in the mailbox is changed: other folders are only ever read here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from triage.config import Config
from triage.errors import MailboxConnectionError, MailboxError
from triage.mailbox import Mailbox
from triage.parsing import parse_message
from triage.store import Store

log = logging.getLogger(__name__)

# How many messages of a correction folder are fetched at once.
_BATCH = 50


@dataclass(slots=True)
class CorrectionReport:
    recorded: int = 0  # corrections recorded
    moved_back: int = 0  # messages put back in the inbox
    removed: int = 0  # copies removed from a correction folder (the inbox has the original)
    left: int = 0  # messages the server would not let go (they stay in the folder)

    def add(self, other: CorrectionReport) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Corrector:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self._created = False  # the folders were created (or looked for) in this run
        self._said: set[str] = set()  # things already logged once
        # (folder, UIDVALIDITY, UID) of messages that could not be put back: not read
        # again in this run (a restart tries them once more).
        self._left: set[tuple[str, int, int]] = set()

    def sync(self, mailbox: Mailbox, now: datetime) -> CorrectionReport:
        report = CorrectionReport()
        settings = self.config.corrections
        if not settings.enabled:
            return report
        if settings.create_folders and not self._created:
            self._create(mailbox)
        for category, configured in settings.folders:
            self._read_folder(mailbox, mailbox.folder_name(configured), category, now, report)
        self._read_keywords(mailbox, now, report)
        return report

    def _create(self, mailbox: Mailbox) -> None:
        for _category, configured in self.config.corrections.folders:
            folder = mailbox.folder_name(configured)
            try:
                if mailbox.create_folder(folder):
                    log.info("created the correction folder %r", folder)
            except MailboxConnectionError:
                raise
            except MailboxError as exc:
                log.warning("cannot create the correction folder %r (%s); create it in your "
                            "mail client or set [corrections] folders", folder, exc)
        self._created = True

    def _read_folder(self, mailbox: Mailbox, folder: str, category: str, now: datetime,
                     report: CorrectionReport) -> None:
        try:
            # Every message in it, not those past a checkpoint: the folder is emptied
            # as it is read, and a Maildir gives a file dropped there again its old UID.
            uidvalidity = mailbox.status(folder).uidvalidity
            uids = [u for u in mailbox.undeleted(folder)
                    if (folder, uidvalidity, u) not in self._left]
        except MailboxConnectionError:
            raise
        except MailboxError:
            # Said at debug level: most providers never make the folders.
            self._once(f"missing {folder}", logging.DEBUG,
                       "no correction folder %r: corrections to %s only by keyword (set "
                       "[corrections] create_folders = true to have it made)", folder, category)
            return
        for start in range(0, len(uids), _BATCH):
            # Read whole before anything is put back: that opens other folders.
            for fetched in list(mailbox.fetch(folder, uids[start:start + _BATCH])):
                message = self.store.own_ids([parse_message(fetched.raw, fetched.arrival)])[0]
                if message.unreadable:
                    log.warning("%s UID %d cannot be read (%s): no correction recorded",
                                folder, fetched.uid, message.unreadable)
                else:
                    with self.store.transaction():
                        recorded = self.store.record_correction(
                            message.message_id, category, f"folder:{folder}", now)
                    if recorded:
                        report.recorded += 1
                        log.info("%s UID %d: corrected to %s", folder, fetched.uid, category)
                if not self._put_back(mailbox, folder, fetched.uid,
                                      self._home(message.message_id),
                                      None if message.synthetic_id else message.message_id,
                                      report):
                    self._left.add((folder, uidvalidity, fetched.uid))

    def _home(self, message_id: str) -> str:
        """Where a message goes back to: the folder triage read it from (a message of
        Sent dropped by mistake goes back to Sent), else the inbox."""
        read = self.config.folders.all_read
        known = [f for f in self.store.folders_of(message_id) if f in read]
        return known[0] if known else self.config.folders.inbox

    def _put_back(self, mailbox: Mailbox, folder: str, uid: int, home: str,
                  message_id: str | None, report: CorrectionReport) -> bool:
        """Leave exactly one copy in ``home``: remove a copy whose original is still
        there, move back one that was moved. False when it stays in ``folder``."""
        try:
            if message_id is not None and mailbox.holds(home, message_id):
                done = mailbox.discard(folder, uid)
                report.removed += done
            else:
                done = mailbox.move_back(folder, uid, home)
                report.moved_back += 1
        except MailboxConnectionError:
            raise
        except MailboxError as exc:
            # Left where it is; the checkpoint moves on, so it is not read again.
            log.warning("%s UID %d stays in the correction folder: %s", folder, uid, exc)
            report.left += 1
            return False
        if not done:
            report.left += 1
            self._once(f"server {folder}", logging.WARNING,
                       "the server cannot remove one message alone (no MOVE or UIDPLUS): "
                       "corrected messages stay in %r as copies; empty it by hand", folder)
        return done

    def _read_keywords(self, mailbox: Mailbox, now: datetime,
                       report: CorrectionReport) -> None:
        inbox = self.config.folders.inbox
        by_keyword = dict((k, c) for c, k in self.config.corrections.keywords)
        found = mailbox.keyword_uids(inbox, list(by_keyword))
        categories: dict[int, set[str]] = {}
        for keyword, uids in found.items():
            for uid in uids:
                categories.setdefault(uid, set()).add(keyword)
        if not categories:
            return
        uidvalidity = mailbox.status(inbox).uidvalidity
        message_ids = self.store.message_ids_at(inbox, uidvalidity, sorted(categories))
        with self.store.transaction():
            for uid, keywords in sorted(categories.items()):
                if uid not in message_ids:
                    continue  # not read yet: the next sync records it
                if len(keywords) > 1:
                    self._once(f"keywords {uid}", logging.WARNING,
                               "%s UID %d carries more than one correction keyword (%s): "
                               "ignored until one is left", inbox, uid,
                               ", ".join(sorted(keywords)))
                    continue
                keyword = keywords.pop()
                if self.store.record_correction(message_ids[uid], by_keyword[keyword],
                                                f"keyword:{keyword}", now):
                    report.recorded += 1
                    log.info("%s UID %d: corrected to %s (keyword %s)", inbox, uid,
                             by_keyword[keyword], keyword)

    def _once(self, key: str, level: int, text: str, *args: object) -> None:
        if key not in self._said:
            self._said.add(key)
            log.log(level, text, *args)

