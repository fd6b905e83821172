"""Diagnostic codes and their docs pages stay in sync.

Every code registered with define_code (after importing every module of llmc) has
docs/diagnostics/<CODE>.md with `# CODE: Title` and the four sections; every page belongs to a
code. For the front end's own codes, the page's example really produces its code.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from llmc.diagnostics import CODES
from llmc.driver import load_source
from llmc.source import SourceFile

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO / "docs" / "diagnostics"
SECTIONS = ("## What", "## Why", "## Example", "## Fix")
FRONT_END = ("llmc.parse", "llmc.lower", "llmc.values", "llmc.checks")


def _import_everything() -> None:
    # llmc.targets lives in another folder (targets/), so an editable install's llmc.__path__ misses it.
    for package in ("llmc", "llmc.targets"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            importlib.import_module(info.name)


_import_everything()
PAGE_CODES = sorted(p.stem for p in PAGES.glob("*.md"))


def test_every_code_has_a_page():
    assert sorted(c for c in CODES if c not in PAGE_CODES) == []


def test_every_page_has_a_code():
    assert [c for c in PAGE_CODES if c not in CODES] == []


def test_codes_are_well_formed():
    assert all(re.fullmatch(r"[EW]\d{3}", c) for c in CODES)


@pytest.mark.parametrize("code", PAGE_CODES)
def test_page_layout(code):
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {code}: ")
    positions = [text.find(s) for s in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), f"{code}: sections {SECTIONS} in order"


FRONT_END_CODES = sorted(c for c, info in CODES.items() if info.module in FRONT_END)


@pytest.mark.parametrize("code", FRONT_END_CODES)
def test_front_end_page_example_produces_its_code(code):
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    example = re.search(r"## Example\n\n```hcl\n(.*?)```", text, re.S).group(1)
    _, diagnostics, _ = load_source(SourceFile(path="example.llmspec", text=example))
    assert code in [d.code for d in diagnostics]
