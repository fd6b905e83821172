"""Run an emitted launch script for real, wait for /health, talk to it, and stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx


@contextlib.contextmanager
def running(script: Path, port: int, env: dict[str, str], *extra: str, timeout: float = 120.0):
    """Start `script` (extra args are passed on to the server); yield (base_url, log reader)."""
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(["bash", str(script), *extra], stdout=log, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **env}, cwd=script.parent.parent, start_new_session=True)

    def read_log() -> str:
        log.seek(0)
        return log.read()

    try:
        wait_healthy(proc, port, timeout, read_log)
        yield f"http://127.0.0.1:{port}", read_log
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited (and failed) already
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def terminate(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a server to stop; kill it if it does not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_healthy(proc: subprocess.Popen, port: int, timeout: float, read_log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{read_log()[-4000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no healthy server on port {port} within {timeout}s:\n{read_log()[-4000:]}")


def chat(base_url: str, model: str, key: str | None = None, max_tokens: int = 8) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{base_url}/v1/chat/completions", headers=headers, timeout=120.0,
                      json={"model": model, "messages": [{"role": "user", "content": "Hello"}],
                            "max_tokens": max_tokens})
