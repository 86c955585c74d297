"""Parsing throughput on one core: raw bytes → Message, over varied generated mail.

Run: .venv/bin/python bench/parse_throughput.py [COUNT]
Writes bench/results/parse_throughput.txt.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from benchlib import publish  # noqa: E402
from mailfactory import render, special_emails, varied_emails  # noqa: E402

from triage.parsing import parse_message  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    raws = [render(mail) for _, mail, _ in varied_emails(count, seed=11)]
    raws += [raw for _, raw, _ in special_emails()]
    size = sum(len(r) for r in raws)
    parse_message(raws[0])  # imports and first-use costs out of the timing
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for raw in raws:
            parse_message(raw)
        best = min(best, time.perf_counter() - start)
    rate = len(raws) / best
    lines = [
        f"parse_message throughput, one core, best of 3 runs ({time.strftime('%Y-%m-%d')})",
        f"machine: {platform.machine()}, Python {platform.python_version()}",
        f"messages: {len(raws)} varied (plain/HTML/multipart, QP/base64, 5 charsets, "
        f"quotes, signatures, automated, broken), {size / len(raws):.0f} bytes average",
        f"time: {best:.2f} s",
        f"throughput: {rate:.0f} messages/s, {size / best / 1e6:.1f} MB/s",
    ]
    publish("parse_throughput.txt", lines)


if __name__ == "__main__":
    main()
