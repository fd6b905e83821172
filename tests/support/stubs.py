"""Stub programs for executing generated artifacts: each records its argv (one JSON line) and does nothing else.

`curl` also creates the file it was asked to write (`-o FILE`), so download steps carry on. A hostile
value that gets executed calls `pwned`, which records itself like any other stub.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

STUB = """#!{python}
import json, os, sys
argv = [os.path.basename(sys.argv[0]), *sys.argv[1:]]
env = {{k: os.environ.get(k) for k in os.environ.get("STUB_ENV", "").split(",") if k}}
call = {{"argv": argv, "env": env}}
if "--config" in argv:  # a file handed over for the length of the call: keep what it said
    call["config"] = open(argv[argv.index("--config") + 1]).read()
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps(call) + "\\n")
if argv[0] == "curl" and "-o" in argv:
    open(argv[argv.index("-o") + 1], "w").close()
"""
PROGRAMS = ("llama-server", "vllm", "python3", "ollama", "curl", "pwned")


def install(directory: Path) -> dict[str, str]:
    """Write the stubs into `directory`; returns the environment that puts them first on PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in PROGRAMS:
        path = directory / name
        path.write_text(STUB.format(python=sys.executable))
        path.chmod(0o755)
    log = directory / "calls.jsonl"
    log.touch()
    return {"PATH": f"{directory}:{os.environ['PATH']}", "STUB_LOG": str(log)}


def calls(env: dict[str, str]) -> list[dict]:
    """Every stub call so far: {"argv": [...], "env": {NAME: value}} for the names in STUB_ENV, and "config":
    the text of a `--config FILE` argument."""
    return [json.loads(line) for line in Path(env["STUB_LOG"]).read_text().splitlines()]


def run(command: list[str], env: dict[str, str], cwd: Path, extra_env: dict[str, str] | None = None):
    return subprocess.run(command, cwd=cwd, env={**os.environ, **env, **(extra_env or {})},
                          capture_output=True, text=True, timeout=60)
