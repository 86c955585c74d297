"""Broken mail through the whole triage path, as ``triage run --once`` meets it in a
Maildir: parse, store, classify, threads, evidence, reply drafts, then ``triage
export`` and ``triage show``.

test_parsing.py runs the parser alone over odd bytes; here the corpus goes through
everything after it too. It is made in the test's own folder: CPython's email test
files, truncated and bit-flipped copies of good mail (tests/mailfactory.py and the
demo mailbox), deeply nested and very wide multiparts, lying and unknown charsets,
broken transfer encodings, hostile headers and huge messages; hypothesis adds
header and MIME structures of its own. Whatever comes in, the run ends normally,
every file is stored once, what cannot be read is stored with the reason, what can
is triaged, and no client mail file is changed or moved.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import email
import email.policy
import hashlib
import io
import json
import os
import quopri
import random
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from conftest import MINIMAL_CONFIG, REPO, make_maildir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailfactory import POOL, huge_message, render, special_emails, varied_emails
from test_parsing import cpython_files

from triage.classify import MessageClassifier
from triage.cli import main
from triage.config import load_config
from triage.daemon import Service
from triage.drafting import Drafter
from triage.evidence import EvidenceFinder
from triage.export import export_rows
from triage.mailbox import MaildirMailbox, maildir_files
from triage.parsing import MAX_SUBJECT_CHARS, MAX_TEXT_CHARS, parse_message
from triage.show import gather, printable
from triage.show import render as render_shown
from triage.store import Store, clean

MB = 1024 * 1024
DEMO = REPO / "corpus" / "demo" / "mailbox"
# Delivery time of every file, so that a message without a usable Date has a known one.
DELIVERED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

# The tests' usual configuration; the demo's second domain is the provider's too, and
# drafting plans and appends replies to all of the corpus (mail of late 2026, and the
# run uses the real clock).
CONFIG = MINIMAL_CONFIG.replace(
    'domains = ["agency.example"]', 'domains = ["agency.example", "ruizcosta.example"]'
) + """
[drafts]
max_age_days = 3650
"""
assert "ruizcosta.example" in CONFIG

HEAD = ("From: Marta Gil <marta@bodega.example>\nTo: Ana Ruiz <ana@agency.example>\n"
        "Date: Mon, 9 Nov 2026 10:00:00 +0100\nMessage-ID: <{name}@bodega.example>\n")
COMPLAINT = "Nadie nos avisó del corte del martes y perdimos ventas toda la tarde."


# --- the corpus -----------------------------------------------------------------


def good_mail() -> list[tuple[str, bytes]]:
    """Good messages with their folder: generated client mail, the generator's
    automated and provider mail, and the demo mailbox (its Notices read as Billing)."""
    found = [("INBOX", render(mail)) for _, mail, _ in varied_emails(60, seed=31)]
    found += [(expected.folder, raw) for _, raw, expected in special_emails()]
    for folder in ("INBOX", "Sent", "Billing", "Notices"):
        base = DEMO if folder == "INBOX" else DEMO / f".{folder}"
        for path in sorted(maildir_files(base).values()):
            found.append(("Billing" if folder == "Notices" else folder, path.read_bytes()))
    return found


_HEADER_END = re.compile(rb"\r?\n\r?\n")


def with_message_id(raw: bytes, message_id: str) -> bytes:
    """``raw`` under another Message-ID, so that each broken copy is a message of its
    own instead of a second location of the good one."""
    end = _HEADER_END.search(raw)
    head, rest = (raw[: end.start()], raw[end.start():]) if end else (raw, b"")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"message-id:")]
    return b"\n".join([f"Message-ID: {message_id}".encode(), *lines]) + rest


def cut_points(raw: bytes, rng: random.Random) -> dict[str, int]:
    """Where to cut ``raw``: anywhere, inside the header block, inside base64 text and
    inside a boundary line, where it has them."""
    points = {"anywhere": rng.randrange(1, len(raw))}
    end = _HEADER_END.search(raw)
    if end and end.start() > 1:
        points["header"] = rng.randrange(1, end.start())
    b64 = re.search(rb"base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]{8,})", raw, re.IGNORECASE)
    if b64:
        points["base64"] = rng.randrange(b64.start(1) + 1, b64.end(1))
    boundary = re.search(rb'boundary="?([^";\r\n]+)', raw)
    if boundary:
        mark = b"--" + boundary.group(1)
        at = raw.find(mark, boundary.end())
        if at >= 0:
            points["boundary"] = at + rng.randrange(1, len(mark))
    return points


def flipped(raw: bytes, rng: random.Random) -> bytes:
    """``raw`` with a few random bits flipped and a few bytes replaced at random."""
    data = bytearray(raw)
    for _ in range(rng.randrange(1, 40)):
        at = rng.randrange(len(data))
        if rng.random() < 0.5:
            data[at] ^= 1 << rng.randrange(8)
        else:
            data[at] = rng.randrange(256)
    return bytes(data)


def damaged_copies(rng: random.Random) -> list[tuple[str, str, bytes]]:
    """Truncated and bit-flipped copies of the good mail: (name, folder, raw)."""
    copies = []
    for n, (folder, raw) in enumerate(good_mail()):
        if len(raw) < 100:  # the generator's empty message: nothing to damage
            continue
        for kind, at in cut_points(raw, rng).items():
            name = f"cut-{kind}-{n}"
            copies.append((name, folder, with_message_id(raw, f"<{name}@copies.example>")[:at]))
        for k in range(2):
            name = f"flip-{k}-{n}"
            copies.append((name, folder, flipped(with_message_id(
                raw, f"<{name}@copies.example>"), rng)))
    return copies


def nested(depth: int, name: str) -> bytes:
    """A multipart ``depth`` levels deep with one text part at the bottom."""
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    return (HEAD.format(name=name).encode() + b"Subject: Profundo\nMIME-Version: 1.0\n"
            + opening + b"Content-Type: text/plain\n\n" + COMPLAINT.encode() + closing)


def wide(parts: int, name: str, attachment: bool) -> bytes:
    """A multipart/mixed of ``parts`` small text parts or attachments."""
    if attachment:
        part = (b'--W\nContent-Type: application/pdf; name="f%d.pdf"\n'
                b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n")
    else:
        part = b"--W\nContent-Type: text/plain; charset=utf-8\n\nparte %d\n"
    return (HEAD.format(name=name).encode() + b"Subject: Muchas partes\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=W\n\n"
            + b"".join(part % i for i in range(parts)) + b"--W--\n")


def text_message(name: str, body: bytes, content_type: str = "text/plain",
                 encoding: str = "8bit", subject: str = "Corte del martes") -> bytes:
    return (HEAD.format(name=name) + f"Subject: {subject}\nMIME-Version: 1.0\n"
            f"Content-Type: {content_type}\nContent-Transfer-Encoding: {encoding}\n\n"
            ).encode() + body


# Messages built to be broken in one way each: (name, folder, raw); what each must
# give is checked in the test by name.
def odd_messages() -> list[tuple[str, str, bytes]]:
    rng = random.Random(5)
    latin = COMPLAINT.encode("latin-1")
    line = "La web no carga y nadie contesta el teléfono. ".encode()
    cases: dict[str, bytes] = {
        "empty": b"",
        "blank": b"\n\r\n  \n\t\n",
        "garbage": rng.randbytes(5000),
        "nuls": b"\x00" * 3000,
        "headers-only": HEAD.format(name="headers-only").encode() + b"Subject: solo cabeceras",
        "nested-500": nested(500, "nested-500"),
        "nested-5000": nested(5000, "nested-5000"),
        "parts-3000": wide(3000, "parts-3000", attachment=False),
        "attachments-3000": wide(3000, "attachments-3000", attachment=True),
        "no-boundary": text_message("no-boundary", COMPLAINT.encode(), "multipart/mixed"),
        "boundary-unused": text_message("boundary-unused", COMPLAINT.encode(),
                                        'multipart/mixed; boundary="never"'),
        "cut-in-nested": text_message(
            "cut-in-nested", b"--A\nContent-Type: multipart/alternative; boundary=B\n\n"
            + COMPLAINT.encode(), "multipart/mixed; boundary=A"),
        "boundary-unclosed": text_message(
            "boundary-unclosed", b"--U\nContent-Type: text/plain\n\n" + COMPLAINT.encode()
            + b"\n--U\nContent-Type: text/html\n\n<p>sin cerrar", "multipart/mixed; boundary=U"),
        "boundary-reused": text_message(
            "boundary-reused", b"--R\nContent-Type: multipart/alternative; boundary=R\n\n--R\n"
            b"Content-Type: text/plain\n\n" + COMPLAINT.encode() + b"\n--R--\n--R--\n",
            "multipart/mixed; boundary=R"),
        "boundary-2000": text_message(
            "boundary-2000", b"--" + b"x" * 2000 + b"\nContent-Type: text/plain\n\n"
            + COMPLAINT.encode() + b"\n--" + b"x" * 2000 + b"--\n",
            'multipart/mixed; boundary="' + "x" * 2000 + '"'),
        "charset-undeclared": text_message("charset-undeclared", latin),
        "charset-utf8-lie": text_message("charset-utf8-lie", latin, "text/plain; charset=utf-8"),
        "charset-nonsense": text_message("charset-nonsense", latin,
                                         "text/plain; charset=x-nonsense"),
        "charset-undefined": text_message("charset-undefined", latin,
                                          "text/plain; charset=undefined"),
        "charset-utf7": text_message("charset-utf7", COMPLAINT.encode("utf-7"),
                                     "text/plain; charset=utf-7"),
        "charset-utf16-be": text_message("charset-utf16-be", COMPLAINT.encode("utf-16-be"),
                                         "text/plain; charset=utf-16"),
        "charset-utf16-le": text_message("charset-utf16-le", COMPLAINT.encode("utf-16-le"),
                                         "text/plain; charset=utf-16"),
        "charset-utf16-lie": text_message("charset-utf16-lie", latin,
                                          "text/plain; charset=utf-16"),
        "base64-broken": text_message(
            "base64-broken", base64.encodebytes(COMPLAINT.encode())[:-6] + b"!!@@==\n=A",
            "text/plain; charset=utf-8", "base64"),
        "base64-garbage": text_message("base64-garbage", rng.randbytes(600), "text/plain",
                                       "base64"),
        "qp-broken": text_message("qp-broken", b"Nadie nos avis=F3 del corte =ZZ =\n=3\n=",
                                  "text/plain; charset=iso-8859-1", "quoted-printable"),
        "uuencode-broken": text_message("uuencode-broken", b"begin 644 x\nM\x00\xff!!\nend\n",
                                        "text/plain", "x-uuencode"),
        "encoding-unknown": text_message("encoding-unknown", COMPLAINT.encode(), "text/plain",
                                         "x-gibberish"),
        "encoded-words": text_message(
            "encoded-words", COMPLAINT.encode(), subject="=?x-nonsense?q?hola?= =?utf-8?b?####?="
            " =?utf-16?b?AGgAbwBsAGE=?= =?utf-7?q?+AOE-?= =?utf-8?q?=0D=0ABcc:_x@evil.example?="),
        "from-broken-word": (HEAD.format(name="from-broken-word").replace(
            "Marta Gil", "=?utf-8?b?TWFy`MOtbiBEw61heg==?=") + "Subject: nombre roto\n\n"
            + COMPLAINT).encode(),
        "8bit-headers": (b"From: Jos\xe9 P\xc3\xa9rez <jose@bodega.example>\n"
                         b"To: ana@agency.example\nSubject: Factura \xe9\xff\xfe pendiente\n"
                         b"Message-ID: <8bit@bodega.example>\n\n" + COMPLAINT.encode()),
        "nul-headers": (b"From: Marta\x00 <marta@bodega.example>\nTo: ana@agency.example\n"
                        b"Subject: corte\x00del martes\nMessage-ID: <nul\x00@bodega.example>\n\n"
                        + COMPLAINT.encode() + b"\x00"),
        "cr-only": (HEAD.format(name="cr-only") + "Subject: solo CR\n\n" + COMPLAINT
                    ).replace("\n", "\r").encode(),
        "subject-2mb": text_message("subject-2mb", COMPLAINT.encode(),
                                    subject="Queja " * (2 * MB // 6)),
        "headers-10000": text_message("headers-10000", COMPLAINT.encode(),
                                      subject="x\n" + "".join(f"X-Trace-{i}: {i}\n"
                                                              for i in range(10_000)).rstrip()),
        "references-5000": text_message(
            "references-5000", COMPLAINT.encode(),
            subject="Re: corte\nReferences: " + " ".join(f"<r{i}@x.example>" for i in range(5000))),
        "loop-a": text_message("loop-a", COMPLAINT.encode(), subject="Re: bucle\nReferences: "
                               "<loop-b@bodega.example>\nIn-Reply-To: <loop-b@bodega.example>"),
        "loop-b": text_message("loop-b", COMPLAINT.encode(), subject="Re: bucle\nReferences: "
                               "<loop-a@bodega.example>\nIn-Reply-To: <loop-a@bodega.example>"),
        "self-reference": text_message(
            "self-reference", COMPLAINT.encode(),
            subject="Re: yo\nIn-Reply-To: <self-reference@bodega.example>"),
        "duplicate-a": text_message("duplicate", b"first text under this Message-ID"),
        "duplicate-b": text_message("duplicate", b"second, different text under the same id"),
        "cc-3000": text_message("cc-3000", COMPLAINT.encode(), subject="copias\nCc: " + ", ".join(
            f"u{i}@c{i}.example" for i in range(3000))),
        "bad-addresses": (b'From: <<>> "unterminated <@@@>\nTo: @, a@, @b, ;;;, "x" <>\n'
                          b"Reply-To: =?utf-8?q?=00?= <\x00@x>\nSubject: direcciones\n"
                          b"Message-ID: <bad-addresses@bodega.example>\n\n" + COMPLAINT.encode()),
        "bad-date": (HEAD.format(name="bad-date").replace(
            "Mon, 9 Nov 2026 10:00:00 +0100", "Tue, 31 Feb 99999 25:61:61 +9999")
            + "Subject: fecha\n\n" + COMPLAINT).encode(),
        "rfc822-garbage": text_message(
            "rfc822-garbage", b"--M\nContent-Type: text/plain\n\n" + COMPLAINT.encode()
            + b"\n--M\nContent-Type: message/rfc822\n\n" + rng.randbytes(400) + b"\n--M--\n",
            "multipart/mixed; boundary=M"),
        "html-broken": text_message(
            "html-broken", b"<html><body><p>" + COMPLAINT.encode() + b"<table><tr><td>"
            b"<script>alert(1)</script><div><div><span>&#0; &#x110000; &#xD800; &bogus;",
            "text/html; charset=utf-8"),
        "html-deep": text_message("html-deep", b"<div>" * 100_000 + COMPLAINT.encode()
                                  + b"</div>" * 100_000, "text/html; charset=utf-8"),
        "mbox-from-line": b"From marta@bodega.example Mon Nov  9 10:00:00 2026\n" + text_message(
            "mbox-from-line", COMPLAINT.encode()),
        "report-empty": text_message("report-empty", b"--E--\n",
                                     "multipart/report; report-type=delivery-status; boundary=E"),
        "rfc2231-broken": text_message(
            "rfc2231-broken", latin, "text/plain; charset*=x-nonsense''%ZZ%; name*0*=''%FF; "
            "name*1=\"unterminated; charset"),
        "content-type-garbage": text_message("content-type-garbage", COMPLAINT.encode(),
                                             ";;;==//; boundary; charset"),
        "terminal-escapes": text_message(
            "terminal-escapes", ("\x1b[2J\x1b]0;pwned\x07" + COMPLAINT + "\u202e\u2066").encode(),
            "text/plain; charset=utf-8", subject="\x1b[31mrojo\x1b[0m =?utf-8?q?=1B=5B2J?="),
        "header-line-1mb": HEAD.format(name="header-line-1mb").encode() + b"X-Long: "
        + b"a" * MB,
        "html-3mb": text_message("html-3mb", b"<html><body>" + (b"<p>" + line + b"</p>")
                                 * (3 * MB // (len(line) + 7)), "text/html; charset=utf-8"),
        "huge-50mb": huge_message(50 * MB, "<huge-50mb@bodega.example>"),
        "line-20mb": text_message("line-20mb", line * (20 * MB // len(line)),
                                  "text/plain; charset=utf-8"),
    }
    return [(name, "INBOX", raw) for name, raw in cases.items()]


def corpus() -> list[tuple[str, str, bytes]]:
    """Everything delivered but CPython's files: (name, folder, raw)."""
    items = [(f"good-{n}", folder, raw) for n, (folder, raw) in enumerate(good_mail())]
    items += damaged_copies(random.Random(8))
    items += odd_messages()
    return items


