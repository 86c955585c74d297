"""The learned half of the evidence search: how likely a candidate is to be proof.

evidence.py scores every candidate with hand-set weights over what it shares with
the complaint (topics, words, references, timing, kind of notice, who it went
to). Those weights saw each candidate alone. This model reads the same features
together with what they mean in their scenario: how far the candidate is behind
the best one, whether it resembles the best one (the reminder of an announcement,
the second warning after a first request), the category, the kind of notice, and
two text similarities the hand-set score has no room for (words weighted by how
rare they are in client mail at large, and shared spellings of four letters,
which match "documentos" and "document", "migração" and "migration"), each also
beside the highest of the complaint's candidates.

It is a small gradient-boosted tree ensemble fitted on the tuning scenarios
(corpus/evidence_scenarios/es_pt.jsonl and tune_*.jsonl) by bench/evidence_fit.py,
which writes models/proof.npz (the trees as NumPy arrays, read with pickles refused
and without scikit-learn: see trees.py) and models/proof.json.gz (plain data: the
feature names, the bars, the word frequencies, the file's SHA-256 and the figures).
A changed or damaged file, or trees that do not fit the features, is refused with a
clear error.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from triage.errors import TriageError
from triage.files import open_private
from triage.trees import Trees

if TYPE_CHECKING:
    from triage.evidence import Profile, Scored

MODEL_FILE = "proof.npz"
DATA_FILE = "proof.json.gz"
FORMAT = 2  # 2: the trees as arrays, in place of scikit-learn's objects in skops format
# The features evidence.py sets on each candidate (the hand-set score reads most of
# them; "matter" and "most_about" only the ranker), in this order, then the model's own.
HAND_FEATURES = ("age", "answered", "event_before", "linked", "marketing", "matter",
                 "most_about", "other_code", "receipt", "same_amount", "same_code", "same_date",
                 "same_thread", "to_complainant", "topics", "type_fit", "words")
CATEGORIES = ("accusation", "payment_excuse", "scope_creep", "genuine_fault")
KINDS = ("billing", "agreement", "announcement", "reply")
FEATURES = (*HAND_FEATURES, "hand_score", "behind_best", "position",
            *(f"category_{c}" for c in CATEGORIES), *(f"kind_{k}" for k in KINDS),
            "rare_words", "spellings", "like_best_words", "like_best_kind", "like_best_topics",
            "rarest_words", "most_spellings")


class ProofModelError(TriageError):
    """The evidence ranker's files are missing, damaged or not what triage wrote."""


# Notices whose text similarities are kept (the least recently used go first).
_KEEP = 1024
# Spellings are taken from at most this many of a notice's words, the shortest
# first (a notice of 100,000 different words must not take megabytes).
_SPELLED_WORDS = 2000


@dataclass(frozen=True, slots=True)
class _Text:
    weights: dict[str, float]  # each word's rarity in client mail
    norm: float  # the sum of the squared weights
    spellings: frozenset[str]  # every four letters in a row of the words


def idf(documents: int, holding: int) -> float:
    """How rare a word found in ``holding`` of ``documents`` texts is: smoothed
    inverse document frequency, the weight both the hand-set score and the
    ranker give a shared word."""
    return math.log((documents + 1) / (1 + holding))


def overlap(a: Set[str], b: Set[str]) -> float:
    """The cosine of two sets: shared items over the geometric mean of their sizes."""
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


@dataclass(frozen=True, slots=True)
class ProofModel:
    """The fitted ranker and what its features need."""

    model: Any  # Trees, or a fitted HistGradientBoostingClassifier (bench/evidence_fit.py)
    word_counts: Mapping[str, int]  # folded word -> client messages of the corpus holding it
    documents: int  # client messages the counts were taken from
    first: float  # the best candidate is cited at this probability or more...
    further: float  # ...and the others of its matter (up to three in all) at this or more
    alone: float  # ...and any other at this or more
    # The best is cited at this or more, below ``first``, when another of its matter
    # reaches ``further`` (``first`` when the data file names none).
    together: float
    card: Mapping[str, Any]
    # What the text similarities read of a notice's words, kept for the notices
    # that come up again for the client's next complaint.
    _texts: OrderedDict[frozenset[str], _Text] = field(
        default_factory=OrderedDict, init=False, compare=False, repr=False)

    def text(self, words: frozenset[str], keep: bool = True) -> _Text:
        """The weighted words and spellings of ``words``; kept when ``keep``."""
        known = self._texts.get(words)
        if known is not None:
            self._texts.move_to_end(words)
            return known
        weights = {w: idf(self.documents, self.word_counts.get(w, 0)) for w in words}
        spelled = sorted(words, key=lambda w: (len(w), w))[:_SPELLED_WORDS]
        known = _Text(weights, math.fsum(v * v for v in weights.values()),
                      frozenset(w[i:i + 4] for w in spelled for i in range(len(w) - 3)))
        if keep:
            self._texts[words] = known
            if len(self._texts) > _KEEP:
                self._texts.popitem(last=False)
        return known

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        if not rows:
            return []
        return [float(p) for p in self.model.predict_proba(rows)[:, 1]]


