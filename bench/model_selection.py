"""Choosing the classifier's settings by cross-validation inside the training side.

Every setting is scored by 5-fold cross-validation grouped by the corpus's group
ids, on the training side of the split only: the held-out groups are not looked
at here, so the figures reported for them stay honest. Each fold's model is
fitted as ``triage train`` fits the shipped one (its probabilities calibrated by
folds inside the fold's training side) and judged by its most probable category.

Run: .venv/bin/python bench/model_selection.py [--jobs N]
Writes bench/results/model_selection.txt.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchlib import RESULTS  # noqa: E402

from triage.classifier import Prepared, predict  # noqa: E402
from triage.corpus import default_corpus_files, load_examples, split  # noqa: E402
from triage.fitting import TriageClassifier  # noqa: E402
from triage.nlp import TextAnalyzer  # noqa: E402
from triage.training import prepare_examples  # noqa: E402


class LogisticCategory(TriageClassifier):  # type: ignore[misc]
    """The category model triage shipped before: a multinomial logistic regression
    (C=20) on the text features and the style signals together."""

    def fit(self, docs: Sequence[Prepared], labels: Sequence[str], hostility: Sequence[int],
            sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> LogisticCategory:
        super().fit(docs, labels, hostility, groups=groups)
        self.logistic_ = LogisticRegression(C=20.0, max_iter=3000).fit(
            sp.hstack(self._features(docs), format="csr"), list(labels))
        return self

    def categories(self, docs: Sequence[Prepared]) -> list[str]:
        return [str(label) for label in self.logistic_.predict(
            sp.hstack(self._features(docs), format="csr"))]


class StyleInCategory(TriageClassifier):  # type: ignore[misc]
    """The chosen model with the style signals among the category's features too."""

    def _features(self, docs: Sequence[Prepared]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        text, style = super()._features(docs)
        return sp.hstack([text, style], format="csr"), style


def _labels_of(model: TriageClassifier, docs: Sequence[Prepared]) -> list[str]:
    if isinstance(model, LogisticCategory):
        return model.categories(docs)
    return [p.category for p in predict(model, docs)]


# (what is compared, model class, parameters). The first corpus (2,580 messages)
# chose concepts=True over its alternative; character 3-5 grams were chosen over
# 2-5 on the second wave (a third less time, within one standard deviation).
SETTINGS: list[tuple[str, type[TriageClassifier], dict[str, Any]]] = [
    ("logistic regression on text and style (the model before)", LogisticCategory,
     {"char_weight": 1.0, "surface_weight": 0.0}),
    ("linear SVM on lemmas and characters", TriageClassifier, {"surface_weight": 0.0}),
    ("linear SVM, plus words as written (the chosen model)", TriageClassifier, {}),
    ("  with the style signals in the category model too", StyleInCategory, {}),
    ("  C=0.5", TriageClassifier, {"C": 0.5}),
    ("  C=2", TriageClassifier, {"C": 2.0}),
    ("  characters weighed 0.6", TriageClassifier, {"char_weight": 0.6}),
    ("  characters weighed 1.0", TriageClassifier, {"char_weight": 1.0}),
    ("  words as written weighed 0.5", TriageClassifier, {"surface_weight": 0.5}),
    ("  words as written weighed 1.0", TriageClassifier, {"surface_weight": 1.0}),
]


def _fold(kind: type[TriageClassifier], params: dict[str, Any], docs: list[Prepared],
          labels: np.ndarray, hostility: np.ndarray, groups: list[str],
          train: np.ndarray, test: np.ndarray) -> tuple[float, float]:
    model = kind(**params).fit([docs[i] for i in train], labels[train], hostility[train],
                               groups=[groups[i] for i in train])
    tested = [docs[i] for i in test]
    guess = _labels_of(model, tested)
    levels = [p.hostility for p in predict(model, tested)]
    return (float(f1_score(labels[test], guess, average="macro")),
            float(np.mean(np.abs(hostility[test] - levels) <= 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="folds fitted at once (default 2)")
    args = parser.parse_args()
    corpus = HERE.parent / "corpus"
    examples = load_examples(default_corpus_files(corpus))
    training, _ = split(examples)
    docs = prepare_examples(training, TextAnalyzer())
    labels = np.array([e.label for e in training])
    hostility = np.array([e.hostility for e in training])
    groups = [e.group for e in training]
    folds = list(GroupKFold(n_splits=5).split(docs, labels, groups))
    lines = [f"5-fold group cross-validation on {len(training)} training messages "
             f"({time.strftime('%Y-%m-%d')}); macro-F1 mean ± standard deviation over the "
             "folds", ""]
    for name, kind, params in SETTINGS:
        started = time.perf_counter()
        scores = Parallel(n_jobs=args.jobs)(
            delayed(_fold)(kind, params, docs, labels, hostility, groups, train, test)
            for train, test in folds)
        f1s, within = np.array(scores).T
        line = (f"{name}: macro-F1 {np.mean(f1s):.3f} ± {np.std(f1s):.3f}, hostility within "
                f"one {np.mean(within):.3f} ({time.perf_counter() - started:.0f} s)")
        print(line, flush=True)
        lines.append(line)
    # The settings' lines were printed as they came; the file gets them all.
    (RESULTS / "model_selection.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
