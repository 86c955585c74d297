"""Evidence search time as the store's notices grow: one client's complaints are
searched in stores that also hold 0, 10,000 and 50,000 notices to other clients,
and then with 60, 120 and 240 notices of the client's own.

The search reads only the complainant's party's notices of the proof window (an
index on parties and dates), so its time per complaint should not change with
the notices sent to everyone else; the evidence cited must not change either.
Every notice of the client's own in the window is a candidate the ranker reads
(at most 300), so that time grows with them.

The client's slice: 60 notices to cliente.example over 400 days (maintenance
announcements, payment reminders, proposals), and 300 complaints after them, each
with the category its text is about. The other notices go to 1,000 other clients.

Last, complaints whose text is hostile to a pattern matcher (100,000 characters, the
most of a body triage keeps: "a.a.a.a...", "a.1a.1a.1...", one word of 100,000
letters), searched against the 60 notices: the time must stay that of ordinary mail.

Run: .venv/bin/python bench/evidence_growth.py [--sizes 0,10000,50000] [--own 60,120,240]
Writes bench/results/evidence_growth.txt.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from benchlib import machine, publish  # noqa: E402

from triage.evidence import EvidenceFinder  # noqa: E402
from triage.message import Classification, Kind  # noqa: E402
from triage.parsing import parse_message  # noqa: E402
from triage.store import Fetched, Store  # noqa: E402
from triage.threads import thread_keys  # noqa: E402

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
PROVIDER = "Ana Ruiz <ana@agency.example>"
NOTICES = [
    ("Mantenimiento programado del servidor de correo el {d}",
     "El {d} de 22:00 a 02:00 haremos el mantenimiento del servidor de correo. Durante esa "
     "ventana el correo puede no llegar."),
    ("Recordatorio: factura FAC-{n} pendiente",
     "La factura FAC-{n} de 240,00 EUR venció el {d}. Sin el pago en 10 días el servicio "
     "quedará suspendido."),
    ("Propuesta de rediseño web",
     "Adjuntamos la propuesta: 5 páginas, 2 rondas de cambios, sin tienda online. Cualquier "
     "extra se presupuesta aparte."),
]
COMPLAINTS = [
    ("accusation", "Anoche no funcionó el correo",
     "Anoche estuvimos sin correo de las diez a las dos y nadie nos avisó de nada."),
    ("payment_excuse", "Servicio suspendido",
     "No me llegó ninguna factura FAC-{n} y ahora me cortan el servicio. Pago la semana "
     "que viene."),
    ("scope_creep", "Un cambio más",
     "Ya que estáis con la web, añadid una tienda online y dos páginas más, sin coste."),
]


def owns(address: str) -> bool:
    return address.endswith("@agency.example")


def notice(n: int, to: str, when: datetime) -> Fetched:
    subject, body = NOTICES[n % 3]
    day = (when + timedelta(days=3)).strftime("%d/%m")
    mail = EmailMessage()
    mail["From"] = PROVIDER
    mail["To"] = to
    mail["Subject"] = subject.format(d=day, n=n)
    mail["Date"] = format_datetime(when)
    mail["Message-ID"] = f"<n{n}.{to.split('@')[1]}@agency.example>"
    mail.set_content(body.format(d=day, n=n))
    message = parse_message(bytes(mail))
    return Fetched(uid=n + 1, message=message, kind=Kind.PROVIDER,
                   thread=thread_keys(message, owns))


HOSTILE = {
    '"a." repeated': "a." * 50_000,
    '"a.1" repeated': "a.1" * 33_333,
    "one word of 100,000 letters": "a" * 100_000,
    "ordinary words, 100,000 characters": ("anoche nos quedamos sin correo y nadie "
                                           "avisó de nada " * 2000)[:100_000],
}


def complaint(n: int, when: datetime, text: str | None = None) -> Fetched:
    category, subject, body = COMPLAINTS[n % 3]
    body = body if text is None else text
    mail = EmailMessage()
    mail["From"] = f"Marta <marta{n % 5}@cliente.example>"
    mail["To"] = PROVIDER
    mail["Subject"] = subject
    mail["Date"] = format_datetime(when)
    mail["Message-ID"] = f"<c{n}@cliente.example>"
    mail.set_content(body.format(n=(n // 3) * 3 + 1))
    message = parse_message(bytes(mail))
    verdict = Classification(language="es", category=category, confidence=1.0,
                             probabilities={category: 1.0}, hostility=1, hostility_score=1.0)
    return Fetched(uid=n + 1, message=message, kind=Kind.CLIENT, classification=verdict,
                   thread=thread_keys(message, owns))


def fill(store: Store, others: int, own: int = 60, text: str | None = None,
         complaints: int = 300) -> None:
    """``others`` notices to other clients over the same 400 days, then the slice with
    ``own`` notices to the client."""
    step = timedelta(days=400) / max(others, 1)
    for first in range(0, others, 1000):
        batch = [notice(100_000 + n, f"admin@other{n % 1000}.example", START + step * n)
                 for n in range(first, min(first + 1000, others))]
        store.save_batch("Sent", 1, batch, last_uid=first + len(batch))
    mine = [notice(n, f"marta{n % 5}@cliente.example", START + timedelta(days=400 * n / own))
            for n in range(own)]
    store.save_batch("Notices", 1, mine, last_uid=own)
    after = START + timedelta(days=380)
    store.save_batch("INBOX", 1, [complaint(n, after + timedelta(hours=2 * n), text)
                                  for n in range(complaints)], last_uid=complaints)


def measure(others: int, own: int = 60, text: str | None = None,
            complaints: int = 300) -> tuple[float, list[list[str]]]:
    """Seconds per complaint of the evidence search, and what each complaint cited."""
    with tempfile.TemporaryDirectory(prefix="triage-evidence-growth-") as work, \
            Store(Path(work) / "state.db") as store:
        fill(store, others, own, text, complaints)
        finder = EvidenceFinder()
        rows = store.evidence_due(limit=1000)
        started = time.perf_counter()
        finder.update(store)
        elapsed = time.perf_counter() - started
        cited = [[e["message_id"] for e in store.evidence_of(row)] for row in rows]
    return elapsed / len(rows), cited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,10000,50000",
                        help="comma-separated counts of notices to other clients")
    parser.add_argument("--own", default="60,120,240",
                        help="comma-separated counts of notices to the complainant's client")
    args = parser.parse_args()
    lines = [f"evidence search time against notices to other clients ({machine()})"]
    measure(0)  # warm up: the language detector and spaCy's pipelines load on first use
    first: list[list[str]] | None = None
    for others in (int(s) for s in args.sizes.split(",")):
        print(f"storing {others} other notices...", file=sys.stderr, flush=True)
        seconds, cited = measure(others)
        first = first if first is not None else cited
        same = "the same evidence" if cited == first else "DIFFERENT evidence"
        lines.append(f"  {others:6d} notices to other clients: {seconds * 1000:.2f} ms per "
                     f"complaint (300 complaints, {sum(map(bool, cited))} citing; {same})")
    lines.append("against notices to the complainant's own client (no other notices):")
    for own in (int(s) for s in args.own.split(",")):
        print(f"storing {own} notices of the client's own...", file=sys.stderr, flush=True)
        seconds, cited = measure(0, own)
        lines.append(f"  {own:6d} notices of its own in 400 days: {seconds * 1000:.2f} ms per "
                     f"complaint ({sum(map(bool, cited))} of 300 citing)")
    lines.append("complaints of 100,000 characters (30 each, against the 60 notices):")
    for name, text in HOSTILE.items():
        print(f"searching for {name}...", file=sys.stderr, flush=True)
        seconds, _ = measure(0, 60, text, complaints=30)
        lines.append(f"  {name:36s} {seconds * 1000:8.2f} ms per complaint")
    publish("evidence_growth.txt", lines)


if __name__ == "__main__":
    main()
