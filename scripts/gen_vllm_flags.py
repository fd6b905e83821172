"""Generate targets/vllm/flags_<version>.json from vLLM's own `vllm serve` argument parser.

Run it with the python of the vLLM venv (scripts/ensure-vllm-parser.sh prints it):
    VLLM_TARGET_DEVICE=cpu "$(scripts/ensure-vllm-parser.sh)" scripts/gen_vllm_flags.py
Re-run it when the vLLM pin moves; tests/test_targets_vllm.py checks the committed table
against the real parser, so a stale table fails the suite.
"""

from __future__ import annotations

import sys
import typing

from argparse_table import flag_table, write


def table() -> dict:
    import vllm
    from vllm.config.cache import CacheDType
    from vllm.config.speculative import SpeculativeMethod
    from vllm.entrypoints.common.cli_args import make_arg_parser
    from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS
    from vllm.reasoning import ReasoningParserManager
    from vllm.tool_parsers import ToolParserManager
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = make_arg_parser(FlexibleArgumentParser())
    flags = flag_table(parser)
    return {
        "vllm": vllm.__version__,
        "flags": flags,
        "enums": {
            "kv_cache_dtype": sorted(_literal(CacheDType)),
            "quantization": sorted(QUANTIZATION_METHODS),
            "speculative_method": sorted(_literal(SpeculativeMethod)),
            "tool_call_parser": sorted(ToolParserManager.list_registered()),
            "reasoning_parser": sorted(ReasoningParserManager.list_registered()),
        },
    }


def _literal(tp) -> set[str]:
    """The strings of a (nested) Literal type alias."""
    found: set[str] = set()
    for arg in typing.get_args(tp):
        if isinstance(arg, str):
            found.add(arg)
        else:
            found |= _literal(arg)
    return found


def main() -> int:
    data = table()
    return write(data, "vllm", data["vllm"])


if __name__ == "__main__":
    sys.exit(main())
