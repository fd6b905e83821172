"""`llmc lint FILE... [--hardware ...]`: hand-written configs against known failure modes (exit 0 clean or
warnings only, 1 an error, 2 a file that cannot be read or understood)."""

from __future__ import annotations

import sys

from ..driver import lint
from ._catalog_args import add_catalog_option
from ._report import add_format_option, emit, tally


def register(sub) -> None:
    p = sub.add_parser("lint", help="check hand-written vLLM/SGLang/llama-server/Ollama commands, Modelfiles, "
                                    "compose files and Kubernetes manifests (exit 0 ok, 1 error, 2 unreadable)")
    p.add_argument("files", nargs="+", metavar="FILE", help="scripts, Modelfiles, env files, compose or Kubernetes "
                                                            "YAML, vLLM --config files")
    p.add_argument("--hardware", metavar="GPUS", help="the GPUs the configs run on, as a spec writes them: "
                                                      "'2 x \"RTX 4090\"' (enables the memory checks)")
    add_catalog_option(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    result = lint(args.files, args.hardware, args.catalog)
    emit(result.diagnostics, result.sources, args.format)
    if args.format == "full":
        count = len(args.files)
        servers = sum(len(c.servers) for c in result.configs)
        print(f"linted {count} file{'s' * (count != 1)}, {servers} server{'s' * (servers != 1)}: "
              f"{tally(result.diagnostics)}", file=sys.stderr)
    return result.exit_code
