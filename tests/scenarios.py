"""Evidence scenarios (corpus/evidence_scenarios/*.jsonl) as real stored mail.

Each scenario's messages are rendered as RFC 5322 mail, parsed by triage's own
parser and stored through the same path a first sync takes (the inbox, then
Sent, then the notice folders, each oldest first), with the complaint triaged
either as its gold category or by the shipped model. The evidence search then
runs as the service runs it. Used by the tests and by bench/evidence.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from triage.config import Config, FoldersConfig, MailboxConfig, ProviderConfig, StoreConfig
from triage.evidence import EvidenceFinder
from triage.ingest import kind_of
from triage.message import Classification, Kind, Message
from triage.parsing import parse_message
from triage.store import Fetched, Store
from triage.threads import thread_keys

SCENARIOS = Path(__file__).resolve().parent.parent / "corpus" / "evidence_scenarios"
FOLDER_ORDER = ("INBOX", "Sent", "Billing", "Notices")

Classify = Callable[[Message, str], Classification]


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
