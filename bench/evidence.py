"""Evidence search quality on the scenarios of corpus/evidence_scenarios/.

Each scenario is one client's slice of a mailbox with the answer key: which of
the provider's messages prove its position (none, for some). The scenarios are
stored as a first sync would store them and searched as the service searches.

  tuning set   es_pt.jsonl and tune_*.jsonl (the weights in triage/evidence.py were
               set on them)
  measured on  en.jsonl and holdout_*.jsonl (written separately, never tuned on)
               and full_*.jsonl: the same 64 scenarios with every distractor written as
               fully as a real provider sends it (see evidence_length.py)

Figures, per set, with the complaint's gold category and with the category
probabilities of the shipped model:
  precision@3  cited messages that are proof / cited messages (all scenarios)
  recall@3     proof messages among the (at most three) cited / proof messages
  no-proof citing  scenarios without proof in which anything was cited
with a 95% interval for each on the measured set and on given scenarios (the
scenarios resampled 2,000 times), and, with the model's, how many complaints end in
their gold category, and how many the proof relabelled (a genuine fault the provider
had announced is an accusation, see evidence.ACCUSATION_DOUBT) and of those how many
rightly.

Run: .venv/bin/python bench/evidence.py [--verbose] [--no-write]
Writes bench/results/evidence.txt.

Scenarios written elsewhere, in the format of corpus/evidence_scenarios/BRIEF.md
(addresses need not be at .example domains), are scored on their own, with every
miss listed under --verbose and nothing written:

  .venv/bin/python bench/evidence.py --scenarios FILE_OR_FOLDER [...] [--verbose]

A scenario that breaks the brief's rules (a missing key, a proof sent after the
complaint or to someone else...) is named with its file and line, and nothing is
scored until they are fixed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from benchlib import Tally, machine, publish  # noqa: E402
from scenarios import (  # noqa: E402
    Classify,
    brief_breaches,
    cited_keys,
    files,
    lead_keys,
    load,
    store_scenario,
)

from triage.classify import MessageClassifier  # noqa: E402
from triage.evidence import EvidenceFinder  # noqa: E402
from triage.message import Classification, Message  # noqa: E402

SETS = {
    "tuning (es_pt + tune_*)": ["es_pt.jsonl", "tune_*.jsonl"],
    "measured (en + holdout)": ["en.jsonl", "holdout_*.jsonl"],
    "measured, full (full_*)": ["full_en.jsonl", "full_holdout_*.jsonl"],
}


@dataclass
class Searched:
    """What the search made of one scenario's complaint."""

    scenario: dict
    cited: list[str]
    leads: list[str]
    category: str  # the complaint's category in the end
    relabelled: bool  # the proof changed it


def search(scenarios: list[dict], classify_for: callable | None) -> list[Searched]:
    """Each scenario stored and searched as the service does."""
    finder = EvidenceFinder()
    found = []
    for scenario in scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            classify = classify_for(scenario) if classify_for else None
            stored = store_scenario(scenario, Path(tmp), classify)
            cited = cited_keys(stored, finder)
            leads = lead_keys(stored)
            category, before = stored.store.db.execute(
                "SELECT category, relabelled_from FROM triage WHERE message = ?",
                (stored.rows[scenario["complaint"]],)).fetchone()
            stored.store.close()
        found.append(Searched(scenario, cited, leads, category, before is not None))
    return found


def tally_of(searched: list[Searched], keys: dict[str, list[str]] | None = None) -> Tally:
    """The evidence tally against the scenarios' own answer keys, or ``keys`` by id."""
    tally = Tally()
    for one in searched:
        scenario = one.scenario
        proof = scenario["proof"] if keys is None else keys[scenario["id"]]
        tally.add(f"{scenario['id']} ({scenario['category']})", one.cited, proof, one.leads)
    return tally


def run(scenarios: list[dict], classify_for: callable | None) -> tuple[Tally, str]:
    """The evidence tally, and a line on the complaints' final categories."""
    searched = search(scenarios, classify_for)
    right = sum(s.category == s.scenario["category"] for s in searched)
    relabelled = sum(s.relabelled for s in searched)
    rightly = sum(s.relabelled and s.category == s.scenario["category"] for s in searched)
    return tally_of(searched), (f"category right {right}/{len(scenarios)}, relabelled by the "
                                f"proof {relabelled} ({rightly} rightly)")


def model_classify(classifier: MessageClassifier) -> callable:
    def for_scenario(scenario: dict) -> Classify:
        def classify(message: Message, lang: str) -> Classification:
            return classifier.classifications([message])[0]
        return classify
    return for_scenario


def given(paths: list[Path]) -> list[dict]:
    """The scenarios of files (or folders of .jsonl files) written elsewhere, checked
    against the brief; exits with a line for each problem when there are any."""
    files = sorted({f for p in paths for f in (p.glob("*.jsonl") if p.is_dir() else [p])})
    scenarios, problems = [], []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            sys.exit(f"{path}: cannot read it as UTF-8 text ({exc})")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                scenario = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not JSON ({exc.msg})")
                continue
            name = scenario.get("id", "?") if isinstance(scenario, dict) else "?"
            problems += [f"{path}:{number} ({name}): {problem}"
                         for problem in brief_breaches(scenario, example_only=False)]
            scenarios.append(scenario)
    ids = Counter(s["id"] for s in scenarios if isinstance(s, dict) and "id" in s)
    problems += [f"the id {i!r} is used more than once"
                 for i, n in sorted(ids.items()) if n > 1]
    if not files:
        problems.append("no .jsonl file there")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(f"{len(problems)} problem(s) in the scenarios; nothing was scored "
                 "(the format is in corpus/evidence_scenarios/BRIEF.md)")
    return scenarios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    parser.add_argument("--no-write", action="store_true", help="do not write the results")
    parser.add_argument("--gold-only", action="store_true", help="skip the model's categories")
    parser.add_argument("--scenarios", metavar="PATH", nargs="+", type=Path,
                        help="score these scenario files or folders (written elsewhere) "
                        "instead of the project's sets; never writes the results")
    args = parser.parse_args()
    sets = {"given": args.scenarios} if args.scenarios else SETS
    scenarios_of = {"given": given(args.scenarios)} if args.scenarios else {}
    classifier = None if args.gold_only else MessageClassifier()
    lines = [f"evidence search on "
             f"{'the given scenarios' if args.scenarios else 'corpus/evidence_scenarios'} "
             f"({machine()})"]
    for name, patterns in sets.items():
        if name in scenarios_of:
            scenarios = scenarios_of[name]
        else:
            scenarios = load(files(patterns))
        modes = [("gold category", None)]
        if classifier is not None:
            modes.append(("model's category", model_classify(classifier)))
        for mode, classify_for in modes:
            tally, categories = run(scenarios, classify_for)
            lines.append(f"{name:24s} {mode:17s} {tally.line()}")
            if not name.startswith("tuning"):
                # What 64 scenarios can tell apart: the tuning set is not a measurement.
                lines.append(f"{'':42s} {tally.interval_line()}")
            lines.append(f"{'':42s} {tally.leads_line()}")
            if classify_for is not None:
                lines.append(f"{'':42s} {categories}")
            if args.verbose and not name.startswith("measured"):
                # Misses are listed for the tuning set and given scenarios only: the
                # measured set stays unseen.
                lines += [f"    {e}" for e in tally.errors]
    publish("evidence.txt", lines,
            write=not args.no_write and not args.verbose and not args.scenarios)


if __name__ == "__main__":
    main()
