"""Plain-text tables for the catalog listings (`llmc models`, `gpus`, `formats`): aligned columns, stable order."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

MIN_CELL = 12


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]], width: int | None = None,
               optional: Sequence[str] = ()) -> str:
    """Columns padded to their widest cell. Given a terminal `width` (None on a pipe: every column, as it
    is), the `optional` columns are dropped in that order until the table fits, then the last column's
    cells are cut with `…`; a closing line names what was hidden."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    keep = list(range(len(headers)))
    hidden: list[str] = []
    for name in optional:
        if width is None or _width(cells, keep) <= width:
            break
        if name in headers and headers.index(name) in keep and len(keep) > 1:
            keep.remove(headers.index(name))
            hidden.append(name)
    cells = [[row[i] for i in keep] for row in cells]
    while width is not None and _width(cells, range(len(keep))) > width:
        # cut the widest column's long cells, never below MIN_CELL characters (nor its header)
        sizes = [max(len(row[i]) for row in cells) for i in range(len(keep))]
        widest = max(range(len(keep)), key=lambda i: sizes[i])
        room = max(MIN_CELL, len(cells[0][widest]), sizes[widest] - (_width(cells, range(len(keep))) - width))
        if room >= sizes[widest]:
            break   # nothing left to cut: the table is as narrow as it goes
        for row in cells[1:]:
            if len(row[widest]) > room:
                row[widest] = row[widest][:room - 1] + "…"
    widths = [max(len(row[i]) for row in cells) for i in range(len(keep))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in cells]
    if hidden:
        lines += textwrap.wrap(f"({', '.join(hidden)} hidden to fit {width} columns; a wider terminal or --json "
                               "shows them)", width)
    return "\n".join(lines) + "\n"


def wrapped(text: str, width: int | None) -> str:
    """A note under a table, wrapped to the terminal (as it is on a pipe)."""
    if width is None:
        return text
    return "".join("\n".join(textwrap.wrap(line, width) or [""]) + "\n" for line in text.splitlines())


def _width(cells: list[list[str]], columns) -> int:
    columns = list(columns)
    return sum(max(len(row[i]) for row in cells) for i in columns) + 2 * max(0, len(columns) - 1)


def fmt_num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"
