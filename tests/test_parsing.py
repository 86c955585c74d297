"""Parsing: real-world shaped messages, CPython's own email test files, broken bytes."""

from __future__ import annotations

import base64
import email
import json
import sys
from datetime import UTC, datetime
from email.message import Message as StdMessage
from pathlib import Path

import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.message import Address
from triage.parsing import decode_part, parse_message, repair_header_block, synthetic_message_id

FIXTURES = DATA / "mail"
MANIFEST = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
CPYTHON_DATA = Path(email.__file__).resolve().parent.parent / "test" / "test_email" / "data"
ARRIVAL = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_real_world_shaped_messages(name: str) -> None:
    want = MANIFEST[name]
    raw = (FIXTURES / name).read_bytes()
    got = parse_message(raw, ARRIVAL)
    own = got.body
    if "unreadable" in want:
        assert (got.unreadable is not None) == want["unreadable"], got.unreadable
    if got.unreadable:
        return
    if "from" in want:
        assert (got.sender.email if got.sender else None) == want["from"]
    if "subject" in want:
        assert got.subject == want["subject"]
    if "message_id" in want:
        if want["message_id"] == "synthetic":
            assert got.synthetic_id and got.message_id == synthetic_message_id(raw)
        else:
            assert got.message_id == want["message_id"]
    if "date" in want:
        if want["date"] == "flagged":
            assert got.date_flagged and got.date == ARRIVAL
        else:
            assert not got.date_flagged
            assert got.date == datetime.fromisoformat(want["date"])
    if "in_reply_to" in want:
        assert got.in_reply_to == want["in_reply_to"]
    if "references" in want:
        assert list(got.references) == want["references"]
    for role in ("to", "cc", "bcc", "reply_to"):
        if role in want:
            assert [a.email for a in getattr(got, role)] == want[role], role
    for phrase in want.get("body_contains", []):
        assert phrase in own, (phrase, own)
    for phrase in want.get("body_excludes", []):
        assert phrase not in own, (phrase, own)
    for phrase in want.get("quoted_contains", []):
        assert phrase in got.quoted, (phrase, got.quoted)
    for phrase in want.get("signature_contains", []):
        assert phrase in got.signature, (phrase, got.signature)
    if "attachments" in want:
        assert sorted(got.attachments) == sorted(want["attachments"])
    if "automated" in want:
        assert (got.automated is not None) == want["automated"], got.automated


def test_the_fixtures_cover_the_three_languages_and_the_broken_cases() -> None:
    names = " ".join(MANIFEST)
    for needle in ("es_", "pt_", "en_"):
        assert needle in names
    assert sum(1 for w in MANIFEST.values() if w.get("unreadable")) >= 2
    assert sum(1 for w in MANIFEST.values() if w.get("automated")) >= 3
    assert sum(1 for w in MANIFEST.values() if w.get("quoted_contains")) >= 10


def cpython_files() -> list[Path]:
    """The email test files that ship with CPython: a missing one fails the test
    that needs it (never a skip), saying how to get them."""
    files = sorted(CPYTHON_DATA.glob("*")) if CPYTHON_DATA.is_dir() else []
    if not files:
        pytest.fail(f"CPython's email test files are not in {CPYTHON_DATA}; on Debian "
                    f"install libpython{sys.version_info.major}.{sys.version_info.minor}"
                    "-testsuite (scripts/test does)")
    return files


def test_cpython_email_test_files_never_raise() -> None:
    files = cpython_files()
    for path in files:
        raw = path.read_bytes()
        got = parse_message(raw, ARRIVAL)
        assert got.message_id.startswith("<"), path.name
        assert got.date is not None and got.date.tzinfo is not None, path.name
        if got.unreadable is None:
            parsed = email.message_from_bytes(raw)
            if parsed.get("message-id"):
                assert got.message_id == parsed["message-id"].strip(), path.name
    readable = [p for p in files if p.suffix == ".txt"]
    assert len(readable) > 40
    images = [p for p in files if p.suffix in (".png", ".gif", ".jpg")]
    assert all(parse_message(p.read_bytes()).unreadable for p in images)


def test_a_missing_message_id_gets_a_stable_synthetic_one() -> None:
    raw = b"From: a@b.example\nSubject: x\n\nhello\n"
    first, second = parse_message(raw), parse_message(raw)
    assert first.synthetic_id and first.message_id == second.message_id
    assert first.message_id.endswith("@triage.invalid>")
    assert parse_message(raw + b"!").message_id != first.message_id


def test_a_bad_date_falls_back_to_the_arrival_time_and_is_flagged() -> None:
    raw = b"From: a@b.example\nDate: manana por la tarde\nSubject: x\n\nhola\n"
    got = parse_message(raw, ARRIVAL)
    assert got.date == ARRIVAL and got.date_flagged


def test_dates_are_aware_utc() -> None:
    got = parse_message(b"From: a@b.example\nDate: Tue, 3 Nov 2026 10:02:00 -0300\n\nx", ARRIVAL)
    assert got.date == datetime(2026, 11, 3, 13, 2, tzinfo=UTC)
    assert not got.date_flagged


