"""Language detection: es, pt, en, or other, on the text the client wrote.

lingua (a maintained n-gram detector with models inside the package, so nothing
is downloaded) is built once with the three languages triage answers in and the
neighbours most often confused with them, so that French or Italian mail comes
out as ``other`` instead of being forced into Spanish.
"""

from __future__ import annotations

import functools

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED = ("es", "pt", "en")
OTHER = "other"
_CODES = {Language.SPANISH: "es", Language.PORTUGUESE: "pt", Language.ENGLISH: "en"}
_NEIGHBOURS = (Language.FRENCH, Language.ITALIAN, Language.GERMAN)
# Another language must be this sure before a message counts as "other".
_OTHER_MIN_CONFIDENCE = 0.5
_MIN_LETTERS = 2
_SAMPLE_CHARS = 400


@functools.cache
def detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_CODES, *_NEIGHBOURS).build()


def detect_language(text: str, fallback: str = "") -> str:
    """The language of ``text``; ``fallback`` (e.g. the subject) helps when it is short."""
    sample = text if sum(ch.isalpha() for ch in text) >= 20 else f"{text}\n{fallback}"
    if sum(ch.isalpha() for ch in sample) < _MIN_LETTERS:
        return OTHER
    # A few hundred characters settle the language; more only costs time.
    values = detector().compute_language_confidence_values(sample[:_SAMPLE_CHARS])
    if not values:
        return OTHER
    best = values[0]
    if best.language in _CODES:
        return _CODES[best.language]
    if best.value >= _OTHER_MIN_CONFIDENCE:
        return OTHER
    ours = [v for v in values if v.language in _CODES]
    return _CODES[ours[0].language] if ours else OTHER
