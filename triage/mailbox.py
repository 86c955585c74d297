"""The mailbox seam: the ``Mailbox`` protocol and its Maildir implementation.

The protocol follows IMAP's model: a folder has a UIDVALIDITY and its messages
have increasing UIDs, so a reader keeps a checkpoint (UIDVALIDITY, last UID) per
folder and asks only for what came after it. A changed UIDVALIDITY means the old
UIDs mean nothing any more and the folder must be read again.

A Maildir has no UIDs of its own. ``MaildirMailbox`` asks a ``UidRegistry`` (the
state store) to give each file a UID once and keep it; if that record is lost, a
new UIDVALIDITY is issued and the reader re-reads the folder, recognising what it
already has by Message-ID.

Reading never changes the mailbox: files stay where they are with their flags.
The writes are ``append_draft``, and, in the provider's correction folders only,
putting a dropped message back in the inbox (``move_back``, ``discard``).
"""

from __future__ import annotations

import email.message
import email.parser
import imaplib
import logging
import os
import select
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar

import imapclient
import imapclient.exceptions
import imapclient.imapclient

from triage.config import MailboxConfig
from triage.errors import (
    MailboxAuthError,
    MailboxConnectionError,
    MailboxError,
    MissingFolderError,
)
from triage.files import create_private, private_folder
from triage.message import DRAFT_HEADER
from triage.parsing import MAX_PARSE_BYTES

log = logging.getLogger(__name__)

INBOX = "INBOX"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """What the mailbox says of a folder now."""

    name: str
    uidvalidity: int


# Nothing past the parser's bound is ever read: a 50 MB message costs what an 8 MB
# one does. One byte more than the bound, so that the parser knows it was cut.
READ_LIMIT = MAX_PARSE_BYTES + 1
# What one FETCH may bring at most (a batch is split by the messages' sizes).
FETCH_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """One message as read from the mailbox: its UID, its first ``READ_LIMIT`` bytes,
    its arrival time and its whole size."""

    uid: int
    raw: bytes
    arrival: datetime | None
    size: int


