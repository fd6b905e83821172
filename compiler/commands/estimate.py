"""`llmc estimate FILE`: memory per device and speed for the spec's chosen (or pinned) configuration."""

from __future__ import annotations


from ..driver import compile_file
from ..explain import estimate_text
from ._catalog_args import add_catalog_option
from ._report import add_format_option, emit, out


def register(sub) -> None:
    p = sub.add_parser("estimate", help="print memory per device and speed for the spec's best or pinned choice")
    p.add_argument("file", metavar="FILE", help="the .llmspec file")
    add_catalog_option(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    result = compile_file(args.file, args.catalog)
    emit(result.diagnostics, result.sources, args.format)
    for item in result.deployments:
        if item.plan is not None:
            out(estimate_text(item.plan) + "\n")
    return result.exit_code