def _part(payload: bytes, charset: str | None) -> StdMessage:
    part = StdMessage()
    part.set_payload(payload)
    part["Content-Type"] = "text/plain" + (f"; charset={charset}" if charset else "")
    part["Content-Transfer-Encoding"] = "8bit"
    return part


@pytest.mark.parametrize(("payload", "charset", "text", "noted"), [
    ("acción".encode(), "utf-8", "acción", False),
    ("acción".encode("latin-1"), "iso-8859-1", "acción", False),
    ("“R$ 1.200” €".encode("cp1252"), "windows-1252", "“R$ 1.200” €", False),
    # A Western charset declared over UTF-8 bytes: the UTF-8 reading wins.
    ("não".encode(), "iso-8859-1", "não", False),
    # UTF-8 declared over Latin-1 bytes: read as windows-1252, and noted.
    ("não".encode("latin-1"), "utf-8", "não", True),
    ("€50".encode("cp1252"), None, "€50", True),
    ("olá".encode("latin-1"), "x-unknown-charset", "olá", True),
])
def test_charsets_clients_use(payload: bytes, charset: str | None, text: str, noted: bool) -> None:
    decoded, note = decode_part(_part(payload, charset))
    assert decoded == text
    assert (note is not None) == noted


def test_a_huge_message_is_read_only_up_to_the_bound() -> None:
    head = b"From: a@b.example\nSubject: big\nMessage-ID: <big@b>\n\n"
    got = parse_message(head + b"x" * (9 * 1024 * 1024))
    assert got.message_id == "<big@b>"
    assert any("only the start was read" in d for d in got.defects)
    assert len(got.body) <= 100_000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_message_and_never_raise(raw: bytes) -> None:
    got = parse_message(raw, ARRIVAL)
    assert got.message_id
    assert got.date is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    b"From: ", b"To: ", b"Subject: ", b"Content-Type: multipart/mixed; boundary=x",
    b"Content-Type: text/plain; charset=", b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable", b"\n", b"--x", b"--x--", b"=?utf-8?q?",
    b"=?iso-8859-1?b?", b"?=", b"\xe9", b"\xff\xfe", b"a@b.example", b"<id@x>", b"=C3=A1",
    b"> ", b"El lun, 2 nov 2026, Ana <a@b> escribi\xc3\xb3:", b"-- ",
]), max_size=60))
def test_header_and_mime_soup_never_raises(chunks: list[bytes]) -> None:
    got = parse_message(b"".join(chunks), ARRIVAL)
    assert got.message_id


def test_a_stray_header_line_is_skipped_and_the_rest_kept() -> None:
    raw = (b"From: a@b.example\nTo: c@d.example\nOrganization Acme\nSubject: kept\n"
           b"Message-ID: <k@b>\n\nbody\n")
    got = parse_message(raw)
    assert (got.subject, got.message_id) == ("kept", "<k@b>")
    assert any("without a colon" in d for d in got.defects)


def test_raw_latin1_headers_are_read_as_the_client_wrote_them() -> None:
    # An old mail program's unencoded Windows-1252 headers: the name and subject
    # must not lose their letters or come out as escape codes in a reply draft.
    raw = (b"From: Jos\xe9 Mu\xf1oz <jose@cliente.example>\nTo: soporte@agencia.example\n"
           b"Subject: La web no carga \xa1desde esta ma\xf1ana!\nMessage-ID: <l1@c>\n\n"
           b"Hola, la web no carga.\n")
    got = parse_message(raw)
    assert got.sender == Address(name="José Muñoz", email="jose@cliente.example")
    assert got.subject == "La web no carga ¡desde esta mañana!"
    assert any("Windows-1252" in d for d in got.defects)


def test_raw_utf8_headers_are_left_as_they_are() -> None:
    raw = ("From: João Simões <joao@cliente.example>\nSubject: Não recebi a fatura\n"
           "Message-ID: <u1@c>\n\ncorpo\n").encode()
    got = parse_message(raw)
    assert (got.sender.name, got.subject) == ("João Simões", "Não recebi a fatura")
    assert not any("Windows-1252" in d for d in got.defects)


_PLAIN = base64.b64encode("Nadie nos avisó del corte de anoche.".encode()).decode()
_HTML = base64.b64encode("<p>Nadie nos avisó del corte de anoche, <b>exijo</b> una "
                         "explicación.</p>".encode()).decode()


def _alternative(plain_base64: str, html: bool = True) -> bytes:
    parts = [f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
             f"{plain_base64}\n"]
    if html:
        parts.append(f"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: "
                     f"base64\n\n{_HTML}\n")
    body = "".join(f"--BB\n{p}" for p in parts) + "--BB--\n"
    return (f"From: a@b.example\nTo: c@d.example\nSubject: corte\nMessage-ID: <b64@b>\n"
            f"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"BB\"\n\n"
            f"{body}").encode()


