"""How often a second, blind annotator agrees with the corpus labels.

A second annotator who had not seen the corpus labelled 250 held-out messages
(a random sample, seed 7) from the taxonomy alone: corpus/agreement/second_annotator.jsonl.
Their agreement with the corpus is the ceiling a model can be expected to reach
on these labels. Run: .venv/bin/python bench/annotator_agreement.py
Writes bench/results/agreement.txt.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchlib import publish  # noqa: E402


def main() -> None:
    from sklearn.metrics import cohen_kappa_score, f1_score

    from triage.corpus import LABELS, LANGS, default_corpus_files, load_examples

    corpus = HERE.parent / "corpus"
    examples = {e.id: e for e in load_examples(default_corpus_files(corpus))}
    lines = (corpus / "agreement" / "second_annotator.jsonl").read_text("utf-8").splitlines()
    second = [json.loads(line) for line in lines if line.strip()]
    first = [examples[s["id"]] for s in second]
    truth = [e.label for e in first]
    other = [s["label"] for s in second]
    agreement = sum(a == b for a, b in zip(truth, other, strict=True)) / len(truth)
    out = [f"second annotator on {len(second)} held-out messages",
           f"category: agreement {agreement:.3f}, macro-F1 "
           f"{f1_score(truth, other, labels=list(LABELS), average='macro'):.3f}, "
           f"Cohen's kappa {cohen_kappa_score(truth, other):.3f}"]
    for lang in LANGS:
        idx = [i for i, e in enumerate(first) if e.lang == lang]
        score = f1_score([truth[i] for i in idx], [other[i] for i in idx], labels=list(LABELS),
                         average="macro")
        out.append(f"  {lang}: macro-F1 {score:.3f} on {len(idx)}")
    levels = [(e.hostility, s["hostility"]) for e, s in zip(first, second, strict=True)]
    out.append(f"hostility: exact {sum(a == b for a, b in levels) / len(levels):.3f}, "
               f"within one level {sum(abs(a - b) <= 1 for a, b in levels) / len(levels):.3f}")
    pairs = Counter((a, b) for a, b in zip(truth, other, strict=True) if a != b)
    out.append("disagreements (corpus -> second annotator): " + ", ".join(
        f"{a}->{b} {n}" for (a, b), n in pairs.most_common()))
    publish("agreement.txt", out)


if __name__ == "__main__":
    main()
