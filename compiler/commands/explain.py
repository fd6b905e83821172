"""`llmc explain CODE`: print the docs page of a diagnostic code."""

from __future__ import annotations

import os
import sys

from ..driver import EXIT_FAILED, EXIT_INPUT, EXIT_OK, front_end, no_solver
from ..render import docs_page, documented_codes
from ..suggest import closest
from ._report import emit


def register(sub) -> None:
    p = sub.add_parser("explain", help="explain a diagnostic code (e.g. `llmc explain E201`)")
    p.add_argument("code", metavar="CODE", help="a diagnostic code such as E201")
    p.set_defaults(func=run)


def run(args) -> int:
    if os.path.isfile(args.code) or args.code.endswith(".llmspec"):
        return _explain_plan(args.code)
    code = args.code.strip().upper()
    page = docs_page(code)
    if page is None:
        hints = [c.upper() for c in closest(code.lower(), [c.lower() for c in documented_codes()])]
        quoted = [f"'{h}'" for h in hints]
        hint = f"; did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?" if len(quoted) > 1 else \
            (f"; did you mean {quoted[0]}?" if quoted else "")
        print(f"llmc: no diagnostic code `{args.code}`{hint}", file=sys.stderr)
        return EXIT_INPUT
    sys.stdout.write(page if page.endswith("\n") else page + "\n")
    return EXIT_OK


def _explain_plan(path: str) -> int:
    result = front_end([path])
    loaded = result.files[0]
    if result.exit_code or loaded.spec is None:
        emit(result.diagnostics, result.sources)
        return result.exit_code
    emit([*result.diagnostics, no_solver(loaded.spec)], result.sources)
    return EXIT_FAILED
