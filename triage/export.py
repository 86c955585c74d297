"""Stored messages as rows: JSON Lines or CSV, one row per message.

The JSON Lines keys are a public shape that scripts depend on: ``message_id``,
``folder``, ``date``, ``from``, ``to``, ``subject``, ``kind``, ``error``,
``language``, ``category``, ``confidence``, ``hostility``, ``thread_id``,
``evidence``, ``draft``, ``corrected`` (``{"model_category": ...}`` when the
provider corrected the category, whose new value is ``category``),
``relabelled`` (``{"model_category": ...}`` when the evidence changed the model's
category: a reported failure the provider had announced is an accusation) and
``leads`` (notices not cited that are worth a look, in the shape of ``evidence``).
Keys whose stage has not run are null. In CSV the columns come in that order.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from triage.errors import TriageError
from triage.files import open_private
from triage.store import Store

FIELDS = (
    "message_id", "folder", "date", "from", "to", "subject", "kind", "error",
    "language", "category", "confidence", "hostility", "thread_id", "evidence", "draft",
    "corrected", "relabelled", "leads",
)


def export_rows(store: Store) -> Iterator[dict[str, Any]]:
    for record in store.iter_messages():
        addresses = record["addresses"]
        evidence, leads = store.evidence_and_leads(int(record["id"])) if record.get(
            "category") else ([], [])
        yield {
            "message_id": record["message_id"],
            "folder": record["folder"],
            "date": record["date"],
            "from": record["sender"],
            "to": [a.email for a in addresses["to"]],
            "subject": record["subject"],
            "kind": record["kind"],
            "error": record["error"],
            "language": record.get("language"),
            "category": record.get("category"),
            "confidence": record.get("confidence"),
            "hostility": record.get("hostility"),
            "thread_id": record.get("thread_id"),
            "evidence": evidence,
            "draft": _latest(store.drafts_of(int(record["id"]))) if record.get("category")
            else None,
            "corrected": {"model_category": record["model_category"]}
            if record.get("model_category") else None,
            "relabelled": {"model_category": record["relabelled_from"]}
            if record.get("relabelled_from") else None,
            "leads": leads,
        }


def _latest(drafts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest draft planned in answer to a message: state (planned, appended,
    cancelled, held), category, due, reason."""
    if not drafts:
        return None
    latest = dict(drafts[-1])
    latest.pop("plan_id", None)
    return latest


def write_file(path: Path, writer: Callable[[Iterable[dict[str, Any]], TextIO], int],
               rows: Iterable[dict[str, Any]]) -> int:
    """Write the rows to an owner-only file (they name clients); return how many."""
    try:
        with open_private(path, newline="") as out:
            return writer(rows, out)
    except OSError as exc:
        raise TriageError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """CSV with lists and objects as JSON text in their cells; formula-like text quoted."""
    writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
        count += 1
    return count


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    # A client's subject must not become a spreadsheet formula when opened.
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