@pytest.mark.parametrize("damaged", [
    _PLAIN[:len(_PLAIN) // 2 + 1],  # cut mid-way: only the start decodes
    _PLAIN[:10] + "*!*" + _PLAIN[10:],  # characters that are not base64
    "%%%% no es base64 %%%%%",  # nothing of it decodes to text
])
def test_a_text_part_with_damaged_base64_gives_way_to_its_html_alternative(damaged: str) -> None:
    got = parse_message(_alternative(damaged))
    assert got.body == "Nadie nos avisó del corte de anoche, exijo una explicación."
    assert "damaged base64 in a text part" in got.defects


def test_damaged_base64_without_an_alternative_keeps_what_is_text_and_says_so() -> None:
    cut = parse_message(_alternative(_PLAIN[:27], html=False))
    assert cut.body == "Nadie nos avisó del"
    assert "damaged base64 in a text part" in cut.defects
    junk = parse_message(_alternative("%%%% no es base64 %%%%%", html=False))
    assert junk.body == "" and junk.unreadable is None  # its headers are still read
    assert "damaged base64 in a text part" in junk.defects
    whole = parse_message(_alternative(_PLAIN))
    assert whole.body == "Nadie nos avisó del corte de anoche."
    assert not any("base64" in d for d in whole.defects)


def test_text_without_headers_is_not_mistaken_for_a_header_block() -> None:
    raw = "Hola equipo\nNota: el sitio está caído\nGracias\n\nmás texto\n".encode()
    assert repair_header_block(raw) == (raw, None)


def test_a_list_of_accented_names_folded_by_python_keeps_every_address() -> None:
    # As Python 3.11's mail writer folds "Juliana Ferraz – Financeiro <...>, Antônio
    # Ferraz <...>": the comma between the two addresses lands inside an encoded
    # word, and mail-parser alone then finds no address in To.
    raw = (b"From: Cobranca <no-reply@contabil.example>\n"
           b"To: Juliana Ferraz =?utf-8?b?4oCT?= Financeiro <financeiro@padaria.example>\n"
           b" =?utf-8?q?=2C?= =?utf-8?q?Ant=C3=B4nio?= Ferraz <antonio@padaria.example>\n"
           b"Cc: =?utf-8?q?Jo=C3=A3o?= <joao@padaria.example>\n"
           b"Subject: Boleto vencido\n\nSegue a segunda via.\n")
    got = parse_message(raw, ARRIVAL)
    assert [(a.name, a.email) for a in got.to] == [
        ("Juliana Ferraz – Financeiro", "financeiro@padaria.example"),
        ("Antônio Ferraz", "antonio@padaria.example")]
    assert [(a.name, a.email) for a in got.cc] == [("João", "joao@padaria.example")]


def test_recipients_written_by_pythons_own_mail_writer_are_all_read() -> None:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = "Facturación <facturacion@nube.example>"
    names = ["Juliana Ferraz – Financeiro <financeiro@paodamooca.example>",
             "Antônio Ferraz <antonio@paodamooca.example>",
             "Contabilidade Ltda. <conta@outro.example>"]
    mail["To"] = ", ".join(names[:2])
    mail["Bcc"] = ", ".join(names)
    mail["Subject"] = "Factura"
    mail.set_content("Adjuntamos la factura.")
    got = parse_message(bytes(mail), ARRIVAL)
    want = ["financeiro@paodamooca.example", "antonio@paodamooca.example", "conta@outro.example"]
    assert [a.email for a in got.to] == want[:2]
    assert [a.email for a in got.bcc] == want


def test_addresses_merged_around_an_encoded_comma_are_all_read_once() -> None:
    # mail-parser reads the first of these three Bcc addresses and merges the rest.
    raw = (b"From: hola@webs.example\nTo: hola@webs.example\nBcc:\n"
           b" =?utf-8?q?Administraci=C3=B3n?= Conservas <admin@conservas.example>\n"
           b" =?utf-8?q?=2C?=\n =?utf-8?q?Queser=C3=ADa?= <info@queseria.example>\n"
           b" =?utf-8?q?=2C?= Taller <taller@taller.example>, admin@conservas.example\n"
           b"Subject: Mantenimiento\n\nLa noche del martes.\n")
    got = parse_message(raw, ARRIVAL)
    assert [a.email for a in got.bcc] == ["admin@conservas.example", "info@queseria.example",
                                          "taller@taller.example"]


@pytest.mark.parametrize("to", [b"cliente@padaria.example <other@elsewhere.example>",
                                b"Sales@Acme <other@elsewhere.example>"])
def test_an_address_in_a_display_name_is_not_taken_for_a_recipient(to: bytes) -> None:
    got = parse_message(b"From: a@b.example\nTo: " + to + b"\nSubject: x\n\nbody\n", ARRIVAL)
    assert [a.email for a in got.to] == ["other@elsewhere.example"]


def test_names_read_again_carry_no_control_characters() -> None:
    raw = (b"From: a@b.example\nTo: =?utf-8?q?Ana=00_=E2=80=A8Ruiz?= <ana@x.example>\n"
           b" =?utf-8?q?=2C?= Bea <bea@x.example>\nSubject: x\n\nbody\n")
    got = parse_message(raw, ARRIVAL)
    assert [a.email for a in got.to] == ["ana@x.example", "bea@x.example"]
    assert all(ch.isprintable() for a in got.to for ch in a.name)
