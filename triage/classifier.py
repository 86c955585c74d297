"""The category and hostility models: features, training, prediction.

Features, all computed from what the client wrote (quote and signature removed)
and the subject:
  - TF-IDF over spaCy lookup lemmas, accents folded, unigrams and bigrams, with
    the cross-language concept tokens;
  - TF-IDF over the folded words as written, one to three in a row, which keep
    the inflections and phrasings the lemmas merge ("you said" / "we say");
  - TF-IDF over character n-grams (3-5, within word boundaries), which carry
    typos, missing accents and the three languages' morphology;
  - a few style signals (capitals, exclamation marks, threats, insults,
    politeness, entity counts), for hostility only: in the category model they
    cost accuracy (a furious fault and a furious accusation look alike).
The category model is a linear support vector machine; its scores become
probabilities (the ``confidence``) through a softmax with one temperature, fitted
on scores the machine gave to messages it was not trained on (cross-validation,
by group when the groups are known). A multinomial logistic regression on those
scores scored 0.002 higher but is not monotone: on a small corpus it turned a
clear score for one category into a probability for another. Hostility is a
ridge regression, giving a 0-3 score whose rounding is the level.
``bench/model_selection.py`` holds the measurements behind these choices.

``TriageClassifier`` follows the scikit-learn conventions (parameters in
``__init__``, ``fit`` returns self, fitted attributes end in ``_``). What is
saved is only scikit-learn objects and plain data (see ``model_io``).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC

from triage.concepts import concept_tokens
from triage.corpus import LABELS
from triage.language import detect_language
from triage.message import Classification
from triage.nlp import TextAnalyzer, fold
from triage.textsplit import split_reply
from triage.threads import strip_prefixes

# Folded (lower case, no accents) words and phrases; matched on word boundaries.
LEXICONS: dict[str, tuple[str, ...]] = {
    "threat": (
        "abogado", "abogados", "demanda", "demandar", "denuncia", "denunciar", "profeco",
        "tribunal", "juicio", "advogado", "processo", "processar", "procon", "reclame aqui",
        "justica", "lawyer", "lawyers", "solicitor", "sue", "court", "legal action",
        "trading standards", "chargeback", "review", "reviews", "resena", "resenas",
        "avaliacao", "google", "trustpilot", "redes sociales", "redes sociais", "cancel",
        "cancelar", "cancelamos", "cancelo", "cancelamento", "cancellation", "another provider",
        "otro proveedor", "outro fornecedor", "ultimatum", "ultima vez", "last chance",
    ),
    "insult": (
        "idiota", "idiotas", "inutil", "inutiles", "incompetente", "incompetentes", "ladron",
        "ladrones", "estafa", "estafadores", "sinverguenza", "sinverguenzas", "verguenza",
        "basura", "mierda", "chantas", "boludo", "pelotudo", "pendejo", "pendejos", "golpe",
        "golpista", "golpistas", "vergonha", "lixo", "porcaria", "merda", "palhacada",
        "ladroes", "incompetencia", "picareta", "picaretas", "amador", "amadores", "scam",
        "scammer", "scammers", "thieves", "clowns", "useless", "incompetent", "idiots",
        "rubbish", "joke", "pathetic", "disgrace", "fraud", "crooks", "cowboys", "shameful",
    ),
    "anger": (
        "inaceptable", "inadmisible", "absurdo", "indignante", "harto", "harta", "hartos",
        "inaceitavel", "inadmissivel", "absurda", "revoltante", "cansado", "unacceptable",
        "ridiculous", "outrageous", "furious", "appalling", "fed up", "sick of", "disgusting",
        "de novo", "otra vez", "again", "ya van", "nunca", "never", "siempre", "sempre",
        "always", "urgente", "urgent", "asap", "ya", "ahora mismo", "agora",
    ),
    "polite": (
        "por favor", "gracias", "muchas gracias", "un saludo", "saludos", "obrigado",
        "obrigada", "por gentileza", "agradeco", "please", "thanks", "thank you", "kind regards",
        "cheers", "appreciate", "disculpa", "disculpe", "desculpe", "sorry", "perdon",
    ),
}
_LEXICON_PATTERNS = {
    name: re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")
    for name, words in LEXICONS.items()
}
STYLE_FEATURES = ("caps", "exclaim", "question", "multi_punct", "length", "threat", "insult",
                  "anger", "polite", "invoice", "amount", "date", "domain")


@dataclass(frozen=True, slots=True)
class Prepared:
    """One message made ready for the models."""

    lang: str
    lemmas: str
    concepts: str
    chars: str
    style: tuple[float, ...]
    entities: tuple[tuple[str, str], ...]


def own_text(body: str) -> str:
    """What the client wrote: the body without the quoted mail and the signature."""
    return split_reply(body).body


def clean_subject(subject: str) -> str:
    return strip_prefixes(subject)


def prepare(subject: str, text: str, analyzer: TextAnalyzer, lang: str | None = None
            ) -> Prepared:
    """Features of a message from its subject and the client's own ``text``."""
    subject = clean_subject(subject)
    lang = lang or detect_language(text, fallback=subject)
    combined = f"{subject}\n{text}" if subject else text
    analysis = analyzer.analyse(combined, lang)
    folded = fold(combined)
    counts = {kind: 0 for kind in ("invoice", "amount", "date", "domain")}
    for entity in analysis.entities:
        counts[entity.kind] += 1
    return Prepared(
        lang=lang,
        lemmas=" ".join(analysis.lemmas),
        concepts=" ".join(concept_tokens(folded)),
        chars=folded,
        style=style_features(text, folded, counts),
        entities=tuple((e.kind, e.value) for e in analysis.entities),
    )


