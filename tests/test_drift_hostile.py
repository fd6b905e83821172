"""A committed plan.json that is broken: `check --against` and `build --locked` report E704, never a traceback."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from llmc import cli
from llmc.drift import MAX_PLAN_BYTES

SPEC = ('deployment "svc" {\n  model = "Qwen/Qwen3-8B"\n  context = 16k\n'
        '  hardware {\n    gpu = 1 x "RTX 3090"\n  }\n}\n')
SECONDS = 10.0   # a whole compile of the spec, the committed plan's reading included


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """A spec and its fresh build."""
    root = tmp_path_factory.mktemp("committed")
    spec = root / "svc.llmspec"
    spec.write_text(SPEC)
    assert cli.main(["build", str(spec), "-o", str(root / "build")]) == 0
    return spec, root / "build"


def _plan_text(build) -> str:
    return (build / "svc" / "plan.json").read_text()


CORRUPT = {
    "invalid UTF-8": lambda text: b"\xff\xfe" + text.encode(),
    "a merge conflict": lambda text: ("<<<<<<< HEAD\n" + text).encode(),
    "100k brackets": lambda text: b"[" * 100_000,
    "an array": lambda text: b"[]",
    "a number": lambda text: b"3",
    "no model object": lambda text: b'{"model": 1, "runtime": {}}',
    "nested 100 deep": lambda text: ('{"model": {"id": ' + "[" * 100 + "]" * 100 + '}, "runtime": {}}').encode(),
    "NaN": lambda text: text.replace('"context": 16384', '"context": NaN').encode(),
    "Infinity": lambda text: text.replace('"context": 16384', '"context": -Infinity').encode(),
    "a 5000-digit number": lambda text: text.replace('"context": 16384', '"context": 1' + "0" * 5000).encode(),
}


def _corrupt(build, case: str) -> None:
    plan = build / "svc" / "plan.json"
    if case == "a directory":
        plan.unlink()
        plan.mkdir()
    elif case == "huge":
        with open(plan, "r+b") as f:
            f.truncate(MAX_PLAN_BYTES + 1)
    else:
        plan.write_bytes(CORRUPT[case](plan.read_text()))


@pytest.mark.parametrize("case", sorted(CORRUPT) + ["a directory", "huge"])
@pytest.mark.parametrize("command", ["check", "build"])
def test_unreadable_committed_plan_is_e704(committed, tmp_path, capsys, case, command):
    spec, fresh = committed
    build = tmp_path / "build"
    shutil.copytree(fresh, build)
    assert "16384" in _plan_text(build)
    _corrupt(build, case)
    args = (["check", str(spec), "--against", str(build)] if command == "check"
            else ["build", str(spec), "-o", str(build), "--locked"])
    capsys.readouterr()
    start = time.monotonic()
    assert cli.main(args + ["--format", "json"]) == 1
    assert time.monotonic() - start < SECONDS
    diags = json.loads(capsys.readouterr().out)
    unreadable = [d for d in diags if d["code"] == "E704"]
    assert len(unreadable) == 1 and "plan.json" in unreadable[0]["summary"], diags
    if command == "build":
        assert [d["code"] for d in diags] == ["E704"], "a locked build refuses and writes nothing"
        assert (build / "svc" / "plan.json").exists()
    else:
        assert "E701" in [d["code"] for d in diags], "the files differ too"


def test_a_readable_committed_plan_still_locks(committed, tmp_path, capsys):
    _, fresh = committed
    build = tmp_path / "build"
    shutil.copytree(fresh, build)
    spec_8k = tmp_path / "svc.llmspec"
    spec_8k.write_text(SPEC.replace("context = 16k", "context = 8k"))
    assert cli.main(["build", str(spec_8k), "-o", str(build), "--locked", "--format", "json"]) == 1
    assert [d["code"] for d in json.loads(capsys.readouterr().out)] == ["E702"]
