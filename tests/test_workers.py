"""The helper process that takes half of each large batch (triage/workers.py): real
forked processes, the results in order, and every way the helper can fail ending
in the same results computed here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from triage.workers import Helper


def pids(items: Sequence[int]) -> list[tuple[int, int]]:
    return [(item, os.getpid()) for item in items]


def square(items: Sequence[int]) -> list[int]:
    return [item * item for item in items]


def test_a_large_batch_is_split_in_order_between_this_process_and_the_helper() -> None:
    with Helper({"pids": pids}, min_split=10) as helper:
        result = helper.map("pids", list(range(100)))
    assert [item for item, _ in result] == list(range(100))
    assert {pid for _, pid in result[:50]} == {os.getpid()}
    [other] = {pid for _, pid in result[50:]}
    assert other != os.getpid()


def test_a_small_batch_is_done_here_without_starting_a_helper() -> None:
    helper = Helper({"pids": pids}, min_split=10)
    assert {pid for _, pid in helper.map("pids", list(range(9)))} == {os.getpid()}
    assert helper._process is None
    helper.close()


def test_the_local_function_does_this_processes_half() -> None:
    with Helper({"square": square}, min_split=4) as helper:
        assert helper.map("square", [1, 2, 3, 4], local=lambda xs: [-x for x in xs]) == [
            -1, -2, 9, 16]


def test_after_fork_runs_in_the_helper_only() -> None:
    seen: list[int] = []

    def mark() -> None:
        seen.append(os.getpid())

    def marked(items: Sequence[int]) -> list[bool]:
        return [bool(seen) for _ in items]

    with Helper({"marked": marked}, after_fork=mark, min_split=2) as helper:
        assert helper.map("marked", [1, 2, 3, 4]) == [False, False, True, True]
    assert seen == []


def dies(items: Sequence[int]) -> list[int]:
    if os.getpid() != PARENT:
        os._exit(3)
    return list(items)


PARENT = os.getpid()


def test_a_helper_that_dies_leaves_the_work_done_here_and_is_said_once(
        caplog: pytest.LogCaptureFixture) -> None:
    with Helper({"dies": dies}, min_split=2) as helper:
        assert helper.map("dies", [1, 2, 3, 4]) == [1, 2, 3, 4]
        assert helper.map("dies", [5, 6, 7, 8]) == [5, 6, 7, 8]
    assert caplog.text.count("going on in one process") == 1


def fails_there(items: Sequence[int]) -> list[int]:
    if os.getpid() != PARENT:
        raise ValueError("only in the helper")
    return [item + 1 for item in items]


def test_a_task_that_fails_in_the_helper_is_done_again_here() -> None:
    with Helper({"fails": fails_there}, min_split=2) as helper:
        assert helper.map("fails", [1, 2, 3, 4]) == [2, 3, 4, 5]
        # The helper is still in use afterwards.
        assert helper._process is not None and helper._process.is_alive()


def always_fails(items: Sequence[int]) -> list[int]:
    raise KeyError("broken")


def test_a_task_that_fails_everywhere_raises_here_as_without_a_helper() -> None:
    with Helper({"fails": always_fails}, min_split=2) as helper, pytest.raises(KeyError):
        helper.map("fails", [1, 2, 3, 4])


def unpicklable(items: Sequence[int]) -> list[object]:
    # A lock cannot be pickled.
    return [threading.Lock() if os.getpid() != PARENT else item for item in items]


def test_a_result_that_cannot_be_sent_back_is_computed_here() -> None:
    with Helper({"odd": unpicklable}, min_split=2) as helper:
        assert helper.map("odd", [1, 2, 3, 4]) == [1, 2, 3, 4]


def test_the_helper_ends_when_its_parent_is_killed() -> None:
    """A SIGKILLed service leaves no helper behind: its end of the pipe closes."""
    script = textwrap.dedent("""
        import os, sys, time
        from triage.workers import Helper
        def pids(items):
            return [os.getpid() for _ in items]
        helper = Helper({"pids": pids}, min_split=2)
        print(helper.map("pids", [1, 2, 3, 4])[-1], flush=True)
        time.sleep(60)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path.cwd())}) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert child != parent.pid and _alive(child)
        parent.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
