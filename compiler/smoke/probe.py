"""Wait for a server's health endpoint, with a deadline and a progress line.

While it waits it shows the elapsed time, what it is waiting for (the URL and the last answer:
"connection refused", "503 Loading model") and the server's last log line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx

POLL_INTERVAL_S = 0.25
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
        response = client.get(url)
    except httpx.ConnectError:
        return False, "connection refused"
    except httpx.TimeoutException:
        return False, "no answer (timeout)"
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}"
    if response.status_code == 200:
        return True, "200"
    return False, f"{response.status_code} {_message(response)}".strip()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:80]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if body.get("status"):
            return str(body["status"])
    return ""


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
        line = f"[{elapsed:6.1f}s] {text}"
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


def wait_healthy(url: str, *, deadline_s: float, exit_code: Callable[[], int | None], log_path: Path,
                 progress: Progress) -> HealthResult:
    """Poll `url` until it answers 200, the server exits, or `deadline_s` passes."""
    start = time.monotonic()
    answer = "not asked yet"
    with httpx.Client(timeout=httpx.Timeout(2.0), trust_env=False) as client:
        while True:
            elapsed = time.monotonic() - start
            code = exit_code()
            if code is not None:
                progress.done()
                return HealthResult(False, elapsed, "exited", answer, code)
            healthy, answer = ask_health(client, url)
            elapsed = time.monotonic() - start
            if healthy:
                progress.update(elapsed, f"healthy: {url}")
                progress.done()
                return HealthResult(True, elapsed, "healthy", answer)
            if elapsed >= deadline_s:
                progress.done()
                return HealthResult(False, elapsed, "deadline", answer)
            last = last_log_line(log_path)
            progress.update(elapsed, f"waiting for {url} ({answer}) | log: {last}", state=answer)
            time.sleep(POLL_INTERVAL_S)
