"""The background service: ``triage run``.

It connects, reads every folder once, then waits for new mail (IMAP IDLE where
the server has it, polling where not), reading the inbox whenever something
arrives and Sent and the notice folders on a slower cycle. Every new client
message is classified as soon as it is read and stored with its verdict in the
same transaction as the folder's checkpoint.

A dropped connection or a restarted server is an outage: one line is logged
when it starts and one when it ends, and in between the service reconnects with
capped exponential backoff and jitter, then catches up from its checkpoints. A
refused login is not retried: the service stops with an error, because a wrong
password stays wrong.

``stop`` (set by SIGTERM/SIGINT) is looked at between batches and every second
while waiting, so the service ends within a few seconds; a batch being stored
is either committed whole or rolled back.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from triage.config import Config
from triage.corrections import CorrectionReport, Corrector
from triage.drafting import Drafter, DraftReport
from triage.errors import MailboxConnectionError, MailboxError
from triage.ingest import Classifier, EvidenceSearch, IngestReport, ingest, warn_missing
from triage.mailbox import Mailbox
from triage.reports import Reporter, ReportSummary
from triage.store import Store
from triage.workers import Splitter

log = logging.getLogger(__name__)


class Retrainer(Protocol):
    """Retrains the model on the provider's corrections at a quiet hour (cli.py)."""

    def next_run(self, now: datetime) -> datetime | None:
        """When to retrain next; None when there is nothing new to learn."""
        ...

    def run(self, now: datetime) -> tuple[Classifier, Splitter | None] | None:
        """Retrain; the new classifier (and a helper process that has it) when a new
        model is now in use, None when the old one stays."""
        ...


class Backoff:
    """Capped exponential delays with jitter: 1, 2, 4 ... up to ``cap`` seconds,
    each drawn between half and all of that, so many clients do not retry in step."""

    def __init__(self, first: float = 1.0, cap: float = 300.0,
                 rng: random.Random | None = None) -> None:
        self.first = first
        self.cap = cap
        self.attempt = 0
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.first * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


@dataclass(slots=True)
class RunReport:
    """What one ``run`` did, for the summary line of ``--once``."""

    added: int = 0
    triaged: int = 0
    unreadable: int = 0
    outages: int = 0
    searched: int = 0
    drafts: DraftReport = field(default_factory=DraftReport)
    reports: ReportSummary = field(default_factory=ReportSummary)
    corrections: CorrectionReport = field(default_factory=CorrectionReport)

    def count(self, report: IngestReport) -> None:
        self.added += report.added
        self.triaged += report.triaged
        self.unreadable += report.unreadable
        self.searched += report.searched


