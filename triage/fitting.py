"""Fitting the category and hostility models with scikit-learn.

``TriageClassifier`` follows the scikit-learn conventions (parameters in
``__init__``, ``fit`` returns self, fitted attributes end in ``_``); what it learnt
is handed on as a ``textmodel.TextModel``, which reads messages without
scikit-learn. Its own ``predict_both`` is scikit-learn's reading of the same
features: the reference the text model is tested against, and what the
experiments in ``bench/model_selection.py`` change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC

from triage.classifier import Prepared
from triage.terms import Terms
from triage.textmodel import ANALYZERS, TextModel, Vocabulary, probabilities


class TriageClassifier(BaseEstimator):  # type: ignore[misc]
    """Category (calibrated probabilities over ``LABELS``) and hostility (0-3 score)."""

    def __init__(self, C: float = 1.0, hostility_alpha: float = 1.0, min_df: int = 2,
                 char_ngrams: tuple[int, int] = (3, 5), style_weight: float = 1.0,
                 concepts: bool = True, char_weight: float = 0.8,
                 surface_weight: float = 0.7) -> None:
        self.C = C
        self.concepts = concepts
        self.char_weight = char_weight
        self.hostility_alpha = hostility_alpha
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.style_weight = style_weight
        self.surface_weight = surface_weight

    def fit(self, docs: Sequence[Prepared], labels: Sequence[str], hostility: Sequence[int],
            sample_weight: Sequence[float] | None = None,
            groups: Sequence[str] | None = None) -> TriageClassifier:
        """Fit both models. ``sample_weight`` weighs each document in the category model
        only (a provider's correction counts as many corpus messages): the hostility
        of a corrected message is the model's own guess, which it must not learn harder.
        The vocabularies and their IDF are fitted unweighted. ``groups`` (the corpus's
        group ids) keep variants of one situation on one side of the folds that
        calibrate the probabilities; without them the folds are by category."""
        common = {"lowercase": False, "min_df": self.min_df, "sublinear_tf": True,
                  "dtype": np.float32}
        self.word_ = _vectorizer("word", (1, 2), **common)
        self.surface_ = _vectorizer("surface", (1, 3), **common)
        self.char_ = _vectorizer("char", tuple(self.char_ngrams), max_features=150_000,
                                 **common)
        self.style_ = MaxAbsScaler()
        self.word_.fit(self._words(docs))
        self.surface_.fit([d.chars for d in docs])
        self.char_.fit([d.chars for d in docs])
        self.style_.fit(np.array([d.style for d in docs], dtype=np.float32))
        text, style = self._features(docs)
        y = np.asarray(labels)
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.category_ = _machine(self.C).fit(text, y, sample_weight=weight)
        # Single precision, like the features: half the model file, and the scores
        # move by less than a millionth.
        self.category_.coef_ = self.category_.coef_.astype(np.float32)
        held_out = self._held_out_scores(text, y, weight, groups)
        # Unweighted: a correction weighs in what the machine learns, but one message
        # must not move how every score is read. A set too small to fold keeps the
        # plain softmax: fitted on the machine's own training scores, the temperature
        # would make every confidence 1.
        self.temperature_ = (1.0 if held_out is None
                             else _temperature(*held_out, self.category_.classes_))
        self.hostility_ = Ridge(alpha=self.hostility_alpha)
        self.hostility_.fit(sp.hstack([text, style], format="csr"),
                            np.array(hostility, dtype=np.float32))
        return self

    def _held_out_scores(self, text: sp.csr_matrix, y: np.ndarray,
                         weight: np.ndarray | None, groups: Sequence[str] | None
                         ) -> tuple[np.ndarray, np.ndarray] | None:
        """Scores for documents from machines not trained on them (up to five folds),
        in the order of ``category_.classes_``, and those documents' labels. A fold
        whose training side holds one category is left out; None when no fold can
        be made (one group, or without groups a category of one message)."""
        if groups is not None:
            n_folds = min(5, len(set(groups)))
            folds = GroupKFold(n_splits=n_folds).split(text, y, groups) if n_folds > 1 else None
        else:
            n_folds = min(5, int(min(np.unique(y, return_counts=True)[1])))
            folds = (StratifiedKFold(n_splits=n_folds).split(text, y) if n_folds > 1
                     else None)
        if folds is None:
            return None
        scores = np.empty((len(y), len(self.category_.classes_)), dtype=np.float64)
        scored = np.zeros(len(y), dtype=bool)
        for train, test in folds:
            if len(np.unique(y[train])) < 2:
                continue
            machine = _machine(self.C).fit(
                text[train], y[train], sample_weight=None if weight is None else weight[train])
            scores[test] = _scores(machine, text[test], self.category_.classes_)
            scored[test] = True
        return (scores[scored], y[scored]) if scored.any() else None

    def _features(self, docs: Sequence[Prepared]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The text features (both models) and the scaled style signals (hostility)."""
        style = self.style_.transform(np.array([d.style for d in docs], dtype=np.float32))
        chars = [d.chars for d in docs]
        text = sp.hstack([
            self.word_.transform(self._words(docs)),
            self.surface_.transform(chars) * self.surface_weight,
            self.char_.transform(chars) * self.char_weight,
        ], format="csr")
        return text, sp.csr_matrix(style * self.style_weight)

    def _words(self, docs: Sequence[Prepared]) -> list[str]:
        if self.concepts:
            return [f"{d.lemmas} {d.concepts}" for d in docs]
        return [d.lemmas for d in docs]

    def predict_both(self, docs: Sequence[Prepared]) -> tuple[np.ndarray, np.ndarray]:
        """Category probabilities (in the order of ``LABELS``) and hostility scores,
        from one pass over the features."""
        text, style = self._features(docs)
        scores = _scores(self.category_, text, self.category_.classes_)
        proba = probabilities(scores, self.temperature_, list(self.category_.classes_))
        hostility = self.hostility_.predict(sp.hstack([text, style], format="csr"))
        return proba, np.clip(np.asarray(hostility, dtype=np.float64), 0, 3)

    def text_model(self) -> TextModel:
        """What was learnt, as the arrays ``TextModel`` reads messages with."""
        vocabularies = []
        for name, vectorizer, weight in (("word", self.word_, 1.0),
                                         ("surface", self.surface_, self.surface_weight),
                                         ("char", self.char_, self.char_weight)):
            terms = [""] * len(vectorizer.vocabulary_)
            for term, index in vectorizer.vocabulary_.items():
                terms[index] = term
            vocabularies.append(Vocabulary(
                name=name, analyzer=vectorizer.analyzer,
                pattern=vectorizer.token_pattern if vectorizer.analyzer == "word" else None,
                ngrams=tuple(vectorizer.ngram_range), terms=Terms(terms),
                idf=np.asarray(vectorizer.idf_, dtype=np.float32), weight=float(weight)))
        params = self.get_params()
        params["char_ngrams"] = list(params["char_ngrams"])
        return TextModel(
            params=params, vocabularies=tuple(vocabularies), concepts=bool(self.concepts),
            classes=tuple(str(c) for c in self.category_.classes_),
            category_coef=np.asarray(self.category_.coef_, dtype=np.float32),
            category_intercept=np.asarray(self.category_.intercept_, dtype=np.float64),
            temperature=float(self.temperature_),
            style_scale=np.asarray(self.style_.scale_, dtype=np.float64),
            style_weight=float(self.style_weight),
            hostility_coef=np.asarray(self.hostility_.coef_, dtype=np.float32),
            hostility_intercept=float(self.hostility_.intercept_))


def _vectorizer(name: str, ngrams: tuple[int, ...], **settings: Any) -> TfidfVectorizer:
    analyzer, pattern = ANALYZERS[name]
    return TfidfVectorizer(analyzer=analyzer, token_pattern=pattern, ngram_range=ngrams,
                           **settings)


def _machine(C: float) -> LinearSVC:
    # A fixed seed: the solver visits the documents in a random order, and the same
    # corpus should give the same model.
    return LinearSVC(C=C, random_state=0)


def _scores(machine: LinearSVC, text: sp.csr_matrix, classes: np.ndarray) -> np.ndarray:
    """``machine``'s scores in the columns of ``classes``; a class it was not trained
    on scores below every other class of that document."""
    got = np.asarray(machine.decision_function(text), dtype=np.float64)
    if got.ndim == 1:  # a two-class machine gives one column, positive for the second
        got = np.column_stack([-got, got])
    if list(machine.classes_) == list(classes):
        return got
    scores = np.repeat(got.min(axis=1, keepdims=True) - 1.0, len(classes), axis=1)
    for column, label in enumerate(machine.classes_):
        scores[:, list(classes).index(label)] = got[:, column]
    return scores


def _temperature(scores: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> float:
    """The one factor that makes softmax(factor * scores) the most likely reading of
    these held-out scores (least log loss): one number, so the category stays the
    machine's highest score and only the confidence is tuned."""
    truth = np.searchsorted(classes, labels)
    rows = np.arange(len(truth))

    def loss(factor: float) -> float:
        return float(-log_softmax(factor * scores, axis=1)[rows, truth].mean())

    return float(minimize_scalar(loss, bounds=(0.01, 100.0), method="bounded").x)
