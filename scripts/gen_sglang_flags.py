"""Generate targets/sglang/flags_<version>.json from SGLang's own `sglang.launch_server` argument parser.

Run it with the python of the SGLang venv (scripts/ensure-sglang-parser.sh prints it):
    "$(scripts/ensure-sglang-parser.sh)" scripts/gen_sglang_flags.py
Re-run it when the SGLang pin moves; tests/test_targets_sglang.py checks the committed table
against the real parser, so a stale table fails the suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REGENERATE = '"$(scripts/ensure-sglang-parser.sh)" scripts/gen_sglang_flags.py'


def table() -> dict:
    import sglang
    from sglang.srt.function_call.function_call_parser import FunctionCallParser
    from sglang.srt.parser.reasoning_parser import ReasoningParser
    from sglang.srt.server_args import ServerArgs
    from sglang.srt.speculative.spec_info import SpeculativeAlgorithm
    from sglang.srt.speculative.spec_registry import _RESERVED_ALIASES

    parser = argparse.ArgumentParser()
    ServerArgs.add_cli_args(parser)  # the parser prepare_server_args builds for launch_server
    flags = {}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for option in action.option_strings:
            flags[option] = {
                "dest": action.dest,
                "takes_value": action.nargs != 0,
                "nargs": action.nargs,
                "choices": sorted(str(c) for c in action.choices) if action.choices else None,
            }
    return {
        "sglang": sglang.__version__,
        "regenerate": REGENERATE,
        "flags": dict(sorted(flags.items())),
        "enums": {
            "kv_cache_dtype": flags["--kv-cache-dtype"]["choices"],
            "quantization": flags["--quantization"]["choices"],
            # what SpeculativeAlgorithm.from_string accepts (case-insensitively); NONE means no speculation
            "speculative_algorithm": sorted({a.name for a in SpeculativeAlgorithm} - {"NONE"} | _RESERVED_ALIASES),
            "tool_call_parser": sorted(FunctionCallParser.ToolCallParserEnum),
            "reasoning_parser": sorted(ReasoningParser.DetectorMap),
        },
    }


def main() -> int:
    data = table()
    out = Path(__file__).resolve().parents[1] / "targets" / "sglang" / f"flags_{data['sglang']}.json"
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
