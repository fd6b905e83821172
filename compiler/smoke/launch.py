"""Start a build's server and tear it down again, touching nothing else.

The server runs in a session of its own (`start_new_session`), so its process group id is its pid.
But a server (or a launcher script's child) may start a session of its own with `setsid`, or
double-fork a daemon, and leave that group; so the smoke process is also a child subreaper while the
server runs (llmc.smoke.proctree), and teardown signals every process below it that the launch
started, as well as the group. The group is signalled only while the leader is unreaped (an unreaped
leader, even a zombie, keeps its pid and group id from being reused); every other process only
through a pidfd, after its start time shows it is the one that was found. Liveness of the leader is
read with `waitid(WNOWAIT)`, which never reaps.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import proctree
from .proctree import Proc

TERM_GRACE_S = 10.0
STRAGGLER_GRACE_S = 2.0
KILL_GRACE_S = 2.0
COMPOSE_DOWN_TIMEOUT_S = 120.0


def port_free(host: str | None, port: int) -> bool:
    """True when nothing listens on host:port (None: the wildcard address), on any address the host names,
    in its own family (IPv4 or IPv6); OSError when the host does not resolve or cannot be bound here.

    SO_REUSEADDR as servers set it: connections of an earlier run lingering in TIME_WAIT do not
    block the port, a listener does.
    """
    addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return all(_bindable(family, kind, proto, address) for family, kind, proto, _, address in addresses)


def _bindable(family: int, kind: int, proto: int, address: tuple) -> bool:
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


@dataclass
class Launched:
    """A server process, and every process below it, that this run started."""

    popen: subprocess.Popen
    command: list[str]
    log_path: Path
    foreign: frozenset[tuple[int, int]] = frozenset()   # (pid, start) of this process's earlier children
    subreaper: bool = False                              # whether orphans of the tree come back to this process
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

    def others(self) -> list[Proc]:
        """The processes the launch started, other than the leader: those below the leader, and those
        re-parented to this process (the subreaper) after their parents exited."""
        table = proctree.process_table()
        leader = table.get(self.pid)
        if leader is None:
            return []
        orphans = [p.pid for p in table.values() if p.ppid == os.getpid() and p.pid != self.pid
                   and p.start >= leader.start and (p.pid, p.start) not in self.foreign]
        return [*(table[pid] for pid in orphans), *proctree.descendants(table, [self.pid, *orphans])]

    def stop(self, grace_s: float = TERM_GRACE_S) -> None:
        """SIGTERM the leader (a launcher script forwards it), then the rest of the tree, then SIGKILL; reap.

        Every signal to the group is sent while the leader is unreaped, so its group id is still ours.
        """
        if self._reaped:
            return
        if self.running():
            os.kill(self.pid, signal.SIGTERM)
        self._wait(self.running, grace_s)
        self._signal_rest(signal.SIGTERM)          # what the leader left behind
        self._wait(self._others_alive, STRAGGLER_GRACE_S)
        self._signal_rest(signal.SIGKILL)
        deadline = time.monotonic() + KILL_GRACE_S
        while self._tree_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
            self._signal_rest(signal.SIGKILL)      # again: a process may fork between the walk and the kill
        self.popen.wait()
        self._reaped = True
        proctree.set_subreaper(False)

    @staticmethod
    def _wait(condition: Callable[[], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while condition() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _others_alive(self) -> bool:
        """Whether a process of the launch other than the leader still runs (without /proc: assume so)."""
        return not proctree.PROC.is_dir() or self._tree_alive()

    def _tree_alive(self) -> bool:
        """Whether a process of the tree other than the leader still runs; collects those that exited."""
        others = self.others()
        for proc in others:
            if proc.zombie and proc.ppid == os.getpid():
                proctree.reap(proc)   # re-parented to this process; the leader is Popen's to reap
        return any(not p.zombie for p in others)

    def _signal_rest(self, sig: int) -> None:
        try:
            os.killpg(self.pgid, sig)   # the group, also where /proc is missing
        except ProcessLookupError:
            pass
        for proc in self.others():
            if not proc.zombie:
                proctree.send_signal(proc, sig)


def start_process(command: list[str], *, cwd: Path, env: Mapping[str, str], log_path: Path) -> Launched:
    """Run `command` in a new session with stdout and stderr going to `log_path` (created 0600)."""
    subreaper = proctree.set_subreaper(True)
    foreign = frozenset((p.pid, p.start) for p in proctree.process_table().values() if p.ppid == os.getpid())
    with open_log(log_path) as log:
        popen = subprocess.Popen(command, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    return Launched(popen=popen, command=command, log_path=log_path, foreign=foreign, subreaper=subreaper)


def open_log(path: Path):
    """`path` emptied for writing, readable by its owner only: a server may print its secrets there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


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
