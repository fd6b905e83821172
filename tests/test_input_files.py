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
