"""Fit the evidence search's learned ranker on the tuning scenarios.

Every candidate of every tuning scenario (stored and searched as the service does,
with the complaint's gold category) becomes one row of the ranker's features
(triage/proof.py) and whether the scenario's answer key names it as proof. The
ranker, a small gradient-boosted tree ensemble, is cross-validated by scenario
(5 folds, over 5 shufflings of the scenarios); the four bars of the citing rule
(evidence.cite: the likeliest candidate must reach the first, the others of its
matter the second, any other the third; below the first, the likeliest is still
cited at the fourth, "together", when another of its matter reaches the second) are
chosen where the cross-validated F1
of precision and recall at 3 is highest among the bars that cite something in at
most 1 in 10 of the scenarios with no proof (the project's target), and the ranker
is then fitted on every tuning scenario. Bars whose F1 is within the spread between
shufflings of the best one's count as tied with it, and the most precise of those is
chosen: citing an unrelated notice is worse than citing nothing. The word
frequencies its "rare words" feature reads are counted on the client messages of
the classification corpus (corpus/*.jsonl).

The tuning scenarios are es_pt.jsonl, tune_*.jsonl and full_tune_*.jsonl (copies of some
tuning waves with every distractor written as fully as the proof, so that the ranker
cannot learn that the longer notice is the proof). The measured scenarios (en.jsonl,
holdout_*.jsonl and their full_ copies) are never read here.

Run: .venv/bin/python bench/evidence_fit.py [--write] [--hold PATTERN]
  --write  writes models/proof.npz and models/proof.json.gz (the shipped ranker)
           and bench/results/evidence_fit.txt
  --hold 'tune_w7*.jsonl'  fits on the other tuning files as above and scores the
           held ones, as they were scored before they joined the tuning set
           (writes bench/results/evidence_hold_w7.txt); add --leave-out 'tune_w7*.jsonl'
           to --hold 'tune_w6*.jsonl' to score wave 6 as it was before wave 7 came
  --leave-out 'tune_w1*.jsonl'  leaves those tuning files out of the fit; with
           --leave-out 'full_tune_*.jsonl' too and --write it writes the ranker shipped
           today, fitted before waves 10 and 11 (README, "Evidence")
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from benchlib import Tally, machine, publish  # noqa: E402
from scenarios import files, load, store_scenario, wave_of  # noqa: E402

from triage import evidence, proof  # noqa: E402
from triage.corpus import default_corpus_files, load_examples  # noqa: E402
from triage.evidence import EvidenceFinder, Profile, Scored  # noqa: E402
from triage.nlp import fold  # noqa: E402

TUNING = ["es_pt.jsonl", "tune_*.jsonl", "full_tune_*.jsonl"]
FIRST_BARS = (0.5, 0.6, 0.7, 0.8, 0.9)
# The most the chosen bars may cite in scenarios that have no proof.
NO_PROOF_CITING = 0.10
FURTHER_BARS = (0.3, 0.4, 0.5, 0.6)
ALONE_BARS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# Bars below the first one for a best backed by another of its matter (the first
# bar itself, also tried, means no such rule).
TOGETHER_BARS = (0.4, 0.5, 0.6)
# How many of the best bars the results list (and the best where ``alone`` is ``further``).
LISTED = 12
SHUFFLES = 5
# Words found in fewer client messages than this are left out of the counts (they
# are rare either way) so that the shipped table stays small.
MIN_COUNT = 2


# More of what a notice shares with the complaint never makes it less likely proof,
# and more against it never more likely: a direction for the features that have one
# (the trees then follow the few examples of a rare feature, such as the complaint
# being a reply to the notice, the way the common ones go).
RISING = {"answered", "event_before", "linked", "same_amount", "same_code", "same_date",
          "matter", "most_about", "rarest_words", "most_spellings",
          "same_thread", "to_complainant", "topics", "type_fit", "words", "hand_score",
          "rare_words", "spellings"}
FALLING = {"marketing", "other_code", "receipt", "behind_best"}


def machine_learner() -> HistGradientBoostingClassifier:
    directions = [1 if f in RISING else -1 if f in FALLING else 0 for f in proof.FEATURES]
    return HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=200,
                                          min_samples_leaf=10, random_state=0,
                                          monotonic_cst=directions)


@dataclass
class Case:
    """One tuning scenario as the ranker sees it."""

    scenario: str
    category: str
    own: Profile
    scored: list[Scored]
    keys: list[str]  # each candidate's key in the scenario
    proof: list[str]
    wave: str = ""  # the wave of its file: "w7" for tune_w7en.jsonl, "earlier" before w5
    file: str = ""  # the name of its file


def word_counts() -> tuple[Counter[str], int]:
    examples = load_examples(default_corpus_files(HERE.parent / "corpus"))
    counts: Counter[str] = Counter()
    for example in examples:
        counts.update(evidence.words_of(fold(f"{example.subject}\n{example.body}")))
    return Counter({w: n for w, n in counts.items() if n >= MIN_COUNT}), len(examples)


def cases(paths: list[Path], model: proof.ProofModel) -> list[Case]:
    """The scenarios stored and assessed (the ranker's ``model`` is only held by the
    finder, never used: the shipped one need not exist or match)."""
    found = []
    # One finder for all: each scenario is a store of its own, and the finder reads
    # the notices of each store afresh (a scenario's full_ copy has its Message-IDs).
    finder = EvidenceFinder(model=model)
    for path, scenario in ((p, s) for p in paths for s in load([p])):
        with tempfile.TemporaryDirectory() as tmp:
            stored = store_scenario(scenario, Path(tmp))
            search = finder.prepare(stored.store, stored.rows[scenario["complaint"]])
            assert search, f"{scenario['id']}: the complaint gets no search"
            own, scored = evidence.assess(*search)
            by_row = {r: k for k, r in stored.rows.items()}
            stored.store.close()
        found.append(Case(scenario["id"], scenario["category"], own, scored,
                          [by_row[s.candidate.row] for s in scored], scenario["proof"],
                          wave_of(path), path.name))
    print(f"{len(found)} scenarios from {', '.join(p.name for p in paths)}; "
          f"{sum(len(c.scored) for c in found)} candidates", file=sys.stderr)
    return found


Bars = tuple[float, float, float, float]  # first, further, alone, together


def tally(found: list[Case], bars: Bars) -> Tally:
    """Precision and recall at 3 of evidence.cite at these bars, with each
    candidate's ``chance`` already set."""
    first, further, alone, together = bars
    result = Tally()
    for case in found:
        key = {id(s): k for s, k in zip(case.scored, case.keys, strict=True)}
        chosen = evidence.cite(case.scored, case.category, first, further, alone, together)
        result.add(case.scenario, [key[id(s)] for s in chosen], case.proof,
                   [key[id(s)] for s in evidence.leads(case.scored, case.category, chosen)])
    return result


