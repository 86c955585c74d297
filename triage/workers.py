"""A second process for the heavy part of a large sync.

Parsing, classifying and searching for evidence take nearly all the time of a
first sync, and each message's share of that work does not depend on the others.
``Helper.map`` splits a large batch: a helper process does half while this process
does the other half, and the results come back in order. The helper is forked once,
when the first large batch comes, after the model has loaded, so it shares the
model's memory instead of loading it again. It never talks to the mailbox and
never writes to the store; this process stores what it returns.

Anything that goes wrong with the helper (it died, a result could not be sent back)
is said once, and the work is done here as it would be without one: a helper can
make a sync faster, never lose or change its results.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

log = logging.getLogger(__name__)

Task = Callable[[Sequence[Any]], list[Any]]

# Below this many items a batch is done here: sending it costs more than it saves,
# and a message that has just arrived is triaged without waiting on another process.
MIN_SPLIT = 40


class Splitter(Protocol):
    """Shares a batch's work with another process: ``task`` over ``items``, in
    order, part of them by ``local`` here (``Helper`` is one)."""

    def map(self, task: str, items: Sequence[Any], local: Task | None = None) -> list[Any]: ...

    def close(self) -> None: ...


def share(helper: Splitter | None, task: str, items: Sequence[Any], local: Task) -> list[Any]:
    """``local`` over ``items``, with part of them done by ``helper``'s ``task`` when
    there is a helper."""
    return helper.map(task, items, local) if helper is not None else local(items)


class Helper:
    """One forked helper process that runs named ``tasks`` on part of a batch.

    ``after_fork`` runs in the helper before its first task: the place to open what
    must not be shared across a fork (a database connection).
    """

    def __init__(self, tasks: Mapping[str, Task], after_fork: Callable[[], None] | None = None,
                 min_split: int = MIN_SPLIT) -> None:
        self._tasks = dict(tasks)
        self._after_fork = after_fork
        self.min_split = min_split
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None
        self._failed = False

    def map(self, task: str, items: Sequence[Any], local: Task | None = None) -> list[Any]:
        """``task`` over ``items``, in order: the first half by ``local`` (by default
        the task itself) in this process, the second half in the helper."""
        run = local or self._tasks[task]
        if len(items) < self.min_split or self._failed:
            return run(items)
        conn = self._start()
        half = len(items) // 2
        if conn is None or not self._send(conn, task, items[half:]):
            return run(items)
        mine = run(items[:half])
        return mine + self._receive(conn, task, items[half:], run)

    def close(self) -> None:
        """End the helper: it stops when its end of the pipe closes."""
        gc.unfreeze()  # what was frozen for the fork can be collected again
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
            self._process = None

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> Connection | None:
        if self._conn is not None:
            return self._conn
        # What this process holds now (the model, above all) is left out of garbage
        # collection from here on: a collection in the helper would otherwise write to
        # every such object's header and so copy the pages it shares with this process.
        gc.collect()
        gc.freeze()
        context = multiprocessing.get_context("fork")
        here, there = context.Pipe()
        process = context.Process(target=_serve, args=(self._tasks, self._after_fork, here, there),
                                  name="triage-helper", daemon=True)
        try:
            process.start()
        except OSError as exc:
            self._fail(f"cannot start a helper process ({exc.strerror or exc})")
            return None
        there.close()
        self._conn, self._process = here, process
        return here

    def _send(self, conn: Connection, task: str, items: Sequence[Any]) -> bool:
        try:
            conn.send((task, list(items)))
        except (OSError, ValueError) as exc:
            self._fail(f"the helper process cannot be reached ({exc})")
            return False
        return True

    def _receive(self, conn: Connection, task: str, items: Sequence[Any], run: Task) -> list[Any]:
        try:
            ok, result = conn.recv()
        except (EOFError, OSError) as exc:
            self._fail(f"the helper process ended ({type(exc).__name__})")
            return run(items)
        if not ok:
            # Done again here, where an error is handled as it is without a helper.
            log.debug("the helper could not do %s (%s); doing it here", task, result)
            return run(items)
        return list(result)

    def _fail(self, reason: str) -> None:
        log.warning("%s: going on in one process", reason)
        self._failed = True
        self.close()


def _serve(tasks: Mapping[str, Task], after_fork: Callable[[], None] | None,
           here: Connection, there: Connection) -> None:
    """The helper's loop: run each task it is sent until the other end closes."""
    here.close()  # so that the parent's end closing (even by SIGKILL) ends this loop
    # Ctrl-C reaches the whole process group: the parent stops, and then so does this.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if after_fork is not None:
        after_fork()
    while True:
        answer: tuple[bool, object]
        try:
            task, items = there.recv()
        except (EOFError, OSError):
            return  # the parent is done, or gone
        except Exception as exc:  # noqa: BLE001 - a batch that cannot be unpickled
            answer = (False, f"cannot read the batch ({type(exc).__name__}: {exc})")
        else:
            try:
                answer = (True, tasks[task](items))
            except Exception as exc:  # noqa: BLE001 - said to the parent, which does it itself
                answer = (False, f"{type(exc).__name__}: {exc}")
        try:
            there.send(answer)
        except (OSError, ValueError):
            return  # the parent is gone
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
            there.send((False, f"{type(exc).__name__}: {exc}"))
