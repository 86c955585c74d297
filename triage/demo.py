"""``triage demo``: the whole pipeline on the bundled demo mailbox.

The demo mailbox (``corpus/demo/mailbox``, a Maildir of a small web agency) is
copied to a folder of its own, so the repository is never written to; the
service reads it once with the clock set to the demo's Monday morning, when
every cool-down has passed, and appends the due drafts to the copy's Drafts
folder. A table shows what was triaged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from triage.config import Config, load_config
from triage.errors import TriageError
from triage.files import open_private, private_folder, write_private
from triage.store import Store

DEMO = Path(__file__).resolve().parent.parent / "corpus" / "demo"
# The demo's mail runs to Friday 20 November 2026; on Monday morning every
# cool-down has passed.
DEMO_NOW = datetime(2026, 11, 23, 9, 0)


def prepare(target: Path | None) -> Config:
    """Copy the demo mailbox to ``target`` (a new temporary folder when None) and
    return its configuration, pointing at the copy and a store inside it."""
    source = DEMO / "mailbox"
    if not source.is_dir():
        raise TriageError(f"the demo mailbox is missing ({source}); run triage demo from a "
                          "checkout of the repository")
    if target is None:
        target = Path(tempfile.mkdtemp(prefix="triage-demo-"))
    elif target.exists() and any(target.iterdir()):
        raise TriageError(f"{target} is not empty: give a new or empty folder to --dir")
    try:
        private_folder(target)
        _copy_private(source, target / "mailbox")
    except OSError as exc:
        raise TriageError(f"cannot copy the demo mailbox to {target}: {exc.strerror or exc}"
                          ) from None
    # The demo's configuration, pointed at the copy: 'triage show --config' and the
    # other commands then work on it too.
    text = (DEMO / "triage.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^url = .*$', lambda _: "url = " + json.dumps(
        f"maildir:{target / 'mailbox'}"), text, count=1)
    text = re.sub(r'(?m)^path = .*$', lambda _: "path = " + json.dumps(
        str(target / "triage.db")), text, count=1)
    path = target / "triage.toml"
    write_private(path, text)
    return load_config(path)


def _copy_private(source: Path, target: Path) -> None:
    """Copy a tree owner-only, keeping the files' times (a Maildir message's time is
    when it arrived); copytree would keep the repository's modes instead."""
    for folder, _, names in os.walk(source):
        here = target / Path(folder).relative_to(source)
        private_folder(here)
        for name in names:
            original = Path(folder) / name
            with open(original, "rb") as reader, open_private(here / name, "wb") as writer:
                shutil.copyfileobj(reader, writer)
            times = original.stat()
            os.utime(here / name, ns=(times.st_atime_ns, times.st_mtime_ns))


def demo_now(config: Config, given: datetime | None) -> datetime:
    return config.local(given or DEMO_NOW)


def table(store: Store, out: TextIO) -> int:
    """One line per client message: date, sender, language, category, hostility,
    evidence cited, draft state. Returns how many lines."""
    rows = store.db.execute(
        """SELECT m.id, m.date, m.sender, m.subject, t.language, t.category, t.hostility,
                  (SELECT count(*) FROM evidence e WHERE e.message = m.id AND e.cited = 1) AS cited,
                  (SELECT d.state FROM drafts d WHERE d.message = m.id
                   ORDER BY d.id DESC LIMIT 1) AS draft
           FROM messages m JOIN triage t ON t.message = m.id ORDER BY m.date, m.id""")
    header = (f"{'date':<16}  {'from':<28} {'lang':<4} {'category':<14} {'host':<4} "
              f"{'proof':<5} {'draft':<10} subject")
    print(header, file=out)
    print("-" * len(header), file=out)
    count = 0
    for row in rows:
        print(_line(row), file=out)
        count += 1
    return count


def _line(row: Any) -> str:
    from triage.show import printable

    def fit(text: str, width: int) -> str:
        text = printable(" ".join(text.split()))
        return text if len(text) <= width else text[: width - 1] + "…"

    draft = row["draft"] or ("-" if row["category"] == "other" else "none")
    proof = str(row["cited"]) if row["category"] != "other" else "-"
    return (f"{str(row['date'])[:16].replace('T', ' '):<16}  {fit(row['sender'] or '-', 28):<28} "
            f"{row['language']:<4} {row['category']:<14} {row['hostility']:<4} {proof:<5} "
            f"{draft:<10} {fit(row['subject'] or '', 40)}")
