"""Training the shipped model from the corpus, and measuring it on held-out data.

``train`` fits on the training side of the group split and measures on the
held-out side; the figures go into the manifest and the model card.
``evaluate`` measures a saved model on any labelled examples.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from triage.classifier import Predictor, Prepared, own_text, predict, prepare
from triage.corpus import LABELS, LANGS, Example, split
from triage.files import write_private
from triage.message import Classification
from triage.model_io import save_model
from triage.nlp import TextAnalyzer, build_lemma_tables


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Figures of a model on labelled examples."""

    size: int
    macro_f1: float
    per_language: dict[str, float]
    per_category: dict[str, dict[str, float]]
    confusion: list[list[int]]
    hostility_exact: float
    hostility_within_one: float
    hostility_mae: float
    calibration_error: float

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def prepare_examples(examples: Sequence[Example], analyzer: TextAnalyzer) -> list[Prepared]:
    """Features of corpus examples; the corpus language is trusted, quotes are stripped."""
    return [prepare(e.subject, own_text(e.body), analyzer, lang=e.lang) for e in examples]


def evaluate_on(model: Predictor, analyzer: TextAnalyzer,
                examples: Sequence[Example]) -> Evaluation:
    """Predict ``examples`` with ``model`` and measure the result."""
    return measure(examples, predict(model, prepare_examples(examples, analyzer)))


def measure(examples: Sequence[Example], predictions: Sequence[Classification]) -> Evaluation:
    # Here, not at the top: the service imports this module for retraining, and
    # reading mail needs no scikit-learn.
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    truth = [e.label for e in examples]
    guess = [p.category for p in predictions]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guess, labels=list(LABELS), zero_division=0)
    per_category = {
        label: {"precision": round(float(p), 3), "recall": round(float(r), 3),
                "f1": round(float(f), 3), "support": int(s)}
        for label, p, r, f, s in zip(LABELS, precision, recall, f1, support, strict=True)
    }
    per_language = {}
    for lang in LANGS:
        idx = [i for i, e in enumerate(examples) if e.lang == lang]
        if idx:
            per_language[lang] = round(float(f1_score(
                [truth[i] for i in idx], [guess[i] for i in idx], labels=list(LABELS),
                average="macro", zero_division=0)), 3)
    levels = np.array([e.hostility for e in examples])
    guessed_levels = np.array([p.hostility for p in predictions])
    scores = np.array([p.hostility_score for p in predictions])
    return Evaluation(
        size=len(examples),
        macro_f1=round(float(f1_score(truth, guess, labels=list(LABELS), average="macro",
                                      zero_division=0)), 3),
        per_language=per_language,
        per_category=per_category,
        confusion=confusion_matrix(truth, guess, labels=list(LABELS)).tolist(),
        hostility_exact=round(float(np.mean(levels == guessed_levels)), 3),
        hostility_within_one=round(float(np.mean(np.abs(levels - guessed_levels) <= 1)), 3),
        hostility_mae=round(float(np.mean(np.abs(levels - scores))), 3),
        calibration_error=round(_expected_calibration_error(truth, predictions), 3),
    )


def _expected_calibration_error(truth: Sequence[str], predictions: Sequence[Classification],
                                bins: int = 10) -> float:
    """How far the confidence is from the accuracy, averaged over confidence bins."""
    return calibration_error(
        np.array([p.confidence for p in predictions]),
        np.array([p.category == t for p, t in zip(predictions, truth, strict=True)]), bins)


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: over equal-width bins of ``confidence``, how far it
    is from the share of ``correct`` answers, weighted by the bin's size."""
    total = 0.0
    for low in np.linspace(0, 1, bins, endpoint=False):
        inside = (confidence > low) & (confidence <= low + 1 / bins)
        if inside.any():
            total += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(total)


