"""Snapshot tests: each malformed input in tests/diagnostics/ renders exactly as its .out file.

A case's first line says what it shows and what it expects: `# ... (expect E102 at 4:5)`.
Every case is malformed input, so `llmc check` must exit 2 with that code first, at that place.
`pytest --update-golden` rewrites the .out files; review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from llmc import cli
from llmc.driver import load_one
from llmc.render import render_full

REPO = Path(__file__).resolve().parents[1]
CASES = sorted((REPO / "tests" / "diagnostics").glob("*.llmspec"))
EXPECT = re.compile(rb"\(expect (?P<code>[EW]\d{3})(?: at (?P<line>\d+):(?P<col>\d+))?\)")


def _relative(case: Path) -> str:
    return case.relative_to(REPO).as_posix()


def _expectation(case: Path) -> tuple[str, int | None, int | None]:
    match = EXPECT.search(case.read_bytes().split(b"\n", 1)[0])
    assert match, f"{case.name}: first line must say (expect CODE at LINE:COL)"
    line, col = match.group("line"), match.group("col")
    return match.group("code").decode(), int(line) if line else None, int(col) if col else None


def test_there_are_enough_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_rendering_matches_snapshot(case, update_golden, monkeypatch):
    monkeypatch.chdir(REPO)
    result = load_one(_relative(case))
    rendered = render_full(result.diagnostics, result.sources, colour=False)
    snapshot = case.with_suffix(".out")
    if update_golden:
        snapshot.write_text(rendered, encoding="utf-8")
    assert rendered == snapshot.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_check_exits_2_with_the_expected_code_and_place(case, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    code, line, col = _expectation(case)
    assert case.stem.split("_")[0] == code, "the file name starts with the expected code"
    assert cli.main(["check", "--format", "concise", _relative(case)]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    place = f"{_relative(case)}:{line}:{col}" if line else _relative(case)
    assert first.startswith(f"{place}: {code} ")
