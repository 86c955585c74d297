"""How much longer the proof is than the other candidates in the evidence scenarios.

For every scenario of corpus/evidence_scenarios/, each provider message sent before the
complaint (to this client or another) counts; its length is the number of different
words of four letters or more in its subject and body. Per wave of scenarios this
prints the median length of the proof and of the other messages, and how often a proof
is longer than another message (the chance that a proof drawn at random outdoes a
non-proof drawn at random, ties counting half): 0.5 would mean length says nothing. A
ranker that can read length (or anything that grows with it) learns this from the
scenarios, and in a real mailbox the monthly invoice that is not proof is as long as
the one that is.

Run: .venv/bin/python bench/evidence_length.py   (writes bench/results/evidence_length.txt)
"""

from __future__ import annotations

import re
import statistics
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from benchlib import machine, publish  # noqa: E402
from scenarios import files, load, wave_of  # noqa: E402

WORD = re.compile(r"\w{4,}")


def length(message: dict) -> int:
    return len(set(WORD.findall(f"{message['subject']} {message['body']}".lower())))


def main() -> None:
    lengths: dict[str, tuple[list[int], list[int]]] = {}
    for path in files(["*.jsonl"]):
        proof, other = lengths.setdefault(wave_of(path), ([], []))
        for scenario in load([path]):
            when = datetime.fromisoformat(next(m["date"] for m in scenario["messages"]
                                               if m["key"] == scenario["complaint"]))
            for message in scenario["messages"]:
                if message["folder"] != "INBOX" and datetime.fromisoformat(
                        message["date"]) < when:
                    (proof if message["key"] in scenario["proof"] else other).append(
                        length(message))
    lines = [f"length of the proof and of the other candidates, in different words of four "
             f"letters or more ({machine()})",
             "set            proof  median   others  median   a proof longer than another"]
    order = sorted(lengths, key=lambda w: (not w.startswith("measured"), w != "earlier", len(w), w))
    for name in order:
        proof, other = lengths[name]
        longer = sum((p > o) + 0.5 * (p == o) for p in proof for o in other)
        lines.append(f"{name:13s} {len(proof):6d}  {statistics.median(proof):6.0f}   "
                     f"{len(other):6d}  {statistics.median(other):6.0f}   "
                     f"{longer / (len(proof) * len(other)):.2f}")
    publish("evidence_length.txt", lines)


if __name__ == "__main__":
    main()
