"""Build the bundled demo mailbox (corpus/demo/mailbox) from corpus/demo/demo.jsonl.

``demo.jsonl`` is five weeks of one small web agency's mail, Ruiz & Costa Web
(ruizcosta.example), written for this project: clients writing in Spanish,
Portuguese and English (every category, furious and calm, a few threads), and the
agency's notices (maintenance announcements, billing reminders, proposals) that
answer their complaints. Each client message carries ``expect``: its category,
hostility and the notices that prove the agency's position, which the tests hold
the demo to. A few automated and broken messages are added to INBOX, as a real
inbox has them. Deterministic: the same file gives the same Maildir.

Run: .venv/bin/python corpus/demo/build_demo.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests"))

from mailfactory import special_emails, write_maildir  # noqa: E402
from scenarios import render  # noqa: E402

SOURCE = HERE / "demo.jsonl"
DOMAIN = "ruizcosta.example"
# The automated and broken messages a real inbox also holds.
SPECIAL = ("s-ooo", "s-list", "s-bounce", "s-empty", "s-garbage")


def load() -> list[dict[str, Any]]:
    with SOURCE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def message_id(key: str) -> str:
    return f"<demo-{key}@mail.{DOMAIN}>"


def main() -> None:
    target = HERE / "mailbox"
    if target.exists():
        shutil.rmtree(target)
    messages = load()
    # The demo's messages have the evidence scenarios' shape: rendered the same way.
    ids = {spec["key"]: message_id(spec["key"]) for spec in messages}
    items = [(spec["key"], spec["folder"], render(spec, ids)) for spec in messages]
    items += [(name, expected.folder, raw.replace(b"agency.example", DOMAIN.encode()))
              for name, raw, expected in special_emails() if name in SPECIAL]
    write_maildir(target, items)
    for folder in ("", ".Sent", ".Billing", ".Notices", ".Drafts"):
        for sub in ("cur", "new", "tmp"):
            keep = target / folder / sub / ".gitkeep"
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.touch()
    print(f"{len(items)} messages written to {target}")


if __name__ == "__main__":
    main()
