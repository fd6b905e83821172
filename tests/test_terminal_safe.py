"""What llmc prints never carries a control character from its input to the terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from llmc.source import SourceFile
from llmc.text import one_line, printable


LLMC = [str(Path(sys.executable).with_name("llmc"))]
CLEAR = "\x1b[2J\x1b[H"


def run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*LLMC, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_escapes_are_shown_not_sent():
    assert printable(f"a{CLEAR}b\u202ec\n") == "a\\x1b[2J\\x1b[Hb\\u202ec\n"
    assert one_line("x\ny\r\tz") == "x\\ny\\r\\tz"
    assert printable("naïve 中文 emoji 👍") == "naïve 中文 emoji 👍"


def test_a_spec_with_ansi_escapes_is_reported_safely(tmp_path):
    spec = tmp_path / "evil.llmspec"
    spec.write_text(f'deployment "x" {{\n  serve {{ name = "{CLEAR}evil" }}\n  hardware {{ gpu = 1 x "RTX 4090" }}\n}}\n')
    for fmt in ("full", "concise", "github", "json", "sarif"):
        result = run("check", str(spec), "--format", fmt, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "\x1b" not in result.stdout + result.stderr
        assert "E219" in result.stdout + result.stderr


def test_source_lines_are_counted_by_newlines_only():
    source = SourceFile(path="s", text="a\x0cb\u2028c\r\nsecond\nthird")
    assert source.line(1) == "a\x0cb\u2028c"
    assert source.line(2) == "second" and source.line(3) == "third" and source.line(4) == ""
