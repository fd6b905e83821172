"""Printing diagnostics the same way from every command."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence

from ..diagnostics import Diagnostic, Severity
from ..render import FORMATS, paint_report, render
from ..source import SourceFile
from ..text import printable


def out(text: str, stream=None) -> None:
    """Write report text to stdout (or `stream`): what the input supplied (a model's name, a path) may
    hold control characters, which are shown escaped, never sent to the terminal."""
    (stream or sys.stdout).write(printable(text))


def use_colour(stream=None) -> bool:
    """Colour on a terminal only, never with NO_COLOR set (https://no-color.org)."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR")


def report(text: str, table: bool = False) -> None:
    """A command's report on stdout, in colour on a terminal (llmc.render.paint_report): the text is made
    printable first, so only llmc's own escapes reach the terminal."""
    sys.stdout.write(paint_report(printable(text), use_colour(), table))


def terminal_width(stream=None) -> int | None:
    """The terminal's columns when output goes to one (COLUMNS overrides), None on a pipe or a file:
    tables fit a terminal, and are never cut in what a script reads."""
    stream = stream or sys.stdout
    if not stream.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns


def add_format_option(parser, json_alias: bool = False) -> None:
    parser.add_argument("--format", choices=FORMATS, default="full",
                        help="how to print diagnostics: full (default), concise, json, sarif, github")
    if json_alias:   # the catalog commands' spelling, for the commands that print a result as well
        parser.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def print_result(diagnostics: Sequence[Diagnostic], results: list[dict]) -> None:
    """A command's result and its diagnostics as one JSON document on stdout (`--format json`)."""
    from ..render import as_dict

    json.dump({"diagnostics": [as_dict(d) for d in diagnostics], "results": results}, sys.stdout, indent=2,
              sort_keys=True, default=str)
    sys.stdout.write("\n")


def emit(diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile], fmt: str = "full") -> None:
    """full/concise go to stderr (in colour on a terminal, unless NO_COLOR is set); machine formats go to stdout."""
    if fmt in ("full", "concise"):
        if diagnostics:
            sys.stderr.write(render(diagnostics, sources, fmt, colour=use_colour(sys.stderr)))
    else:
        sys.stdout.write(render(diagnostics, sources, fmt))


def tally(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
