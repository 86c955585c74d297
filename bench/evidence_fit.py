"""Fit the evidence ranking's feature weights on the tuning scenarios.

Every candidate of every tuning scenario (stored and searched as the service does,
with the complaint's gold category) becomes one row: the features of
triage/evidence.py's ranking, and whether the scenario's answer key names it as
proof. A logistic regression on those rows gives a weight per feature and a bias;
they are printed rounded, with the weights now in triage/evidence.py beside them,
and the cross-validated precision and recall of both (5 folds by scenario) at the
threshold the ranking uses.

The measured scenarios (en.jsonl, holdout_*.jsonl) are never read here.

Run: .venv/bin/python bench/evidence_fit.py [--C 1.0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from scenarios import SCENARIOS, load, store_scenario  # noqa: E402

from triage import evidence  # noqa: E402
from triage.evidence import EvidenceFinder  # noqa: E402

TUNING = ["es_pt.jsonl", "tune_*.jsonl"]


def rows() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Feature names, the feature matrix, the answer (1 = proof), the scenario
    index of every candidate in the tuning scenarios, and each scenario's bar
    (the ranking's threshold for its category)."""
    paths = sorted({p for pattern in TUNING for p in SCENARIOS.glob(pattern)})
    scenarios = load(paths)
    names = sorted(set(evidence.WEIGHTS) | {"linked"})
    matrix, answer, group, bars = [], [], [], []
    finder = EvidenceFinder()
    for index, scenario in enumerate(scenarios):
        bars.append(evidence._THRESHOLD[scenario["category"]])
        with tempfile.TemporaryDirectory() as tmp:
            stored = store_scenario(scenario, Path(tmp))
            row = stored.rows[scenario["complaint"]]
            found = finder.complaint(stored.store, row)
            assert found is not None
            complaint = found[1]
            candidates = finder.candidates(stored.store, complaint)
            scored = evidence.score(complaint, candidates, finder.profiles(candidates))
            by_row = {r: k for k, r in stored.rows.items()}
            for item in scored:
                matrix.append([item.features.get(n, 0.0) for n in names])
                answer.append(by_row[item.candidate.row] in scenario["proof"])
                group.append(index)
            stored.store.close()
    print(f"{len(scenarios)} tuning scenarios from {', '.join(p.name for p in paths)}; "
          f"{len(answer)} candidates, {sum(answer)} of them proof")
    return names, np.array(matrix), np.array(answer), np.array(group), np.array(bars)


def cited(scores: np.ndarray, group: np.ndarray, threshold: np.ndarray,
          behind: float, linked: np.ndarray) -> np.ndarray:
    """Which candidates the ranking's rule would cite: at least the scenario's
    threshold, and no more than ``behind`` under its best or linked to the best;
    at most three."""
    chosen = np.zeros(len(scores), dtype=bool)
    for g in np.unique(group):
        index = np.flatnonzero(group == g)
        order = index[np.argsort(-scores[index])]
        best = scores[order[0]]
        keep = [i for i in order
                if scores[i] >= threshold[g] and (scores[i] >= best - behind or linked[i])]
        chosen[keep[:evidence.MAX_EVIDENCE]] = True
    return chosen


def report(label: str, chosen: np.ndarray, answer: np.ndarray, group: np.ndarray) -> None:
    hits = int((chosen & answer).sum())
    precision = hits / chosen.sum() if chosen.sum() else 1.0
    recall = hits / answer.sum() if answer.sum() else 1.0
    no_proof = [g for g in np.unique(group) if not answer[group == g].any()]
    citing = sum(bool(chosen[group == g].any()) for g in no_proof)
    print(f"{label:36s} precision@3 {precision:.3f}  recall@3 {recall:.3f}  "
          f"no-proof citing {citing}/{len(no_proof)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation")
    args = parser.parse_args()
    names, x, y, group, bars = rows()
    linked = x[:, names.index("linked")] > 0
    fitted = LogisticRegression(C=args.C, max_iter=5000).fit(x, y)
    print(f"{'feature':16s} {'fitted':>7s} {'now':>7s}")
    for name, weight in zip(names, fitted.coef_[0], strict=True):
        now = evidence.WEIGHTS.get(name, evidence._LINKED if name == "linked"
                                   else 0.0)
        print(f"{name:16s} {weight:7.2f} {now:7.2f}")
    print(f"{'bias':16s} {fitted.intercept_[0]:7.2f} {evidence._BIAS:7.2f}")

    # The weights now in the code, on all the tuning rows.
    current = np.array([evidence.WEIGHTS.get(n, evidence._LINKED) for n in names])
    now_scores = x @ current + evidence._BIAS
    report("weights now, all tuning",
           cited(now_scores, group, bars, evidence._BEHIND, linked), y, group)
    # Fitted weights, cross-validated by scenario, at log-odds 0 (probability 0.5).
    folds = GroupKFold(n_splits=5)
    out_of_fold = np.zeros(len(y))
    for train, test in folds.split(x, y, group):
        model = LogisticRegression(C=args.C, max_iter=5000).fit(x[train], y[train])
        out_of_fold[test] = model.decision_function(x[test])
    for threshold in (-1.0, -0.5, 0.0, 0.5):
        report(f"fitted, 5-fold by scenario, >= {threshold:+.1f}",
               cited(out_of_fold, group, bars + threshold, evidence._BEHIND, linked), y, group)


if __name__ == "__main__":
    main()
