"""Language detection: es, pt, en, or other, on the text the client wrote.

lingua (a maintained n-gram detector with models inside the package, so nothing
is downloaded) is built once, in its fast trigram mode, with the three languages
triage answers in and the neighbours most often confused with them, so that
French or Italian mail comes out as ``other`` instead of being forced into Spanish.
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
    # Low-accuracy mode uses the trigram models only: its first call takes a few
    # hundredths of a second instead of 0.3-1 s (loading the larger models), which
    # matters for 'triage classify'; on the 10,020 corpus and external messages it
    # gets 16 wrong instead of 2, and 10 with the full models asked when it says
    # "other" (bench/results/language.txt).
    return (LanguageDetectorBuilder.from_languages(*_CODES, *_NEIGHBOURS)
            .with_low_accuracy_mode().build())


@functools.cache
def full_detector() -> LanguageDetector:
    # Asked only when the trigrams say "other": on a short line they can take
    # "Nadie nos avisó del corte de anoche." for German (0.96), and the full models
    # read it as Spanish. Loaded on first need.
    return LanguageDetectorBuilder.from_languages(*_CODES, *_NEIGHBOURS).build()


def detect_language(text: str, fallback: str = "") -> str:
    """The language of ``text``; ``fallback`` (e.g. the subject) helps when it is short."""
    # A few hundred characters settle the language; more only costs time.
    sample = text[:_SAMPLE_CHARS]
    if _letters(sample) < 20:
        sample = f"{sample}\n{fallback[:_SAMPLE_CHARS]}"
    if _letters(sample) < _MIN_LETTERS:
        return OTHER
    found = _decide(detector(), sample)
    return _decide(full_detector(), sample) if found == OTHER else found


def _decide(languages: LanguageDetector, sample: str) -> str:
    values = languages.compute_language_confidence_values(sample)
    if not values:
        return OTHER
    best = values[0]
    if best.language in _CODES:
        return _CODES[best.language]
    if best.value >= _OTHER_MIN_CONFIDENCE:
        return OTHER
    ours = [v for v in values if v.language in _CODES]
    return _CODES[ours[0].language] if ours else OTHER


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))
