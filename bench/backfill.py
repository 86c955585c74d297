"""Backfill speed against the mail server's own limit, in one run: `triage run --once`
from an empty store over a Dovecot mailbox, and a bare imapclient read of the same
folders (UID FETCH BODY.PEEK[] in batches, nothing else done).

Run: .venv/bin/python bench/backfill.py [--sizes 10000] [--out backfill.txt]
     .venv/bin/python bench/backfill.py --sizes 1000,10000,50000 --out backfill_growth.txt
Needs Dovecot (scripts/test installs it). Writes bench/results/OUT.

The mailbox: an INBOX of client mail whose texts are the labelled corpus's (three
languages, the categories' mix), in every format the test factory makes (plain, HTML,
multipart, quoted replies, signatures, charsets), and a Sent folder of the provider's
notices (maintenance announcements, payment reminders, proposals) to the same
clients, one for every nine client messages. Mail is 37 minutes apart from January
2023, or from earlier so that no mailbox runs past June 2026: a first sync of old mail
plans no reply drafts, whatever its size. The triage run is a fresh process, so its
time includes start-up (imports and the model). Its memory is given as the main
process's own maximum resident set size, and as the peaks of the summed RSS and PSS
of it and its helper process ([service] processes = 2, the default on two cores),
sampled ten times a second: PSS counts the pages the two share once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from benchlib import dovecot_config, machine, publish  # noqa: E402
from dovecot import Dovecot  # noqa: E402
from mailfactory import render, varied_emails  # noqa: E402

TABLES = """
[folders]
notices = []

[provider]
name = "Ana Ruiz, Web Agency"
addresses = ["ana@agency.example", "billing@agency.example"]
domains = ["agency.example"]
timezone = "Europe/Madrid"
"""

BATCH = 200  # what triage fetches at a time, for a like-for-like bare read
START = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
# The newest mail of any mailbox is older than this: a first sync of years of mail
# plans no reply drafts (older than [drafts] max_age_days), whatever the size.
END = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
NOTICES = {
    "es": [("Mantenimiento programado el sábado {d}",
            "Hola:\n\nEl sábado {d} de 22:00 a 02:00 haremos el mantenimiento del servidor "
            "de correo y de la web. Durante esa ventana el servicio puede no responder.\n\n"
            "Un saludo,\nAna"),
           ("Recordatorio: factura FAC-{n} pendiente",
            "Le recordamos que la factura FAC-{n} de 240,00 EUR venció el día {d}. Si el "
            "pago no se recibe en 10 días el servicio quedará suspendido."),
           ("Propuesta de rediseño web",
            "Adjuntamos la propuesta: 5 páginas, 2 rondas de cambios, sin tienda online. "
            "Cualquier extra se presupuesta aparte.")],
    "pt": [("Manutenção programada no sábado {d}",
            "Olá,\n\nNo sábado {d} das 22h às 2h faremos a manutenção do servidor de e-mail. "
            "Durante essa janela o serviço pode ficar indisponível.\n\nAbraço,\nAna"),
           ("Lembrete: fatura FAT-{n} em aberto",
            "Lembramos que a fatura FAT-{n} de R$ 480,00 venceu no dia {d}. Sem o pagamento "
            "o serviço será suspenso em 10 dias."),
           ("Proposta de site institucional",
            "Segue a proposta: 5 páginas, 2 rodadas de revisão, sem loja virtual. Extras "
            "serão orçados à parte.")],
    "en": [("Scheduled maintenance on Saturday {d}",
            "Hello,\n\nOn Saturday {d}, 10 pm to 2 am, we will upgrade the mail server. The "
            "service may be unavailable during that window.\n\nBest,\nAna"),
           ("Reminder: invoice INV-{n} is overdue",
            "Invoice INV-{n} for USD 300.00 was due on {d}. Without payment within 10 days "
            "the service will be suspended."),
           ("Proposal: website redesign",
            "Attached is the proposal: 5 pages, 2 rounds of revisions, no online shop. "
            "Anything else is quoted separately.")],
}


def corpus_texts() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {"es": [], "pt": [], "en": []}
    for path in sorted((REPO / "corpus").glob("[a-z][a-z]_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["lang"] in texts:
                texts[row["lang"]].append(row["body"])
    return texts


Mail = tuple[bytes, datetime]  # a message and when it arrived


def mailbox(size: int) -> tuple[list[Mail], list[Mail]]:
    """(client messages, notices): ``size`` messages in all, nine clients to a notice."""
    notices = size // 10
    clients = size - notices
    step = timedelta(minutes=37)
    # Up to about 54,000 messages they start on START; a larger mailbox starts earlier.
    start = min(START, END - step * clients)
    inbox = [(render(mail), mail.date or start) for _, mail, _ in
             varied_emails(clients, seed=13, texts=corpus_texts(), start=start, step=step)]
    rng = random.Random(5)
    sent = []
    for n in range(notices):
        lang = ("es", "pt", "en")[n % 3]
        subject, body = rng.choice(NOTICES[lang])
        when = start + step * n * 9
        day = (when + timedelta(days=5)).strftime("%d/%m")
        mail = EmailMessage()
        mail["From"] = "Ana Ruiz <ana@agency.example>"
        # The addresses varied_emails gives its clients, so notices are candidates.
        mail["To"] = f"client{n % 40}@client{n % 25}.example"
        mail["Bcc"] = ", ".join(f"c{k}@client{(n + k) % 25}.example" for k in range(3))
        mail["Subject"] = subject.format(d=day, n=2023000 + n)
        mail["Date"] = format_datetime(when)
        mail["Message-ID"] = f"<notice{n}@agency.example>"
        mail.set_content(body.format(d=day, n=2023000 + n))
        sent.append((bytes(mail), when))
    return inbox, sent


def fill(server: Dovecot, inbox: list[Mail], sent: list[Mail]) -> None:
    """Append the messages with their Date as the server's arrival time, as mail that
    came in over the years has (triage drafts no reply to old mail)."""
    client = server.client()
    try:
        for folder, raws in (("INBOX", inbox), ("Sent", sent)):
            for first in range(0, len(raws), 500):
                client.multiappend(folder, [{"msg": raw, "date": when}
                                            for raw, when in raws[first:first + 500]])
    finally:
        client.logout()


def batches(uids: list[int]) -> Iterator[list[int]]:
    for first in range(0, len(uids), BATCH):
        yield uids[first:first + BATCH]


def bare_read(server: Dovecot) -> tuple[float, int, int]:
    """Seconds, messages and bytes of a plain read of INBOX and Sent."""
    started = time.perf_counter()
    client = server.client()
    count = size = 0
    try:
        for folder in ("INBOX", "Sent"):
            client.select_folder(folder, readonly=True)
            for batch in batches(client.search(["ALL"])):
                for data in client.fetch(batch, ["BODY.PEEK[]"]).values():
                    count += 1
                    size += len(data[b"BODY[]"])
    finally:
        client.logout()
    return time.perf_counter() - started, count, size


class TreeMemory:
    """Samples, every tenth of a second, the memory of a process and its children
    (the helper): the peak of their summed RSS, and of their summed PSS, which counts
    the pages they share (the model, forked) once."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.rss = self.pss = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            rss = pss = 0.0
            for pid in self._tree():
                try:
                    text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
                except OSError:
                    continue  # ended meanwhile
                fields = dict(line.split(":", 1) for line in text.splitlines()[1:])
                rss += int(fields["Rss"].split()[0]) / 1024
                pss += int(fields["Pss"].split()[0]) / 1024
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def _tree(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text("ascii")
        except OSError:
            return []
        return [self.pid, *map(int, children.split())]


def triage_run(server: Dovecot, work: Path, profile: Path | None = None,
               processes: int | None = None) -> tuple[float, float, TreeMemory, str]:
    """Seconds, the main process's peak RSS (MB), the memory of it and its helper,
    and the summary line of `triage run --once`; with ``profile``, the run is under
    cProfile and its statistics are written there."""
    service = f"\n[service]\nprocesses = {processes}\n" if processes else ""
    config, env = dovecot_config(server, work, TABLES + service)
    log = work / "run.log"
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, *profiler, "-m", "triage", "run", "--once", "-q",
             "--config", str(config)],
            env=env, stdout=output, stderr=subprocess.STDOUT)
        tree = TreeMemory(process.pid)
        # Its own peak, not that of every child this script has had.
        _, status, usage = os.wait4(process.pid, 0)
        tree.stop()
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8").strip()
    if process.returncode != 0:
        raise SystemExit(f"triage run failed: {text}")
    return elapsed, usage.ru_maxrss / 1024, tree, text.splitlines()[-1]