def style_features(text: str, folded: str, entity_counts: dict[str, int]) -> tuple[float, ...]:
    letters = sum(map(str.isalpha, text))
    caps_words = re.findall(r"\b[A-ZÁÉÍÓÚÂÊÔÃÕÇÑ]{3,}\b", text)
    caps = (sum(len(w) for w in caps_words) / letters) if letters else 0.0
    values = [
        min(caps * 4, 1.0),
        math.log1p(text.count("!")),
        math.log1p(text.count("?")),
        math.log1p(len(re.findall(r"[!?]{2,}", text))),
        math.log1p(len(text)) / 8,
    ]
    values += [math.log1p(len(_LEXICON_PATTERNS[name].findall(folded)))
               for name in ("threat", "insult", "anger", "polite")]
    values += [math.log1p(entity_counts[k]) for k in ("invoice", "amount", "date", "domain")]
    return tuple(values)


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
        self.word_ = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", lowercase=False,
                                     ngram_range=(1, 2), min_df=self.min_df, sublinear_tf=True,
                                     dtype=np.float32)
        self.surface_ = TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b",
                                        lowercase=False, ngram_range=(1, 3),
                                        min_df=self.min_df, sublinear_tf=True,
                                        dtype=np.float32)
        self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams,
                                     lowercase=False, min_df=self.min_df, sublinear_tf=True,
                                     max_features=150_000, dtype=np.float32)
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
        proba = softmax(self.temperature_ * scores, axis=1)
        classes = list(self.category_.classes_)
        proba = np.column_stack([proba[:, classes.index(label)] if label in classes
                                 else np.zeros(len(docs)) for label in LABELS])
        hostility = self.hostility_.predict(sp.hstack([text, style], format="csr"))
        return proba, np.clip(np.asarray(hostility, dtype=np.float64), 0, 3)

    def parts(self) -> tuple[dict[str, object], dict[str, list[str]]]:
        """The fitted state for saving: scikit-learn objects without their vocabularies,
        and the vocabularies as plain term lists (a 200,000-entry dict is slow to
        rebuild through a generic serializer and fast to rebuild from a list)."""
        vectorizers = {}
        vocabularies = {}
        for name, vectorizer in self._vectorizers():
            bare = copy.copy(vectorizer)
            terms = [""] * len(vectorizer.vocabulary_)
            for term, index in vectorizer.vocabulary_.items():
                terms[index] = term
            del bare.vocabulary_
            vectorizers[name] = bare
            vocabularies[name] = terms
        parts = {"params": self.get_params(), **vectorizers, "style": self.style_,
                 "category": self.category_, "temperature": self.temperature_,
                 "hostility": self.hostility_}
        return parts, vocabularies

    @classmethod
    def from_parts(cls, parts: dict[str, Any], vocabularies: dict[str, list[str]]
                   ) -> TriageClassifier:
        params = dict(parts["params"])
        params["char_ngrams"] = tuple(params["char_ngrams"])
        model = cls(**params)
        model.word_ = parts["word"]
        model.surface_ = parts["surface"]
        model.char_ = parts["char"]
        for name, vectorizer in model._vectorizers():
            vectorizer.vocabulary_ = {term: i for i, term in enumerate(vocabularies[name])}
        model.style_ = parts["style"]
        model.category_ = parts["category"]
        model.temperature_ = float(parts["temperature"])
        model.hostility_ = parts["hostility"]
        return model

    def _vectorizers(self) -> tuple[tuple[str, TfidfVectorizer], ...]:
        return (("word", self.word_), ("surface", self.surface_), ("char", self.char_))


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


def hostility_level(score: float) -> int:
    return int(min(3, max(0, math.floor(score + 0.5))))


def predict(model: TriageClassifier, docs: Sequence[Prepared]) -> list[Classification]:
    if not docs:
        return []
    proba, scores = model.predict_both(docs)
    results = []
    for doc, row, score in zip(docs, proba, scores, strict=True):
        best = int(np.argmax(row))
        results.append(Classification(
            language=doc.lang, category=LABELS[best], confidence=round(float(row[best]), 4),
            probabilities={label: round(float(p), 4) for label, p in zip(LABELS, row, strict=True)},
            hostility=hostility_level(float(score)), hostility_score=round(float(score), 3),
            entities=doc.entities,
        ))
    return results