class Service:
    def __init__(self, config: Config, store: Store, classifier: Classifier,
                 connect: Callable[[], Mailbox], stop: threading.Event | None = None,
                 backoff: Backoff | None = None, evidence: EvidenceSearch | None = None,
                 drafter: Drafter | None = None, clock: Callable[[], datetime] | None = None,
                 dry_run: bool = False, preview: bool = False,
                 reporter: Reporter | None = None, helper: Splitter | None = None,
                 corrector: Corrector | None = None,
                 retrainer: Retrainer | None = None) -> None:
        self.config = config
        self.corrector = corrector  # the provider's corrections, from folders and keywords
        self.retrainer = retrainer
        self.helper = helper  # another process for part of each large batch
        self.drafter = drafter
        self.reporter = reporter  # the weekly digest and alerts, sent over SMTP
        self.clock = clock or (lambda: datetime.now(UTC))
        self.dry_run = dry_run
        self.preview = preview  # --now: say what would be due, change nothing
        self.store = store
        self.classifier = classifier
        self.evidence = evidence
        self.connect = connect
        self.stop = stop or threading.Event()
        self.backoff = backoff or Backoff()
        self.report = RunReport()
        self._missing_warned: set[str] = set()
        self._outage_since: float | None = None

    # --- the two ways to run ---------------------------------------------------

    def run_once(self) -> RunReport:
        """Read every folder once and return; connection errors are raised."""
        mailbox = self.connect()
        try:
            self.sync(mailbox, self.config.folders.all_read)
        finally:
            mailbox.close()
        return self.report

    def run_forever(self) -> RunReport:
        """Serve until ``stop`` is set; outages are waited out, a refused login is raised."""
        while not self.stop.is_set():
            try:
                mailbox = self.connect()
            except MailboxConnectionError as exc:
                self._outage(exc)
                continue
            try:
                self._back_online(mailbox)
                self._serve(mailbox)
            except MailboxConnectionError as exc:
                self._outage(exc)
            finally:
                mailbox.close()
        log.info("stopped")
        return self.report

    # --- the work ------------------------------------------------------------------

    def sync(self, mailbox: Mailbox, folders: tuple[str, ...]) -> IngestReport:
        """Read ``folders``, then bring the draft plans up to date and append the
        drafts that are due."""
        report = ingest(mailbox, self.store, self.config, classifier=self.classifier,
                        folders=folders, on_missing=self._missing, stop=self.stop.is_set,
                        evidence=self.evidence, helper=self.helper)
        self.report.count(report)
        if self.config.folders.inbox in folders and not self.stop.is_set():
            self.correct(mailbox)
        if not self.stop.is_set():
            self.draft(mailbox, sent_read=self.config.folders.sent in folders)
        if not self.stop.is_set():
            self.send_reports()
        return report

    def correct(self, mailbox: Mailbox) -> None:
        """Record the provider's corrections, and search the corrected messages'
        evidence again before their drafts are planned. Not under --dry-run or --now:
        putting a message back changes the mailbox."""
        if self.corrector is None or self.dry_run or self.preview:
            return
        report = self.corrector.sync(mailbox, self.clock())
        self.report.corrections.add(report)
        if report.recorded and self.evidence is not None:
            self.report.searched += self.evidence.update(self.store, self.stop.is_set,
                                                         self.helper)

    def retrain_if_due(self) -> None:
        """At the quiet hour, when there are new corrections: retrain, and use the new
        model from the next message on if it was kept."""
        if self.retrainer is None or self.dry_run or self.preview:
            return
        now = self.clock()
        due = self.retrainer.next_run(now)
        if due is None or due > now:
            return
        replaced = self.retrainer.run(now)
        if replaced is not None:
            self.classifier, self.helper = replaced

    def send_reports(self) -> None:
        """The digest when a period has ended, alerts for what just arrived. Never
        under --dry-run or --now: both promise that nothing leaves the machine."""
        if self.reporter is None or self.dry_run or self.preview:
            return
        self.report.reports.add(self.reporter.run(self.clock()))

    def draft(self, mailbox: Mailbox, sent_read: bool = True) -> None:
        if self.drafter is None:
            return
        now = self.clock()
        if self.preview:
            self.report.drafts.add(self.drafter.preview(now))
            return
        self.report.drafts.add(self.drafter.plan(now))
        if not sent_read and self.store.due_drafts(now):
            # A reply the provider sent since Sent was last read cancels a draft:
            # read Sent (and the notice folders) before appending anything.
            folders = self.config.folders.provider_folders
            self.report.count(ingest(mailbox, self.store, self.config, folders=folders,
                                     on_missing=self._missing, stop=self.stop.is_set))
            self.report.drafts.add(self.drafter.plan(now))
        self.report.drafts.add(self.drafter.append_due(mailbox, now, dry_run=self.dry_run))

    def _until_next_due(self) -> float:
        """Seconds until the next planned draft or digest is due (a day when none is)."""
        if self.dry_run or self.preview:
            return 86400.0
        now = self.clock()
        dues = [self.store.next_due() if self.drafter is not None else None,
                self.reporter.next_wake(now) if self.reporter is not None else None,
                self.retrainer.next_run(now) if self.retrainer is not None else None]
        due = min((d for d in dues if d is not None), default=None)
        if due is None:
            return 86400.0
        left = (due - now).total_seconds()
        # Overdue: a draft the server refused; the next sync tries it again, no sooner
        # than a minute (each inbox sync tries anyway).
        return max(60.0 if left <= 0 else 1.0, left)

    def _serve(self, mailbox: Mailbox) -> None:
        folders = self.config.folders
        service = self.config.service
        notices = tuple(f for f in folders.all_read if f != folders.inbox)
        # Catch up on everything first: also what arrived during an outage.
        self.sync(mailbox, folders.all_read)
        notices_due = time.monotonic() + service.notices_seconds
        use_idle = service.idle and mailbox.can_idle
        wait_for = service.idle_seconds if use_idle else service.poll_seconds
        while not self.stop.is_set():
            now = time.monotonic()
            mailbox.wait(folders.inbox, max(0.0, min(wait_for, notices_due - now,
                                                     self._until_next_due())),
                         self.stop.is_set, idle=use_idle)
            if self.stop.is_set():
                break
            # Read the inbox after every wait, news or not: a missed notification
            # costs one cycle, never a message.
            self.sync(mailbox, (folders.inbox,))
            if time.monotonic() >= notices_due:
                self.sync(mailbox, notices)
                notices_due = time.monotonic() + service.notices_seconds
            if not self.stop.is_set():
                self.retrain_if_due()

    # --- outages ------------------------------------------------------------------

    def _outage(self, exc: MailboxConnectionError) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            self.report.outages += 1
            log.warning("%s; reconnecting with backoff until it is back", exc)
        else:
            log.debug("still unreachable: %s", exc)
        delay = self.backoff.next_delay()
        self.stop.wait(delay)

    def _back_online(self, mailbox: Mailbox) -> None:
        if self._outage_since is not None:
            log.warning("connection to %s is back after %.0f s; catching up",
                        mailbox.describe(), time.monotonic() - self._outage_since)
            self._outage_since = None
        else:
            log.info("connected to %s", mailbox.describe())
        self.backoff.reset()

    def _missing(self, folder: str, exc: MailboxError) -> None:
        # Said once per run, not at every slow cycle.
        if folder not in self._missing_warned:
            self._missing_warned.add(folder)
            warn_missing(folder, exc)