# --- running and checking ---------------------------------------------------------


def deliver_all(maildir: Path, items: Sequence[tuple[str, str, bytes]]) -> None:
    for n, (name, folder, raw) in enumerate(items):
        base = maildir if folder == "INBOX" else maildir / f".{folder}"
        sub = "cur" if n % 3 else "new"
        path = base / sub / (f"{1_790_000_000 + n}.M{n}.{name}" + (":2,S" if sub == "cur" else ""))
        path.write_bytes(raw)
        os.utime(path, (DELIVERED.timestamp(), DELIVERED.timestamp()))


def snapshot(maildir: Path) -> dict[str, tuple[int, int, str]]:
    """Every client mail file (all but Drafts): its size, mtime and SHA-256."""
    found = {}
    for path in sorted(maildir.rglob("*")):
        if path.is_file() and ".Drafts" not in path.parts:
            stat = path.stat()
            found[str(path.relative_to(maildir))] = (
                stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def stored_ids(path: Path, raws: Sequence[bytes]) -> list[str]:
    """The Message-ID each file is stored under: its own, or where another message
    has that Message-ID (a damaged copy, a reused one), the one the store gave it."""
    with Store(path) as store:
        return [clean(m.message_id) or ""
                for m in store.own_ids([parse_message(raw) for raw in raws])]


def check_store(path: Path, ids: Sequence[str], now: datetime) -> dict[str, dict[str, object]]:
    """What must hold after any run over files stored under ``ids`` (``stored_ids``);
    returns the stored rows by Message-ID."""
    with Store(path) as store:
        db = store.db
        assert store.integrity_check() == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # Every file once: one location each, and one message per message (stored_ids).
        assert db.execute("SELECT count(*) FROM locations").fetchone()[0] == len(ids)
        rows = {r["message_id"]: dict(r) for r in db.execute(
            "SELECT m.*, t.category, t.evidence_at FROM messages m "
            "LEFT JOIN triage t ON t.message = m.id")}
        assert set(rows) == set(ids)
        for message_id, row in rows.items():
            if row["kind"] == "unreadable":
                assert str(row["error"] or "").strip(), message_id
            else:
                assert row["error"] is None, (message_id, row["error"])
            # Readable client mail is triaged and its evidence searched; nothing else is.
            assert (row["category"] is not None) == (row["kind"] == "client"), message_id
            assert row["category"] is None or row["evidence_at"] is not None, message_id
            for field in ("body", "quoted", "signature"):
                assert len(str(row[field])) <= MAX_TEXT_CHARS, (message_id, field)
            assert len(str(row["subject"])) <= MAX_SUBJECT_CHARS, message_id
        for plan in db.execute("SELECT * FROM drafts"):
            assert plan["state"] in ("planned", "appended", "cancelled", "held"), dict(plan)
            assert plan["state"] not in ("held", "cancelled") or plan["reason"], dict(plan)
            # A due draft was appended or held with its reason, never left behind.
            assert plan["state"] != "planned" or datetime.fromisoformat(
                plan["due_at"]) > now, dict(plan)
        return rows


def check_drafts(maildir: Path, path: Path) -> list[str]:
    """Every appended plan is in Drafts once, as a mail that parses; returns the
    Message-IDs of the messages answered."""
    folder = maildir / ".Drafts"
    drafts = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
              for f in maildir_files(folder).values()]
    with Store(path) as store:
        appended = {r["plan_id"]: r["message_id"] for r in store.db.execute(
            "SELECT d.plan_id, m.message_id FROM drafts d JOIN messages m ON m.id = d.message "
            "WHERE d.state = 'appended'")}
    assert sorted(str(d["X-Triage-Draft"]) for d in drafts) == sorted(appended)
    for draft in drafts:
        assert draft["To"] and draft["In-Reply-To"] and not draft["Bcc"]
        assert draft.get_body(preferencelist=("plain",)) is not None
    return list(appended.values())


