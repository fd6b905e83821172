"""`llmc check FILE... [--against DIR]`: the pre-deploy gate (exit 0 ok, 1 infeasible or drift, 2 malformed)."""

from __future__ import annotations

import sys

from ..driver import check, exit_code
from ._catalog_args import add_calibration_option, add_catalog_option
from ._report import add_format_option, emit, tally


def register(sub) -> None:
    p = sub.add_parser("check", help="validate and solve .llmspec files; with --against, detect drift "
                                     "(exit 0 ok, 1 infeasible or drift, 2 malformed)")
    p.add_argument("files", nargs="+", metavar="FILE", help=".llmspec files to check")
    p.add_argument("--against", metavar="DIR", help="a committed build directory to compare with (llmc build -o DIR)")
    p.add_argument("--strict", action="store_true", help="what a target cannot express is an error")
    add_catalog_option(p)
    add_calibration_option(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    results = check(args.files, args.against, args.catalog, strict=args.strict, calibration=args.calibration)
    diagnostics = [d for r in results for d in r.diagnostics]
    sources = {k: v for r in results for k, v in r.sources.items()}
    emit(diagnostics, sources, args.format)
    if args.format == "full":
        count = len(args.files)
        plans = sum(1 for r in results for item in r.deployments if item.plan)
        print(f"checked {count} file{'s' * (count != 1)}, {plans} feasible deployment{'s' * (plans != 1)}: "
              f"{tally(diagnostics)}", file=sys.stderr)
    return max((exit_code(r.diagnostics) for r in results), default=0)
