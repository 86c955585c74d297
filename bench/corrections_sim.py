"""How fast the model learns a provider's own clients from their corrections.

The provider: an agricultural telemetry company whose clients (farmers, in Spanish,
Portuguese and English, writing from the phone) write in a way the corpus does not
have (bench/data/new_style/, 480 messages written for this simulation). Its groups
are split in two: 60% are the stream of mail the provider receives, 40% measure
the model on that style and are never corrected.

The user reads the stream in order, as triage classifies it with the model in use,
and corrects each wrong category (through the store, as a correction folder does).
After 10, 25 and 50 corrections, triage retrains as the service does at night
(retraining.retrain: corpus + weighted corrections, kept only within the tolerance
of the held-out figures), and the model in use is measured on the new style and on
the corpus's own held-out groups.

    .venv/bin/python bench/corrections_sim.py            # writes results/corrections_sim.txt
    .venv/bin/python bench/corrections_sim.py --weight 40 --no-write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import REPO, machine, publish  # noqa: F401 - sets sys.path
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, f1_score

from triage.classifier import own_text, predict
from triage.classify import MessageClassifier
from triage.config import load_config
from triage.corpus import LABELS, REPO_CORPUS, default_corpus_files, load_examples, split
from triage.message import Address, Kind, Message
from triage.model_io import LoadedModel
from triage.retraining import Correction, fit_weighted, load_active, retrain
from triage.store import Fetched, Store
from triage.training import prepare_examples

NEW_STYLE = Path(__file__).resolve().parent / "data" / "new_style"
STEPS = (10, 25, 50)

CONFIG = """
[mailbox]
url = "maildir:{maildir}"
[provider]
name = "Surco Telemetría"
addresses = ["soporte@surco.example"]
timezone = "Europe/Madrid"
[store]
path = "{store}"
[corrections]
weight = {weight}
tolerance = {tolerance}
"""


def measured_on_style(classifier: MessageClassifier, rows: list[dict[str, str]]
                      ) -> tuple[float, float, list[bool]]:
    """Accuracy, macro-F1, and which messages were right."""
    verdicts = classifier.classify_texts(
        [(r["subject"], own_text(r["body"]), None) for r in rows])
    truth = [r["label"] for r in rows]
    guess = [v.category for v in verdicts]
    return (float(accuracy_score(truth, guess)),
            float(f1_score(truth, guess, labels=list(LABELS), average="macro",
                           zero_division=0)),
            [t == g for t, g in zip(truth, guess, strict=True)])


def changes(before: list[bool], after: list[bool]) -> str:
    """Messages the retrained model gets right that the shipped one got wrong, and the
    reverse, with the two-sided sign test's p-value (is the change more than chance?)."""
    fixed = sum(1 for b, a in zip(before, after, strict=True) if a and not b)
    broken = sum(1 for b, a in zip(before, after, strict=True) if b and not a)
    p = binomtest(fixed, fixed + broken).pvalue if fixed + broken else 1.0
    return f"{fixed:>5} {broken:>6} {p:6.2f}"


