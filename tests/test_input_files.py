"""What `llmc check` is pointed at may be anything: a device, a FIFO, a huge file. Each is E001, at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from llmc.driver import MAX_SPEC_BYTES

LLMC = str(Path(sys.executable).with_name("llmc"))


def check(path: Path | str) -> subprocess.CompletedProcess:
    return subprocess.run([LLMC, "check", str(path)], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("kind", ["device", "fifo", "huge", "directory"])
def test_what_is_not_a_spec_file_is_e001(tmp_path, kind):
    path = {"device": Path("/dev/zero"), "fifo": tmp_path / "fifo", "huge": tmp_path / "huge.llmspec",
            "directory": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes to it: reading would wait forever
    if kind == "huge":
        path.write_bytes(b"#" * (MAX_SPEC_BYTES + 1))
    result = check(path)
    assert result.returncode == 2 and "E001" in result.stderr and "Traceback" not in result.stderr


def spec_with(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.llmspec"
    path.write_text(text)
    return path


def test_more_deployments_than_one_file_may_ask_for_is_e231_at_once(tmp_path):
    one = 'deployment "d{}" {{\n  hardware {{\n    gpu = 1 x "RTX 4090"\n  }}\n}}\n'
    result = check(spec_with(tmp_path, "".join(one.format(i) for i in range(101))))
    assert result.returncode == 2 and "E231" in result.stderr


def test_a_name_longer_than_any_name_is_e213(tmp_path):
    result = check(spec_with(tmp_path, f'deployment "d" {{\n  model = "{"org/x" * 60}"\n'
                                       '  hardware {\n    gpu = 1 x "RTX 4090"\n  }\n}\n'))
    assert result.returncode == 2 and "E213" in result.stderr


def test_a_local_path_the_system_cannot_use_is_e305(tmp_path):
    (tmp_path / "loop").symlink_to("loop")
    for path in ("loop/x.gguf", "a/" * 2000):
        result = check(spec_with(tmp_path, f'deployment "d" {{\n  model = local("{path}")\n'
                                           '  hardware {\n    gpu = none\n    memory = 8 GiB\n  }\n}\n'))
        assert result.returncode == 2 and "E305" in result.stderr and "Traceback" not in result.stderr
