"""Peak memory of huge mail: parsing and classifying one 50 MB message, and
`triage run --once` over a Maildir holding five of them among normal mail.

Run: .venv/bin/python bench/huge_message.py
Writes bench/results/huge_message.txt.

Every figure comes from a fresh child process: its peak resident set size
(ru_maxrss, from wait4), so imports and the model count the same way each time,
and a baseline does the same work on small mail. The Python allocations of
parse_message alone are measured with tracemalloc in another child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from benchlib import machine, publish  # noqa: E402
from mailfactory import huge_message, render, special_emails, varied_emails  # noqa: E402

MB = 1024 * 1024
HUGE = 50 * MB
NORMAL_MAIL = 300

CONFIG = """
[mailbox]
url = "maildir:{maildir}"

[provider]
name = "Ana Ruiz, Web Agency"
domains = ["agency.example"]

[store]
path = "{store}"
"""


def shapes() -> dict[str, bytes]:
    """The messages measured one at a time, by name."""
    head = (b"From: Marta Gil <marta@bodega.example>\nTo: ana@agency.example\n"
            b"Subject: La web no carga\nMessage-ID: <%s@bodega.example>\n")
    words = b"La web no carga desde ayer y nadie nos aviso. "
    return {
        "small message (baseline)": render(next(iter(varied_emails(1)))[1]),
        "50 MB: text part + base64 attachment": huge_message(HUGE, "<huge@bodega.example>"),
        "20 MB single-line text body": head % b"line" + b"\n" + words * (20 * MB // len(words)),
        "20 MB HTML body": head % b"html" + b"Content-Type: text/html\n\n<html><body>"
        + (b"<p>" + words + b"</p>") * (20 * MB // (len(words) + 7)),
    }


# --- the children -----------------------------------------------------------------


def child_classify(path: str) -> None:
    """Parse and classify one message file, as the service does."""
    from triage.classify import MessageClassifier
    from triage.parsing import parse_message

    classifier = MessageClassifier()
    raw = Path(path).read_bytes()
    message = parse_message(raw)
    verdict = classifier.classifications([message])[0]
    print(json.dumps({"body": len(message.body), "category": verdict.category}))


def child_trace(path: str) -> None:
    """The peak of Python allocations while parse_message runs (the bytes read excluded)."""
    import tracemalloc

    from triage.parsing import parse_message

    raw = Path(path).read_bytes()
    parse_message(b"From: a@b.example\n\nwarm-up\n")
    tracemalloc.start()
    parse_message(raw)
    print(json.dumps({"peak": tracemalloc.get_traced_memory()[1]}))


def measure(argv: Sequence[str]) -> tuple[float, float, str]:
    """Run a child; its peak RSS in MB, its wall time in seconds, and its stdout."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    with tempfile.TemporaryFile() as errors:
        # Not Popen.wait: wait4 is what gives this child's own resource usage.
        child = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE,
                                 stderr=errors, cwd=REPO, env=env)
        assert child.stdout is not None
        out = child.stdout.read().decode()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed with status {child.returncode}:\n"
                             + errors.read().decode(errors="replace"))
    return usage.ru_maxrss / 1024, time.perf_counter() - started, out


def child_build(folder: str) -> None:
    """Write the measured messages and the two Maildirs into ``folder``.

    A child of its own: a child's peak RSS counts its parent's at the moment it
    was started (Linux keeps it across exec), so the parent must never hold them.
    """
    root = Path(folder)
    names = {}
    for n, (name, raw) in enumerate(shapes().items()):
        (root / f"shape{n}.eml").write_bytes(raw)
        names[f"shape{n}.eml"] = name
    (root / "shapes.json").write_text(json.dumps(names), encoding="utf-8")
    normal = [render(mail) for _, mail, _ in varied_emails(NORMAL_MAIL, seed=3)]
    normal += [raw for _, raw, _ in special_emails()]
    for name in ("normal", "huge"):
        maildir = root / name
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True)
        for n, raw in enumerate(normal):
            (maildir / "new" / f"{1_790_000_000 + n}.M{n}.bench").write_bytes(raw)
        (root / f"{name}.toml").write_text(
            CONFIG.format(maildir=maildir, store=root / f"{name}.db"), encoding="utf-8")
    step = len(normal) // 5
    for n in range(5):  # spread among the normal mail, between its delivery times
        (root / "huge" / "new" / f"{1_790_000_000 + n * step}.M{n}.huge").write_bytes(
            huge_message(HUGE, f"<huge{n}@bodega.example>", seed=n))


def main() -> None:
    lines = [f"huge mail: peak memory ({machine()})",
             "each figure is a fresh process's peak RSS (ru_maxrss); the Python "
             "allocations of parse_message alone by tracemalloc"]
    with tempfile.TemporaryDirectory(prefix="triage-huge-") as scratch:
        root = Path(scratch)
        subprocess.run([sys.executable, __file__, "--child", "build", scratch], check=True)
        lines.append("parse + classify one message (imports and model included):")
        shape_names = json.loads((root / "shapes.json").read_text(encoding="utf-8"))
        for file, name in shape_names.items():
            path = str(root / file)
            rss, seconds, out = measure([__file__, "--child", "classify", path])
            traced = json.loads(measure([__file__, "--child", "trace", path])[2])["peak"]
            body = json.loads(out)["body"]
            lines.append(f"  {name}: peak RSS {rss:.0f} MB, parse_message allocations "
                         f"{traced / MB:.0f} MB, {seconds:.1f} s, {body} characters of "
                         "text classified")
        lines.append(f"'triage run --once' over a Maildir of {NORMAL_MAIL + 11} normal "
                     "messages:")
        for name, label in (("normal", "alone"), ("huge", "and five 50 MB messages")):
            rss, seconds, out = measure(["-m", "triage", "run", "--once", "-q", "--config",
                                         str(root / f"{name}.toml")])
            summary = out.splitlines()[0].split(" in ")[0]
            lines.append(f"  {label}: peak RSS {rss:.0f} MB, {seconds:.1f} s ({summary})")
    publish("huge_message.txt", lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        children = {"build": child_build, "classify": child_classify, "trace": child_trace}
        children[sys.argv[2]](sys.argv[3])
    else:
        main()
