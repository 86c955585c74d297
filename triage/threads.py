"""Threads: which stored messages belong to one conversation.

A message joins a thread by its headers first, as the JWZ algorithm does: the
thread of a conversation is named after its root, the first Message-ID in
References (or In-Reply-To when there are no References), so a reply joins its
thread even when the messages in between were never seen, and a root that
arrives after its replies lands in the thread they already started.

Mail clients and ticket systems often drop those headers. A message without
them falls back to its subject with the reply and forward prefixes of the three
languages removed (Re:, RE:, Res:, Fwd:, RV:, Enc:, TR:, ...), within the same
client (the same organisation's domain, or the same address at a free-mail
provider) and a time window.

This module is pure: the store asks it for the keys and does the lookups.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from triage.message import Message
from triage.nlp import fold

# Reply and forward prefixes: English, Spanish, Portuguese, and the ones common
# clients add in other languages; "Re[2]:" and "RE (2):" too.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|res|rv|fw|fwd|enc|tr|aw|wg|sv|vs|r|rif|i)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+",
    re.IGNORECASE,
)
SUBJECT_WINDOW = timedelta(days=45)
_MIN_SUBJECT_CHARS = 4

# Domains where an address is a person, not an organisation.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.es", "hotmail.co.uk", "outlook.com",
    "outlook.es", "live.com", "msn.com", "yahoo.com", "yahoo.es", "yahoo.com.br",
    "yahoo.com.mx", "yahoo.co.uk", "yahoo.co.in", "ymail.com", "icloud.com", "me.com",
    "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.net", "uol.com.br",
    "bol.com.br", "terra.com.br", "ig.com.br", "sapo.pt", "live.com.pt", "rediffmail.com",
})


def strip_prefixes(subject: str) -> str:
    """The subject without its reply/forward prefixes: "RE: RV: Factura" → "Factura"."""
    return _PREFIX.sub("", subject).strip()


def subject_key(subject: str) -> str:
    """The subject as threads compare it: no prefixes, folded, single-spaced; empty
    when too short to tell conversations apart."""
    key = " ".join(fold(strip_prefixes(subject)).split())
    return key if len(key) >= _MIN_SUBJECT_CHARS else ""


def thread_id_for(message_id: str) -> str:
    """The id of the thread whose root is ``message_id``."""
    return "t" + hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def party(email: str) -> str:
    """Who an address stands for: its organisation's domain, or, at a free-mail
    provider, the address itself."""
    email = email.lower()
    domain = email.rpartition("@")[2]
    return email if domain in FREE_MAIL else domain


@dataclass(frozen=True, slots=True)
class ThreadKeys:
    """What the store needs to place a message in a thread."""

    own: str  # the thread this message would root
    root: str | None  # the thread its headers name, if any
    referenced: tuple[str, ...]  # Message-IDs it refers to, nearest first
    subject: str  # subject_key
    parties: tuple[str, ...]  # the client side of the conversation


def thread_keys(message: Message, provider_owns: Callable[[str], bool]) -> ThreadKeys:
    """Keys for ``message``; ``provider_owns(address)`` tells the provider's own
    addresses, so that the parties are the client's."""
    references = tuple(r for r in message.references if r)
    if message.in_reply_to and message.in_reply_to not in references:
        references = (*references, message.in_reply_to)
    root = references[0] if references else None
    people = [a.email for a in (*(() if message.sender is None else (message.sender,)),
                                *message.recipients) if a.email and not provider_owns(a.email)]
    return ThreadKeys(
        own=thread_id_for(message.message_id),
        root=thread_id_for(root) if root else None,
        referenced=tuple(reversed(references)),
        subject=subject_key(message.subject),
        parties=tuple(dict.fromkeys(party(p) for p in people)),
    )
