"""Files and folders triage writes are readable by their owner only.

They hold client names, subjects and text (the state database, an export, the
digest page, a model trained on one's own mail), so each is created 0600 and each
folder 0700 whatever the process umask. A file that exists already keeps a mode its
owner made tighter; one that group or others can read is tightened, with a warning,
because triage is about to put client mail in it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal, TextIO, overload

from triage.errors import TriageError

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_OTHERS = 0o077  # group and other permission bits


def private_folder(path: Path) -> None:
    """Create ``path`` and its missing parents owner-only; folders that exist keep
    their mode (``mkdir -p`` would give the parents the umask's)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile: it is not ours to change
        os.chmod(folder, FOLDER_MODE)  # an odd umask may have taken the owner's bits


def restrict(path: Path) -> int | None:
    """Take group and other permissions off an existing regular file; return its old
    mode when that changed it. Devices, pipes and missing files are left alone, and
    so is a file of another user's (with a warning: only its owner may change it)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode) or not mode & _OTHERS:
        return None
    try:
        path.chmod(stat.S_IMODE(mode) & ~_OTHERS)
    except PermissionError:
        log.warning("%s is readable by other users (mode %03o), and only its owner can "
                    "change that", path, stat.S_IMODE(mode))
        return None
    return stat.S_IMODE(mode)


def create_private(path: Path, flags: int) -> int:
    """Open ``path`` with ``flags`` (``os.O_WRONLY | os.O_TRUNC``...), creating it and
    its folders owner-only when new; return the descriptor. Raises ``OSError``."""
    private_folder(path.parent)
    try:
        descriptor = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        descriptor = os.open(path, flags)
        old = restrict(path)
        if old is not None:
            log.warning("%s was readable by other users (mode %03o); triage made it readable "
                        "by its owner only", path, old)
        return descriptor
    os.fchmod(descriptor, FILE_MODE)  # the umask may have taken the owner's bits
    return descriptor


@overload
def open_private(path: Path, mode: Literal["w"] = "w", newline: str | None = None) -> TextIO: ...
@overload
def open_private(path: Path, mode: Literal["wb", "a+b"], newline: None = None) -> BinaryIO: ...
def open_private(path: Path, mode: Literal["w", "wb", "a+b"] = "w",
                 newline: str | None = None) -> TextIO | BinaryIO:
    """``path`` opened to write as an owner-only file: "w" and "wb" empty it first,
    "a+b" keeps what it holds. Failing to open it is a one-line ``TriageError``."""
    flags = os.O_RDWR | os.O_APPEND if mode == "a+b" else os.O_WRONLY | os.O_TRUNC
    try:
        descriptor = create_private(path, flags)
    except OSError as exc:
        raise TriageError(f"cannot write {path}: {exc.strerror or exc}") from None
    if mode == "w":
        return os.fdopen(descriptor, mode, encoding="utf-8", newline=newline)
    return os.fdopen(descriptor, mode)


def write_private(path: Path, data: str | bytes) -> None:
    """Write a whole owner-only file; any failure is a one-line ``TriageError``."""
    remaining = memoryview(data.encode("utf-8") if isinstance(data, str) else data)
    try:
        descriptor = create_private(path, os.O_WRONLY | os.O_TRUNC)
        try:
            while remaining:
                remaining = remaining[os.write(descriptor, remaining):]
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise TriageError(f"cannot write {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def exclusive_lock(path: Path, busy: TriageError) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (an owner-only file) for the block; raise
    ``busy`` at once when another process holds it."""
    with open_private(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
