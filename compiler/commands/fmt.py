"""`llmc fmt [--check] [--diff] FILE...`: rewrite specs in canonical form (atomically), or report which are not
(and with --diff, how)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from ..artifacts import write_file_atomically
from ..diagnostics import DiagnosticsError, has_errors
from ..driver import EXIT_FAILED, EXIT_INPUT, EXIT_OK, read
from ..format import format_source
from ._report import emit, out


def register(sub) -> None:
    p = sub.add_parser("fmt", help="format .llmspec files in place (--check: exit 1 if any is not canonical)")
    p.add_argument("files", nargs="+", metavar="FILE", help=".llmspec files to format")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is not canonical")
    p.add_argument("--diff", action="store_true", help="print what formatting changes, as a unified diff (stdout)")
    p.set_defaults(func=run)


def run(args) -> int:
    status = EXIT_OK
    for path in args.files:
        status = max(status, _one(path, args.check, args.diff))
    return status


def _one(path: str, check_only: bool, diff: bool = False) -> int:
    source, diagnostics = read(path)
    formatted = None
    if source is not None:
        formatted, diagnostics = format_source(source)
    if formatted is None or has_errors(diagnostics):
        emit(diagnostics, {source.path: source} if source else {})
        return EXIT_INPUT
    if formatted == source.text:
        return EXIT_OK
    if diff:
        out("".join(difflib.unified_diff(source.text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                                         f"{path} (as written)", f"{path} (formatted)")))
    if check_only:
        out(f"would reformat {path}\n", sys.stderr)
        return EXIT_FAILED
    try:
        write_file_atomically(Path(path), formatted)
    except DiagnosticsError as exc:
        emit(exc.diagnostics, {})
        return EXIT_INPUT
    out(f"reformatted {path}\n", sys.stderr)
    return EXIT_OK
