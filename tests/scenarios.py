"""Evidence scenarios (corpus/evidence_scenarios/*.jsonl) as real stored mail.

Each scenario's messages are rendered as RFC 5322 mail, parsed by triage's own
parser and stored through the same path a first sync takes (the inbox, then
Sent, then the notice folders, each oldest first), with the complaint triaged
either as its gold category or by the shipped model. The evidence search then
runs as the service runs it. Used by the tests and by bench/evidence.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from triage.config import Config, FoldersConfig, MailboxConfig, ProviderConfig, StoreConfig
from triage.evidence import CATEGORIES, EvidenceFinder
from triage.ingest import kind_of
from triage.message import Classification, Kind, Message
from triage.parsing import parse_message
from triage.store import Fetched, Store
from triage.threads import party, thread_keys

SCENARIOS = Path(__file__).resolve().parent.parent / "corpus" / "evidence_scenarios"
FOLDER_ORDER = ("INBOX", "Sent", "Billing", "Notices")

Classify = Callable[[Message, str], Classification]


def files(patterns: Iterable[str], leave_out: Iterable[str] = ()) -> list[Path]:
    """The scenario files matching any of ``patterns`` (globs in SCENARIOS), less those
    matching ``leave_out``, in name order."""
    found = {p for pattern in patterns for p in SCENARIOS.glob(pattern)}
    return sorted(found - {p for pattern in leave_out for p in SCENARIOS.glob(pattern)})


def wave_of(path: Path) -> str:
    """The wave a scenario file belongs to: "w7" for tune_w7en.jsonl, "measured" for
    en.jsonl and holdout_*.jsonl, "measured-full" and "w12-full" for the copies
    with full-length distractors (full_en.jsonl, full_tune_w12en.jsonl), "earlier" for
    the tuning files before wave 5."""
    found = re.match(r"tune_(w\d+)", path.name)
    if found:
        return found.group(1)
    if path.name.startswith("full_"):
        return wave_of(path.with_name(path.name.removeprefix("full_"))) + "-full"
    return "measured" if path.name.startswith(("holdout_", "en.")) else "earlier"


def load(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for path in paths
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def config_for(scenario: dict[str, Any], root: Path) -> Config:
    provider = scenario["provider"]
    folders = sorted({m["folder"] for m in scenario["messages"]} - {"INBOX", "Sent"})
    return Config(
        source=root / "triage.toml",
        mailbox=MailboxConfig(url=f"maildir://{root}", scheme="maildir", tls="none",
                              path=root),
        folders=FoldersConfig(notices=tuple(folders)),
        provider=ProviderConfig(name=provider["name"],
                                addresses=tuple(a.lower() for a in provider["addresses"]),
                                domains=tuple(d.lower() for d in provider["domains"]),
                                timezone="UTC"),
        store=StoreConfig(path=root / "state.db"),
    )


def render(message: dict[str, Any], ids: dict[str, str]) -> bytes:
    mail = EmailMessage()
    mail["From"] = message["from"]
    for header in ("to", "cc", "bcc"):
        if message.get(header):
            mail[header.capitalize()] = ", ".join(message[header])
    mail["Date"] = format_datetime(datetime.fromisoformat(message["date"]))
    mail["Subject"] = message["subject"]
    mail["Message-ID"] = ids[message["key"]]
    parent = message.get("in_reply_to")
    if parent:
        mail["In-Reply-To"] = ids[parent]
        mail["References"] = ids[parent]
    mail.set_content(message["body"])
    return bytes(mail)


def gold(category: str) -> Classify:
    """The scenario's own category, as a certain verdict."""
    def classify(message: Message, lang: str) -> Classification:
        return Classification(language=lang, category=category, confidence=1.0,
                              probabilities={category: 1.0}, hostility=1,
                              hostility_score=1.0)
    return classify


@dataclass
class Stored:
    scenario: dict[str, Any]
    store: Store
    ids: dict[str, str]  # key → Message-ID
    rows: dict[str, int]  # key → stored row

    def key_of(self, message_id: str) -> str:
        return next(k for k, v in self.ids.items() if v == message_id)


def message_ids(scenario: dict[str, Any]) -> dict[str, str]:
    """The Message-ID each of a scenario's messages is stored under, by key."""
    return {m["key"]: f"<{scenario['id']}.{m['key']}@scenario.example>"
            for m in scenario["messages"]}


def store_scenario(scenario: dict[str, Any], root: Path, classify: Classify | None = None,
                   folder_order: Sequence[str] = FOLDER_ORDER,
                   also_triaged: Sequence[str] = ()) -> Stored:
    """The scenario stored as a first sync would store it, its complaint (and the
    client messages named in ``also_triaged``) triaged."""
    config = config_for(scenario, root)
    store = Store(root / "state.db")
    ids = message_ids(scenario)
    classify = classify or gold(scenario["category"])
    order = {name: i for i, name in enumerate(folder_order)}
    messages = sorted(scenario["messages"],
                      key=lambda m: (order.get(m["folder"], len(order)), m["date"]))
    for uid, spec in enumerate(messages, start=1):
        parsed = parse_message(render(spec, ids))
        kind = kind_of(parsed, spec["folder"], config)
        verdict = None
        if spec["key"] == scenario["complaint"] or spec["key"] in also_triaged:
            assert kind is Kind.CLIENT, f"{scenario['id']}: the complaint is not a client's"
            verdict = classify(parsed, scenario["lang"])
        if store.checkpoint(spec["folder"]) is None:
            store.reset_folder(spec["folder"], 1)
        store.save_batch(spec["folder"], 1, [Fetched(
            uid=uid, message=parsed, kind=kind, classification=verdict,
            thread=thread_keys(parsed, config.provider.owns))], last_uid=uid)
    rows = {key: int(store.db.execute("SELECT id FROM messages WHERE message_id = ?",
                                      (mid,)).fetchone()[0]) for key, mid in ids.items()}
    return Stored(scenario, store, ids, rows)


