"""Sending the tool's own mail (the weekly digest, alerts) over SMTP.

Only the provider's own reports are ever sent: never a reply to a client (those
are left in Drafts for a person). The connection is TLS with certificate and
host-name checks: implicit TLS (``smtps://``, port 465) or STARTTLS
(``smtp://``, port 587), where a server that does not offer STARTTLS is refused
rather than used in the clear. A plain connection is allowed only to a loopback
host when the config says ``tls = "none"`` (checked in config.py). The password
comes from the environment or a command and appears in no message or log.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from email.message import EmailMessage

import aiosmtplib

from triage.config import SmtpConfig, read_password
from triage.errors import TriageError
from triage.mailbox import refused_certificate, tls_context

log = logging.getLogger(__name__)

TIMEOUT = 60.0
CLOSE_WAIT = 2.0  # seconds for the server to end a finished session


class SendError(TriageError):
    """The SMTP server could not be reached or refused the message."""


def send(smtp: SmtpConfig, message: EmailMessage, timeout: float = TIMEOUT) -> None:
    """Send one message (reading the password for it); see ``Outbox.send``."""
    Outbox(smtp, timeout).send(message)


class Outbox:
    """The SMTP account the reports go out through. The password is read once, when
    it is made, so that the service says at start, not days later at the first
    digest, that it cannot get it; it is kept only in memory."""

    def __init__(self, smtp: SmtpConfig, timeout: float = TIMEOUT) -> None:
        self.smtp = smtp
        self.timeout = timeout
        self.password = None if smtp.credentials is None else read_password(
            smtp.credentials, f"SMTP login {smtp.user}@{smtp.host}")

    def send(self, message: EmailMessage) -> None:
        """Send one message to the recipients in its To header; raise ``SendError``
        with one line saying what went wrong."""
        _deliver(self.smtp, message, self.password, self.timeout)


def _deliver(smtp: SmtpConfig, message: EmailMessage, password: str | None,
             timeout: float) -> None:
    where = f"{smtp.host}:{smtp.port}"
    try:
        asyncio.run(_send(smtp, message, password, timeout))
    except ssl.SSLCertVerificationError as exc:
        raise SendError(refused_certificate(smtp.host, exc, "smtp")) from None
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise SendError(f"the SMTP server {where} refused the login of {smtp.user} "
                        f"({exc.code}); check the password") from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(r.recipient for r in exc.recipients)
        raise SendError(f"the SMTP server {where} refused the recipients {refused}") from None
    except aiosmtplib.SMTPException as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLCertVerificationError):
            raise SendError(refused_certificate(smtp.host, cause, "smtp")) from None
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if "STARTTLS" in reason.upper():
            reason += "; use smtps:// if the server takes implicit TLS"
        raise SendError(f"cannot send through {where}: {reason}") from None
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise SendError(f"cannot reach the SMTP server {where}: {reason}") from None
    log.info("sent %r to %s through %s", message["Subject"], message["To"], where)


async def _send(smtp: SmtpConfig, message: EmailMessage, password: str | None,
                timeout: float) -> None:
    context = tls_context(smtp.ca_file)
    client = aiosmtplib.SMTP(
        hostname=smtp.host, port=smtp.port, timeout=timeout,
        use_tls=smtp.tls == "implicit", start_tls=False, tls_context=context)
    protocol = None
    try:
        async with client:
            protocol = client.protocol
            if smtp.tls == "starttls":
                # Explicit: a server that does not offer STARTTLS is an error, never
                # a silent fall back to plain text.
                await client.starttls(tls_context=context)
            if password is not None:
                await client.login(smtp.user, password)
            # To whom the To header names, and no one else: not to a Cc or Bcc that
            # client text might have slipped into the headers.
            await client.send_message(message, recipients=[
                address.addr_spec for address in message["To"].addresses])
    finally:
        # Closing a TLS connection says goodbye in TLS first: wait (briefly) until the
        # socket is closed, or it outlives the event loop and is leaked.
        deadline = asyncio.get_running_loop().time() + CLOSE_WAIT
        while protocol is not None and protocol.transport is not None and \
                asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