class Mailbox(Protocol):
    """What triage needs of a mailbox; IMAP and Maildir both provide it."""

    def describe(self) -> str:
        """A short name for messages to the user, e.g. ``maildir:/srv/mail``."""
        ...

    def list_folders(self) -> list[str]: ...

    def status(self, folder: str) -> FolderStatus:
        """Open ``folder`` for reading; ``MailboxError`` when it does not exist."""
        ...

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, in increasing order."""
        ...

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[FetchedMessage]:
        """The messages with these UIDs; ones that vanished meanwhile are left out."""
        ...

    @property
    def can_idle(self) -> bool:
        """Whether the mailbox can tell of new mail as it arrives (IMAP IDLE)."""
        ...

    def drafts_folder(self, configured: str) -> str:
        """Where drafts go: the server's \\Drafts folder if it names one, else
        ``configured`` (created if missing; ``MailboxError`` if that is refused)."""
        ...

    def append_draft(self, folder: str, raw: bytes, when: datetime) -> None:
        """Store ``raw`` in ``folder`` flagged as a draft."""
        ...

    def draft_plans(self, folder: str) -> set[str]:
        """The plan ids (``X-Triage-Draft`` headers) of the drafts in ``folder``;
        empty when the folder does not exist yet."""
        ...

    def wait(self, folder: str, seconds: float, stop: Callable[[], bool],
             idle: bool = True) -> bool:
        """Wait up to ``seconds`` for news of ``folder`` (with IMAP IDLE when ``idle``
        and the server has it), returning early once ``stop()`` is true; True when
        new mail may have arrived."""
        ...

    # --- corrections (corrections.py): the only other writes ------------------------

    def folder_name(self, configured: str) -> str:
        """A folder name written with "/" as the mailbox spells it."""
        ...

    def create_folder(self, folder: str) -> bool:
        """Create ``folder`` unless it exists; True when it was created."""
        ...

    def undeleted(self, folder: str) -> list[int]:
        """The UIDs of ``folder``, in order, but for messages flagged deleted (which
        the user is throwing away)."""
        ...

    def holds(self, folder: str, message_id: str) -> bool:
        """Whether ``folder`` has a message with this Message-ID header."""
        ...

    def move_back(self, folder: str, uid: int, to: str) -> bool:
        """Move one message to ``to`` at once (never a moment in neither folder, nor in
        both for good); False when the server can only copy it (the original stays)."""
        ...

    def discard(self, folder: str, uid: int) -> bool:
        """Remove one message whose copy is known to be elsewhere; False when the server
        cannot remove only that one (it then stays)."""
        ...

    def keyword_uids(self, folder: str, keywords: Sequence[str]) -> dict[str, list[int]]:
        """The UIDs of ``folder`` that carry each keyword."""
        ...

    def close(self) -> None: ...


class UidRegistry(Protocol):
    """Keeps the UIDs given to Maildir files (the state store implements it)."""

    def maildir_uids(self, folder_key: str, names: Sequence[str]) -> tuple[int, dict[str, int]]:
        """Return the folder's UIDVALIDITY and a UID for every name, giving new
        names the next UIDs in the order given."""
        ...


class MaildirMailbox:
    """A Maildir++ tree: INBOX at the root, ``.Sent``, ``.Drafts``, ``.A.B`` for ``A/B``."""

    def __init__(self, root: Path, registry: UidRegistry) -> None:
        self.root = root
        self.registry = registry
        self._uid_maps: dict[str, dict[int, Path]] = {}
        if not _is_maildir(root):
            raise MissingFolderError(
                f"{root} is not a Maildir (it needs cur/, new/ and tmp/ folders); "
                "check [mailbox] url"
            )

    def describe(self) -> str:
        return f"maildir:{self.root}"

    def list_folders(self) -> list[str]:
        names = [INBOX]
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith(".") and entry.name not in (".", "..") and _is_maildir(entry):
                names.append(entry.name[1:].replace(".", "/"))
        return names

    def folder_path(self, folder: str) -> Path:
        if folder.upper() == INBOX:
            return self.root
        return self.root / ("." + folder.replace("/", "."))

    def status(self, folder: str) -> FolderStatus:
        path = self._existing(folder)
        uidvalidity, _ = self.registry.maildir_uids(str(path), [])
        return FolderStatus(name=folder, uidvalidity=uidvalidity)

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        path = self._existing(folder)
        files = maildir_files(path)
        # Unique names start with the delivery time, so sorting them keeps UIDs
        # roughly in arrival order.
        names = sorted(files)
        _, uids = self.registry.maildir_uids(str(path), names)
        self._uid_maps[folder] = {uids[name]: files[name] for name in names}
        return sorted(uid for uid in self._uid_maps[folder] if uid > last_uid)

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[FetchedMessage]:
        if folder not in self._uid_maps:
            self.uids_after(folder, 0)
        by_uid = self._uid_maps[folder]
        for uid in uids:
            path = by_uid.get(uid)
            if path is None:
                continue
            try:
                raw, info = read_message_file(path)
                arrival = datetime.fromtimestamp(info.st_mtime, UTC)
            except FileNotFoundError:
                # Moved by the user's mail client (flags changed, or filed): the
                # next listing finds it under its new name.
                log.debug("%s vanished while reading", path.name)
                continue
            except OSError as exc:
                raise MailboxError(f"cannot read {path}: {exc.strerror}") from None
            yield FetchedMessage(uid=uid, raw=raw, arrival=arrival, size=info.st_size)

    def append_draft(self, folder: str, raw: bytes, when: datetime) -> None:
        """Deliver as Maildir does: write under tmp/, owner-only, then rename into cur/
        with the Draft and Seen flags, so a reader never sees half a file."""
        path = self.folder_path(folder)
        name = f"{time.time_ns()}.P{os.getpid()}Q{uuid.uuid4().hex}.{socket.gethostname()}"
        try:
            self._make_folder(path)
            staged = path / "tmp" / name
            with os.fdopen(create_private(staged, os.O_WRONLY), "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.utime(staged, (when.timestamp(), when.timestamp()))
            staged.rename(path / "cur" / f"{name}:2,DS")
        except OSError as exc:
            raise MailboxError(f"cannot write a draft to {path}: {exc.strerror}") from None

    def draft_plans(self, folder: str) -> set[str]:
        return {plan for headers in self._headers(folder) for plan in _plan_ids(headers)}

    def _headers(self, folder: str) -> Iterator[email.message.Message]:
        """The header of each message in ``folder`` (none when it does not exist)."""
        path = self.folder_path(folder)
        for file in maildir_files(path).values() if _is_maildir(path) else ():
            try:
                with file.open("rb") as handle:
                    headers = _HEADERS.parse(handle)
            except FileNotFoundError:
                continue  # moved by the user's mail client meanwhile
            except OSError as exc:
                raise MailboxError(f"cannot read {file}: {exc.strerror}") from None
            yield headers

    can_idle = False

    def drafts_folder(self, configured: str) -> str:
        return configured

    def folder_name(self, configured: str) -> str:
        return configured

    def create_folder(self, folder: str) -> bool:
        path = self.folder_path(folder)
        if _is_maildir(path):
            return False
        try:
            self._make_folder(path)
        except OSError as exc:
            raise MailboxError(f"cannot create the folder {path}: {exc.strerror}") from None
        return True

    def undeleted(self, folder: str) -> list[int]:
        uids = self.uids_after(folder, 0)
        return [u for u in uids
                if "T" not in self._uid_maps[folder][u].name.rpartition(":2,")[2]]

    def holds(self, folder: str, message_id: str) -> bool:
        wanted = message_id.strip()
        return any(" ".join(str(headers.get("Message-ID", "")).split()) == wanted
                   for headers in self._headers(folder))

    def move_back(self, folder: str, uid: int, to: str) -> bool:
        """A rename into the other folder's cur/ or new/, under the same name and
        flags: atomic on one file system."""
        source = self._file_of(folder, uid)
        target = self._existing(to) / source.parent.name / source.name
        try:
            source.rename(target)
        except OSError as exc:
            raise MailboxError(f"cannot move {source} to {target}: {exc.strerror}") from None
        return True

    def discard(self, folder: str, uid: int) -> bool:
        path = self._file_of(folder, uid)
        try:
            path.unlink()
        except OSError as exc:
            raise MailboxError(f"cannot remove {path}: {exc.strerror}") from None
        return True

    def keyword_uids(self, folder: str, keywords: Sequence[str]) -> dict[str, list[int]]:
        """Dovecot keeps a Maildir's keywords as letters after ":2," (a = the first
        name in the folder's dovecot-keywords file, b = the second ...)."""
        path = self._existing(folder)
        letters: dict[str, str] = {}
        try:
            lines = (path / "dovecot-keywords").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        except (OSError, UnicodeDecodeError) as exc:
            raise MailboxError(f"cannot read {path / 'dovecot-keywords'}: {exc}") from None
        for line in lines:
            number, _, name = line.partition(" ")
            if number.isdigit() and int(number) < 26 and name.strip() in keywords:
                letters[chr(ord("a") + int(number))] = name.strip()
        found: dict[str, list[int]] = {keyword: [] for keyword in keywords}
        if not letters:
            return found
        uids = self.uids_after(folder, 0)
        for uid in uids:
            flags = self._uid_maps[folder][uid].name.rpartition(":2,")[2]
            for letter in set(flags) & set(letters):
                found[letters[letter]].append(uid)
        return found

    def wait(self, folder: str, seconds: float, stop: Callable[[], bool],
             idle: bool = True) -> bool:
        # A Maildir sends no news: wait, then let the caller look again.
        _sleep_until(time.monotonic() + seconds, stop)
        return not stop()

    def close(self) -> None:
        self._uid_maps.clear()

    def _existing(self, folder: str) -> Path:
        path = self.folder_path(folder)
        if not _is_maildir(path):
            raise MissingFolderError(f"folder {folder!r} does not exist in {self.describe()}")
        return path

    def _make_folder(self, path: Path) -> None:
        if not _is_maildir(path):
            for sub in ("cur", "new", "tmp"):
                private_folder(path / sub)
            if path != self.root:  # a Maildir++ subfolder, as mail servers expect
                os.close(create_private(path / "maildirfolder", os.O_WRONLY))

    def _file_of(self, folder: str, uid: int) -> Path:
        path = self._uid_maps.get(folder, {}).get(uid)
        if path is None or not path.exists():  # new, or renamed by a mail client since
            self.uids_after(folder, 0)
            path = self._uid_maps[folder].get(uid)
        if path is None or not path.exists():
            raise MailboxError(f"UID {uid} of {folder!r} is no longer in {self.describe()}")
        return path


