"""What the benchmarks share: how a run names its machine, and how results are kept.

Each script prints its result lines and writes them to bench/results/NAME, where
the README quotes them from.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """Today's date, the processor architecture and the Python version of this run."""
    return f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}"


def publish(name: str, lines: Sequence[str], write: bool = True) -> None:
    """Print the result lines and, unless ``write`` is false, keep them in results/NAME."""
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if write:
        (RESULTS / name).write_text(text, encoding="utf-8")
