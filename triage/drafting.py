"""Planning reply drafts and appending the due ones to the Drafts folder.

After each sync the service asks the ``Drafter`` to look at every thread that
changed: a newly triaged client message plans a draft (or rebuilds the thread's
open plan, which starts the cool-down again), and a reply from the provider
cancels it (``drafts.decide`` says which). Then every plan that is due is
rendered, checked for tone and appended to Drafts.

Exactly once: each draft carries its plan's id in the ``X-Triage-Draft`` header.
Before appending, the Drafts folder is searched for the ids of the due plans; a
draft that is already there (appended just before a crash, before the store
recorded it) is recorded as appended instead of being appended again. The store
records the append only after the server has accepted it.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.policy import SMTP
from typing import Any
from zoneinfo import ZoneInfo

from triage.config import LANGUAGES, Config
from triage.drafts import (
    Decision,
    Original,
    ReplyContext,
    Schedule,
    TemplateError,
    Templates,
    cited_from,
    decide,
    draft_message,
    local_when,
)
from triage.errors import MailboxConnectionError, MailboxError
from triage.mailbox import Mailbox
from triage.nlp import entities_in
from triage.store import Store
from triage.threads import strip_prefixes

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DraftReport:
    planned: int = 0  # new plans
    rebuilt: int = 0  # open plans rebuilt after another client message
    cancelled: int = 0
    appended: int = 0
    recovered: int = 0  # found already in Drafts (appended before a crash)
    held: int = 0  # a user template failed its tone check, or would not render
    due: int = 0  # due, not appended (dry run)
    failed: int = 0  # refused by the server this time; tried again at the next sync

    def add(self, other: DraftReport) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Drafter:
    def __init__(self, config: Config, store: Store, templates: Templates | None = None) -> None:
        self.config = config
        self.store = store
        self.templates = templates or Templates(config.drafts.templates)
        self.schedule = Schedule.from_config(config)
        self.zone = ZoneInfo(config.provider.timezone)
        self._warned: set[str] = set()  # reasons already logged for drafts not appended

    # --- planning ----------------------------------------------------------------

    def plan(self, now: datetime) -> DraftReport:
        """Bring every changed thread's plan up to date."""
        report = DraftReport()
        if not self.config.drafts.enabled:
            return report
        with_open = True  # the threads with an open plan: once
        while True:
            threads, checked = self.store.threads_to_plan(with_open)
            with_open = False
            with self.store.transaction():
                for thread_id in threads:
                    self._plan_thread(thread_id, now, report)
                self.store.mark_planned(checked)
            if not checked:
                return report

    def preview(self, now: datetime) -> DraftReport:
        """What ``plan`` and ``append_due`` would do at ``now``, changing nothing: a
        run with ``--now`` must not leave plans made under a clock that is not real."""
        report = DraftReport()
        if not self.config.drafts.enabled:
            return report
        threads, _ = self.store.threads_to_plan(True, limit=-1)
        for thread_id in threads:
            decision = self._decision(thread_id, now, report, write=False)
            if decision is not None and decision.due is not None and decision.due <= now:
                report.due += 1
        return report

    def _plan_thread(self, thread_id: str, now: datetime, report: DraftReport) -> None:
        self._decision(thread_id, now, report, write=True)

    def _decision(self, thread_id: str, now: datetime, report: DraftReport, write: bool
                  ) -> Decision | None:
        """Decide a thread's plan; with ``write``, record it. Returns the plan that
        stands afterwards (None: no draft)."""
        decision = decide(self.store.thread_for_drafts(thread_id), self.schedule,
                          self.config.drafts.categories)
        open_plan = self.store.open_draft(thread_id)
        if decision.answer is None:
            if open_plan is not None:
                report.cancelled += 1
                if write:
                    self.store.end_draft(open_plan["plan_id"], "cancelled", decision.reason,
                                         now)
                    log.info("draft %s cancelled: %s", open_plan["plan_id"], decision.reason)
            return None
        assert decision.due is not None
        fields = {"thread_id": thread_id, "message": decision.answer,
                  "category": decision.category, "hostility": decision.hostility,
                  "language": decision.language, "due_at": decision.due}
        if open_plan is not None:
            if all(open_plan[k] == v for k, v in fields.items() if k != "due_at"):
                return decision
            # Rebuilt under a new id: a draft of the old plan appended just before a
            # crash must not be taken for this one.
            report.rebuilt += 1
            if write:
                self.store.end_draft(open_plan["plan_id"], "cancelled",
                                     "rebuilt: the thread changed (a newer client message "
                                     "or a correction)", now)
                plan_id = self._insert(fields, now)
                log.info("draft %s rebuilt as %s: %s, due %s", open_plan["plan_id"], plan_id,
                         decision.category, self._local(decision.due))
            return decision
        # A new plan: not for old mail (a first backfill of years of it), and not
        # when the message that wants a reply, or a later one, was answered already.
        after = decision.since[decision.since.index(decision.trigger):]
        received = self.store.message_date(decision.trigger)
        if received < now - timedelta(days=self.config.drafts.max_age_days):
            return None
        if self.store.answered(after):
            return None
        report.planned += 1
        if write:
            plan_id = self._insert(fields, now)
            log.info("draft %s planned: %s, hostility %d, due %s", plan_id, decision.category,
                     decision.hostility, self._local(decision.due))
        return decision

    def _insert(self, fields: dict[str, Any], now: datetime) -> str:
        plan_id = f"{uuid.uuid4()}@triage"
        self.store.save_plan({**fields, "plan_id": plan_id}, now)
        return plan_id

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    # --- appending ------------------------------------------------------------------

    def append_due(self, mailbox: Mailbox, now: datetime, dry_run: bool = False
                   ) -> DraftReport:
        """Render, check and append every due draft; ``dry_run`` only counts them."""
        report = DraftReport()
        due = self.store.due_drafts(now)
        if not due or not self.config.drafts.enabled:
            return report
        if dry_run:
            report.due = len(due)
            log.info("%d drafts due; dry run: none appended", len(due))
            return report
        try:
            folder = mailbox.drafts_folder(self.config.folders.drafts)
            present = mailbox.draft_plans(folder)
        except MailboxConnectionError:
            raise
        except MailboxError as exc:
            # No folder to append to: every due draft waits for the next sync, and the
            # reason is said once, not at every sync.
            if str(exc) not in self._warned:
                self._warned.add(str(exc))
                log.warning("%d due drafts not appended: %s", len(due), exc)
            report.failed += len(due)
            return report
        for draft in due:
            if draft["plan_id"] in present:
                self._record(draft, "appended", "found in Drafts after a restart", now)
                report.recovered += 1
                continue
            try:
                mail, problems = self.compose(draft, now)
            except TemplateError as exc:
                self._hold(draft, str(exc), now)
                report.held += 1
                continue
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the rest
                self._hold(draft, f"the draft could not be built: {type(exc).__name__}: {exc}",
                           now)
                report.held += 1
                continue
            if problems:
                self._hold(draft, "the reply failed the tone check: " + "; ".join(problems), now)
                report.held += 1
                continue
            try:
                mailbox.append_draft(folder, mail.as_bytes(policy=SMTP), now)
            except MailboxConnectionError:
                raise
            except MailboxError as exc:
                # Refused by the server (quota, permissions): the plan stays due and
                # is tried again at the next sync; nothing else is held up.
                log.warning("draft %s not appended, will try again: %s", draft["plan_id"], exc)
                report.failed += 1
                continue
            self._record(draft, "appended", "", now)
            report.appended += 1
            log.info("draft %s appended to %s: %s reply to %s", draft["plan_id"], folder,
                     draft["category"], mail["To"].addresses[0].addr_spec)
        return report

    def _record(self, draft: dict[str, Any], state: str, reason: str, now: datetime) -> None:
        with self.store.transaction():
            self.store.end_draft(draft["plan_id"], state, reason, now)

    def _hold(self, draft: dict[str, Any], reason: str, now: datetime) -> None:
        log.warning("draft %s held back, not appended: %s", draft["plan_id"], reason)
        self._record(draft, "held", reason, now)

    def compose(self, draft: dict[str, Any], now: datetime) -> tuple[Any, list[str]]:
        """The draft mail for a plan, and its tone problems (empty when it may go)."""
        record = self.store.message_by_row(int(draft["message"]))
        lang = draft["language"] if draft["language"] in LANGUAGES else \
            self.config.provider.language
        addresses = record["addresses"]
        reply_to = addresses["reply_to"][0].email if addresses["reply_to"] else ""
        original = Original(
            message_id=record["message_id"], references=tuple(json.loads(record["refs"])),
            sender_name=record["sender_name"] or "", sender=record["sender"] or "",
            reply_to=reply_to, subject=record["subject"] or "",
            date=datetime.fromisoformat(record["date"]), body=record["body"] or "")
        if not (original.reply_to or original.sender):
            raise TemplateError("the client's message has no address to reply to")
        context = self.context(draft, original, lang, now)
        problems = self.templates.check(context)
        reply = self.templates.render(context)
        mail = draft_message(original, reply, sender=self.config.draft_sender,
                             sender_name=self.config.provider.name,
                             plan_id=draft["plan_id"], category=draft["category"],
                             hostility=int(draft["hostility"]), lang=lang, zone=self.zone,
                             now=now)
        return mail, problems

    def context(self, draft: dict[str, Any], original: Original, lang: str,
                now: datetime) -> ReplyContext:
        provider = self.config.provider
        entities = entities_in(original.body, lang)
        evidence = self.store.thread_evidence(draft["thread_id"])[:3]
        return ReplyContext(
            client_name=original.sender_name, client_address=original.reply_to
            or original.sender, subject=strip_prefixes(original.subject),
            received=local_when(original.date, lang, self.zone, now),
            category=draft["category"], hostility=int(draft["hostility"]), language=lang,
            evidence=cited_from(evidence, lang, self.zone, now, original.sender),
            codes=tuple(dict.fromkeys(e.text for e in entities if e.kind == "invoice")),
            amounts=tuple(dict.fromkeys(e.text for e in entities if e.kind == "amount")),
            payment_terms=self.config.drafts.terms("payment_terms", lang),
            scope_terms=self.config.drafts.terms("scope_terms", lang),
            provider_name=provider.name, signature=provider.signature or provider.name)
