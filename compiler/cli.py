"""The `llmc` command line: argument parsing and exit codes, nothing else.

Each subcommand lives in llmc/commands/<name>.py with `register(subparsers)`;
it sets `func(args) -> int` on its parser. Exit codes: 0 success, 1 the spec is
valid but infeasible or a check failed, 2 the input is malformed or unreadable.
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import os
import sys

from . import __version__
from .suggest import did_you_mean

COMMANDS = ("check", "lint", "import", "fmt", "build", "explain", "estimate", "smoke", "tune", "calibration", "models", "gpus", "formats", "detect")

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmc",
        description="A declarative deployment compiler for self-hosted LLMs.",
        epilog="Exit codes: 0 success, 1 infeasible or a check failed, 2 malformed input.",
    )
    parser.add_argument("--version", action="version", version=f"llmc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f".commands.{name}{'_' * keyword.iskeyword(name)}", __package__)
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    argv = sys.argv[1:] if argv is None else argv
    unknown = _unknown_command(argv)
    if unknown is not None:
        print(unknown, file=sys.stderr)
        return EXIT_INPUT
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("llmc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in llmc: say so in one line, never a traceback
        print(f"llmc: internal error: {type(exc).__name__}: {exc} (please report it; "
              f"LLMC_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        if os.environ.get("LLMC_TRACEBACK"):
            raise
        return 3


def _unknown_command(argv: list[str]) -> str | None:
    """`llmc biuld x.llmspec`: the one-line error with the nearest command, instead of argparse's list."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None or first in COMMANDS or argv[0].startswith("-"):
        return None
    hint = did_you_mean(first, COMMANDS)
    return f"llmc: unknown command `{first}`" + (f"; {hint}" if hint else f"; commands: {', '.join(COMMANDS)}")


if __name__ == "__main__":
    sys.exit(main())
