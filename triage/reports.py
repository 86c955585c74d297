"""What ``triage run`` mails the provider by itself: the weekly digest and alerts.

The digest goes out once per period, at the end of each period (the configured
weekday and time in the provider's time zone), when ``[digest] send`` is on. A
period is recorded in the store when the SMTP server has accepted its digest, so
a restart neither loses nor repeats it; a server that refuses it is tried again
at the next sync.

An alert is a short mail, sent at once, about a client message that needs a
person now: a genuine fault with hostility 2 or more, or a message that threatens
lawyers or public reviews. It says who wrote, the subject and the category, and
nothing else of the message. Alerts are off by default, at most
``max_per_hour`` go out (the rest wait for the next hour), and mail older than
``max_age_hours`` raises none (a first backfill of years of mail is not news).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from triage import digest as digests
from triage.config import Config
from triage.drafts import header_value
from triage.nlp import fold
from triage.outbox import SendError
from triage.store import Store

log = logging.getLogger(__name__)

Send = Callable[[EmailMessage], None]
# A period that ended this long before the service first sends digests is still
# sent; an older one is not (see Reporter._digest).
FIRST_GRACE = timedelta(hours=12)

# Threats of lawyers, courts, consumer bodies or public reviews (folded text).
_THREAT = re.compile(r"\b(?:" + "|".join((
    r"abogad[oa]s?", r"demanda judicial", r"demandar(?:emos|los|les)?", r"denunci[ae]r?\b",
    r"denuncia(?:remos|re)\b", r"tribunal(?:es)?", r"juzgado", r"profeco", r"advogad[oa]s?",
    r"processar", r"processo judicial", r"procon", r"reclame ?aqui", r"justica\b",
    r"juizado", r"lawyers?", r"attorneys?", r"solicitors?", r"sue\b", r"suing",
    r"take (?:you|this) to court", r"(?:in|to) court\b", r"legal action", r"small claims",
    r"trading standards", r"trustpilot", r"yelp", r"google reviews?",
    r"(?:bad|negative|1-star|one-star) reviews?", r"reviews? on (?:google|trustpilot|yelp)",
    r"(?:mala|malas) resenas?", r"resenas? en google", r"avaliac(?:ao|oes) negativa",
    r"avaliac(?:ao|oes) no google",
)) + r")")


def threatens(subject: str, body: str) -> bool:
    """Whether a client's message threatens legal action or public reviews."""
    return bool(_THREAT.search(fold(f"{subject}\n{body}")))


def needs_alert(row: dict[str, Any]) -> bool:
    if row["category"] == "genuine_fault" and int(row["hostility"]) >= 2:
        return True
    return threatens(row["subject"] or "", row["body"] or "")


@dataclass(slots=True)
class ReportSummary:
    digests: int = 0
    alerts: int = 0
    failed: int = 0

    def add(self, other: ReportSummary) -> None:
        self.digests += other.digests
        self.alerts += other.alerts
        self.failed += other.failed


class Reporter:
    """Sends the digest when a period has ended and alerts as messages arrive."""

    def __init__(self, config: Config, store: Store, send: Send) -> None:
        self.config = config
        self.store = store
        self.send = send
        self.zone = ZoneInfo(config.provider.timezone)
        self.schedule = digests.Schedule(config.digest, self.zone)

    @property
    def active(self) -> bool:
        return self.config.digest.send or self.config.alerts.enabled

    def run(self, now: datetime) -> ReportSummary:
        summary = ReportSummary()
        if self.config.digest.send:
            self._digest(now, summary)
        if self.config.alerts.enabled:
            self._alerts(now, summary)
        return summary

    def next_wake(self, now: datetime) -> datetime | None:
        """When the next digest is due (None when none is sent)."""
        if not self.config.digest.send:
            return None
        return self.schedule.next_end(now)

    # --- the digest ---------------------------------------------------------------

    def _digest(self, now: datetime, summary: ReportSummary) -> None:
        end = self.schedule.last_end(now)
        key = digests.period_key(end)
        if self.store.outgoing("digest", key) is not None:
            return
        if not self.store.any_outgoing("digest") and now - end > FIRST_GRACE:
            # The first period the service sees ended a while ago (it was just set
            # up): not sent late; the first digest is the next one.
            self.store.record_outgoing("digest", key, "skipped",
                                       "ended before the service first ran", now)
            return
        found, mail = digests.compose(self.config, self.store, end)
        try:
            self.send(mail)
        except SendError as exc:
            summary.failed += 1
            log.warning("the digest for the period ending %s was not sent (%s); it is tried "
                        "again at the next sync", key, exc)
            return
        self.store.record_outgoing("digest", key, "sent",
                                   f"{found.hostile_threads} hostile threads", now)
        summary.digests += 1
        log.info("digest for the period ending %s sent (%d hostile threads)", key,
                 found.hostile_threads)

    # --- alerts ---------------------------------------------------------------------

    def _alerts(self, now: datetime, summary: ReportSummary) -> None:
        alerts = self.config.alerts
        since = now - timedelta(hours=alerts.max_age_hours)
        for row in self.store.client_verdicts(since, now + timedelta(minutes=5)):
            key = str(row["id"])
            if not needs_alert(row) or self.store.outgoing("alert", key) is not None:
                continue
            if self.store.count_outgoing("alert", now - timedelta(hours=1)) >= \
                    alerts.max_per_hour:
                log.info("alert limit reached (%d an hour); the rest wait", alerts.max_per_hour)
                return
            try:
                self.send(self.alert(row))
            except SendError as exc:
                summary.failed += 1
                log.warning("an alert was not sent (%s); it is tried again at the next sync",
                            exc)
                return
            self.store.record_outgoing("alert", key, "sent", row["category"], now)
            summary.alerts += 1

    def alert(self, row: dict[str, Any]) -> EmailMessage:
        """The alert for one stored client message: sender, subject, category only."""
        labels = digests.labels_for(self.config.provider.language)
        category = labels[row["category"]]
        sender = digests.one_line(row["sender"] or "?")
        subject = digests.one_line(row["subject"])
        from_address = self.config.report_sender
        mail = EmailMessage()
        # The client's address is client input in a header: no encoded-word in it.
        mail["Subject"] = header_value(f"triage: {category} · {sender}"[:200])
        mail["From"] = Address(display_name="triage", addr_spec=from_address)
        mail["To"] = ", ".join(self.config.report_recipients(self.config.alerts.to))
        mail["Date"] = format_datetime(datetime.now(self.zone))
        mail["Message-ID"] = make_msgid("triage-alert", from_address.rpartition("@")[2])
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(f"{labels['alert_from']}: {sender}\n"
                         f"{labels['alert_subject']}: {subject}\n"
                         f"{labels['category']}: {category}\n")
        return mail
