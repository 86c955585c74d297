"""How often a second, blind keyer names the same proof as the scenarios' writers.

Four keyers who had seen neither the answer keys nor the project's code keyed the
measured set (en.jsonl, holdout_*.jsonl) and wave 12 (tune_w12*.jsonl) again from
the rules in corpus/agreement/briefs/evidence_keying.md, with the keys removed:
corpus/agreement/evidence_second_keys.jsonl. Their keys scored against the writers'
keys, as the search is scored (precision and recall at 3, no-proof citing), say how
far the writers' keys are a matter of judgement; the search (gold category) is
scored against both keys.

Run: .venv/bin/python bench/evidence_agreement.py   (writes bench/results/evidence_agreement.txt)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from benchlib import Tally, machine, publish  # noqa: E402
from evidence import search, tally_of  # noqa: E402
from scenarios import files, load  # noqa: E402

SECOND = HERE.parent / "corpus" / "agreement" / "evidence_second_keys.jsonl"
SETS = {"measured (en + holdout)": ["en.jsonl", "holdout_*.jsonl"],
        "wave 12 (tune_w12*)": ["tune_w12*.jsonl"]}


def main() -> None:
    lines = SECOND.read_text(encoding="utf-8").splitlines()
    second = {row["id"]: row["proof"] for row in map(json.loads, lines) if row}
    out = [f"a second, blind keyer against the writers' answer keys ({machine()})"]
    for name, patterns in SETS.items():
        scenarios = load(files(patterns))
        searched = search(scenarios, None)
        keyer = Tally()
        for scenario in scenarios:
            keyer.add(scenario["id"], second[scenario["id"]][:3], scenario["proof"], [])
        same = sum(sorted(second[s["id"]]) == sorted(s["proof"]) for s in scenarios)
        out += [f"{name}: {len(scenarios)} scenarios, the same proof in {same}",
                f"  the second keyer, against the writers' keys:  {keyer.line()}",
                f"  the search, against the writers' keys:        {tally_of(searched).line()}",
                f"  the search, against the second keyer's keys:  "
                f"{tally_of(searched, second).line()}"]
    publish("evidence_agreement.txt", out)


if __name__ == "__main__":
    main()
