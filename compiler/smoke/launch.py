"""Start a build's server and tear it down again, touching nothing else.

The server runs in a session of its own (`start_new_session`), so its process group id is its
pid and every child it spawns is in that group. Teardown signals that group only, and only while
the leader is still unreaped: an unreaped leader (even a zombie) keeps the pid, and with it the
group id, from being reused by an unrelated process. Liveness is read with `waitid(WNOWAIT)`,
which never reaps.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TERM_GRACE_S = 10.0
STRAGGLER_GRACE_S = 2.0
COMPOSE_DOWN_TIMEOUT_S = 120.0


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port.

    SO_REUSEADDR as servers set it: connections of an earlier run lingering in TIME_WAIT do not
    block the port, a listener does.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class Launched:
    """A server process (and its process group) that this run started."""

    popen: subprocess.Popen
    command: list[str]
    log_path: Path
    _reaped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def pgid(self) -> int:
        return self.popen.pid  # a session leader's group id is its pid

    def exit_code(self) -> int | None:
        """The leader's exit status without reaping it; None while it runs."""
        if self._reaped:
            return self.popen.returncode
        info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is None:
            return None
        if info.si_code == os.CLD_EXITED:
            return info.si_status
        return -info.si_status  # killed by a signal, as subprocess reports it

    def running(self) -> bool:
        return self.exit_code() is None

    def stop(self, grace_s: float = TERM_GRACE_S) -> None:
        """SIGTERM the leader (a launcher script forwards it), then the rest of its group, then SIGKILL; reap.

        Every signal is sent while the leader is unreaped, so the pid and group id are still ours.
        """
        if self._reaped:
            return
        if self.running():
            os.kill(self.pid, signal.SIGTERM)
        self._wait(self.running, grace_s)
        self._signal_group(signal.SIGTERM)          # what the leader left behind
        self._wait(self._others_alive, STRAGGLER_GRACE_S)
        self._signal_group(signal.SIGKILL)
        self.popen.wait()
        self._reaped = True

    @staticmethod
    def _wait(condition: Callable[[], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while condition() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _others_alive(self) -> bool:
        """Whether a live process other than the leader is in the group (Linux /proc; elsewhere assume so)."""
        proc = Path("/proc")
        if not proc.is_dir():
            return True
        for entry in proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.pid:
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.pgid and fields[0] != "Z":
                return True
        return False

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass


def start_process(command: list[str], *, cwd: Path, env: Mapping[str, str], log_path: Path) -> Launched:
    """Run `command` in a new session with stdout and stderr going to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(command, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    return Launched(popen=popen, command=command, log_path=log_path)


@dataclass
class ComposeProject:
    """A `docker compose` project this run brought up, under a project name unique to the run."""

    compose: list[str]        # e.g. ["docker", "compose"]
    file: Path
    project: str
    log_path: Path
    override: Path | None = None   # a second -f file merged over the build's (the smoke run's own settings)
    up_done: bool = False
    _checked_at: float = -1e9
    _running: bool = True

    def base(self) -> list[str]:
        files = ["-f", str(self.file)] + (["-f", str(self.override)] if self.override else [])
        return [*self.compose, *files, "-p", self.project]

    def up(self, env: Mapping[str, str]) -> subprocess.CompletedProcess:
        result = subprocess.run([*self.base(), "up", "-d"], env=dict(env), capture_output=True, text=True,
                                stdin=subprocess.DEVNULL)
        self.up_done = True  # even a failed `up` may have created containers: always `down`
        self._append_log(result.stdout + result.stderr)
        return result

    def running(self, every_s: float = 2.0) -> bool:
        """Whether a container of the project runs (asked of docker at most every `every_s` seconds)."""
        if time.monotonic() - self._checked_at >= every_s:
            self._checked_at = time.monotonic()
            out = subprocess.run([*self.base(), "ps", "--status", "running", "-q"], capture_output=True,
                                 text=True, stdin=subprocess.DEVNULL)
            self._running = out.returncode == 0 and bool(out.stdout.strip())
            self.refresh_log()
        return self._running

    def refresh_log(self) -> None:
        out = subprocess.run([*self.base(), "logs", "--no-color", "--no-log-prefix"], capture_output=True,
                             text=True, stdin=subprocess.DEVNULL)
        self.log_path.write_text(out.stdout + out.stderr, encoding="utf-8")

    def stop(self) -> None:
        if not self.up_done:
            return
        self.refresh_log()
        subprocess.run([*self.base(), "down", "--remove-orphans", "--timeout", str(int(TERM_GRACE_S))],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=COMPOSE_DOWN_TIMEOUT_S)
        self.up_done = False

    def _append_log(self, text: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(text)


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived while smoke was running."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class signals_raise:
    """Turn SIGINT/SIGTERM/SIGHUP into `Interrupted` (main thread only), restoring handlers on exit."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __enter__(self) -> "signals_raise":
        self._saved = {}
        if threading.current_thread() is not threading.main_thread():
            return self   # only the main thread may set handlers; a caller's thread keeps its own
        self._saved = {s: signal.getsignal(s) for s in self.SIGNALS}
        for s in self.SIGNALS:
            signal.signal(s, self._raise)
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._saved.items():
            signal.signal(s, handler)

    @staticmethod
    def _raise(signum, frame):
        raise Interrupted(signum)


def shielded(fn: Callable[[], None]) -> None:
    """Run a teardown with the interrupting signals ignored, so a second Ctrl-C cannot cut it short."""
    if threading.current_thread() is not threading.main_thread():
        fn()
        return
    saved = {s: signal.getsignal(s) for s in signals_raise.SIGNALS}
    for s in signals_raise.SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    try:
        fn()
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
