"""`llmc import FILE [--hardware GPUS] [-o SPEC]`: a hand-written config as a `.llmspec` with every choice it
makes pinned (exit 0, 2 when the file cannot be read or understood)."""

from __future__ import annotations

import sys

from pathlib import Path

from ..artifacts import write_file_atomically
from ..diagnostics import DiagnosticsError
from ..driver import import_config
from ._catalog_args import add_catalog_option
from ._report import add_format_option, emit


def register(sub) -> None:
    p = sub.add_parser("import", help="turn a hand-written vLLM/SGLang/llama-server/Ollama command, Modelfile, "
                                      "compose file or Kubernetes manifest into a pinned .llmspec")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="the config to read (with its env file or Modelfile: they describe one server)")
    p.add_argument("--hardware", metavar="GPUS", help="the GPUs it runs on, as a spec writes them: "
                                                      "'2 x \"RTX 4090\"' (else a TODO in the spec)")
    p.add_argument("-o", "--output", metavar="SPEC", help="write the spec here instead of stdout")
    add_catalog_option(p)
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    result = import_config(args.files, args.hardware, args.catalog)
    emit(result.diagnostics, result.sources, args.format)
    if result.text is None:
        return 2
    if args.output:
        try:
            write_file_atomically(Path(args.output), result.text)
        except DiagnosticsError as exc:
            emit(exc.diagnostics, {}, args.format)
            return 2
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(result.text)
    return 0