def measure(size: int, profile: Path | None = None, processes: int | None = None
            ) -> list[str]:
    inbox, sent = mailbox(size)
    server = Dovecot()
    server.start()
    work = Path(tempfile.mkdtemp(prefix="triage-backfill-"))
    try:
        fill(server, inbox, sent)
        bare_s, bare_n, bare_bytes = bare_read(server)
        run_s, peak, tree, summary = triage_run(server, work, profile, processes)
    finally:
        server.remove()
    setting = f" ([service] processes = {processes})" if processes else ""
    return [
        f"{size} messages ({len(inbox)} client, {len(sent)} notices in Sent; "
        f"{bare_bytes / 1e6:.1f} MB):",
        f"  bare imapclient read: {bare_s:.2f} s, {bare_n / bare_s:.0f} messages/s",
        f"  triage run --once from an empty store{setting}: {run_s:.2f} s, {size / run_s:.0f} "
        f"messages/s, peak RSS {peak:.0f} MB (main process); with its helper, sampled: "
        f"RSS {tree.rss:.0f} MB, PSS {tree.pss:.0f} MB",
        f"  ratio {run_s / bare_s:.1f}; triage said: {summary}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000",
                        help="comma-separated mailbox sizes (default 10000)")
    parser.add_argument("--out", default="backfill.txt", help="result file in bench/results")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="run triage under cProfile and write its statistics to FILE "
                             "(read them with `python -m pstats FILE`); the timings then "
                             "include the profiler's cost, so nothing is written to results")
    parser.add_argument("--processes", type=int, choices=(1, 2),
                        help="[service] processes for the triage run (default: triage's own)")
    args = parser.parse_args()
    lines = [f"backfill ({machine()}, {os.cpu_count()} cores, Dovecot on loopback, "
             "implicit TLS)"]
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"measuring {size} messages...", file=sys.stderr, flush=True)
        lines += measure(size, args.profile, args.processes)
    publish(args.out, lines, write=args.profile is None)


if __name__ == "__main__":
    main()