def shown_printable(text: str) -> bool:
    """No control or format character (escape sequences, bidi overrides) but newline and tab."""
    return all(ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


@contextlib.contextmanager
def captured() -> Iterator[Callable[[], tuple[str, str]]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield lambda: (out.getvalue(), err.getvalue())


def cli(*args: str) -> tuple[int, str, str]:
    """Run ``triage ARGS``: exit status, stdout, stderr."""
    with captured() as output:
        status = main(list(args))
    return (status, *output())


# --- the fixed corpus, through `triage run --once` ------------------------------------


def run_corpus(tmp_path: Path, items: Sequence[tuple[str, str, bytes]]
               ) -> dict[str, dict[str, object]]:
    """Deliver ``items``, run ``triage run --once`` over them (then again with the
    clock a year ahead), check everything any run must leave, and exercise export
    and show on every message. Returns the stored rows by the items' names."""
    maildir = make_maildir(tmp_path / "Maildir")
    deliver_all(maildir, items)
    config = tmp_path / "triage.toml"
    store = tmp_path / "state" / "triage.db"
    config.write_text(CONFIG.format(maildir=maildir, store=store), encoding="utf-8")
    before = snapshot(maildir)
    raws = [raw for _, _, raw in items]

    started = datetime.now(UTC)
    status, out, err = cli("run", "--once", "--config", str(config))
    assert status == 0, err
    assert "Traceback" not in err
    ids = stored_ids(store, raws)
    rows = check_store(store, ids, started)
    unreadable = {m for m, r in rows.items() if r["kind"] == "unreadable"}
    clients = sum(r["kind"] == "client" for r in rows.values())
    assert f"{len(rows)} new messages stored, {clients} client messages triaged" in out
    # Each unreadable file is named in the log with its reason.
    logged = re.findall(r"UID \d+ is unreadable: (.+)", err)
    assert len(logged) == sum(m in unreadable for m in ids)
    assert all(reason.strip() for reason in logged)
    check_drafts(maildir, store)

    # Again with the clock a year ahead: nothing new, every thread's plan looked at.
    status, out, err = cli("run", "--once", "--now", "2027-11-23T09:00", "--config",
                           str(config))
    assert status == 0, err
    assert out.startswith("0 new messages stored") and "drafts would be due" in out

    # export and show work on every stored message; show prints no control characters.
    for form in ("jsonl", "csv"):
        target = tmp_path / f"export.{form}"
        status, _, err = cli("export", "--format", form, "--output", str(target),
                             "--config", str(config))
        assert status == 0, err
        with target.open(encoding="utf-8", newline="") as handle:
            exported = ([json.loads(line) for line in handle] if form == "jsonl"
                        else list(csv.DictReader(handle)))
        assert sorted(r["message_id"] for r in exported) == sorted(rows)
        assert all(r["error"] for r in exported if r["kind"] == "unreadable")
    for message_id in rows:
        status, out, err = cli("show", message_id, "--config", str(config))
        assert status == 0 and printable(message_id) in out, (message_id, err)
        assert shown_printable(out), message_id

    assert snapshot(maildir) == before  # no client mail file changed, moved or removed
    return {name: rows[m] for (name, _, _), m in zip(items, ids, strict=True)}


def test_broken_mail_goes_through_the_whole_path_and_is_recorded(tmp_path: Path) -> None:
    items = corpus()
    rows = run_corpus(tmp_path, items)
    kinds = [str(r["kind"]) for r in {str(r["message_id"]): r for r in rows.values()}.values()]
    # Broken is not unreadable: most of this corpus still has a sender and text.
    assert kinds.count("client") > len(kinds) * 2 // 3 and kinds.count("unreadable") >= 5
    # Drafting ran over damaged copies too: some got their reply.
    with Store(tmp_path / "state" / "triage.db") as store:
        answered = [r[0] for r in store.db.execute(
            "SELECT m.message_id FROM drafts d JOIN messages m ON m.id = d.message "
            "WHERE d.state = 'appended'")]
    assert any(message_id.endswith("@copies.example>") for message_id in answered)

    for name in ("empty", "blank", "garbage", "nuls"):
        assert rows[name]["kind"] == "unreadable", name
    assert "nested too deeply" in str(rows["nested-5000"]["error"])
    assert rows["nested-500"]["category"] and COMPLAINT in str(rows["nested-500"]["body"])
    assert "parte 2999" in str(rows["parts-3000"]["body"])
    # A multipart whose boundary never comes is read as the text it holds.
    for name in ("cut-in-nested", "no-boundary", "boundary-unused"):
        assert rows[name]["body"] == COMPLAINT and rows[name]["category"], name
    assert len(json.loads(str(rows["attachments-3000"]["attachments"]))) == 3000
    for name in ("charset-undeclared", "charset-utf8-lie", "charset-nonsense",
                 "charset-undefined", "charset-utf7", "charset-utf16-be", "charset-utf16-le",
                 "charset-utf16-lie"):
        assert rows[name]["body"] == COMPLAINT, name
        assert rows[name]["category"], name
    assert "decoded as windows-1252" in str(rows["charset-utf16-lie"]["defects"])
    assert rows["nul-headers"]["message_id"] == "<nul\ufffd@bodega.example>"
    assert rows["bad-date"]["date_flagged"]
    # A damaged encoded word in a display name costs the name, not the sender.
    assert rows["from-broken-word"]["sender"] == "marta@bodega.example"
    assert "undecodable encoded words" in str(rows["from-broken-word"]["defects"])
    assert rows["loop-a"]["thread_id"] == rows["loop-b"]["thread_id"]
    assert rows["duplicate-a"] == rows["duplicate-b"]  # one message, stored once
    assert str(rows["duplicate-a"]["body"]).startswith("first text")
    assert "subject longer than" in str(rows["subject-2mb"]["defects"])
    sizes = {name: len(raw) for name, _, raw in items}
    for name in ("huge-50mb", "line-20mb"):
        assert rows[name]["size"] == sizes[name] and rows[name]["category"], name
        assert "only the start was read" in str(rows[name]["defects"]), name
    assert "La web lleva caída" in str(rows["huge-50mb"]["body"])
    assert "error.mp4" in str(rows["huge-50mb"]["attachments"])
    assert len(str(rows["line-20mb"]["body"])) > MAX_TEXT_CHARS // 2
    # HTML is cut before it becomes text (its tree costs thirty times its size).
    assert "HTML longer than" in str(rows["html-3mb"]["defects"])
    assert len(str(rows["html-3mb"]["body"])) > MAX_TEXT_CHARS // 2


def test_cpython_email_test_files_go_through_the_whole_path(tmp_path: Path) -> None:
    rows = run_corpus(tmp_path, [(f"cpython-{path.name}", "INBOX", path.read_bytes())
                                 for path in cpython_files()])
    assert sum(r["kind"] == "client" for r in rows.values()) > 30
    images = [name for name in rows if name.endswith((".png", ".gif", ".jpg"))]
    assert images and all(rows[name]["kind"] == "unreadable" for name in images)


# --- hypothesis: header and MIME structures --------------------------------------------

CHARSETS = st.sampled_from([
    b"utf-8", b"iso-8859-1", b"windows-1252", b"us-ascii", b"utf-7", b"utf-16", b"utf-16le",
    b"utf-32", b"x-nonsense", b"undefined", b"idna", b"gb2312", b"koi8-r", b"",
]) | st.binary(max_size=12)
TRANSFER = st.sampled_from([b"7bit", b"8bit", b"binary", b"base64", b"quoted-printable",
                            b"x-uuencode", b"BASE64 ", b"x-gibberish", b""])
TEXTS = [text for texts in POOL.values() for text in texts]


@st.composite
def encoded_word(draw: st.DrawFn) -> bytes:
    charset = draw(CHARSETS)
    method = draw(st.sampled_from([b"q", b"b", b"Q", b"B", b"x", b""]))
    data = draw(st.binary(max_size=30) | st.sampled_from(TEXTS).map(str.encode))
    if method.lower() == b"b" and draw(st.booleans()):
        data = base64.b64encode(data)
    return b"=?" + charset + b"?" + method + b"?" + data + b"?="


HEADER_PIECE = st.one_of(
    st.text(max_size=30).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=20),
    encoded_word(),
    st.sampled_from([b"\r\n", b"\n", b"\r", b"\x00", b"\n\t", b"\r\n ", b"<m@bodega.example>",
                     b"marta@bodega.example", b'"Gil, Marta" <marta@bodega.example>', b"<>",
                     b"undisclosed-recipients:;", b";", b"boundary=", b"charset=", b"=?", b"?="]),
)
HEADER_VALUE = st.lists(HEADER_PIECE, max_size=6).map(b"".join)
HEADER_NAME = st.sampled_from([
    b"From", b"To", b"Cc", b"Bcc", b"Reply-To", b"Subject", b"Date", b"Message-ID",
    b"In-Reply-To", b"References", b"Content-Type", b"Content-Transfer-Encoding",
    b"Content-Disposition", b"MIME-Version", b"Auto-Submitted", b"Precedence", b"List-Id",
]) | st.binary(min_size=1, max_size=20)
# A few Message-IDs shared by the messages of an example, so that they reply to
# each other (and to themselves) and make threads.
THREAD_IDS = st.sampled_from([f"<h{n}@bodega.example>".encode() for n in range(4)])


@st.composite
def leaf_part(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """One MIME leaf: its headers and its body, encoded as declared or not."""
    subtype = draw(st.sampled_from([b"text/plain", b"text/html", b"application/pdf",
                                    b"image/png", b"message/rfc822", b"multipart/mixed",
                                    b"text/calendar", b"", b"text/"]))
    charset, transfer = draw(CHARSETS), draw(TRANSFER)
    text = draw(st.sampled_from(TEXTS) | st.text(max_size=200))
    data = text.encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16-be", "utf-7"])),
                       "replace")
    data += draw(st.binary(max_size=40))
    if draw(st.booleans()):  # encoded as declared (else: raw bytes under the label)
        if transfer.strip().lower() == b"base64":
            data = base64.encodebytes(data)
        elif transfer == b"quoted-printable":
            data = quopri.encodestring(data)
    if subtype == b"text/html":
        data = b"<html><body><p>" + data + draw(st.sampled_from([b"</p></body></html>", b"",
                                                                 b"<div><table><td>"]))
    headers = (b"Content-Type: " + subtype + b"; charset=" + charset + b"\n"
               + b"Content-Transfer-Encoding: " + transfer + b"\n")
    if draw(st.booleans()):
        headers += b"Content-Disposition: " + draw(st.sampled_from(
            [b"attachment", b"inline", b'attachment; filename="f.pdf"', b"garbage;;"])) + b"\n"
    return headers, data


def multipart(children: st.SearchStrategy[tuple[bytes, bytes]]
              ) -> st.SearchStrategy[tuple[bytes, bytes]]:
    @st.composite
    def build(draw: st.DrawFn) -> tuple[bytes, bytes]:
        subtype = draw(st.sampled_from([b"mixed", b"alternative", b"related", b"report",
                                        b"signed", b"digest", b"x-unknown"]))
        boundary = draw(st.sampled_from([b"b", b"=_b1", b"", b" ", b"--", b"x" * 100])
                        | st.binary(max_size=30))
        parts = draw(st.lists(children, max_size=5))
        body = draw(st.binary(max_size=20))  # the preamble
        for headers, data in parts:
            body += b"\n--" + boundary + b"\n" + headers + b"\n" + data
        if draw(st.booleans()):
            body += b"\n--" + boundary + b"--\n"
        body += draw(st.binary(max_size=20))  # the epilogue
        quoted = draw(st.booleans())
        value = b'"' + boundary + b'"' if quoted else boundary
        return b"Content-Type: multipart/" + subtype + b"; boundary=" + value + b"\n", body

    return build()


MIME_TREE = st.recursive(leaf_part(), multipart, max_leaves=10)


@st.composite
def hypothetical_message(draw: st.DrawFn) -> bytes:
    """A message with mostly plausible top headers, random ones, and a random MIME tree."""
    lines = []
    if draw(st.integers(0, 3)):  # mostly with a sender, so that most is client mail
        lines.append(b"From: " + draw(st.sampled_from([b"Marta Gil <marta@bodega.example>",
                                                        b"joao@cliente.example"]) | HEADER_VALUE))
    if draw(st.booleans()):
        lines.append(b"Subject: " + draw(st.sampled_from(TEXTS).map(str.encode) | HEADER_VALUE))
    if draw(st.booleans()):
        lines.append(b"Message-ID: " + draw(THREAD_IDS | HEADER_VALUE))
    for name in (b"In-Reply-To", b"References"):
        if draw(st.booleans()):
            lines.append(name + b": " + draw(THREAD_IDS | HEADER_VALUE))
    if draw(st.booleans()):
        lines.append(b"Date: " + draw(st.sampled_from([b"Fri, 13 Nov 2026 10:00:00 +0100",
                                                        b"Tue, 31 Feb 99999 25:61:61"])
                                       | HEADER_VALUE))
    for name, value in draw(st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=6)):
        lines.append(name + b": " + value)
    lines.insert(draw(st.integers(0, len(lines))), b"MIME-Version: 1.0")
    headers, body = draw(MIME_TREE)
    raw = b"\n".join(lines) + b"\n" + headers + b"\n" + body
    ending = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    return raw.replace(b"\n", ending) if ending != b"\n" else raw


