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
The only write is ``append_draft``.
"""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from triage.errors import MailboxError

log = logging.getLogger(__name__)

INBOX = "INBOX"


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """What the mailbox says of a folder now."""

    name: str
    uidvalidity: int


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """One message as read from the mailbox: its UID, bytes and arrival time."""

    uid: int
    raw: bytes
    arrival: datetime | None


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

    def append_draft(self, folder: str, raw: bytes, when: datetime) -> None:
        """Store ``raw`` in ``folder`` flagged as a draft."""
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
            raise MailboxError(
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
                raw = path.read_bytes()
                arrival = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                # Moved by the user's mail client (flags changed, or filed): the
                # next listing finds it under its new name.
                log.debug("%s vanished while reading", path.name)
                continue
            except OSError as exc:
                raise MailboxError(f"cannot read {path}: {exc.strerror}") from None
            yield FetchedMessage(uid=uid, raw=raw, arrival=arrival)

    def append_draft(self, folder: str, raw: bytes, when: datetime) -> None:
        path = self.folder_path(folder)
        try:
            if not _is_maildir(path):
                stdlib_mailbox.Maildir(str(self.root), create=False).add_folder(
                    folder.replace("/", ".")
                )
            box = stdlib_mailbox.Maildir(str(path), create=False)
            message = stdlib_mailbox.MaildirMessage(raw)
            message.set_subdir("cur")
            message.set_flags("DS")
            message.set_date(when.timestamp())
            box.add(message)
        except OSError as exc:
            raise MailboxError(f"cannot write a draft to {path}: {exc.strerror}") from None

    def close(self) -> None:
        self._uid_maps.clear()

    def _existing(self, folder: str) -> Path:
        path = self.folder_path(folder)
        if not _is_maildir(path):
            raise MailboxError(f"folder {folder!r} does not exist in {self.describe()}")
        return path


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
