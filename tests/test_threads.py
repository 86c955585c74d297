"""Threads: by References/In-Reply-To across folders, else by subject with the same client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import deliver

from triage.cli import main
from triage.config import load_config
from triage.store import Store
from triage.threads import party, strip_prefixes, subject_key

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("subject", "expected"), [
    ("Re: Factura 12", "Factura 12"),
    ("RE: RV: Fwd: factura 12", "factura 12"),
    ("Res: Enc: Fatura de outubro", "Fatura de outubro"),
    ("TR: Re[2]: Invoice", "Invoice"),
    ("AW: WG: Rechnung", "Rechnung"),
    ("Resumen del mes", "Resumen del mes"),  # "Res" only as a prefix with its colon
    ("Reunión: martes", "Reunión: martes"),
])
def test_reply_and_forward_prefixes_are_removed(subject: str, expected: str) -> None:
    assert strip_prefixes(subject) == expected


def test_subject_key_folds_and_ignores_tiny_subjects() -> None:
    assert subject_key("RE:  Facturación   Octubre") == "facturacion octubre"
    assert subject_key("Re: hi") == ""


def test_a_party_is_the_domain_except_at_free_mail() -> None:
    assert party("Ana@Tienda.example") == "tienda.example"
    assert party("ana.perez@gmail.com") == "ana.perez@gmail.com"


def mail(message_id: str, sender: str, to: str, subject: str, when: datetime,
         in_reply_to: str | None = None, references: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content("Texto del mensaje.")
    return bytes(message)


def threads_of(config_path: Path) -> dict[str, str]:
    with Store(load_config(config_path).store.path) as store:
        return {r["message_id"]: r["thread_id"] for r in store.iter_messages()}


def test_headers_tie_a_thread_across_inbox_and_sent(maildir: Path, write_config) -> None:
    config = write_config()
    client, ana = "Luis <luis@tienda.example>", "Ana <ana@agency.example>"
    deliver(maildir, "INBOX", "1.a.h", mail("<q1@tienda.example>", client, ana,
                                            "Web caída", T0))
    deliver(maildir, "Sent", "2.a.h", mail("<a1@agency.example>", ana, client, "Re: Web caída",
                                           T0 + timedelta(hours=1), "<q1@tienda.example>",
                                           "<q1@tienda.example>"))
    # A reply whose References skip a message we never saw still joins.
    deliver(maildir, "INBOX", "3.a.h", mail(
        "<q2@tienda.example>", client, ana, "Otra cosa", T0 + timedelta(hours=2),
        "<unseen@agency.example>", "<q1@tienda.example> <unseen@agency.example>"))
    deliver(maildir, "INBOX", "4.a.h", mail("<other@tienda.example>", client, ana,
                                            "Presupuesto nuevo", T0 + timedelta(hours=3)))
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    threads = threads_of(config)
    assert threads["<q1@tienda.example>"] == threads["<a1@agency.example>"]
    assert threads["<q2@tienda.example>"] == threads["<q1@tienda.example>"]
    assert threads["<other@tienda.example>"] != threads["<q1@tienda.example>"]


def test_a_root_read_after_its_reply_joins_the_reply_thread(maildir: Path, write_config) -> None:
    config = write_config()
    client, ana = "Luis <luis@tienda.example>", "Ana <ana@agency.example>"
    deliver(maildir, "INBOX", "1.a.h", mail("<r2@tienda.example>", client, ana,
                                            "Re: Aviso", T0 + timedelta(days=1),
                                            "<n1@agency.example>", "<n1@agency.example>"))
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    deliver(maildir, "Billing", "2.a.h", mail("<n1@agency.example>", ana, client, "Aviso", T0))
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    threads = threads_of(config)
    assert threads["<r2@tienda.example>"] == threads["<n1@agency.example>"]


def test_without_headers_the_subject_ties_a_thread_with_the_same_client(
        maildir: Path, write_config) -> None:
    config = write_config()
    ana = "Ana <ana@agency.example>"
    deliver(maildir, "Sent", "1.a.h", mail("<n1@agency.example>", ana,
                                           "Luis <luis@tienda.example>",
                                           "Factura 2026-118", T0))
    # A colleague at the same company answers without In-Reply-To: same thread.
    deliver(maildir, "INBOX", "2.a.h", mail("<c1@tienda.example>", "Marta <marta@tienda.example>",
                                            ana, "RE: Factura 2026-118", T0 + timedelta(days=2)))
    # Another client with the same subject: not the same conversation.
    deliver(maildir, "INBOX", "3.a.h", mail("<c2@otra.example>", "Pepe <pepe@otra.example>",
                                            ana, "RE: Factura 2026-118", T0 + timedelta(days=2)))
    # The same client, months later: a new conversation.
    deliver(maildir, "INBOX", "4.a.h", mail("<c3@tienda.example>", "Luis <luis@tienda.example>",
                                            ana, "Re: Factura 2026-118", T0 + timedelta(days=120)))
    # Two strangers at a free-mail provider are two clients.
    deliver(maildir, "INBOX", "5.a.h", mail("<g1@gmail.com>", "Ana P <ana.p@gmail.com>", ana,
                                            "Consulta sobre el dominio", T0))
    deliver(maildir, "INBOX", "6.a.h", mail("<g2@gmail.com>", "Juan <juan.r@gmail.com>", ana,
                                            "RE: Consulta sobre el dominio",
                                            T0 + timedelta(hours=1)))
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    threads = threads_of(config)
    assert threads["<c1@tienda.example>"] == threads["<n1@agency.example>"]
    assert threads["<c2@otra.example>"] != threads["<n1@agency.example>"]
    assert threads["<c3@tienda.example>"] != threads["<n1@agency.example>"]
    assert threads["<g1@gmail.com>"] != threads["<g2@gmail.com>"]
    assert all(threads.values())


def test_export_carries_the_thread_id(maildir: Path, write_config, capsys) -> None:
    config = write_config()
    deliver(maildir, "INBOX", "1.a.h", mail("<q1@tienda.example>", "luis@tienda.example",
                                            "ana@agency.example", "Web caída", T0))
    assert main(["ingest", "--config", str(config), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["export", "--config", str(config)]) == 0
    assert '"thread_id": "t' in capsys.readouterr().out