def measured_on_corpus(classifier: MessageClassifier, held_out: list) -> tuple[float, float]:  # type: ignore[type-arg]
    guess = [p.category for p in predict(classifier.model.classifier,
                                         prepare_examples(held_out, classifier.analyzer))]
    truth = [e.label for e in held_out]
    return (float(accuracy_score(truth, guess)),
            float(f1_score(truth, guess, labels=list(LABELS), average="macro",
                           zero_division=0)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weight", type=float, default=20.0,
                        help="[corrections] weight (default 20, the shipped default)")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    rows = [json.loads(line) for lang in ("es", "pt", "en")
            for line in (NEW_STYLE / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()]

    def measuring(group: str) -> bool:
        return int.from_bytes(hashlib.sha256(group.encode()).digest()[:4], "big") % 5 < 2

    evaluation = [r for r in rows if measuring(r["group"])]
    stream = [r for r in rows if not measuring(r["group"])]
    random.Random(7).shuffle(stream)
    training, held_out = split(load_examples(default_corpus_files(REPO_CORPUS)))

    work = Path(tempfile.mkdtemp(prefix="triage-sim-"))
    for sub in ("cur", "new", "tmp"):
        (work / "Maildir" / sub).mkdir(parents=True)
    (work / "triage.toml").write_text(CONFIG.format(
        maildir=work / "Maildir", store=work / "state" / "triage.db", weight=args.weight,
        tolerance=args.tolerance), encoding="utf-8")
    config = load_config(work / "triage.toml")

    lines = [f"corrections simulation ({machine()})",
             f"new style: {len(rows)} messages to an agricultural telemetry provider "
             f"(es, pt, en); stream {len(stream)}, measured on {len(evaluation)} "
             f"(other groups, never corrected); corpus held-out groups: {len(held_out)}",
             f"correction weight {args.weight:g}, tolerance {args.tolerance:g}",
             "", f"{'corrections':>11}  {'stream read':>11}  {'outcome':<9} "
             f"{'style acc':>9} {'style F1':>8}  {'held-out acc':>12} {'held-out F1':>11}  "
             f"{'learned':>7}  {'fixed':>5} {'broken':>6} {'p':>6}  retrain s"]

    classifier = MessageClassifier(load_active(config))

    fixed: list[dict[str, str]] = []  # the corrected stream messages
    shipped_right = measured_on_style(classifier, evaluation)[2]

    def row(corrections: int, read: int, outcome: str, seconds: float | None) -> str:
        style = measured_on_style(classifier, evaluation)
        corpus = measured_on_corpus(classifier, held_out)
        spent = f"{seconds:9.1f}" if seconds is not None else f"{'':>9}"
        learned = f"{measured_on_style(classifier, fixed)[0]:7.3f}" if fixed else f"{'':>7}"
        changed = changes(shipped_right, style[2]) if seconds is not None else f"{'':>19}"
        line = (f"{corrections:>11}  {read:>11}  {outcome:<9} {style[0]:9.3f} "
                f"{style[1]:8.3f}  {corpus[0]:12.3f} {corpus[1]:11.3f}  {learned}  {changed}  "
                f"{spent}")
        print(line, file=sys.stderr)
        return line

    lines.append(row(0, 0, "shipped", None))
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    corrected = read = 0
    steps = list(STEPS)
    with Store(config.store.path) as store:
        store.reset_folder("INBOX", 1)
        for uid, item in enumerate(stream, start=1):
            if not steps:
                break
            now += timedelta(minutes=30)
            message = Message(
                message_id=f"<{item['id']}@sim.example>", subject=item["subject"],
                body=own_text(item["body"]), date=now,
                sender=Address(name="", email=f"{item['group']}@farm.example"))
            [verdict] = classifier.classifications([message])
            store.save_batch("INBOX", 1, [Fetched(uid=uid, message=message, kind=Kind.CLIENT,
                                                  classification=verdict)], last_uid=uid)
            read += 1
            if verdict.category == item["label"]:
                continue
            with store.transaction():
                store.record_correction(message.message_id, item["label"], "folder:sim", now)
            corrected += 1
            fixed.append(item)
            if corrected == steps[0]:
                steps.pop(0)
                started = time.perf_counter()
                result = retrain(config, store, now)
                seconds = time.perf_counter() - started
                if result.outcome == "kept":
                    classifier = MessageClassifier(load_active(config))
                lines.append(row(corrected, read, result.outcome, seconds))
    if steps:
        lines.append(f"the stream ended after {read} messages and {corrected} corrections: "
                     f"no retraining at {', '.join(map(str, steps))}")
    # The ceiling: every stream message labelled and learned at the same weight.
    started = time.perf_counter()
    everything = [Correction(i, r["subject"], own_text(r["body"]), r["lang"], r["label"], 1)
                  for i, r in enumerate(stream, start=1)]
    model, tables = fit_weighted(training, everything, args.weight)
    classifier = MessageClassifier(LoadedModel(model, tables, {}, Path()))
    lines.append(row(len(everything), len(stream), "all", time.perf_counter() - started))
    lines += ["", "style: accuracy and macro-F1 on the measuring part of the new style; "
              "held-out: on the corpus's held-out groups (the original split).",
              "stream read: how many stream messages the user had read when the corrections "
              "reached that count; each wrong one was corrected.",
              "learned: accuracy of the model in use on the corrected messages themselves.",
              "all: the ceiling, every stream message (right or wrong) labelled and learned "
              "at the same weight.",
              "fixed / broken: measuring messages the model in use gets right and the shipped "
              "one got wrong, and the reverse; p: two-sided sign test on those two counts."]
    publish("corrections_sim.txt", lines, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
