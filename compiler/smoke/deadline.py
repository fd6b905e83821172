"""One deadline for a whole smoke run (health wait and requests), and waiting on blocking work against it.

A socket timeout bounds one read, not a request: a server that drips a byte just inside it keeps a
request alive for ever. So blocking HTTP work runs in a daemon thread and the caller stops waiting
at the deadline; the abandoned call ends when teardown stops the server and its sockets close.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
WAIT_SLICE_S = 0.2   # short joins keep the main thread free to take SIGINT


class DeadlinePassed(Exception):
    """The deadline came before the work finished."""


@dataclass(frozen=True)
class Deadline:
    at: float          # time.monotonic() at which it passes
    seconds: float     # the whole allowance (`--timeout`), for messages

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def sooner(self, seconds: float) -> Deadline:
        """This deadline, or `seconds` from now if that comes first."""
        return Deadline(min(self.at, time.monotonic() + seconds), self.seconds)


def within(deadline: Deadline, work: Callable[[], T], tick: Callable[[], None] | None = None) -> T:
    """`work()`'s result (or its exception), or DeadlinePassed when the deadline comes first.

    `tick` is called between waits (a progress line). Cut work runs on, unobserved, until its
    blocking call returns.
    """
    if deadline.passed():
        raise DeadlinePassed
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller, or dropped when it has stopped waiting
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(min(WAIT_SLICE_S, deadline.remaining()))
        if tick:
            tick()
        if thread.is_alive() and deadline.passed():
            raise DeadlinePassed
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
