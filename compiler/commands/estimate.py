"""`llmc estimate FILE`: memory per device and speed for the spec's chosen (or pinned) configuration."""

from __future__ import annotations


from ..driver import compile_file
from ..explain import estimate_text
from ._catalog_args import add_calibration_option, add_catalog_option
from ._report import add_format_option, emit, print_result, report


def register(sub) -> None:
    p = sub.add_parser("estimate", help="print memory per device and speed for the spec's best or pinned choice")
    p.add_argument("file", metavar="FILE", help="the .llmspec file")
    add_catalog_option(p)
    add_calibration_option(p)
    add_format_option(p, json_alias=True)
    p.set_defaults(func=run)


def run(args) -> int:
    result = compile_file(args.file, args.catalog, calibration=args.calibration)
    plans = [item.plan for item in result.deployments if item.plan is not None]
    if args.format == "json":
        print_result(result.diagnostics, [{"deployment": p.deployment, "memory": p.memory.model_dump(mode="json"),
                                           "performance": p.performance.model_dump(mode="json")} for p in plans])
        return result.exit_code
    emit(result.diagnostics, result.sources, args.format)
    if args.format in ("full", "concise"):   # sarif and github carry the diagnostics only
        for plan in plans:
            report(estimate_text(plan) + "\n")
    return result.exit_code
