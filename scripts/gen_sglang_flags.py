"""Generate targets/sglang/flags_<version>.json from SGLang's own `sglang.launch_server` argument parser.

Run it with the python of the SGLang venv (scripts/ensure-sglang-parser.sh prints it):
    "$(scripts/ensure-sglang-parser.sh)" scripts/gen_sglang_flags.py
Re-run it when the SGLang pin moves; tests/test_targets_sglang.py checks the committed table
against the real parser, so a stale table fails the suite.
"""

from __future__ import annotations

import argparse
import sys

from argparse_table import flag_table, write

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
    flags = flag_table(parser)
    return {
        "sglang": sglang.__version__,
        "regenerate": REGENERATE,
        "flags": flags,
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
    return write(data, "sglang", data["sglang"])


if __name__ == "__main__":
    sys.exit(main())
