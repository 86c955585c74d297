"""Classification speed: model load time, time to the first result, throughput on one core.

Run: taskset -c 0 .venv/bin/python bench/classify_speed.py
Writes bench/results/classify_speed.txt (quoted in the README and the model card).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchlib import machine, publish  # noqa: E402


def main() -> None:
    started = time.perf_counter()
    from triage.classify import MessageClassifier
    from triage.corpus import load_examples
    from triage.model_io import load_model
    imported = time.perf_counter()
    model = load_model()
    loaded = time.perf_counter()
    classifier = MessageClassifier(model)
    first = classifier.classify_text("Re: factura", "Les pago el lunes, reactiven el servicio.")
    first_done = time.perf_counter()
    assert first.category

    corpus = HERE.parent / "corpus"
    examples = load_examples(sorted(corpus.glob("*.jsonl")) or sorted(
        (corpus / "parts").glob("*.jsonl")))
    from triage.classifier import own_text
    items = [(e.subject, own_text(e.body), None) for e in examples]
    batched_start = time.perf_counter()
    for start in range(0, len(items), 100):
        classifier.classify_texts(items[start:start + 100])
    batched = time.perf_counter() - batched_start
    singles = items[:500]
    single_start = time.perf_counter()
    for item in singles:
        classifier.classify_texts([item])
    single = time.perf_counter() - single_start

    cli_start = time.perf_counter()
    sample = HERE.parent / "tests" / "data" / "mail" / "es_gmail_reply_qp.eml"
    subprocess.run([sys.executable, "-m", "triage", "classify", str(sample)], check=True,
                   capture_output=True)
    cli = time.perf_counter() - cli_start

    lines = [
        f"classification speed ({machine()}, pinned to one core)",
        f"imports: {imported - started:.2f} s; model load: {loaded - imported:.2f} s; "
        f"first result after load: {first_done - loaded:.2f} s "
        "(language detector and spaCy pipeline built on first use)",
        f"'triage classify FILE' end to end, a fresh process: {cli:.2f} s",
        f"throughput, batches of 100: {len(items) / batched:.0f} messages/s "
        f"({len(items)} corpus messages, language detection + spaCy + features + both models)",
        f"throughput, one message at a time: {len(singles) / single:.0f} messages/s",
    ]
    publish("classify_speed.txt", lines)


if __name__ == "__main__":
    main()
