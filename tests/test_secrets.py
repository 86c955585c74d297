"""Security: no secret or client text leaks out, no bad certificate is trusted, and
nothing a client writes reaches a draft's headers or the digest's markup.

The leak tests run ``triage run --once`` as a subprocess against the test Dovecot
and aiosmtpd, with every log the command line allows (-v sets the root logger to
DEBUG, so imapclient's IMAP traffic, asyncio and the rest log too), and look for
the passwords (as they are, escaped, and in base64, the form AUTH PLAIN and AUTH
LOGIN send) and for sentinel words of the clients' bodies in everything the run
printed and every file it wrote, except the state database.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Desk, mail, make_maildir
from dovecot import PASSWORD as IMAP_PASSWORD
from dovecot import USER as IMAP_USER
from dovecot import Dovecot
from smtpserver import PASSWORD as SMTP_PASSWORD
from smtpserver import USER as SMTP_USER
from smtpserver import SmtpServer, make_certificate, make_expired_certificate
from tcpproxy import Proxy
from test_imap import imap_config, wait_until

from triage import digest
from triage.config import Config, load_config
from triage.errors import MailboxConnectionError
from triage.mailbox import ImapMailbox
from triage.outbox import SendError, send
from triage.parsing import parse_message
from triage.reports import Reporter
from triage.store import Store

MADRID = ZoneInfo("Europe/Madrid")
AGENCY = "Ana Ruiz <ana@agency.example>"
# Words of the clients' bodies that must never be printed or logged.
SENTINELS = ("mimsyborogove", "frumiousbandersnatch")


# --- secrets and client text in what a run prints and writes ---------------------


def base64_forms(secret: bytes) -> set[str]:
    """How ``secret`` looks inside any base64 text: at each of the three byte
    alignments, the characters that encode only bytes of the secret."""
    forms = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode()
        first = 0 if shift == 0 else 1  # the first group made of the secret alone
        last = (shift + len(secret)) // 3  # groups before this one are complete
        forms.add(encoded[4 * first:4 * last])
    return forms


def secret_forms(password: str, user: str) -> set[str]:
    """The password as it is, escaped as in a bytes repr, a str repr or JSON, and in
    base64 (alone, as AUTH LOGIN sends it, and in AUTH PLAIN's "\\0user\\0password")."""
    raw = password.encode()
    plain = base64.b64encode(b"\0" + user.encode() + b"\0" + raw).decode()
    return {password, repr(raw)[2:-1], password.encode("unicode_escape").decode(),
            json.dumps(password)[1:-1], base64.b64encode(raw).decode(), plain,
            *base64_forms(raw)}


FORBIDDEN = (secret_forms(IMAP_PASSWORD, IMAP_USER) | secret_forms(SMTP_PASSWORD, SMTP_USER)
             | set(SENTINELS))


def test_the_forbidden_forms_include_auth_plain_and_login() -> None:
    login = base64.b64encode(SMTP_PASSWORD.encode()).decode()
    plain = base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode()
    # Inside a longer base64 text, at any offset, a form is found.
    for prefix in (b"", b"x", b"xy"):
        embedded = base64.b64encode(prefix + SMTP_PASSWORD.encode() + b"tail").decode()
        assert any(form in embedded for form in base64_forms(SMTP_PASSWORD.encode()))
    assert {login, plain} <= FORBIDDEN


def client_messages() -> list[bytes]:
    """A threat of a lawyer just now (an alert) and a fault of last week (a draft
    due now, which quotes it)."""
    now = datetime.now(UTC)
    return [mail("<c1@bodega.example>", now, "Marta Gil <marta@bodega.example>", AGENCY,
                 "La web", "La web está caída desde las ocho; mimsyborogove. Si no lo "
                 "arregláis hoy hablará mi abogado."),
            mail("<c2@bodega.example>", now - timedelta(days=5),
                 "Marta Gil <marta@bodega.example>", AGENCY, "Sin correo",
                 "Nadie nos avisó del corte de correo de anoche. Perdimos pedidos de clientes "
                 "toda la noche y nadie nos dijo nada del mantenimiento. Es inaceptable. "
                 "frumiousbandersnatch")]


class Run:
    """One ``triage`` command in a subprocess: its output, and the files it wrote
    under ``root`` (HOME, the temporary and the working folder are there too, so
    that caches are seen), the state database aside."""

    def __init__(self, root: Path, args: list[str], env: dict[str, str]) -> None:
        for sub in ("home", "tmp", "cwd"):
            (root / "run" / sub).mkdir(parents=True, exist_ok=True)
        before = files_under(root)
        done = subprocess.run(  # noqa: S603 - the test's own command line
            [sys.executable, "-m", "triage", *args], cwd=root / "run" / "cwd",
            capture_output=True, text=True, timeout=300, check=False,
            env={**os.environ, "HOME": str(root / "run" / "home"),
                 "TMPDIR": str(root / "run" / "tmp"), "PYTHONASYNCIODEBUG": "1",
                 "PYTHONDEVMODE": "1", **env})
        self.code, self.stdout, self.stderr = done.returncode, done.stdout, done.stderr
        self.written = {path: path.read_bytes().decode("utf-8", "replace")
                        for path, stamp in files_under(root).items()
                        if before.get(path) != stamp and not path.name.startswith("triage.db")}

    @property
    def last_line(self) -> str:
        return self.stderr.strip().splitlines()[-1]

    def assert_no_leak(self, *secrets: tuple[str, str]) -> None:
        """No password (nor ``secrets``, as (password, user)), no sentinel, no
        traceback, anywhere."""
        forbidden = FORBIDDEN.union(*(secret_forms(s, u) for s, u in secrets))
        for where, text in [("stdout", self.stdout), ("stderr", self.stderr),
                            *self.written.items()]:
            found = sorted(form for form in forbidden if form in text)
            assert found == [], f"{where}: {found}\n{text}"
        assert "Traceback" not in self.stderr, self.stderr


def files_under(root: Path) -> dict[Path, tuple[int, int]]:
    return {path: (path.stat().st_mtime_ns, path.stat().st_size)
            for path in root.rglob("*") if path.is_file()}


LOUD = ["-v"]  # the most the command line logs: the root logger at DEBUG


def full_config(tmp_path: Path, dovecot: Dovecot, smtp: SmtpServer) -> Path:
    """IMAP with TLS, SMTP with STARTTLS and login, the digest due now, alerts on."""
    path = imap_config(tmp_path, dovecot)
    now = datetime.now(MADRID)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    path.write_text(path.read_text()
                    + smtp.config(login=True)
                    + f'\n[digest]\nsend = true\nweekday = "{day}"\ntime = "{now:%H:%M}"\n'
                    + '\n[alerts]\nenabled = true\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_full_run_logs_no_password_and_no_client_text(
        tmp_path: Path, dovecot: Dovecot, log_format: str) -> None:
    dovecot.append("INBOX", client_messages())
    with SmtpServer(tmp_path, "starttls", login=True) as smtp:
        config = full_config(tmp_path, dovecot, smtp)
        run = Run(tmp_path, ["run", "--once", *LOUD, "--log-format", log_format,
                             "--config", str(config)],
                  {"TRIAGE_TEST_IMAP_PASSWORD": IMAP_PASSWORD,
                   "TRIAGE_TEST_SMTP_PASSWORD": SMTP_PASSWORD})
    assert run.code == 0, run.stderr
    assert "1 appended to Drafts" in run.stdout, run.stdout + run.stderr
    assert "1 digests and 1 alerts sent" in run.stdout
    assert len(smtp.received) == 2
    # It said all it can: the IMAP commands (the LOGIN too), imapclient, asyncio.
    assert "LOGIN" in run.stderr
    assert all(name in run.stderr
               for name in ("imapclient.imaplib", "imapclient.imapclient", "asyncio"))
    run.assert_no_leak()
    # The digest and the alert name clients and subjects, never what they wrote.
    assert not any(word in message.as_string() for _, message in smtp.received
                   for word in SENTINELS)


def test_wrong_passwords_are_never_shown(tmp_path: Path, dovecot: Dovecot) -> None:
    dovecot.append("INBOX", client_messages())
    wrong_imap, wrong_smtp = "wr0ng-IMAP-secret-771", "wr0ng-SMTP-secret-772"
    with SmtpServer(tmp_path, "starttls", login=True) as smtp:
        config = full_config(tmp_path, dovecot, smtp)
        refused = Run(tmp_path, ["run", "--once", *LOUD, "--log-format", "json",
                                 "--config", str(config)],
                      {"TRIAGE_TEST_IMAP_PASSWORD": wrong_imap,
                       "TRIAGE_TEST_SMTP_PASSWORD": wrong_smtp})
        smtp_refused = Run(tmp_path, ["run", "--once", *LOUD, "--config", str(config)],
                           {"TRIAGE_TEST_IMAP_PASSWORD": IMAP_PASSWORD,
                            "TRIAGE_TEST_SMTP_PASSWORD": wrong_smtp})
    assert refused.code == 77
    assert refused.last_line.startswith("triage: error: the IMAP server localhost refused "
                                        "the login")
    refused.assert_no_leak((wrong_imap, IMAP_USER), (wrong_smtp, SMTP_USER))
    # The mailbox is read; the digest and the alert are refused, and said so.
    assert smtp_refused.code == 0, smtp_refused.stderr
    assert "0 digests and 0 alerts sent, 2 not sent (see the log)" in smtp_refused.stdout
    assert smtp_refused.stderr.count("refused the login of triage") == 2
    smtp_refused.assert_no_leak((wrong_imap, IMAP_USER), (wrong_smtp, SMTP_USER))
    assert smtp.received == []


@pytest.mark.parametrize("status", [0, 3])
def test_what_a_password_command_prints_on_stderr_is_never_shown(
        tmp_path: Path, dovecot: Dovecot, status: int) -> None:
    secret = tmp_path / "secret"
    secret.write_text(IMAP_PASSWORD + "\n", encoding="utf-8")
    script = tmp_path / "password.sh"
    script.write_text(f'cat "{secret}"\necho "debug: the password is $(cat {secret})" >&2\n'
                      f"exit {status}\n", encoding="utf-8")
    config = imap_config(tmp_path, dovecot)
    config.write_text(config.read_text().replace(
        'password_env = "TRIAGE_TEST_IMAP_PASSWORD"',
        f'password_command = "/bin/sh {script}"'), encoding="utf-8")
    dovecot.append("INBOX", client_messages())
    run = Run(tmp_path, ["run", "--once", *LOUD, "--config", str(config)], {})
    if status == 0:
        assert run.code == 0, run.stderr
        assert "2 new messages stored" in run.stdout
    else:
        assert run.code == 78
        assert run.last_line == ("triage: error: no password for the IMAP login "
                                 f"{IMAP_USER}@localhost: the password command exited with 3; "
                                 "run it yourself to see why")
    run.assert_no_leak()


def test_a_state_database_that_cannot_be_created_is_one_line(
        tmp_path: Path, write_config: Callable[..., Path]) -> None:
    make_maildir(tmp_path / "Maildir")
    (tmp_path / "state").write_text("a file where the store's folder should be")
    run = Run(tmp_path, ["run", "--once", *LOUD, "--config", str(write_config())], {})
    assert run.code == 78  # found while reading the configuration
    assert run.last_line.startswith("triage: error: ")
    assert f"[store] path: expected a path whose folders can be created, but {tmp_path}/state " \
        "is not a folder" in run.last_line
    run.assert_no_leak()


def test_a_connection_cut_in_the_middle_of_a_message_is_one_line(
        tmp_path: Path, dovecot: Dovecot) -> None:
    dovecot.append("INBOX", client_messages())
    proxy = Proxy(dovecot.port)
    proxy.cut_after(SENTINELS[0].encode())
    try:
        config = imap_config(tmp_path, dovecot, host="127.0.0.1", scheme="imap",
                             extra='tls = "none"')
        config.write_text(config.read_text().replace(f":{dovecot.port}", f":{proxy.port}"),
                          encoding="utf-8")
        run = Run(tmp_path, ["run", "--once", *LOUD, "--config", str(config)],
                  {"TRIAGE_TEST_IMAP_PASSWORD": IMAP_PASSWORD})
    finally:
        proxy.close()
    assert proxy.cuts == 1
    assert run.code == 1
    assert run.last_line.startswith(f"triage: error: IMAP connection failed (127.0.0.1:"
                                    f"{proxy.port})")
    run.assert_no_leak()


# --- certificates: refused before any login ---------------------------------------


@pytest.fixture(scope="module")
def expired(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(ca.pem, cert.pem, key.pem): a certificate for localhost whose only fault is
    that it expired (it checks out against the CA when dates are not checked)."""
    ca, cert, key = make_expired_certificate(tmp_path_factory.mktemp("expired"))
    timeless = subprocess.run(
        ["openssl", "verify", "-no_check_time", "-CAfile", str(ca), str(cert)],
        capture_output=True, text=True, check=False)
    assert timeless.returncode == 0, timeless.stderr
    return ca, cert, key


def refusal(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def assert_no_imap_login(dovecot: Dovecot, refusals: int) -> None:
    """Dovecot's log shows ``refusals`` TLS handshakes the client broke off, and no
    login, nor any attempt at one."""
    assert wait_until(lambda: dovecot.log().count("TLS handshaking") >= refusals, 10), \
        dovecot.log()
    log = dovecot.log()
    sessions = [line for line in log.splitlines() if "imap-login" in line]
    assert all("no auth attempts" in line for line in sessions), log
    assert "Login:" not in log and IMAP_PASSWORD not in log


def test_an_expired_imap_certificate_is_refused_before_login(
        tmp_path: Path, expired: tuple[Path, Path, Path]) -> None:
    ca, cert, key = expired
    server = Dovecot(certificate=(cert, key), ca=ca)
    server.start()
    try:
        for options in ({}, {"scheme": "imap", "extra": 'tls = "starttls"'}):
            config = load_config(imap_config(tmp_path, server, **options))
            with pytest.raises(MailboxConnectionError) as exc:
                ImapMailbox(config.mailbox, IMAP_PASSWORD)
            assert refusal(exc).startswith("the TLS certificate of localhost was refused "
                                           "(certificate has expired)")
        assert_no_imap_login(server, 2)
    finally:
        server.remove()


def test_a_self_signed_imap_certificate_is_refused_over_starttls_too(
        tmp_path: Path, dovecot: Dovecot) -> None:
    path = imap_config(tmp_path, dovecot, scheme="imap", extra='tls = "starttls"')
    path.write_text(path.read_text().replace(f'ca_file = "{dovecot.ca_file}"', ""))
    with pytest.raises(MailboxConnectionError) as exc:
        ImapMailbox(load_config(path).mailbox, IMAP_PASSWORD)
    assert "(self-signed certificate)" in refusal(exc)
    assert "set [mailbox] ca_file to its certificate" in refusal(exc)
    assert_no_imap_login(dovecot, 1)


def smtp_refusal(tmp_path: Path, server: SmtpServer, host: str = "localhost") -> str:
    """The one-line refusal of ``send`` with a login configured; nothing reached the
    server, not even the login."""
    config = load_config(Desk(tmp_path, extra=server.config(host=host, login=True))
                         .config_path)
    assert config.smtp is not None
    message = EmailMessage()
    message["To"] = "ana@agency.example"
    message.set_content("figures")
    with pytest.raises(SendError) as exc:
        send(config.smtp, message)
    assert server.logins == [] and server.received == []
    return refusal(exc)


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_an_expired_smtp_certificate_is_refused_before_login(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expired: tuple[Path, Path, Path],
        mode: str) -> None:
    monkeypatch.setenv("TRIAGE_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    with SmtpServer(tmp_path, mode, login=True, certificate=expired) as server:
        message = smtp_refusal(tmp_path, server)
    assert message.startswith("the TLS certificate of localhost was refused "
                              "(certificate has expired)")


def test_an_smtps_certificate_for_another_host_is_refused_before_login(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    with SmtpServer(tmp_path, "implicit", login=True) as server:
        message = smtp_refusal(tmp_path, server, host="127.0.0.1")
    assert message.startswith("the TLS certificate of 127.0.0.1 was refused (IP address "
                              "mismatch, certificate is not valid for '127.0.0.1'.)")


@pytest.mark.parametrize("fault", ["expired", "host"])
def test_the_advice_fits_the_fault_over_imap(
        tmp_path: Path, expired: tuple[Path, Path, Path], fault: str) -> None:
    ca, cert, key = expired
    server = Dovecot(certificate=(cert, key), ca=ca) if fault == "expired" else Dovecot()
    server.start()
    try:
        host = "127.0.0.1" if fault == "host" else "localhost"
        config = load_config(imap_config(tmp_path, server, host=host))
        with pytest.raises(MailboxConnectionError) as exc:
            ImapMailbox(config.mailbox, IMAP_PASSWORD)
    finally:
        server.remove()
    assert_fitting_advice(refusal(exc), fault, "mailbox")


@pytest.mark.parametrize("fault", ["expired", "host"])
def test_the_advice_fits_the_fault_over_smtp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expired: tuple[Path, Path, Path],
        fault: str) -> None:
    monkeypatch.setenv("TRIAGE_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    certificate = expired if fault == "expired" else None
    with SmtpServer(tmp_path, "starttls", login=True, certificate=certificate) as server:
        message = smtp_refusal(tmp_path, server,
                               host="127.0.0.1" if fault == "host" else "localhost")
    assert_fitting_advice(message, fault, "smtp")


def assert_fitting_advice(message: str, fault: str, table: str) -> None:
    """An expired certificate is renewed on the server; a certificate for another
    name needs the name it was issued for in the url; ca_file helps neither."""
    if fault == "expired":
        assert "renew the server's certificate" in message
    else:
        assert f"put in [{table}] url the host name the certificate was issued for" in message
    assert "ca_file" not in message


# --- client text in a draft's headers, the digest's markup and an alert ------------

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=MADRID)
EVIL = "x@evil.example"


def encoded(text: str, encoding: str = "b") -> str:
    """``text`` as an RFC 2047 encoded-word, as a client's mail program may send it."""
    if encoding == "b":
        return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="
    return "=?utf-8?q?" + "".join(f"={b:02x}" for b in text.encode()) + "?="


def raw_mail(headers: dict[str, str], message_id: str = "<m1@bodega.example>") -> bytes:
    """A client's message with these headers, written as they are (no encoding)."""
    fields = {"From": "Marta Gil <marta@bodega.example>", "To": "Ana <ana@agency.example>",
              "Subject": "Sin correo", "Date": "Mon, 23 Nov 2026 08:00:00 +0100",
              "Message-ID": message_id, **headers}
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return (head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "El correo no funciona desde ayer.\r\n").encode()


INJECTED = f"\r\nBcc: {EVIL}"
# Each attack: the client's headers, and the one address the draft must go to.
ATTACKS = {
    "subject decoding to a line break": (
        {"Subject": encoded("Hola" + INJECTED)}, "marta@bodega.example"),
    "subject encoded twice": (
        {"Subject": encoded(encoded("Hola" + INJECTED))}, "marta@bodega.example"),
    "display name decoding to a line break": (
        {"From": f"{encoded('Marta' + INJECTED)} <marta@bodega.example>"},
        "marta@bodega.example"),
    "quoted display name decoding to a line break": (
        {"From": f'"{encoded("Marta" + INJECTED, "q")}" <marta@bodega.example>'},
        "marta@bodega.example"),
    "display name with quotes, commas and an address": (
        {"From": r'"Gil, Marta \"MG\" <x@evil.example>, y@evil.example" '
                 "<marta@bodega.example>"}, "marta@bodega.example"),
    "unicode line separators": (
        {"From": encoded(f"Marta\u2028Bcc: {EVIL}") + " <marta@bodega.example>",
         "Subject": encoded(f"Hola\u2028Bcc: {EVIL}\x85Cc: {EVIL}\u2029X-A: 1")},
        "marta@bodega.example"),
    "several reply-to addresses": (
        {"Reply-To": "recepcion@bodega.example, x@evil.example, y@evil.example"},
        "recepcion@bodega.example"),
    "reply-to group": (
        {"Reply-To": "Equipo: recepcion@bodega.example, x@evil.example;"},
        "recepcion@bodega.example"),
    "reply-to name decoding to a line break": (
        {"Reply-To": f"{encoded('R' + INJECTED)} <recepcion@bodega.example>"},
        "recepcion@bodega.example"),
    "references decoding to a line break": (
        {"References": "<a@bodega.example> <" + encoded("r" + INJECTED, "q")
                       + "@bodega.example>"}, "marta@bodega.example"),
    "message-id folded over a line break": (
        {"Message-ID": f"<m1@bodega.example>\r\n Bcc: {EVIL}"}, "marta@bodega.example"),
    "folded references with hundreds of ids": (
        {"References": "\r\n ".join(f"<r{n}@bodega.example>" for n in range(500)),
         "In-Reply-To": "<r499@bodega.example>"}, "marta@bodega.example"),
}
DRAFT_HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
                 "X-Triage-Category", "X-Triage-Hostility", "X-Triage-Draft", "MIME-Version",
                 "Content-Type", "Content-Transfer-Encoding"}


def draft_for(tmp_path: Path, raw: bytes) -> tuple[bytes, EmailMessage]:
    """The one draft the service appends for ``raw`` (a genuine fault: due at once),
    as the bytes in Drafts and re-parsed."""
    desk = Desk(tmp_path)
    desk.verdicts.by_id[parse_message(raw).message_id] = ("genuine_fault", 2, "es")
    desk.deliver("INBOX", raw)
    desk.run(NOW)
    assert [p["state"] for p in desk.plans()] == ["appended"], desk.plans()
    (path,) = (desk.root / ".Drafts" / "cur").iterdir()
    (draft,) = desk.drafts()
    return path.read_bytes(), draft


@pytest.mark.parametrize("attack", ATTACKS)
def test_client_headers_cannot_add_a_header_or_a_recipient_to_a_draft(
        tmp_path: Path, attack: str) -> None:
    headers, recipient = ATTACKS[attack]
    raw, draft = draft_for(tmp_path, raw_mail(headers))
    assert_only_draft_headers(raw, draft)
    (to,) = draft["To"].addresses
    assert to.addr_spec == recipient
    assert len(draft["References"].split()) <= 11
    assert draft["In-Reply-To"] == "<m1@bodega.example>"


def assert_only_draft_headers(raw: bytes, draft: EmailMessage) -> None:
    """The draft has the headers triage writes, each once and on its own line."""
    assert sorted(draft.keys()) == sorted(DRAFT_HEADERS)
    for name, value in draft.items():
        assert not any(ch in str(value) for ch in "\r\n\x85\u2028\u2029"), (name, value)
    # In the bytes themselves, every line of the header block is one of those
    # headers or the continuation of one.
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert line[:1] in (b" ", b"\t") or line.split(b":", 1)[0].decode() in DRAFT_HEADERS


def test_a_message_id_that_decodes_to_a_line_break_stays_in_one_header(
        tmp_path: Path) -> None:
    message_id = "<" + encoded("m" + INJECTED, "q") + "@bodega.example>"
    raw, draft = draft_for(tmp_path, raw_mail({}, message_id=message_id))
    assert_only_draft_headers(raw, draft)
    assert [a.addr_spec for a in draft["To"].addresses] == ["marta@bodega.example"]


def hostile_tags_mail(desk: Desk) -> None:
    """Markup and attribute breakers in encoded subjects and names, and a client at
    a free-mail provider (so shown by address) with markup and a terminal escape."""
    when = "Sun, 22 Nov 2026 10:00:00 +0100"
    for n, headers in enumerate([
        {"Subject": encoded("<img src=x onerror=alert(1)>\u2028<script>evil()</script>"),
         "From": f"{encoded(chr(34) + '><svg onload=alert(2)>')} <eve@evil.example>"},
        {"Subject": encoded("' style='background:url(http://evil.example/t.png)"),
         "From": encoded("<b title=evil>Eve</b>", "q") + " <eve@evil.example>"},
        {"From": '"<i onmouseover=alert(3)>\x1b[31m\u202e"@gmail.com'},
    ]):
        raw = raw_mail({"Date": when, **headers}, message_id=f"<h{n}@evil.example>")
        desk.deliver("INBOX", raw, ("accusation", 3, "es"))


class Markup(HTMLParser):
    """Every tag and attribute of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.values: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.values.extend(value or "" for _, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_client_markup_in_encoded_words_adds_no_tag_or_attribute_to_the_digest(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    hostile_tags_mail(desk)
    desk.run(NOW)
    with Store(desk.config.store.path) as store:
        found, message = digest.compose(desk.config, store, NOW)
    assert found.hostile_threads == 3
    template = (Path(digest.__file__).parent / "replies" / "digest" / "digest.html.j2"
                ).read_text(encoding="utf-8")
    page = Markup()
    page.feed(message.get_body(preferencelist=("html",)).get_content())
    # Only the template's own tags and attributes, none with a client's value.
    assert page.tags <= set(re.findall(r"<(\w+)", template))
    assert page.attributes <= set(re.findall(r"\s([a-z-]+)=\"", template))
    assert not [v for v in page.values if "evil" in v or "alert" in v]
    text = "".join(page.text)
    assert "<img src=x onerror=alert(1)>" in text and '"><svg onload=alert(2)>' in text
    # The plain text holds nothing that drives a terminal either.
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert "<i onmouseover=alert(3)>" in plain
    assert not any(ch in plain for ch in "\x1b\u202e\u2028"), plain


def test_an_alert_goes_only_to_its_recipients_whatever_the_clients_address(
        tmp_path: Path) -> None:
    # An address whose local part is an encoded-word for "\r\nbcc: x@evil.example".
    sender = encoded(f"x\r\nbcc: {EVIL}\r\nx-a:", "q") + "@evil.example"
    with SmtpServer(tmp_path, "plain") as server:
        desk = Desk(tmp_path, extra=server.config() + '\n[alerts]\nenabled = true\n'
                    'to = ["boss@agency.example"]\n')
        desk.deliver("INBOX", raw_mail({"From": sender, "Date": format_datetime(NOW)}),
                     ("genuine_fault", 3, "es"))

        def reporter(config: Config, store: Store) -> Reporter:
            assert config.smtp is not None
            smtp = config.smtp
            return Reporter(config, store, lambda mail: send(smtp, mail))

        desk.run(NOW, reporter=reporter)
    ((recipients, alert),) = server.received
    assert recipients == ["boss@agency.example"]
    assert sorted(alert.keys()) == sorted(
        ["Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted", "Content-Type",
         "Content-Transfer-Encoding", "MIME-Version"])
    assert "\n" not in alert["Subject"] and "evil.example" in alert["Subject"]


def test_mail_is_sent_to_its_to_addresses_only(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, "plain") as server:
        config = load_config(Desk(tmp_path, extra=server.config()).config_path)
        assert config.smtp is not None
        message = EmailMessage()
        message["To"] = "ana@agency.example, boss@agency.example"
        message["From"] = "triage@agency.example"
        message["Cc"] = "cc@evil.example"
        message["Bcc"] = EVIL
        message.set_content("figures")
        send(config.smtp, message)
    ((recipients, _),) = server.received
    assert recipients == ["ana@agency.example", "boss@agency.example"]


def slow_goodbye_server(folder: Path) -> tuple[int, Path]:
    """An SMTP server over implicit TLS of the test's own that takes one message and
    closes a second after the client's QUIT, without answering its TLS goodbye:
    (port, its certificate)."""
    cert, key = make_certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        listener.close()
        with context.wrap_socket(conn, server_side=True) as tls:
            lines = tls.makefile("rb")
            tls.sendall(b"220 ready\r\n")
            for line in lines:
                if line.upper().startswith(b"DATA"):
                    tls.sendall(b"354 go on\r\n")
                    while next(lines) != b".\r\n":
                        pass
                if line.upper().startswith(b"QUIT"):
                    tls.sendall(b"221 bye\r\n")
                    time.sleep(1.0)
                    return
                tls.sendall(b"250 ok\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1]), cert


def test_sending_leaves_no_connection_open(tmp_path: Path) -> None:
    # A socket still open when the event loop ends is reported when it is
    # collected, which pytest makes an error.
    port, cert = slow_goodbye_server(tmp_path / "tls")
    config = load_config(Desk(tmp_path, extra=f"""
[smtp]
url = "smtps://triage@localhost:{port}"
from = "triage@agency.example"
ca_file = "{cert}"
login = false
""").config_path)
    assert config.smtp is not None
    message = EmailMessage()
    message["From"] = "triage@agency.example"
    message["To"] = "ana@agency.example"
    message.set_content("figures")
    send(config.smtp, message)
    gc.collect()
