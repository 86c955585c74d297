"""Latency of the service: from a client's message landing in the inbox to its
stored triage, with `triage run` idling on IMAP IDLE against a real Dovecot.

Run: .venv/bin/python bench/imap_latency.py [--messages 60]
Needs Dovecot (scripts/test installs it). Writes bench/results/imap_latency.txt.

Each message is appended over a second IMAP connection; the clock starts when
the server has confirmed the APPEND and stops when the message's verdict is in
the state database (polled every 5 ms). Dovecot itself waits about half a second
before telling an IDLE client of new mail, so that is the floor.
"""

from __future__ import annotations

import argparse
import os
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

from benchlib import machine, publish  # noqa: E402
from dovecot import PASSWORD, USER, Dovecot  # noqa: E402

CONFIG = """
[mailbox]
url = "imaps://{user}@localhost:{port}"
password_env = "TRIAGE_BENCH_IMAP_PASSWORD"
ca_file = "{ca}"

[folders]
notices = ["Billing"]

[provider]
name = "Bench Agency"
domains = ["agency.example"]

[store]
path = "{store}"
"""

TEXTS = [
    "La web está caída desde las 9 y perdemos ventas, ¿qué pasa?",
    "Nobody told us about the maintenance last night, this is unacceptable.",
    "Pago a fatura na segunda, podem religar o serviço hoje?",
    "While you're at it, could you add a blog section to the site?",
    "Thanks for the quick fix yesterday, all good now.",
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
    store = work / "triage.db"
    config = work / "triage.toml"
    config.write_text(CONFIG.format(user=USER.replace("@", "%40"), port=server.tls_port,
                                    ca=server.ca_file, store=store), encoding="utf-8")
    env = {**os.environ, "TRIAGE_BENCH_IMAP_PASSWORD": PASSWORD}
    service = subprocess.Popen(
        [sys.executable, "-m", "triage", "run", "-q", "--config", str(config)], env=env)
    rng = random.Random(3)
    latencies: list[float] = []
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
            while True:
                row = db.execute(
                    "SELECT 1 FROM triage t JOIN messages m ON m.id = t.message "
                    "WHERE m.message_id = ?", (message_id,)).fetchone()
                if row:
                    latencies.append(time.perf_counter() - started)
                    break
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"message {n} was not triaged within 30 s")
                time.sleep(0.005)
            time.sleep(rng.uniform(0.2, 1.0))
        client.logout()
        db.close()
    finally:
        service.terminate()
        service.wait(timeout=30)
        server.remove()
    latencies.sort()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    lines = [
        f"IMAP IDLE latency ({machine()}, Dovecot on loopback, implicit TLS)",
        f"{len(latencies)} client messages appended one at a time while 'triage run' idled",
        f"append confirmed -> triage stored: median {statistics.median(latencies):.3f} s, "
        f"95th percentile {p95:.3f} s, max {latencies[-1]:.3f} s",
    ]
    publish("imap_latency.txt", lines)


if __name__ == "__main__":
    main()
