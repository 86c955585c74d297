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
from dataclasses import dataclass, field
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


@dataclass
class Tally:
    """Evidence figures over scenarios: precision and recall at 3 of what was cited,
    and how often a scenario with no proof cited anything."""

    errors: list[str] = field(default_factory=list)
    # Per scenario: cited, cited that is proof, proof, and whether it has none; every
    # count below is a sum of these (the intervals resample them).
    each: list[tuple[int, int, int, bool]] = field(default_factory=list)
    # Per scenario: the leads shown beside what was cited (not cited, worth a
    # person's look), and how many of them are proof.
    looks: list[tuple[int, int]] = field(default_factory=list)

    def add(self, name: str, cited: Sequence[str], proof: Sequence[str],
            leads: Sequence[str] = ()) -> None:
        self.each.append((len(cited), sum(k in proof for k in cited), len(proof), not proof))
        self.looks.append((len(leads), sum(k in proof for k in leads)))
        if set(cited) != set(proof):
            self.errors.append(f"{name}: cited {list(cited)}, proof {list(proof)}"
                               + (f", leads {list(leads)}" if leads else ""))

    @property
    def scenarios(self) -> int:
        return len(self.each)

    @property
    def cited(self) -> int:
        return sum(cited for cited, _, _, _ in self.each)

    @property
    def correct(self) -> int:
        return sum(right for _, right, _, _ in self.each)

    @property
    def proof(self) -> int:
        return sum(proof for _, _, proof, _ in self.each)

    @property
    def no_proof(self) -> int:
        return sum(none for _, _, _, none in self.each)

    @property
    def no_proof_cited(self) -> int:
        return sum(none and cited > 0 for cited, _, _, none in self.each)

    @property
    def precision(self) -> float:
        return self.correct / self.cited if self.cited else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.proof if self.proof else 1.0

    @property
    def citing(self) -> float:
        return self.no_proof_cited / self.no_proof if self.no_proof else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def intervals(self, draws: int = 2000, seed: int = 0) -> dict[str, tuple[float, float]]:
        """95% intervals of precision, recall and no-proof citing with the scenarios
        resampled (a percentile bootstrap: the citations of one scenario go together,
        so they are not counted as independent draws)."""
        import numpy as np

        each = np.array(self.each, dtype=float).reshape(-1, 4)
        picks = np.random.default_rng(seed).integers(0, len(each), (draws, len(each)))
        cited, right, proof, none = (each[:, i][picks].sum(axis=1) for i in range(4))
        none_cited = ((each[:, 3] > 0) & (each[:, 0] > 0)).astype(float)[picks].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            figures = {"precision": np.where(cited > 0, right / cited, 1.0),
                       "recall": np.where(proof > 0, right / proof, 1.0),
                       "citing": np.where(none > 0, none_cited / none, 0.0)}
        return {name: (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))
                for name, values in figures.items()}

    def interval_line(self) -> str:
        ranges = self.intervals()
        return ("95% intervals, scenarios resampled: " + ", ".join(
            f"{label} {ranges[name][0]:.2f}-{ranges[name][1]:.2f}" for name, label in (
                ("precision", "precision@3"), ("recall", "recall@3"),
                ("citing", "no-proof citing"))))

    @property
    def leads(self) -> int:
        return sum(n for n, _ in self.looks)

    @property
    def leads_right(self) -> int:
        return sum(right for _, right in self.looks)

    @property
    def shown_proof(self) -> int:
        """Proof a person is shown: cited, or a lead."""
        return self.correct + self.leads_right

    @property
    def seen(self) -> float:
        """The share of the proof a person is shown."""
        return self.shown_proof / self.proof if self.proof else 1.0

    @property
    def no_proof_shown(self) -> int:
        return sum(none and (cited > 0 or n > 0)
                   for (cited, _, _, none), (n, _) in zip(self.each, self.looks, strict=True))

    def leads_line(self) -> str:
        """What a person sees beside the citations: the leads, how many are proof, and
        how much of the proof is cited or a lead."""
        return (f"leads {self.leads} ({self.leads / max(self.scenarios, 1):.2f} per scenario), "
                f"{self.leads_right} of them proof; proof cited or a lead {self.seen:.3f} "
                f"({self.shown_proof}/{self.proof}); no-proof scenarios showing "
                f"either {self.no_proof_shown}/{self.no_proof}")

    def line(self) -> str:
        return (f"{self.scenarios:3d} scenarios  precision@3 {self.precision:.3f} "
                f"({self.correct}/{self.cited})  recall@3 {self.recall:.3f} "
                f"({self.correct}/{self.proof})  no-proof citing {self.citing:.3f} "
                f"({self.no_proof_cited}/{self.no_proof})")


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
