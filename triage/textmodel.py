"""The fitted category and hostility models as plain arrays, read with NumPy alone.

``classifier.TriageClassifier`` is fitted with scikit-learn; what it learnt is three
TF-IDF vocabularies with their weights, one linear machine per category, a
temperature and one ridge regression, all of them a few arrays. Reading a message
needs only those arrays: without scikit-learn, SciPy and skops to import, the first
result of ``triage classify`` comes about a second sooner (``bench/classify_speed.py``).
``tests/test_classifier.py`` checks that the features and scores here are the ones
scikit-learn computes from the same fitted objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from triage.corpus import LABELS
from triage.terms import Terms

# The vocabularies, in column order, and how each cuts its text (scikit-learn's
# analyzer and token pattern): the lemmas and concepts, the words as written, and
# character n-grams within words. The fitting builds its vectorizers with these,
# and a model file naming others is refused.
CHARACTERS = "char_wb"
ANALYZERS: dict[str, tuple[str, str | None]] = {
    "word": ("word", r"\S+"), "surface": ("word", r"(?u)\b\w+\b"), "char": (CHARACTERS, None)}


class Document(Protocol):
    """What the models read of a message (``classifier.Prepared``)."""

    @property
    def lemmas(self) -> str: ...

    @property
    def concepts(self) -> str: ...

    @property
    def chars(self) -> str: ...

    @property
    def style(self) -> tuple[float, ...]: ...


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One TF-IDF vocabulary: its terms in column order, their inverse document
    frequencies, how text is cut into terms, and the weight of its block."""

    name: str  # "word" (lemmas and concepts), "surface" or "char" (the folded text)
    analyzer: str  # "word" or "char_wb"
    pattern: str | None  # the token pattern of a word analyzer
    ngrams: tuple[int, int]
    terms: Terms  # each term at its column
    idf: np.ndarray
    weight: float
    # Each word's known character n-grams, as columns: words recur from message to
    # message, and cutting them again was a third of the time to read one.
    _by_word: dict[str, tuple[int, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def columns(self, text: str) -> list[int]:
        """The column of every known term of ``text``, repeated as often as it occurs."""
        low, high = self.ngrams
        if self.analyzer == CHARACTERS:
            words = text.split()
            kept = self._by_word
            known = {word: kept[word] for word in words if word in kept}
            new = [word for word in dict.fromkeys(words) if word not in known]
            if new:
                grams = [list(_character_ngrams(word, low, high)) for word in new]
                places = self.terms.positions([g for cut in grams for g in cut])
                if len(kept) + len(new) > _WORDS_KEPT:
                    kept.clear()
                at = 0
                for word, cut in zip(new, grams, strict=True):
                    kept[word] = known[word] = tuple(
                        place for place in places[at:at + len(cut)] if place >= 0)
                    at += len(cut)
            found: list[int] = []
            for word in words:
                found += known[word]
            return found
        tokens = re.findall(self.pattern or "", text)
        places = self.terms.positions([" ".join(tokens[start:start + n])
                                       for n in range(low, high + 1)
                                       for start in range(len(tokens) - n + 1)])
        return [place for place in places if place >= 0]

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The columns and values of ``text``'s row: 1 + log of each known term's
        count, times its IDF, scaled to unit length, times the block's weight."""
        columns, counts = np.unique(np.array(self.columns(text), dtype=np.int64),
                                    return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf[columns]
        length = float(np.sqrt(values @ values))
        if length > 0:
            values *= self.weight / length
        return columns, values


# Words whose character n-grams are kept (then all are forgotten at once).
_WORDS_KEPT = 20_000


def _character_ngrams(word: str, low: int, high: int) -> Iterator[str]:
    """The n-grams of ``word`` padded with a space on each side; a word shorter than
    n gives itself once and no longer n-grams."""
    padded = f" {word} "
    for n in range(low, high + 1):
        yield padded[:n]
        if len(padded) <= n:
            break
        for start in range(1, len(padded) - n + 1):
            yield padded[start:start + n]


@dataclass(frozen=True, slots=True)
class TextModel:
    """The fitted models: categories (a linear machine per class, its scores made
    probabilities by a softmax with one temperature) and hostility (a ridge
    regression on the same text features and the scaled style signals)."""

    params: dict[str, Any]  # the TriageClassifier parameters it was fitted with
    vocabularies: tuple[Vocabulary, ...]  # in the order of the feature columns
    concepts: bool  # the word vocabulary reads the concept tokens after the lemmas
    classes: tuple[str, ...]  # the category machines' classes, in their order
    category_coef: np.ndarray  # one row per machine (one for two classes)
    category_intercept: np.ndarray
    temperature: float
    style_scale: np.ndarray  # the largest absolute value of each style signal (0 -> 1)
    style_weight: float
    hostility_coef: np.ndarray  # text columns, then the style signals
    hostility_intercept: float

    def features(self, doc: Document) -> tuple[np.ndarray, np.ndarray]:
        """The columns and values of a message's text features."""
        columns, values, offset = [], [], 0
        for vocabulary in self.vocabularies:
            text = doc.chars
            if vocabulary.name == "word":
                text = f"{doc.lemmas} {doc.concepts}" if self.concepts else doc.lemmas
            found, weights = vocabulary.row(text)
            columns.append(found + offset)
            values.append(weights)
            offset += len(vocabulary.terms)
        return np.concatenate(columns), np.concatenate(values)

    @property
    def width(self) -> int:
        return sum(len(v.terms) for v in self.vocabularies)

    def predict_both(self, docs: Sequence[Document]) -> tuple[np.ndarray, np.ndarray]:
        """Category probabilities (in the order of ``LABELS``; 0 for a label the
        machines never saw) and hostility scores (0-3)."""
        scores = np.empty((len(docs), len(self.classes)), dtype=np.float64)
        hostility = np.empty(len(docs), dtype=np.float64)
        width = self.width
        for i, doc in enumerate(docs):
            columns, values = self.features(doc)
            got = self.category_coef[:, columns].astype(np.float64) @ values
            got += self.category_intercept
            # A two-class machine gives one score, positive for the second class.
            scores[i] = [-got[0], got[0]] if len(got) == 1 else got
            style = np.asarray(doc.style, dtype=np.float64) / self.style_scale
            hostility[i] = (self.hostility_coef[columns].astype(np.float64) @ values
                            + self.hostility_coef[width:].astype(np.float64)
                            @ (style * self.style_weight) + self.hostility_intercept)
        return probabilities(scores, self.temperature, self.classes), np.clip(hostility, 0, 3)


def probabilities(scores: np.ndarray, temperature: float, classes: Sequence[str]
                  ) -> np.ndarray:
    """The machines' ``scores`` (columns in the order of ``classes``) as probabilities
    in the order of ``LABELS``: a softmax with the temperature, computed from each
    row's highest score so it cannot overflow; 0 for a label the machines never saw."""
    shifted = np.exp(temperature * (scores - scores.max(axis=1, keepdims=True)))
    proba = shifted / shifted.sum(axis=1, keepdims=True)
    known = list(classes)
    return np.column_stack([proba[:, known.index(label)] if label in known
                            else np.zeros(len(scores)) for label in LABELS])
