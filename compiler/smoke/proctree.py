"""The processes a launch started, found by their parent links in /proc, and signalled only while still theirs.

A server can leave its process group and session (`setsid`), and a daemon double-forks so that its
parent exits; neither is reached by signalling a process group. So the smoke process makes itself a
*child subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`, Linux 3.4+, unprivileged): a process orphaned
anywhere below it is re-parented to it instead of to init. Everything the server started then stays
in the smoke process's subtree, whatever it does with sessions and groups, and is found by walking
the ppid links of /proc/<pid>/stat. A cgroup would hold the tree as well, but creating one needs a
writable cgroup directory, which an unprivileged user usually lacks.

A process is named by its pid and its start time (field 22 of /proc/<pid>/stat): a pid can be reused
after its process is reaped, the pair cannot. A signal goes through a pidfd opened before the start
time is compared, so the process compared is the one signalled.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    start: int        # clock ticks after boot at which the process started
    zombie: bool


def read_proc(pid: int) -> Proc | None:
    """The process `pid` as /proc shows it now; None when there is none."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:   # gone, or no /proc
        return None
    fields = text.rsplit(")", 1)[1].split()   # the command name, in parentheses, may hold spaces and ")"
    return Proc(pid=pid, ppid=int(fields[1]), start=int(fields[19]), zombie=fields[0] in "ZX")


def process_table() -> dict[int, Proc]:
    """Every process on the machine (empty where there is no /proc)."""
    if not PROC.is_dir():
        return {}
    procs = (read_proc(int(entry.name)) for entry in PROC.iterdir() if entry.name.isdigit())
    return {p.pid: p for p in procs if p is not None}


def descendants(table: dict[int, Proc], roots: Iterable[int]) -> list[Proc]:
    """The processes below `roots` (the roots themselves excluded), by parent links."""
    children: dict[int, list[Proc]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child.pid)
    return found


def set_subreaper(on: bool) -> bool:
    """Make this process a child subreaper (or stop being one); False where the kernel refuses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):   # no libc prctl: not Linux
        return False


def send_signal(proc: Proc, sig: int) -> None:
    """Signal `proc` if its pid still names it (same start time); nothing otherwise."""
    try:
        fd = os.pidfd_open(proc.pid)
    except ProcessLookupError:
        return
    except OSError:   # a kernel before 5.3: compare, then kill (a window of microseconds)
        if _same(proc):
            _ignore_gone(os.kill, proc.pid, sig)
        return
    try:
        if _same(proc):
            _ignore_gone(signal.pidfd_send_signal, fd, sig)
    finally:
        os.close(fd)


def reap(proc: Proc) -> None:
    """Collect `proc` if it is an exited child of this process (the pid stays reserved until then)."""
    if _same(proc):
        try:
            os.waitpid(proc.pid, os.WNOHANG)
        except ChildProcessError:
            pass


def _same(proc: Proc) -> bool:
    now = read_proc(proc.pid)
    return now is not None and now.start == proc.start


def _ignore_gone(fn, *args) -> None:
    try:
        fn(*args)
    except ProcessLookupError:
        pass