def cited_keys(stored: Stored, finder: EvidenceFinder | None = None) -> list[str]:
    """Run the search as the service does and name what the complaint cites."""
    (finder or EvidenceFinder()).update(stored.store)
    row = stored.rows[stored.scenario["complaint"]]
    return [stored.key_of(e["message_id"]) for e in stored.store.evidence_of(row)]


def lead_keys(stored: Stored) -> list[str]:
    """Name the leads of the complaint (not cited, worth a look) after ``cited_keys``."""
    row = stored.rows[stored.scenario["complaint"]]
    return [stored.key_of(e["message_id"]) for e in stored.store.evidence_of(row, cited=False)]


def address_of(person: str) -> str:
    """The address of a scenario's "Name <address>" (a name may hold a comma)."""
    inside = re.search(r"<([^<>]+)>\s*$", person)
    return (inside.group(1) if inside else person).strip().lower()


_SCENARIO_KEYS = ("id", "lang", "category", "provider", "messages", "complaint", "proof")
_MESSAGE_KEYS = ("key", "folder", "from", "date", "subject", "body")


def shape_problems(scenario: Any) -> list[str]:
    """What keeps a scenario from being read at all: a missing key, a value of the
    wrong type, a date that is not ISO 8601 with its offset (BRIEF.md, "Format")."""
    if not isinstance(scenario, dict):
        return ["not a JSON object"]
    found = [f"no {key!r}" for key in _SCENARIO_KEYS if key not in scenario]
    provider = scenario.get("provider")
    if not isinstance(provider, dict) or not all(
            isinstance(provider.get(k), list) for k in ("addresses", "domains")):
        found.append("'provider' needs lists of 'addresses' and 'domains'")
    if not isinstance(scenario.get("proof", []), list):
        found.append("'proof' is not a list of keys")
    messages = scenario.get("messages", [])
    if not isinstance(messages, list) or not messages:
        return [*found, "'messages' is not a list of messages"]
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            found.append(f"message {number} is not a JSON object")
            continue
        name = message.get("key", f"message {number}")
        found += [f"{name} has no {key!r}" for key in _MESSAGE_KEYS if key not in message]
        if any(not isinstance(message.get(h, []), list) for h in ("to", "cc", "bcc")):
            found.append(f"{name}: 'to', 'cc' and 'bcc' are lists of addresses")
        try:
            if "date" in message and datetime.fromisoformat(
                    str(message["date"])).utcoffset() is None:
                found.append(f"{name}: its date has no time zone")
        except ValueError:
            found.append(f"{name}: its date is not ISO 8601")
    return found


def brief_breaches(scenario: dict[str, Any], example_only: bool = True) -> list[str]:
    """What in one scenario breaks the rules of corpus/evidence_scenarios/BRIEF.md
    (``example_only``: every address at a .example domain, as the project's own
    scenarios are; a set written elsewhere need not be)."""
    shape = shape_problems(scenario)
    if shape:
        return shape
    owns = config_for(scenario, Path()).provider.owns

    def from_provider(message: dict[str, Any]) -> bool:
        return owns(address_of(message["from"]))

    messages = {m["key"]: m for m in scenario["messages"]}
    found = []
    if len(messages) != len(scenario["messages"]):
        found.append("two messages share a key")
    if scenario["category"] not in CATEGORIES:
        found.append(f"category {scenario['category']!r}")
    complaint = messages.get(scenario["complaint"])
    if complaint is None or complaint["folder"] != "INBOX" or from_provider(complaint):
        return [*found, "the complaint is not a client's message in INBOX"]
    sender = address_of(complaint["from"])
    when = datetime.fromisoformat(complaint["date"])
    for key in scenario["proof"]:
        proof = messages.get(key)
        if proof is None:
            found.append(f"proof {key} is not one of its messages")
            continue
        reached = {address_of(p) for h in ("to", "cc", "bcc") for p in proof.get(h, [])}
        if (not from_provider(proof) or datetime.fromisoformat(proof["date"]) >= when
                or party(sender) not in {party(a) for a in reached}):
            found.append(f"proof {key} is not the provider's, before the complaint, "
                         f"to the complainant's address or domain")
    for message in messages.values():
        parent = message.get("in_reply_to")
        if parent is not None and parent not in messages:
            found.append(f"{message['key']} answers {parent}, not one of its messages")
        parties = [message["from"], *(p for h in ("to", "cc", "bcc") for p in message.get(h, []))]
        if example_only and any(not address_of(p).endswith(".example") for p in parties):
            found.append(f"{message['key']} has an address outside .example")
    return found
