"""The value types that travel through triage.

They are frozen dataclasses: parsing makes them, the store keeps them, and the
rest of the pipeline reads them without changing them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

# Header of every reply draft: names the plan it came from, so that a draft
# appended just before a crash is found in Drafts instead of appended twice.
DRAFT_HEADER = "X-Triage-Draft"


class Kind(enum.StrEnum):
    """Who a stored message comes from, as far as triage is concerned."""

    CLIENT = "client"
    PROVIDER = "provider"
    AUTOMATED = "automated"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: a display name (may be empty) and a lower-cased address."""

    name: str
    email: str

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True, slots=True)
class Message:
    """What triage knows of one email after parsing.

    ``body`` is the text the sender actually wrote; ``quoted`` is the earlier
    mail they replied to or forwarded; ``signature`` is their sign-off block.
    ``date_flagged`` is true when the Date header was missing or unreadable and
    ``date`` is the arrival time instead. ``unreadable`` carries the reason when
    nothing useful could be read; such a message still has a ``message_id``.
    """

    message_id: str
    synthetic_id: bool = False
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    sender: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    date: datetime | None = None
    date_flagged: bool = False
    subject: str = ""
    body: str = ""
    quoted: str = ""
    signature: str = ""
    attachments: tuple[str, ...] = ()
    automated: str | None = None
    unreadable: str | None = None
    defects: tuple[str, ...] = field(default=())
    size: int = 0

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc + self.bcc


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's verdict on a client's message: category with its confidence
    and all five probabilities, hostility (level and score), the entities found,
    and which model said so."""

    language: str
    category: str
    confidence: float
    probabilities: dict[str, float]
    hostility: int
    hostility_score: float
    entities: tuple[tuple[str, str], ...] = ()
    model: str = ""
