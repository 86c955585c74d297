"""How sure the classifier should be of a message that is only a subject.

Every held-out corpus message (corpus/*.jsonl, its held-out groups) and every
external one (corpus/external/*.jsonl) is classified again with its body left out,
as triage reads a message whose client wrote nothing but the subject: the language
detected from the subject, the shipped model. For each set it prints the accuracy,
the mean confidence and the calibration error of the model's probabilities as they
come, and tempered as triage tempers them (classifier.SUBJECT_ONLY_TEMPERATURE);
then the temperature that fits the held-out copies best (least negative
log-likelihood), which is where the shipped constant comes from. The external set is
never fitted on.

Run: .venv/bin/python bench/subject_only.py
Writes bench/results/subject_only.txt (quoted in the README).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchlib import machine, publish  # noqa: E402

from triage.classifier import SUBJECT_ONLY_TEMPERATURE, prepare, temper  # noqa: E402
from triage.corpus import LABELS, default_corpus_files, load_examples, split  # noqa: E402
from triage.model_io import load_model  # noqa: E402
from triage.nlp import TextAnalyzer  # noqa: E402
from triage.training import calibration_error  # noqa: E402


def main() -> None:
    corpus = HERE.parent / "corpus"
    _, held_out = split(load_examples(default_corpus_files(corpus)))
    external = load_examples(sorted((corpus / "external").glob("*.jsonl")))
    model = load_model()
    analyzer = TextAnalyzer(model.lemma_tables)

    def subject_only(examples: list) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
        # With the flag off the model's probabilities come as they are; triage sets it.
        docs = [dataclasses.replace(prepare(e.subject, "", analyzer), subject_only=False)
                for e in examples if e.subject.strip()]
        probabilities, _ = model.classifier.predict_both(docs)
        truth = np.array([LABELS.index(e.label) for e in examples if e.subject.strip()])
        return np.asarray(probabilities), truth

    sets = {"held-out": subject_only(held_out), "external": subject_only(external)}

    def tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
        return np.array([temper(row, temperature) for row in probabilities])

    def loss(temperature: float) -> float:
        probabilities, truth = sets["held-out"]
        chosen = tempered(probabilities, temperature)[np.arange(len(truth)), truth]
        return float(-np.mean(np.log(np.clip(chosen, 1e-12, 1.0))))

    best = minimize_scalar(loss, bounds=(0.5, 20.0), method="bounded").x
    lines = [f"the shipped model on subject-only copies of corpus messages that have a subject "
             f"({machine()})",
             "set        messages  accuracy  as the model gives them: mean confidence, "
             f"calibration error   tempered (T = {SUBJECT_ONLY_TEMPERATURE}): the same"]
    def error(probabilities: np.ndarray, truth: np.ndarray) -> float:
        return calibration_error(probabilities.max(axis=1), probabilities.argmax(axis=1) == truth)

    for name, (probabilities, truth) in sets.items():
        after = tempered(probabilities, SUBJECT_ONLY_TEMPERATURE)
        accuracy = float((probabilities.argmax(axis=1) == truth).mean())
        lines.append(f"{name:10s} {len(truth):8d}  {accuracy:.3f}     "
                     f"{probabilities.max(axis=1).mean():.3f}, {error(probabilities, truth):.3f}"
                     f"                                 {after.max(axis=1).mean():.3f}, "
                     f"{error(after, truth):.3f}")
    lines.append(f"the temperature fitted on the held-out copies: {best:.2f}")
    publish("subject_only.txt", lines)


if __name__ == "__main__":
    main()
