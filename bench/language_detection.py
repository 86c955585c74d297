"""Language detection: accuracy and time per message of lingua's two modes, and of
triage's own use of them.

Run: taskset -c 0 .venv/bin/python bench/language_detection.py
Writes bench/results/language.txt. Measured on the client's own text (quotes and
signature removed) of every corpus and external message, whose language is known.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchlib import publish  # noqa: E402


def main() -> None:
    from lingua import Language, LanguageDetectorBuilder

    from triage.classifier import own_text
    from triage.corpus import default_corpus_files, load_examples

    corpus = HERE.parent / "corpus"
    examples = load_examples([*default_corpus_files(corpus),
                              *sorted((corpus / "external").glob("*.jsonl"))])
    codes = {Language.SPANISH: "es", Language.PORTUGUESE: "pt", Language.ENGLISH: "en"}
    items = []
    for e in examples:
        text = own_text(e.body)
        sample = text if sum(ch.isalpha() for ch in text) >= 20 else f"{text}\n{e.subject}"
        items.append((e.lang, sample))
    lines = [f"language detection on {len(items)} messages (one core)"]
    for low in (False, True):
        builder = LanguageDetectorBuilder.from_languages(
            *codes, Language.FRENCH, Language.ITALIAN, Language.GERMAN)
        if low:
            builder = builder.with_low_accuracy_mode()
        detector = builder.build()
        started = time.perf_counter()
        detector.compute_language_confidence_values("hola, ¿qué tal?")
        load = time.perf_counter() - started
        for chars in (200, 400):
            started = time.perf_counter()
            wrong = sum(
                codes.get(detector.compute_language_confidence_values(s[:chars])[0].language)
                != lang for lang, s in items)
            per = (time.perf_counter() - started) / len(items) * 1000
            lines.append(f"{'low' if low else 'high'}-accuracy mode, first {chars} chars: "
                         f"load {load:.2f} s, {per:.2f} ms/message, {wrong} wrong")
    # What triage itself does (triage/language.py): the trigrams, and the full models
    # when they say another language; "other" counts as wrong for these messages.
    from triage.language import detect_language

    started = time.perf_counter()
    wrong = sum(detect_language(s) != lang for lang, s in items)
    per = (time.perf_counter() - started) / len(items) * 1000
    lines.append(f"triage's detect_language (trigrams, then the full models when they say "
                 f"another language), first 400 chars: {per:.2f} ms/message, {wrong} wrong "
                 f"(the full models load on first need, as above)")
    publish("language.txt", lines)


if __name__ == "__main__":
    main()
