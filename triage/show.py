"""``triage show``: one stored message with its thread and its evidence, for a person.

Everything printed that came from a mailbox goes through ``printable`` first:
a subject or body with terminal escape sequences must not drive the terminal
of the person reading it.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from triage.errors import TriageError
from triage.message import Address
from triage.store import Store

_KEEP = frozenset("\n\t")


def printable(text: str | None) -> str:
    """``text`` with control and format characters (ESC, BEL, bidi overrides...) shown as
    U+FFFD, so that mail cannot drive a terminal; newlines and tabs are kept."""
    if not text:
        return ""
    if text.isprintable():
        return text
    return "".join("\ufffd" if _obeyed(ch) else ch for ch in text)


def _obeyed(ch: str) -> bool:
    """Whether a terminal may act on ``ch``: a control or format character other
    than a newline or a tab."""
    return ch not in _KEEP and unicodedata.category(ch) in ("Cc", "Cf")


def as_json(shown: dict[str, Any]) -> str:
    """The gathered message as JSON for a terminal or a script: the same text, with
    what a terminal would obey that JSON leaves raw (DEL, the C1 controls, bidi
    overrides and other format characters) written as \\u escapes, which any JSON
    reader turns back into the same characters."""
    text = json.dumps(shown, ensure_ascii=False, indent=2)
    return "".join(_escaped(ch) if _obeyed(ch) else ch for ch in text)


def _escaped(ch: str) -> str:
    """``ch`` as JSON's \\u escape (a surrogate pair beyond the first plane)."""
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def gather(store: Store, message_id: str) -> dict[str, Any]:
    """The message, its thread (oldest first) and its evidence, as plain data."""
    record = store.message(message_id)
    if record is None:
        raise TriageError(f"no stored message has the Message-ID {message_id}: "
                          "'triage list' or 'triage export' shows them")
    thread = store.thread(record["thread_id"]) if record["thread_id"] else [record]
    evidence, leads = store.evidence_and_leads(int(record["id"])) if record["category"] else (
        [], [])
    return {
        "message": _summary(record, with_body=True),
        "thread": [_summary(r) for r in thread],
        "evidence": evidence,
        "leads": leads,
        "evidence_searched": bool(record["evidence_at"]),
        "drafts": store.drafts_of(int(record["id"])) if record["category"] else [],
    }


def _summary(record: dict[str, Any], with_body: bool = False) -> dict[str, Any]:
    addresses: dict[str, list[Address]] = record["addresses"]
    found = {
        "message_id": record["message_id"], "date": record["date"],
        "folder": record["folder"], "from": record["sender"],
        "to": [str(a) for a in addresses["to"]], "cc": [str(a) for a in addresses["cc"]],
        "subject": record["subject"], "kind": record["kind"],
        "category": record["category"], "hostility": record["hostility"],
        "confidence": record["confidence"], "language": record["language"],
        "thread_id": record["thread_id"], "model_category": record["model_category"],
        "relabelled_from": record["relabelled_from"],
    }
    if with_body:
        found["body"] = record["body"]
    return found


def render(shown: dict[str, Any]) -> str:
    """The gathered message as text for a terminal."""
    message = shown["message"]
    lines = [
        f"Message-ID: {message['message_id']}",
        f"Date:       {message['date']}",
        f"From:       {message['from'] or '-'}",
        f"To:         {', '.join(message['to']) or '-'}",
    ]
    if message["cc"]:
        lines.append(f"Cc:         {', '.join(message['cc'])}")
    lines += [f"Subject:    {message['subject']}", f"Folder:     {message['folder']}"]
    if message["category"]:
        lines.append(f"Triage:     {message['category']}, hostility {message['hostility']}, "
                     f"confidence {message['confidence']:.2f}, {message['language']}")
        if message["model_category"]:
            lines.append(f"            corrected by you (the model said "
                         f"{message['model_category']})")
        elif message["relabelled_from"]:
            lines.append(f"            by the evidence below: the model read "
                         f"{message['relabelled_from']}, but a notice had announced it")
    else:
        lines.append(f"Kind:       {message['kind']}")
    lines += ["", message["body"].strip() or "(no text of its own)", ""]
    thread = shown["thread"]
    lines.append(f"Thread ({len(thread)} message{'s' if len(thread) != 1 else ''}):")
    for item in thread:
        mark = ">" if item["message_id"] == message["message_id"] else " "
        label = (f"{item['category']} {item['hostility']}" if item["category"]
                 else item["kind"])
        lines.append(f" {mark} {str(item['date'])[:16].replace('T', ' ')}  {label:<17} "
                     f"{item['from'] or '-'}: {item['subject']}")
    lines.append("")
    if not message["category"]:
        lines.append("Evidence: only a client's triaged message has evidence.")
    elif message["category"] == "other":
        lines.append("Evidence: none searched: the message is not a complaint (other).")
    else:
        lines += _evidence_lines(shown)
    for draft in shown.get("drafts", []):
        due = str(draft["due"])[:16].replace("T", " ")
        note = f": {draft['reason']}" if draft["reason"] else ""
        lines += ["", f"Draft: {draft['state']} ({draft['category']} reply, due {due} UTC)"
                  f"{note}"]
    return printable("\n".join(lines))


def _evidence_lines(shown: dict[str, Any]) -> list[str]:
    """What the search found for a complaint: the cited notices and the leads. A
    complaint due for another search (a notice arrived late, its category changed,
    triage was upgraded) shows what the last search found, and says so."""
    evidence, leads = shown["evidence"], shown["leads"]
    searched = shown["evidence_searched"]
    if not searched and not evidence and not leads:
        return ["Evidence: not searched yet; the next 'triage ingest' or the service will "
                "search it."]
    lines = [] if searched else [
        "Evidence: to be searched again by the next 'triage ingest' or the service; this is "
        "what the last search found."]
    if not evidence and not leads:
        lines.append("Evidence: none found. Nothing the provider sent this client before "
                     "answers this message; a reply should not cite any notice.")
    elif not evidence:
        lines.append("Evidence: none cited. The search is not sure enough of any notice; a "
                     "reply should cite one only if you find below that it answers this "
                     "message.")
    else:
        lines.append("Evidence (best first):")
        lines += _notices(evidence)
    if leads:
        lines += ["", "Worth a look, not cited (less likely proof; the draft leaves them out):"]
        lines += _notices(leads, start=len(evidence) + 1)
    return lines


def _notices(found: list[dict[str, Any]], start: int = 1) -> list[str]:
    """Cited notices or leads, numbered from ``start``, a few lines each."""
    lines = []
    for rank, item in enumerate(found, start=start):
        lines += [
            f" {rank}. {str(item['date'])[:16].replace('T', ' ')}  {item['subject']}",
            f"    to {', '.join(item['recipients'])}",
            f"    \"{item['excerpt']}\"",
            f"    score {item['score']:.2f}: {'; '.join(item['reasons'])}",
            f"    Message-ID {item['message_id']}",
        ]
    return lines
