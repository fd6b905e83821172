"""What the flag-table generators (gen_vllm_flags.py, gen_sglang_flags.py) share: a runtime's argparse
parser as a table of flags, and writing the table beside the runtime's target."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def flag_table(parser: argparse.ArgumentParser) -> dict:
    """{flag: {dest, takes_value, nargs, choices}} for every option of the parser, sorted by flag."""
    flags = {}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for option in action.option_strings:
            flags[option] = {
                "dest": action.dest,
                "takes_value": action.nargs != 0,
                "nargs": action.nargs if isinstance(action.nargs, (str, int)) or action.nargs is None else None,
                "choices": sorted(str(c) for c in action.choices) if action.choices else None,
            }
    return dict(sorted(flags.items()))


def write(data: dict, target: str, version: str) -> int:
    """Write targets/<target>/flags_<version>.json, or the path given as the first argument."""
    out = Path(__file__).resolve().parents[1] / "targets" / target / f"flags_{version}.json"
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(out)
    return 0
