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

The models are fitted with scikit-learn (``fitting.TriageClassifier``) and read
messages with NumPy alone (``textmodel.TextModel``): reading mail never imports
scikit-learn. What is saved is arrays and plain data (see ``model_io``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

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
    # The client wrote nothing but the subject (an attachment sent on its own, a
    # subject line used as the message): see SUBJECT_ONLY_TEMPERATURE.
    subject_only: bool = False


# A subject alone says much less than a message, and the model, which learnt from
# messages, is as sure of it as of a whole one: on subject-only copies of the held-out
# corpus it was right 0.475 of the time at a mean confidence of 0.792. Its
# probabilities for such a message are tempered (each raised to 1/T and normalised);
# T was fitted on those copies (negative log-likelihood) and checked on subject-only
# copies of the external set: calibration error 0.338 before, 0.048 after, the
# category unchanged (bench/subject_only.py).
SUBJECT_ONLY_TEMPERATURE = 3.5


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
        subject_only=not any(ch.isalnum() for ch in text),
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


def hostility_level(score: float) -> int:
    return int(min(3, max(0, math.floor(score + 0.5))))


class Predictor(Protocol):
    """A fitted model: ``textmodel.TextModel``, or ``fitting.TriageClassifier``."""

    def predict_both(self, docs: Sequence[Prepared]) -> tuple[np.ndarray, np.ndarray]: ...


def temper(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities made less sure: each raised to 1/``temperature``, then normalised
    (the same as dividing the scores behind a softmax by it)."""
    logs = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    weights: np.ndarray = np.exp(logs - logs.max())
    return weights / float(weights.sum())


def predict(model: Predictor, docs: Sequence[Prepared]) -> list[Classification]:
    if not docs:
        return []
    proba, scores = model.predict_both(docs)
    results = []
    for doc, row, score in zip(docs, proba, scores, strict=True):
        if doc.subject_only:
            row = temper(row, SUBJECT_ONLY_TEMPERATURE)
        best = int(np.argmax(row))
        results.append(Classification(
            language=doc.lang, category=LABELS[best], confidence=round(float(row[best]), 4),
            probabilities={label: round(float(p), 4) for label, p in zip(LABELS, row, strict=True)},
            hostility=hostility_level(float(score)), hostility_score=round(float(score), 3),
            entities=doc.entities,
        ))
    return results
