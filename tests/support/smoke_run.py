"""Run `llmc smoke` as a user does (a child process), and look at processes by id afterwards."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import tools

STARTED = re.compile(r"started .* \(pid (\d+), process group (\d+)\)")


def smoke_env() -> dict[str, str]:
    return plain_env(LLAMA_SERVER=str(tools.llama_server()))


def plain_env(**extra: str) -> dict[str, str]:
    """This environment less the log verbosity smoke sets itself, plus `extra`; alone, it is enough for a
    run against tests/support/fake_server.py (no llama-server is built)."""
    env = {k: v for k, v in os.environ.items() if k != "LLAMA_ARG_LOG_VERBOSITY"}
    return {**env, **extra}


@dataclass
class SmokeProcess:
    """A running `llmc smoke`; its stderr is read as it comes, so a test can act on progress lines."""

    popen: subprocess.Popen
    stderr_lines: list[str] = field(default_factory=list)
    stdout: str = ""

    def wait_for(self, pattern: str, timeout: float = 120.0) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            for line in list(self.stderr_lines):
                if m := regex.search(line):
                    return m
            if self.popen.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no stderr line matched {pattern!r}; stderr:\n" + "\n".join(self.stderr_lines))

    def server_pid(self) -> int:
        return int(self.wait_for(STARTED.pattern).group(1))

    def finish(self, timeout: float = 300.0) -> int:
        self.stdout = self.popen.stdout.read()
        rc = self.popen.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    def _read(self) -> None:
        for line in self.popen.stderr:
            self.stderr_lines.append(line.rstrip("\n"))


def start_smoke(build_dir: Path, *args: str, env: dict[str, str] | None = None) -> SmokeProcess:
    popen = subprocess.Popen([sys.executable, "-m", "llmc.cli", "smoke", str(build_dir), *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or smoke_env())
    proc = SmokeProcess(popen)
    proc._reader = threading.Thread(target=proc._read, daemon=True)
    proc._reader.start()
    return proc


def run_smoke(build_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, SmokeProcess]:
    proc = start_smoke(build_dir, *args, env=env)
    return proc.finish(), proc


def smoke_json(build_dir: Path) -> dict:
    return json.loads((build_dir / "smoke.json").read_text())


def alive(pid: int, start: int | None = None) -> bool:
    """True while `pid` exists and is not a zombie (and, given `start`, is the process that started then)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z" and (start is None or int(fields[19]) == start)


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat: with the pid, it names one process even after the pid is reused."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def processes_running(path_part: str) -> list[int]:
    """Live processes whose command line mentions `path_part`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if path_part in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found