@cache
def classifier() -> MessageClassifier:
    return MessageClassifier()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(hypothetical_message(), min_size=1, max_size=20))
def test_hypothesis_mime_structures_go_through_the_whole_path(raws: list[bytes]) -> None:
    with tempfile.TemporaryDirectory(prefix="triage-broken-") as scratch:
        root = Path(scratch)
        maildir = make_maildir(root / "Maildir")
        deliver_all(maildir, [(f"h{n}", "INBOX", raw) for n, raw in enumerate(raws)])
        path = root / "triage.toml"
        path.write_text(CONFIG.format(maildir=maildir, store=root / "triage.db"),
                        encoding="utf-8")
        config = load_config(path)
        before = snapshot(maildir)
        # A fixed clock four days after delivery: the drafts of complaints are due.
        now = DELIVERED + timedelta(days=4)
        with Store(config.store.path) as store:
            service = Service(config, store, classifier(),
                              lambda: MaildirMailbox(maildir, store),
                              evidence=EvidenceFinder(), drafter=Drafter(config, store),
                              clock=lambda: now)
            report = service.run_once()
        ids = stored_ids(config.store.path, raws)
        rows = check_store(config.store.path, ids, now)
        assert report.unreadable == sum(rows[m]["kind"] == "unreadable" for m in ids)
        check_drafts(maildir, config.store.path)
        with Store(config.store.path) as store:
            assert sorted(r["message_id"] for r in export_rows(store)) == sorted(rows)
            for message_id in rows:
                assert shown_printable(render_shown(gather(store, message_id)))
        assert snapshot(maildir) == before


def test_the_corpus_has_what_it_promises() -> None:
    """The damaged copies include every kind of cut (the mail they come from has them)."""
    names = [name for name, _, _ in damaged_copies(random.Random(8))]
    for kind in ("anywhere", "header", "base64", "boundary"):
        assert sum(name.startswith(f"cut-{kind}-") for name in names) >= 10, kind
    assert sum(name.startswith("flip-") for name in names) >= 200

