"""The wheel: built from a copy of the sources, installed into a fresh venv, used from another directory.

It must map the folders under `llmc` (no top-level `compiler` or `targets` in site-packages)
and ship the grammar and the docs pages, which are loaded from the installed package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("compiler", "targets", "grammar", "docs", "setup.py", "pyproject.toml", "README.md")


def _run(*args, cwd=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_wheel_installs_and_runs_from_anywhere(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, src / name)
    built = _run(sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", src)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp_path / "dist").glob("llmc_compiler-*.whl"))   # the distribution; its command is `llmc`

    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.split("/")[0] in ("compiler", "targets", "grammar", "docs")]
    assert "llmc/grammar/llmspec.lark" in names and "llmc/docs/diagnostics/E101.md" in names

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    installed = _run(venv / "bin" / "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr
    site = next((venv / "lib").glob("python*/site-packages"))
    assert not (site / "compiler").exists() and not (site / "targets").exists()
    assert (site / "llmc" / "targets").is_dir()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    example = REPO / "examples" / "chat-16gb.llmspec"
    check = _run(venv / "bin" / "llmc", "check", example, cwd=elsewhere)
    assert check.returncode == 0, check.stderr
    explain = _run(venv / "bin" / "llmc", "explain", "E101", cwd=elsewhere)
    assert explain.returncode == 0 and explain.stdout.startswith("# E101: Syntax error"), explain.stderr
    bad = elsewhere / "bad.llmspec"
    bad.write_text('deployment "a" {\n  context: 32k\n}\n')
    failed = _run(venv / "bin" / "llmc", "check", bad, cwd=elsewhere)
    assert failed.returncode == 2 and "error[E103]" in failed.stderr
