"""What the benchmarks share: how a run names its machine, how results are kept, and
the configuration that points triage at the tests' Dovecot.

Each script prints its result lines and writes them to bench/results/NAME, where
the README quotes them from.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPO = RESULTS.parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from dovecot import PASSWORD, USER, Dovecot  # noqa: E402

_MAILBOX = """
[mailbox]
url = "imaps://{user}@localhost:{port}"
password_env = "TRIAGE_BENCH_IMAP_PASSWORD"
ca_file = "{ca}"

[store]
path = "{store}"
"""


def machine() -> str:
    """Today's date, the processor architecture and the Python version of this run."""
    return f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}"


def publish(name: str, lines: Sequence[str], write: bool = True) -> None:
    """Print the result lines and, unless ``write`` is false, keep them in results/NAME."""
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if write:
        (RESULTS / name).write_text(text, encoding="utf-8")


def dovecot_config(server: Dovecot, work: Path, tables: str) -> tuple[Path, dict[str, str]]:
    """A configuration in ``work`` for triage to read ``server`` (implicit TLS, its CA,
    a store in ``work``) with the other ``tables``, and the environment that gives
    triage the password and this checkout's package."""
    config = work / "triage.toml"
    config.write_text(_MAILBOX.format(
        user=USER.replace("@", "%40"), port=server.tls_port, ca=server.ca_file,
        store=work / "triage.db") + tables, encoding="utf-8")
    return config, {**os.environ, "TRIAGE_BENCH_IMAP_PASSWORD": PASSWORD,
                    "PYTHONPATH": str(REPO)}
