"""Rewrite the rule table of docs/lint.md from the lint-rule registry (tests/test_lint.py keeps them in sync).

    .venv/bin/python scripts/gen_lint_table.py
"""

from __future__ import annotations

from pathlib import Path

import llmc.lint  # noqa: F401  (registers the rules)
from llmc.lint.registry import RULES

DOC = Path(__file__).resolve().parents[1] / "docs" / "lint.md"
BEGIN, END = "<!-- rules: scripts/gen_lint_table.py -->", "<!-- /rules -->"


def table() -> str:
    rows = ["| code | failure mode (lint-rules.md) | rule | source |", "| --- | --- | --- | --- |"]
    for code in sorted(RULES):
        r = RULES[code]
        rows.append(f"| [`{code}`](diagnostics/{code}.md) | `{r.name}` | {r.title} | {r.evidence.replace('|', '/')} |")
    return "\n".join(rows)


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
