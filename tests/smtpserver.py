"""A real SMTP server for the tests: aiosmtpd on a loopback port.

``SmtpServer`` runs one in a thread in one of three ways: plain (the tool may
use it only because it is on loopback), STARTTLS (required before MAIL), or
implicit TLS; optionally with a login. Certificates are throwaway ones made by
openssl for ``localhost`` (so 127.0.0.1 is the wrong host for them), and the
messages the server accepted are kept, parsed, in ``received``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "triage"
PASSWORD = "s3cret-smtp-pässword"  # noqa: S105 - a test server's


def make_certificate(folder: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate and key for ``host``: (cert.pem, key.pem)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


_CA_CONF = """\
[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
"""


def make_expired_certificate(folder: Path, host: str = "localhost") -> tuple[Path, Path, Path]:
    """A certificate for ``host`` that expired in 2020, signed by a new CA that is
    itself valid, so that a client trusting the CA finds only the date wrong:
    (ca.pem, cert.pem, key.pem)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca-key.pem"
    cert, key, request = folder / "cert.pem", folder / "key.pem", folder / "request.csr"
    (folder / "ca.conf").write_text(_CA_CONF, encoding="utf-8")
    (folder / "index.txt").write_text("", encoding="utf-8")
    (folder / "serial").write_text("01\n", encoding="utf-8")
    for command in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
         "-keyout", str(ca_key), "-out", str(ca)],
        ["req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}", "-keyout", str(key), "-out", str(request)],
        ["ca", "-batch", "-notext", "-config", "ca.conf", "-cert", str(ca), "-keyfile",
         str(ca_key), "-in", str(request), "-out", str(cert),
         "-startdate", "20200101000000Z", "-enddate", "20200201000000Z"],
    ):
        subprocess.run(["openssl", *command], check=True, capture_output=True, cwd=folder)
    return ca, cert, key


class Inbox:
    """The aiosmtpd handler: keeps what was delivered."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1: ``mode`` is "plain", "starttls" or "implicit"."""

    def __init__(self, folder: Path, mode: str = "plain", login: bool = False,
                 offer_starttls: bool = True,
                 certificate: tuple[Path, Path, Path] | None = None) -> None:
        """``certificate``: (ca.pem, cert.pem, key.pem) to serve instead of a new
        self-signed one; config() then names the CA as ca_file."""
        self.mode = mode
        self.inbox = Inbox()
        self.port = _free_port()
        self.logins: list[str] = []  # the user names of the AUTH attempts
        if certificate is None:
            self.cert, self.key = make_certificate(folder / "smtp-tls")
            self.ca_file = self.cert
        else:
            self.ca_file, self.cert, self.key = certificate
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        kwargs: dict[str, Any] = {}
        if login:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=mode != "plain")
        if mode == "starttls" and offer_starttls:
            kwargs.update(tls_context=context, require_starttls=True)
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port,
            ssl_context=context if mode == "implicit" else None,
            server_hostname="localhost", **kwargs)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append(data.login.decode())
        ok = isinstance(data, LoginPassword) and data.login.decode() == USER and \
            data.password.decode() == PASSWORD
        return AuthResult(success=ok, handled=False)

    @property
    def received(self) -> list[tuple[list[str], EmailMessage]]:
        return self.inbox.received

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def config(self, host: str = "localhost", ca: bool = True, login: bool = False,
               tls: str | None = None) -> str:
        """An [smtp] table for this server."""
        scheme = "smtps" if self.mode == "implicit" else "smtp"
        lines = ["[smtp]", f'url = "{scheme}://{USER}@{host}:{self.port}"',
                 'from = "triage@agency.example"']
        mode = tls or ("none" if self.mode == "plain" else None)
        if mode and scheme == "smtp":
            lines.append(f'tls = "{mode}"')
        if ca and self.mode != "plain":
            lines.append(f'ca_file = "{self.ca_file}"')
        if login:
            lines.append('password_env = "TRIAGE_TEST_SMTP_PASSWORD"')
        else:
            lines.append("login = false")
        return "\n" + "\n".join(lines) + "\n"
