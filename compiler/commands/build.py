"""`llmc build FILE [-o DIR] [--locked] [--strict]`: plan every deployment and write its build directory."""

from __future__ import annotations

import sys

from ..driver import build
from ._catalog_args import add_catalog_option
from ._report import add_format_option, emit, out


def register(sub) -> None:
    p = sub.add_parser("build", help="compile a .llmspec into a plan and runnable artifacts")
    p.add_argument("file", metavar="FILE", help="the .llmspec file")
    p.add_argument("-o", "--output", metavar="DIR", default="build", help="output directory (default: build/)")
    p.add_argument("--locked", action="store_true",
                   help="refuse to change the choices of a plan.json already in DIR (reproducible builds)")
    p.add_argument("--strict", action="store_true",
                   help="treat what a target cannot express as an error instead of a warning")
    add_catalog_option(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    result = build(args.file, args.output, args.catalog, strict=args.strict, locked=args.locked)
    emit(result.diagnostics, result.sources, args.format)
    if result.exit_code == 0 and args.format in ("full", "concise"):
        for item in result.deployments:
            plan = item.plan
            out(f"{item.deployment.name}: {plan.model.name} {plan.model.format} on {plan.runtime.name} "
                f"→ {args.output.rstrip('/')}/{item.deployment.name}/ ({len(item.artifacts)} files)\n", sys.stderr)
    return result.exit_code