def read_message_file(path: Path) -> tuple[bytes, os.stat_result]:
    """The first ``READ_LIMIT`` bytes of a message file, and the file's status."""
    with path.open("rb") as handle:
        return handle.read(READ_LIMIT), os.fstat(handle.fileno())


def _plain_zone(when: object) -> datetime | None:
    """An INTERNALDATE with the standard library's fixed-offset zone in place of
    imapclient's own, which cannot be pickled (the helper process gets it)."""
    if not isinstance(when, datetime):
        return None
    offset = when.utcoffset()
    return when if offset is None else when.replace(tzinfo=timezone(offset))


def _is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def maildir_files(folder: Path) -> dict[str, Path]:
    """Unique name (the part before the ``:2,`` flags) → file, over new/ and cur/."""
    files: dict[str, Path] = {}
    for sub in ("new", "cur"):
        try:
            entries = os.scandir(folder / sub)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                files[entry.name.split(":", 1)[0]] = Path(entry.path)
    return files


# --- IMAP ---------------------------------------------------------------------

# Socket timeouts: a server that stops answering is an outage, not a hang.
CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 60.0
# RFC 2177: servers may drop an IDLE after 30 minutes; end each one well before.
MAX_IDLE_SECONDS = 25 * 60.0


# OpenSSL's verification codes that call for advice other than ca_file.
_CERT_NOT_YET_VALID, _CERT_HAS_EXPIRED = 9, 10
_NAME_MISMATCH = (62, 64)  # a host name, an IP address