def feature_rows(scored: Sequence[Scored], own: Profile, category: str,
                 kinds: Sequence[set[str]], model: ProofModel) -> list[list[float]]:
    """One row of FEATURES per candidate; ``scored`` is best first by the hand-set
    score and ``kinds`` holds each candidate's notice kinds (evidence.notice_kinds)."""
    if not scored:
        return []
    own_text = model.text(own.words, keep=False)  # a complaint is read once
    best = scored[0]
    best_text = model.text(best.profile.words)
    best_topics = set(best.profile.topics)
    rows = []
    for position, (item, item_kinds) in enumerate(zip(scored, kinds, strict=True)):
        text = model.text(item.profile.words)
        row = [item.features.get(name, 0.0) for name in HAND_FEATURES]
        row += [item.score, best.score - item.score, float(position)]
        row += [float(category == c) for c in CATEGORIES]
        row += [float(k in item_kinds) for k in KINDS]
        row += [_cosine(own_text, text), overlap(own_text.spellings, text.spellings)]
        if position == 0:
            row += [1.0, 1.0, float(len(best_topics))]
        else:
            row += [_cosine(best_text, text), float(bool(item_kinds & kinds[0])),
                    float(len(best_topics & set(item.profile.topics)))]
        rows.append(row)
    # Each text similarity beside the highest of this complaint's candidates.
    for column in (FEATURES.index("rare_words"), FEATURES.index("spellings")):
        for row, share in zip(rows, beside_highest([row[column] for row in rows]), strict=True):
            row.append(share)
    return rows


def beside_highest(values: Sequence[float]) -> list[float]:
    """Each value over the highest of them (all 0 when the highest is 0)."""
    top = max(values, default=0.0)
    return [v / top if top > 0 else 0.0 for v in values]


def _cosine(a: _Text, b: _Text) -> float:
    small, large = sorted((a.weights, b.weights), key=len)
    dot = math.fsum(v * large[w] for w, v in small.items() if w in large)
    return dot / math.sqrt(a.norm * b.norm) if dot else 0.0


def default_dir() -> Path:
    from triage.model_io import default_model_dir

    return default_model_dir()


@functools.cache
def shipped() -> ProofModel:
    """The ranker shipped with the package, loaded once per process."""
    return load(default_dir())


def save(model: ProofModel, folder: Path) -> None:
    from triage.model_io import sha256_of

    path = folder / MODEL_FILE
    trees = model.model if isinstance(model.model, Trees) else Trees.of(model.model)
    try:
        with open_private(path, "wb") as raw:
            arrays: dict[str, Any] = trees.arrays()
            np.savez_compressed(raw, **arrays)
        data = {"format": FORMAT, "sha256": sha256_of(path), "features": list(FEATURES),
                "baseline": trees.baseline,
                "first": model.first, "further": model.further, "alone": model.alone,
                "together": model.together,
                "documents": model.documents,
                "card": dict(model.card), "word_counts": dict(sorted(model.word_counts.items()))}
        with (open_private(folder / DATA_FILE, "wb") as raw,
              gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed):
            packed.write(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    except OSError as exc:
        raise ProofModelError(f"cannot write the evidence ranker to {folder}: "
                              f"{exc.strerror or exc}") from None


def load(folder: Path) -> ProofModel:
    """The ranker in ``folder``: its data file read as plain JSON and checked, then
    the model file checked against the hash the data file records, and only then
    read, as arrays (a pickle is refused) that must make trees over the features."""
    from triage.model_io import check_hash, read_arrays, read_json_gz

    remedy = "reinstall triage, or run bench/evidence_fit.py --write to rebuild it"
    data_path, model_path = folder / DATA_FILE, folder / MODEL_FILE
    data = read_json_gz(data_path, ProofModelError, remedy)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProofModelError(f"{data_path} is not an evidence ranker of format {FORMAT}; "
                              f"{remedy}")
    if data.get("features") != list(FEATURES):
        raise ProofModelError(f"{data_path} was made for other features than this triage "
                              f"computes; {remedy}")
    first, further, alone = data.get("first"), data.get("further"), data.get("alone")
    together = data.get("together", first)
    documents, counts = data.get("documents"), data.get("word_counts")
    if not (_is_number(first) and _is_number(further) and _is_number(alone)
            and _is_number(together) and 0 < further <= min(first, alone, together)
            and together <= first and max(first, alone) <= 1):
        raise ProofModelError(f"{data_path} does not hold bars with 0 < further <= "
                              f"together <= first <= 1 and further <= alone <= 1; {remedy}")
    if not (_is_count(documents) and documents > 0 and isinstance(counts, dict)
            and all(_is_count(n) and n <= documents for n in counts.values())):
        raise ProofModelError(f"{data_path} does not hold word counts of a corpus; {remedy}")
    check_hash(model_path, data.get("sha256"), data_path.name, ProofModelError, remedy)
    arrays = read_arrays(model_path, ProofModelError, remedy)
    baseline = data.get("baseline")
    try:
        if not _is_number(baseline):
            raise ValueError("no starting score")
        model = Trees.from_arrays(baseline, arrays, len(FEATURES))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ProofModelError(f"{model_path} does not hold an evidence ranker ({exc}); "
                              f"{remedy}") from None
    card = data.get("card")
    return ProofModel(model=model, word_counts=counts, documents=documents,
                      first=float(first), further=float(further), alone=float(alone),
                      together=float(together),
                      card=card if isinstance(card, dict) else {})


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value)


def _is_count(value: object) -> TypeGuard[int]:
    """A whole number of zero or more (JSON's true and false are not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
