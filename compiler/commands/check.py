"""`llmc check FILE...`: parse, lower and check specs; the CI gate (exit 0/1/2)."""

from __future__ import annotations

import sys

from ..driver import front_end
from ._report import add_format_option, emit, tally


def register(sub) -> None:
    p = sub.add_parser("check", help="validate .llmspec files (exit 0 ok, 1 infeasible, 2 malformed)")
    p.add_argument("files", nargs="+", metavar="FILE", help=".llmspec files to check")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    result = front_end(args.files)
    emit(result.diagnostics, result.sources, args.format)
    if args.format == "full":
        count = len(args.files)
        print(f"checked {count} file{'s' * (count != 1)}: {tally(result.diagnostics)}", file=sys.stderr)
    return result.exit_code