def refused_certificate(host: str, exc: ssl.SSLCertVerificationError, table: str) -> str:
    """The one-line error for a server certificate that failed the checks, with the
    advice that fits the fault: a date, a name, or an authority triage does not know."""
    if exc.verify_code in (_CERT_HAS_EXPIRED, _CERT_NOT_YET_VALID):
        advice = ("its validity dates do not include today; renew the server's certificate "
                  "(or check this machine's clock)")
    elif exc.verify_code in _NAME_MISMATCH:
        advice = (f"it was issued for another name; put in [{table}] url the host name the "
                  "certificate was issued for")
    else:
        advice = f"if the server uses a private CA, set [{table}] ca_file to its certificate"
    return (f"the TLS certificate of {host} was refused "
            f"({exc.verify_message or exc.reason}); {advice}")


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate and host-name checks on, against the system's CAs or ``ca_file``."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class ImapMailbox:
    """An IMAP account read with imapclient: TLS with checks, EXAMINE and BODY.PEEK[]
    only (nothing is marked read), APPEND to the drafts folder as the only write.

    Network and protocol failures become ``MailboxConnectionError`` (worth a
    reconnect), a refused login ``MailboxAuthError`` (never retried).
    """

    def __init__(self, config: MailboxConfig, password: str,
                 timeout: float = READ_TIMEOUT) -> None:
        self.config = config
        self._selected: str | None = None
        self._delimiter: str | None = None
        self.client = self._connect(timeout)
        try:
            self.client.login(config.user, password)
        except imapclient.exceptions.LoginError as exc:
            self._drop()
            raise MailboxAuthError(
                f"the IMAP server {config.host} refused the login of {config.user!r} "
                f"({_server_text(exc)}); check the user in [mailbox] url and the password in "
                f"{config.credentials.describe()}"
            ) from None
        except _NETWORK_ERRORS as exc:
            self._drop()
            raise self._lost(exc) from None
        # Aware datetimes from INTERNALDATE, not naive local times.
        self.client.normalise_times = False
        self.capabilities = {c.upper() for c in self._call(self.client.capabilities)}

    def _connect(self, timeout: float) -> imapclient.IMAPClient:
        config = self.config
        context = tls_context(config.ca_file)
        timeouts = imapclient.SocketTimeout(connect=CONNECT_TIMEOUT, read=timeout)
        try:
            client = imapclient.IMAPClient(
                config.host, port=config.port, ssl=config.tls == "implicit",
                ssl_context=context if config.tls == "implicit" else None, timeout=timeouts,
            )
        except ssl.SSLCertVerificationError as exc:
            raise self._bad_certificate(exc) from None
        except _NETWORK_ERRORS as exc:
            raise self._lost(exc) from None
        if config.tls == "starttls":
            try:
                if b"STARTTLS" not in {c.upper() for c in client.capabilities()}:
                    raise MailboxConnectionError(
                        f"the IMAP server {config.host}:{config.port} does not offer STARTTLS; "
                        "triage will not log in without TLS (use an imaps:// url if the "
                        "server has implicit TLS)"
                    )
                client.starttls(context)
            except ssl.SSLCertVerificationError as exc:
                _close_quietly(client)
                raise self._bad_certificate(exc) from None
            except MailboxError:
                _close_quietly(client)
                raise
            except _NETWORK_ERRORS as exc:
                _close_quietly(client)
                raise self._lost(exc, "STARTTLS failed") from None
        return client

    # --- the Mailbox protocol ------------------------------------------------

    def describe(self) -> str:
        return f"imap://{self.config.user}@{self.config.host}:{self.config.port}"

    def list_folders(self) -> list[str]:
        return [name for _flags, _sep, name in self._call(self.client.list_folders)]

    def status(self, folder: str) -> FolderStatus:
        info = self._select(folder)
        return FolderStatus(name=folder, uidvalidity=int(info[b"UIDVALIDITY"]))

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        self._select(folder)
        found = self._call(self.client.search, ["UID", f"{last_uid + 1}:*"])
        # "n:*" always matches the last message, even when n is past it.
        return sorted(uid for uid in found if uid > last_uid)

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[FetchedMessage]:
        if not uids:
            return
        self._select(folder)
        sizes = {uid: int(data[b"RFC822.SIZE"]) for uid, data in
                 self._call(self.client.fetch, list(uids), ["RFC822.SIZE"]).items()
                 if b"RFC822.SIZE" in data}
        part = f"BODY.PEEK[]<0.{READ_LIMIT}>"
        for chunk in _by_size([uid for uid in uids if uid in sizes], sizes):
            answer = self._call(self.client.fetch, chunk, [part, "INTERNALDATE"])
            for uid in chunk:
                data = answer.get(uid)
                body = data.get(b"BODY[]<0>", data.get(b"BODY[]")) if data else None
                if body is None:
                    continue  # expunged meanwhile
                arrival = data.get(b"INTERNALDATE") if data else None
                yield FetchedMessage(uid=uid, raw=bytes(body), size=sizes[uid],
                                     arrival=_plain_zone(arrival))

    def drafts_folder(self, configured: str) -> str:
        """The folder flagged \\Drafts (SPECIAL-USE), else the configured name, created
        when it does not exist; a server that refuses to create it is one clear error."""
        if b"SPECIAL-USE" in self.capabilities:
            found = self._call(self.client.find_special_folder, imapclient.imapclient.DRAFTS)
            if found:
                return str(found)
        if not self._call(self.client.folder_exists, configured):
            log.info("creating the drafts folder %r on %s", configured, self.config.host)
            try:
                self._call(self.client.create_folder, configured)
            except MailboxConnectionError:
                raise
            except MailboxError as exc:
                raise MailboxError(
                    f"the drafts folder {configured!r} does not exist on {self.config.host} "
                    f"and the server refused to create it ({exc}); create it in your mail "
                    "client or set [folders] drafts to an existing folder"
                ) from None
        return configured

    def append_draft(self, folder: str, raw: bytes, when: datetime) -> None:
        self._call(self.client.append, folder, raw, flags=[imapclient.imapclient.DRAFT],
                   msg_time=when)

    def draft_plans(self, folder: str) -> set[str]:
        if not self._call(self.client.folder_exists, folder):
            return set()
        self._select(folder)
        # Every message's header, not SEARCH HEADER: not every server indexes
        # headers of its own choosing.
        uids = self._call(self.client.search, ["ALL"])
        found: set[str] = set()
        part = f"BODY.PEEK[HEADER.FIELDS ({DRAFT_HEADER.upper()})]"
        for start in range(0, len(uids), 500):
            answer = self._call(self.client.fetch, uids[start:start + 500], [part])
            for data in answer.values():
                for key, value in data.items():
                    if key.startswith(b"BODY[HEADER.FIELDS") and isinstance(value, bytes):
                        found.update(_plan_ids(_HEADERS.parsebytes(value)))
        return found

    def folder_name(self, configured: str) -> str:
        if self._delimiter is None:
            personal = self._call(self.client.namespace).personal
            self._delimiter = str(personal[0][1] or "/") if personal else "/"
        return configured.replace("/", self._delimiter)

    def create_folder(self, folder: str) -> bool:
        if self._call(self.client.folder_exists, folder):
            return False
        self._call(self.client.create_folder, folder)
        # Subscribed, so that mail clients that show only subscribed folders show it.
        try:
            self._call(self.client.subscribe_folder, folder)
        except MailboxConnectionError:
            raise
        except MailboxError as exc:
            log.debug("could not subscribe to %r: %s", folder, exc)
        return True

    def undeleted(self, folder: str) -> list[int]:
        self._select(folder)
        return sorted(self._call(self.client.search, ["UNDELETED"]))

    def holds(self, folder: str, message_id: str) -> bool:
        self._select(folder)
        return bool(self._call(self.client.search, ["HEADER", "MESSAGE-ID", message_id]))

    def move_back(self, folder: str, uid: int, to: str) -> bool:
        """UID MOVE where the server has it (RFC 6851: atomic); else COPY, then flag
        and expunge only that UID (UIDPLUS); else COPY alone, and say so."""
        self._select(folder, readonly=False)
        if b"MOVE" in self.capabilities:
            self._call(self.client.move, [uid], to)
            return True
        self._call(self.client.copy, [uid], to)
        return self._expunge_one(uid)

    def discard(self, folder: str, uid: int) -> bool:
        self._select(folder, readonly=False)
        return self._expunge_one(uid)

    def _expunge_one(self, uid: int) -> bool:
        if b"UIDPLUS" not in self.capabilities:
            # A plain EXPUNGE would also remove whatever else is flagged \Deleted.
            return False
        self._call(self.client.add_flags, [uid], [imapclient.imapclient.DELETED])
        self._call(self.client.uid_expunge, [uid])
        return True

    def keyword_uids(self, folder: str, keywords: Sequence[str]) -> dict[str, list[int]]:
        self._select(folder)
        return {keyword: sorted(self._call(self.client.search, ["KEYWORD", keyword]))
                for keyword in keywords}

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # noqa: BLE001 - closing a connection that may be dead already
            self._drop()

    # --- waiting for new mail -------------------------------------------------

    @property
    def can_idle(self) -> bool:
        return b"IDLE" in self.capabilities

    def wait(self, folder: str, seconds: float, stop: Callable[[], bool],
             idle: bool = True) -> bool:
        """Wait up to ``seconds`` for new mail in ``folder``: IDLE when ``idle`` and
        the server has it, else NOOP every few seconds. True when something arrived;
        returns early when ``stop()`` becomes true."""
        self._select(folder)
        deadline = time.monotonic() + min(seconds, MAX_IDLE_SECONDS)
        if not (idle and self.can_idle):
            while time.monotonic() < deadline and not stop():
                if any(_announces_mail(r) for r in self._call(self.client.noop)[1]):
                    return True
                _sleep_until(min(deadline, time.monotonic() + _NOOP_INTERVAL), stop)
            return False
        self._call(self.client.idle)
        arrived = False
        try:
            while time.monotonic() < deadline and not stop():
                readable = _readable(self.client.socket(), _IDLE_SLICE)
                if not readable:
                    continue
                responses = self._call(self.client.idle_check, 0)
                if any(_announces_mail(r) for r in responses):
                    arrived = True
                    break
                if not responses:
                    # Readable yet nothing to read: the server may have closed the
                    # connection (imapclient then returns nothing). Ending the IDLE
                    # tells a live connection from a dead one.
                    break
        finally:
            self._call(self.client.idle_done)
        return arrived

    # --- helpers ----------------------------------------------------------------

    def _select(self, folder: str, readonly: bool = True) -> dict[bytes, Any]:
        try:
            # EXAMINE: read-only, so the server itself never changes a flag. Only a
            # correction folder is opened for writing, to move a message back.
            info: dict[bytes, Any] = self.client.select_folder(folder, readonly=readonly)
        except imapclient.exceptions.IMAPClientError as exc:
            if isinstance(exc, imapclient.exceptions.IMAPClientAbortError):
                raise self._lost(exc) from None
            raise MissingFolderError(
                f"folder {folder!r} does not exist in {self.describe()} "
                f"({_server_text(exc)})"
            ) from None
        except _NETWORK_ERRORS as exc:
            raise self._lost(exc) from None
        self._selected = folder
        return info

    def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except imapclient.exceptions.IMAPClientAbortError as exc:
            raise self._lost(exc) from None
        except imapclient.exceptions.IMAPClientError as exc:
            raise MailboxError(f"{self.describe()}: the server said {_server_text(exc)}"
                               ) from None
        except _NETWORK_ERRORS as exc:
            raise self._lost(exc) from None

    def _lost(self, exc: BaseException, what: str = "connection failed") -> MailboxConnectionError:
        reason = _server_text(exc) or type(exc).__name__
        return MailboxConnectionError(
            f"IMAP {what} ({self.config.host}:{self.config.port}): {reason}")

    def _bad_certificate(self, exc: ssl.SSLCertVerificationError) -> MailboxConnectionError:
        return MailboxConnectionError(refused_certificate(self.config.host, exc, "mailbox"))

    def _drop(self) -> None:
        _close_quietly(self.client)


