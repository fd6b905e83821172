"""`llmc build FILE [-o DIR]`: front end, then plan and emit (the solver is not wired in yet)."""

from __future__ import annotations

from ..driver import EXIT_FAILED, front_end, no_solver
from ._report import add_format_option, emit


def register(sub) -> None:
    p = sub.add_parser("build", help="compile a .llmspec into runnable artifacts")
    p.add_argument("file", metavar="FILE", help="the .llmspec file")
    p.add_argument("-o", "--output", metavar="DIR", default="build", help="output directory (default: build/)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    result = front_end([args.file])
    loaded = result.files[0]
    if result.exit_code or loaded.spec is None:
        emit(result.diagnostics, result.sources, args.format)
        return result.exit_code
    emit([*result.diagnostics, no_solver(loaded.spec)], result.sources, args.format)
    return EXIT_FAILED
