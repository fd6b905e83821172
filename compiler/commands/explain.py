"""`llmc explain CODE`: print the docs page of a diagnostic code."""

from __future__ import annotations

import os
import sys

from ..driver import EXIT_INPUT, EXIT_OK, compile_file
from ..explain import explain_text
from ..render import docs_page, documented_codes
from ..suggest import closest
from ._catalog_args import add_calibration_option, add_catalog_option
from ._report import add_format_option, emit, out, print_result, report


def register(sub) -> None:
    p = sub.add_parser("explain", help="explain a plan (`llmc explain FILE`) or a diagnostic code (`llmc explain E201`)")
    p.add_argument("code", metavar="CODE|FILE", help="a diagnostic code such as E201, or a .llmspec file")
    add_catalog_option(p)
    add_calibration_option(p)
    add_format_option(p, json_alias=True)
    p.set_defaults(func=run)


def run(args) -> int:
    if os.path.isfile(args.code) or args.code.endswith(".llmspec"):
        return _explain_plan(args.code, args.catalog, args.format, args.calibration)
    code = args.code.strip().upper()
    page = docs_page(code)
    if page is None:
        codes = documented_codes()
        # a letter typed for the digit it looks like (E2O4, W8l0) is the code itself
        typed = code[:1] + code[1:].translate(str.maketrans("OILS", "0115"))
        hints = [typed] if typed in codes else []
        hints += [c.upper() for c in closest(code.lower(), [c.lower() for c in codes]) if c.upper() not in hints]
        quoted = [f"'{h}'" for h in hints]
        hint = f"; did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?" if len(quoted) > 1 else \
            (f"; did you mean {quoted[0]}?" if quoted else "")
        out(f"llmc: no diagnostic code `{args.code}`{hint}\n", sys.stderr)
        return EXIT_INPUT
    sys.stdout.write(page if page.endswith("\n") else page + "\n")
    return EXIT_OK


def _explain_plan(path: str, catalog_dirs=(), fmt: str = "full", calibration=None) -> int:
    result = compile_file(path, catalog_dirs, calibration=calibration)
    plans = [item.plan for item in result.deployments if item.plan is not None]
    if fmt == "json":   # each plan as plan.json has it
        print_result(result.diagnostics, [plan.model_dump(mode="json", by_alias=True) for plan in plans])
        return result.exit_code
    emit(result.diagnostics, result.sources, fmt)
    if fmt in ("full", "concise"):
        for plan in plans:
            report(explain_text(plan))
    return result.exit_code
