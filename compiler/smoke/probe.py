"""Wait for a server's health endpoint, with a deadline and a progress line.

While it waits it shows the elapsed time, what it is waiting for (the URL and the last answer:
"connection refused", "503 Loading model") and the server's last log line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx

from ..text import one_line
from .deadline import Deadline, DeadlinePassed, within

POLL_INTERVAL_S = 0.25
POLL_TIMEOUT_S = 2.0
MAX_ANSWER_BYTES = 4096
PLAIN_PROGRESS_EVERY_S = 5.0


@dataclass(frozen=True)
class HealthResult:
    healthy: bool
    elapsed_s: float
    reason: str            # "healthy" | "exited" | "deadline" | "stopped"
    last_answer: str       # the last thing the endpoint said
    exit_code: int | None = None


def last_log_line(path: Path, max_bytes: int = 8192) -> str:
    lines = tail_lines(path, 1, max_bytes)
    return lines[-1] if lines else ""


def tail_lines(path: Path, n: int, max_bytes: int = 65536) -> list[str]:
    """The last `n` non-empty lines of a log file (reads only its end)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    lines = [line.rstrip() for line in data.splitlines() if line.strip()]
    return lines[-n:]


def ask_health(client: httpx.Client, url: str) -> tuple[bool, str]:
    try:
        with client.stream("GET", url) as response:
            head = bytearray()
            for chunk in response.iter_raw():   # as sent, not decompressed; only the start is shown
                head += chunk
                if len(head) > MAX_ANSWER_BYTES:
                    break
    except httpx.ConnectError:
        return False, "connection refused"
    except httpx.TimeoutException:
        return False, "no answer (timeout)"
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}"
    if response.status_code == 200:
        return True, "200"
    return False, f"{response.status_code} {_message(bytes(head))}".strip()


def _message(head: bytes) -> str:
    try:
        body = json.loads(head)
    except (ValueError, RecursionError):
        return head[:80].decode("utf-8", "replace")
    if not isinstance(body, dict):
        return ""
    err = body.get("error")
    message = err.get("message") if isinstance(err, dict) else body.get("status")
    return message[:120] if isinstance(message, str) else ""


class Progress:
    """One status line: rewritten in place on a terminal, printed every few seconds otherwise."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_plain = -PLAIN_PROGRESS_EVERY_S
        self._last_state: object = None
        self._width = 0

    def update(self, elapsed: float, text: str, state: object = None) -> None:
        """Show `text`; off a terminal, only when `state` changed or every few seconds."""
        line = one_line(f"[{elapsed:6.1f}s] {text}")  # a server's log line may hold escapes
        if self.tty:
            line = line[:160]
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self.stream.flush()
        elif state != self._last_state or elapsed - self._last_plain >= PLAIN_PROGRESS_EVERY_S:
            self._last_plain, self._last_state = elapsed, state
            self.stream.write(line + "\n")
            self.stream.flush()

    def done(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
        self._width = 0


def wait_healthy(url: str, *, deadline: Deadline, exit_code: Callable[[], int | None], log_path: Path,
                 progress: Progress) -> HealthResult:
    """Poll `url` until it answers 200, the server exits, or the deadline passes."""
    start = time.monotonic()
    answer = "not asked yet"
    with httpx.Client(timeout=httpx.Timeout(POLL_TIMEOUT_S), headers={"Accept-Encoding": "identity"},
                      trust_env=False) as client:
        while True:
            elapsed = time.monotonic() - start
            code = exit_code()
            if code is not None:
                progress.done()
                return HealthResult(False, elapsed, "exited", answer, code)
            try:
                healthy, answer = within(deadline.sooner(POLL_TIMEOUT_S), lambda: ask_health(client, url))
            except DeadlinePassed:
                healthy, answer = False, "no answer (timeout)"
            elapsed = time.monotonic() - start
            if healthy:
                progress.update(elapsed, f"healthy: {url}")
                progress.done()
                return HealthResult(True, elapsed, "healthy", answer)
            if deadline.passed():
                progress.done()
                return HealthResult(False, elapsed, "deadline", answer)
            last = last_log_line(log_path)
            progress.update(elapsed, f"waiting for {url} ({answer}) | log: {last}", state=answer)
            time.sleep(min(POLL_INTERVAL_S, deadline.remaining()))
