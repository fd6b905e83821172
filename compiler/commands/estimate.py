"""`llmc estimate`: placeholder until its module lands (another helper owns it)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("estimate", help="estimate memory and speed of a plan (not available yet)")
    p.add_argument("rest", nargs="*", help="arguments for the future command")
    p.set_defaults(func=run)


def run(args) -> int:
    print("llmc estimate: not available yet", file=sys.stderr)
    return 1