def train(examples: Sequence[Example], out: Path, corpus_files: Sequence[Path],
          params: dict[str, Any] | None = None) -> tuple[dict[str, Any], Evaluation]:
    started = time.perf_counter()
    training, held_out = split(list(examples))
    tables = lemma_tables_for((e.lang, f"{e.subject}\n{own_text(e.body)}") for e in training)
    analyzer = TextAnalyzer(tables)
    from triage.fitting import TriageClassifier

    model = TriageClassifier(**(params or {})).fit(
        prepare_examples(training, analyzer), [e.label for e in training],
        [e.hostility for e in training], groups=[e.group for e in training]).text_model()
    evaluation = evaluate_on(model, analyzer, held_out)
    manifest = save_model(model, tables, out, {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpus_files": [p.name for p in corpus_files],
        "training_examples": len(training),
        "held_out_examples": len(held_out),
        "held_out": evaluation.as_dict(),
        "params": model.params,
        "training_seconds": round(time.perf_counter() - started, 1),
        "versions": library_versions(),
    })
    return manifest, evaluation


def lemma_tables_for(texts: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The lemma tables a model trained on these (language, text) pairs can use."""
    words: dict[str, set[str]] = {}
    plain = TextAnalyzer()
    for lang, text in texts:
        words.setdefault(lang, set()).update(t.lower_ for t in plain.tokenise(text, lang))
    return build_lemma_tables(words)


def record_external(folder: Path, examples: Sequence[Example]) -> Evaluation:
    """Measure the saved model on the external test set and add it to the manifest."""
    import json

    from triage.model_io import MANIFEST_FILE, load_model

    loaded = load_model(folder)
    evaluation = evaluate_on(loaded.classifier, TextAnalyzer(loaded.lemma_tables), examples)
    manifest = dict(loaded.manifest, external=evaluation.as_dict())
    write_private(folder / MANIFEST_FILE, json.dumps(manifest, indent=2, ensure_ascii=False)
                  + "\n")
    return evaluation


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("scikit-learn", "spacy", "spacy-lookups-data", "lingua-language-detector",
                 "numpy", "scipy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def format_evaluation(title: str, evaluation: Evaluation) -> str:
    lines = [f"{title}: {evaluation.size} messages",
             f"  macro-F1 {evaluation.macro_f1:.3f}   per language: "
             + ", ".join(f"{k} {v:.3f}" for k, v in evaluation.per_language.items()),
             f"  hostility: exact {evaluation.hostility_exact:.3f}, within one level "
             f"{evaluation.hostility_within_one:.3f}, mean absolute error "
             f"{evaluation.hostility_mae:.3f}",
             f"  expected calibration error of the confidence: {evaluation.calibration_error:.3f}",
             "",
             f"  {'category':<16}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>6}"]
    for label, row in evaluation.per_category.items():
        lines.append(f"  {label:<16}{row['precision']:>10.3f}{row['recall']:>8.3f}"
                     f"{row['f1']:>7.3f}{row['support']:>6}")
    short = ["acc", "pay", "scope", "fault", "other"]
    lines += ["", "  confusion (rows: truth, columns: predicted)",
              "  " + " " * 8 + "".join(f"{s:>7}" for s in short)]
    for name, counts in zip(short, evaluation.confusion, strict=True):
        lines.append(f"  {name:<8}" + "".join(f"{n:>7}" for n in counts))
    return "\n".join(lines)


def write_model_card(folder: Path, manifest: dict[str, Any],
                     bench_results: Path | None = None) -> Path:
    """MODEL_CARD.md from the manifest (and the benchmark results, when measured)."""
    held = manifest["held_out"]
    versions = ", ".join(f"{k} {v}" for k, v in manifest["versions"].items())
    lines = [
        "# triage model card",
        "",
        "Sorts a client's email to a service provider into one of five categories "
        "(accusation, payment_excuse, scope_creep, genuine_fault, other) with a calibrated "
        "confidence, and scores its hostility 0-3, in Spanish, Portuguese and English. "
        "It reads only what the client wrote: the parser removes the quoted earlier mail and "
        "the signature first.",
        "",
        "## Data",
        f"- Corpus files: {', '.join(manifest['corpus_files'])} (see corpus/README.md: "
        "written for this project, not collected from real mailboxes).",
        f"- Trained on {manifest['training_examples']} messages; measured on "
        f"{manifest['held_out_examples']} held-out messages.",
        "",
        "## How it was evaluated",
        "- The held-out split keeps whole groups (all variants of one situation) on one side: "
        "a group is held out when the first four bytes of SHA-256 of its id are 0 modulo 5.",
        "- No hyper-parameter was chosen on the held-out split (see bench/model_selection.py, "
        "which uses cross-validation by group inside the training side).",
        "",
        "## Figures on the held-out groups",
        f"- Macro-F1 over the five categories: {held['macro_f1']:.3f}",
        "- Macro-F1 per language: " + ", ".join(
            f"{k} {v:.3f}" for k, v in held["per_language"].items()),
        f"- Hostility: exact {held['hostility_exact']:.3f}, within one level "
        f"{held['hostility_within_one']:.3f}, mean absolute error {held['hostility_mae']:.3f}",
        f"- Expected calibration error of the confidence: {held['calibration_error']:.3f}",
        "",
        "| category | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
              f"| {row['support']} |" for label, row in held["per_category"].items()]
    external = manifest.get("external")
    if external:
        lines += ["", "## Figures on the external test set",
                  f"- {external['size']} messages written apart from the training corpus, "
                  "never used for training or for choosing anything.",
                  f"- Macro-F1 {external['macro_f1']:.3f}; per language " + ", ".join(
                      f"{k} {v:.3f}" for k, v in external["per_language"].items()),
                  f"- Hostility within one level {external['hostility_within_one']:.3f}, "
                  f"mean absolute error {external['hostility_mae']:.3f}"]
    if bench_results and bench_results.is_file():
        lines += ["", "## Speed (bench/classify_speed.py)", "", "```",
                  bench_results.read_text(encoding="utf-8").strip(), "```"]
    low, high = manifest["params"].get("char_ngrams", (3, 5))
    lines += [
        "", "## Model", f"- Parameters: {manifest['params']}",
        "- Features: TF-IDF of spaCy lookup lemmas (1-2 grams) and of cross-language concept "
        "tokens, TF-IDF of the words as written (1-3 grams), TF-IDF of character "
        f"{low}-{high} grams within words; for hostility also style signals (capitals, !/?, "
        "threat, insult, anger and politeness words, entities).",
        "- Settings chosen by 5-fold group cross-validation on the training side only "
        "(bench/model_selection.py, bench/results/model_selection.txt).",
        "- Category: a linear support vector machine; its scores are turned into the "
        "probabilities by a softmax whose one temperature is fitted on scores from machines "
        "that had not seen the message (5 folds by group). Hostility: ridge regression, "
        "clipped to 0-3 and rounded for the level.",
        "- Fitted with scikit-learn, saved as NumPy arrays (pickles refused on loading) and "
        "plain JSON, and read without scikit-learn; loading checks the SHA-256 of each file "
        "against manifest.json and that the arrays fit the vocabularies.",
        f"- Libraries: {versions}", f"- Trained at {manifest['trained_at']} in "
        f"{manifest['training_seconds']} s.",
        "", "## Limits",
        "- The corpus is written, not collected: real mail will differ. The external test set is "
        "the better guide to what to expect.",
        "- Accusation and genuine fault often differ only in facts the text does not hold "
        "(was there really an outage? had the client been told?); the confidence is lower "
        "there, and the evidence search settles part of it: a genuine fault with some doubt "
        "of an accusation becomes one when the mailbox holds the announcement of that very "
        "event (see the README's \"Evidence\").",
    ]
    path = folder / "MODEL_CARD.md"
    write_private(path, "\n".join(lines) + "\n")
    return path
