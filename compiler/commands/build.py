"""`llmc build FILE|DIR... [-o DIR] [--locked] [--strict]`: plan every deployment and write its build directory
(a directory stands for the .llmspec files under it; nothing is written unless every file builds)."""

from __future__ import annotations

import sys

from ..driver import EXIT_INPUT, build_all, spec_files
from ._catalog_args import add_calibration_option, add_catalog_option
from ._report import add_format_option, emit, out


def register(sub) -> None:
    p = sub.add_parser("build", help="compile a .llmspec into a plan and runnable artifacts")
    p.add_argument("files", nargs="+", metavar="FILE", help=".llmspec files, or directories of them")
    p.add_argument("-o", "--output", metavar="DIR", default="build", help="output directory (default: build/)")
    p.add_argument("--locked", action="store_true",
                   help="refuse to change the choices of a plan.json already in DIR (reproducible builds)")
    p.add_argument("--strict", action="store_true",
                   help="treat what a target cannot express as an error instead of a warning")
    add_catalog_option(p)
    add_calibration_option(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    files = spec_files(args.files)
    if not files:
        out(f"llmc: no .llmspec file in {', '.join(args.files)}\n", sys.stderr)
        return EXIT_INPUT
    results = build_all(files, args.output, args.catalog, strict=args.strict, locked=args.locked,
                        calibration=args.calibration)
    emit([d for r in results for d in r.diagnostics], {k: v for r in results for k, v in r.sources.items()},
         args.format)
    code = max(r.exit_code for r in results)
    if code == 0 and args.format in ("full", "concise"):
        for item in (item for r in results for item in r.deployments):
            plan = item.plan
            out(f"{item.deployment.name}: {plan.model.name} {plan.model.format} on {plan.runtime.name} "
                f"→ {args.output.rstrip('/')}/{item.deployment.name}/ ({len(item.artifacts)} files)\n", sys.stderr)
    return code