def rows(found: list[Case], model: proof.ProofModel) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for case in found:
        x += evidence.features_of(case.scored, case.own, case.category, model)
        y += [k in case.proof for k in case.keys]
    return np.array(x), np.array(y)


def set_chances(found: list[Case], chances: np.ndarray) -> None:
    rows = iter(chances)
    for case in found:
        for item in case.scored:
            item.chance = float(next(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="write the fitted ranker to models/ and the results file")
    parser.add_argument("--hold", metavar="PATTERN",
                        help="leave these tuning files out (e.g. 'tune_w6*.jsonl'), fit on the "
                        "rest as usual, and score them with the fitted ranker and its bars; "
                        "writes results/evidence_hold_<files>.txt, never the model")
    parser.add_argument("--leave-out", metavar="PATTERN", action="append", default=[],
                        help="leave these tuning files out of the fit (with --hold, to score "
                        "a wave as it was scored before later waves joined)")
    parser.add_argument("--score-only", metavar="PATTERN", action="append", default=[],
                        help="keep these tuning files out of every fit but score them in the "
                        "cross-validation (e.g. 'full_tune_*.jsonl', to see what the ranker "
                        "makes of them without learning from them)")
    args = parser.parse_args()
    counts, documents = word_counts()
    blank = proof.ProofModel(model=None, word_counts=counts, documents=documents, first=1.0,
                             further=1.0, alone=1.0, together=1.0, card={})
    left_out = [*([args.hold] if args.hold else []), *args.leave_out]
    found = cases(files(TUNING, left_out), blank)
    x, y = rows(found, blank)
    sizes = [len(c.scored) for c in found]  # each scenario's rows
    scored_only = {p.name for p in files(args.score_only)}
    learn = np.repeat([c.file not in scored_only for c in found], sizes)
    # A scenario and its copy with full-length distractors (full_*.jsonl) share an id and
    # always fall in the same fold.
    numbers = {name: n for n, name in enumerate(dict.fromkeys(c.scenario for c in found))}
    case_of_row = np.repeat([numbers[c.scenario] for c in found], sizes)

    # Out-of-fold chances, for every shuffling of the scenarios into folds.
    tallies: dict[Bars, list[Tally]] = {}
    out_of_fold = []
    for shuffle in range(SHUFFLES):
        order = np.random.RandomState(shuffle).permutation(len(numbers))
        chances = np.zeros(len(y))
        for train, test in GroupKFold(n_splits=5).split(x, y, order[case_of_row]):
            train = train[learn[train]]
            fitted = machine_learner().fit(x[train], y[train])
            chances[test] = fitted.predict_proba(x[test])[:, 1]
        set_chances(found, chances)
        out_of_fold.append(chances)
        for first, further, alone in itertools.product(FIRST_BARS, FURTHER_BARS, ALONE_BARS):
            for together in (first, *TOGETHER_BARS):
                bars = (first, further, alone, together)
                if further <= min(together, alone) and together <= first:
                    tallies.setdefault(bars, []).append(tally(found, bars))

    def mean(bars: Bars, what: str) -> float:
        return float(np.mean([getattr(t, what) for t in tallies[bars]]))

    allowed = [bars for bars in tallies if mean(bars, "citing") <= NO_PROOF_CITING] or list(
        tallies)
    top = max(allowed, key=lambda bars: mean(bars, "f1"))
    spread = float(np.std([t.f1 for t in tallies[top]]))
    tied = [bars for bars in allowed if mean(bars, "f1") >= mean(top, "f1") - spread]
    best = max(tied, key=lambda bars: (mean(bars, "precision"), mean(bars, "f1")))
    lines = [f"evidence ranker fitted on {len(found)} tuning scenarios, {len(y)} candidates "
             f"({int(y.sum())} proof); word counts from {documents} client messages "
             f"({machine()})",
             f"cross-validated by scenario (5 folds x {SHUFFLES} shufflings), mean over "
             f"shufflings; the chosen bars (see below; no-proof citing at most "
             f"{NO_PROOF_CITING}) are marked *",
             f"the {LISTED} best bars by F1 among those, then the chosen and the best where "
             f"alone = further; "
             f"the F1 of the best varies by {spread:.3f} (standard deviation) between "
             f"shufflings, and the most precise of the bars within that of it is chosen",
             "first  further  alone  together  precision@3  recall@3  F1     "
             "no-proof citing"]
    ranked = sorted(allowed, key=lambda bars: -mean(bars, "f1"))
    one_bar = next((bars for bars in ranked if bars[1] == bars[2]), None)
    listed = ranked[:LISTED] + [b for b in (best, one_bar) if b is not None]
    for bars in dict.fromkeys(listed):
        lines.append(f"{bars[0]:.2f}   {bars[1]:.2f}     {bars[2]:.2f}   {bars[3]:.2f}      "
                     f"{mean(bars, 'precision'):.3f}        "
                     f"{mean(bars, 'recall'):.3f}     {mean(bars, 'f1'):.3f}  "
                     f"{mean(bars, 'citing'):.3f}"
                     f"{'  *' if bars == best else ''}")
    per_scenario = mean(best, "leads") / len(found)
    lines.append(f"at the chosen bars, the leads (not cited, at least {evidence.LEAD_CHANCE} "
                 f"likely, at most {evidence.MAX_LEADS}): {per_scenario:.2f} per scenario, "
                 f"{mean(best, 'leads_right') / max(mean(best, 'leads'), 1):.3f} of them proof; "
                 f"proof cited or a lead {mean(best, 'seen'):.3f}; no-proof scenarios showing "
                 f"either {mean(best, 'no_proof_shown') / max(mean(best, 'no_proof'), 1):.3f}")
    lines.append("at the chosen bars, by wave of scenarios:")
    for wave in sorted({c.wave for c in found}):
        members = [c for c in found if c.wave == wave]
        by_shuffle = []
        for chances in out_of_fold:
            set_chances(found, chances)
            by_shuffle.append(tally(members, best))
        figures = [float(np.mean([getattr(t, what) for t in by_shuffle]))
                   for what in ("precision", "recall", "citing")]
        lines.append(f"  {wave:8s} {len(members):3d} scenarios  precision@3 {figures[0]:.3f}  "
                     f"recall@3 {figures[1]:.3f}  no-proof citing {figures[2]:.3f}")
    fitted = machine_learner().fit(x[learn], y[learn])
    if args.hold:
        held = cases(files([args.hold]), blank)
        held_x, _ = rows(held, blank)
        set_chances(held, fitted.predict_proba(held_x)[:, 1])
        scored = tally(held, best)
        lines += [f"held out: {args.hold}, scored by the ranker fitted on the rest with the "
                  f"chosen bars (gold category)",
                  f"  {scored.line()}", f"  {scored.leads_line()}"]
        name = re.sub(r"[^a-z0-9]+", "_", args.hold.removeprefix("tune_").removesuffix(
            ".jsonl")).strip("_")
        publish(f"evidence_hold_{name}.txt", lines)
        return
    publish("evidence_fit.txt", lines, write=args.write)
    if args.write:
        card = {"tuning_scenarios": len(found), "candidates": len(y),
                "cross_validated": {"precision": round(mean(best, "precision"), 3),
                                    "recall": round(mean(best, "recall"), 3),
                                    "no_proof_citing": round(mean(best, "citing"), 3)}}
        model = replace(blank, model=fitted, first=best[0], further=best[1], alone=best[2],
                        together=best[3], card=card)
        proof.save(model, proof.default_dir())
        print(f"wrote {proof.default_dir() / proof.MODEL_FILE} (bars: first {best[0]}, "
              f"further {best[1]}, alone {best[2]}, together {best[3]})")


if __name__ == "__main__":
    main()