_NETWORK_ERRORS = (OSError, EOFError, imaplib.IMAP4.abort, ssl.SSLError)
_IDLE_SLICE = 1.0  # how often a waiting IDLE looks at ``stop``
_NOOP_INTERVAL = 5.0


_HEADERS = email.parser.BytesHeaderParser()


def _by_size(uids: Sequence[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """``uids`` in runs that bring at most ``FETCH_BYTES`` each (at least one UID)."""
    chunk: list[int] = []
    total = 0
    for uid in uids:
        size = min(sizes[uid], READ_LIMIT)
        if chunk and total + size > FETCH_BYTES:
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += size
    if chunk:
        yield chunk


def _plan_ids(headers: email.message.Message) -> list[str]:
    return [" ".join(str(v).split()) for v in headers.get_all(DRAFT_HEADER, [])]


def _announces_mail(response: object) -> bool:
    return (isinstance(response, tuple) and len(response) >= 2
            and response[1] in (b"EXISTS", b"RECENT"))


def _readable(sock: socket.socket, timeout: float) -> bool:
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(timeout * 1000))


def _sleep_until(deadline: float, stop: Callable[[], bool]) -> None:
    while not stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, _IDLE_SLICE))


def _server_text(exc: BaseException) -> str:
    text = " ".join(str(a.decode(errors="replace") if isinstance(a, bytes) else a)
                    for a in exc.args)
    return " ".join(text.split())[:200]


def _close_quietly(client: imapclient.IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001, S110 - the socket may be gone already
        pass
