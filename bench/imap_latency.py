"""Latency of the service: from a client's message landing in the inbox to its
stored triage, and to its reply draft in Drafts when it needs no cool-down (a
genuine fault), with `triage run` idling on IMAP IDLE against a real Dovecot.

Run: .venv/bin/python bench/imap_latency.py [--messages 60]
Needs Dovecot (scripts/test installs it). Writes bench/results/imap_latency.txt.

Each message is appended over a second IMAP connection; the clock starts when
the server has confirmed the APPEND and stops when the message's verdict is in
the state database, and again when its draft is recorded as appended to Drafts
(polled every 5 ms). The messages report outages in the three languages, so the
classifier calls most of them genuine faults; a draft is timed for those it does.
Dovecot itself waits about half a second before telling an IDLE client of new mail,
so that is the floor.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from benchlib import dovecot_config, machine, publish  # noqa: E402
from dovecot import Dovecot  # noqa: E402

TABLES = """
[folders]
notices = ["Billing"]

[provider]
name = "Bench Agency"
domains = ["agency.example"]
"""

TEXTS = [
    "Desde las 10 la tienda online da error 500 y no podemos cobrar. ¿Qué pasó en el servidor?",
    "Your server lost every email we received yesterday afternoon.",
    "A atualização que vocês fizeram hoje quebrou o formulário de contato do site.",
    "El correo no funciona desde vuestra migración de anoche, nos rebota todo.",
    "Since your update this morning our checkout page shows a database error.",
    "Desde a manutenção de vocês o site mostra erro 500 na página de pagamento.",
]


def message(n: int) -> tuple[str, bytes]:
    mail = EmailMessage()
    mail["From"] = f"Client {n} <client{n}@shop{n % 7}.example>"
    mail["To"] = "support@agency.example"
    mail["Subject"] = f"Question {n}"
    mail["Date"] = format_datetime(datetime.now(UTC))
    message_id = make_msgid(f"lat{n}", domain="shop.example")
    mail["Message-ID"] = message_id
    mail.set_content(TEXTS[n % len(TEXTS)])
    return message_id, bytes(mail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60)
    args = parser.parse_args()
    server = Dovecot()
    server.start()
    work = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    config, env = dovecot_config(server, work, TABLES)
    store = work / "triage.db"
    service = subprocess.Popen(
        [sys.executable, "-m", "triage", "run", "-q", "--config", str(config)], env=env)
    rng = random.Random(3)
    latencies: list[float] = []
    drafted: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while not store.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3)  # connected and idling
        client = server.client()
        db = sqlite3.connect(store, timeout=30)
        for n in range(args.messages):
            message_id, raw = message(n)
            client.append("INBOX", raw)
            started = time.perf_counter()
            category = wait_for(db, TRIAGED, message_id, started, n)
            latencies.append(time.perf_counter() - started)
            if category == "genuine_fault":
                wait_for(db, DRAFTED, message_id, started, n)
                drafted.append(time.perf_counter() - started)
            time.sleep(rng.uniform(0.2, 1.0))
        client.logout()
        db.close()
    finally:
        service.terminate()
        service.wait(timeout=30)
        server.remove()
    lines = [
        f"IMAP IDLE latency ({machine()}, Dovecot on loopback, implicit TLS)",
        f"{len(latencies)} client messages appended one at a time while 'triage run' idled",
        "append confirmed -> triage stored: " + spread(latencies),
        f"append confirmed -> reply draft in Drafts ({len(drafted)} genuine faults, no "
        "cool-down): " + spread(drafted),
    ]
    publish("imap_latency.txt", lines)


TRIAGED = ("SELECT t.category FROM triage t JOIN messages m ON m.id = t.message "
           "WHERE m.message_id = ?")
DRAFTED = ("SELECT d.state FROM drafts d JOIN messages m ON m.id = d.message "
           "WHERE m.message_id = ? AND d.state = 'appended'")


def wait_for(db: sqlite3.Connection, query: str, message_id: str, started: float,
             n: int) -> str:
    while True:
        row = db.execute(query, (message_id,)).fetchone()
        if row:
            return str(row[0])
        if time.perf_counter() - started > 30:
            raise SystemExit(f"message {n}: nothing within 30 s ({query.split()[1]})")
        time.sleep(0.005)


def spread(values: list[float]) -> str:
    if not values:
        return "none measured"
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (f"median {statistics.median(ordered):.3f} s, 95th percentile {p95:.3f} s, "
            f"max {ordered[-1]:.3f} s")


if __name__ == "__main__":
    main()
