"""Check emitted `vllm serve` commands and --config files with vLLM 0.33's own parser and config classes.

vLLM lives in its own venv (scripts/ensure-vllm-parser.sh; ~16 s to import), so every case is
checked in one subprocess: the parser of `vllm serve` (ServeSubcommand.subparser_init, the same
object the `vllm` CLI builds), `validate_parsed_serve_args`, and the config classes for enum values
the parser lets through (CacheConfig for --kv-cache-dtype, the quantization and speculative-method
Literals, the tool-call and reasoning parser registries).
"""

from __future__ import annotations

import json
import os
import subprocess
from tests.support.tools import REPO

PROBE = r'''
import json, sys, typing
from vllm.utils.argparse_utils import FlexibleArgumentParser
from vllm.entrypoints.cli.serve import ServeSubcommand
from vllm.entrypoints.common.cli_args import validate_parsed_serve_args
from vllm.config import CacheConfig
from vllm.config.speculative import SpeculativeMethod
from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS
from vllm.tool_parsers import ToolParserManager
from vllm.reasoning import ReasoningParserManager

def literal(tp):
    out = set()
    for a in typing.get_args(tp):
        out |= {a} if isinstance(a, str) else literal(a)
    return out

def parse(argv):
    parser = FlexibleArgumentParser(prog="vllm")
    sub = parser.add_subparsers(dest="subparser")
    ServeSubcommand().subparser_init(sub)
    args = parser.parse_args(argv)
    if getattr(args, "model_tag", None):
        args.model = args.model_tag  # what `vllm serve MODEL` does (entrypoints/cli/serve.py)
    validate_parsed_serve_args(args)
    problems = []
    CacheConfig(cache_dtype=args.kv_cache_dtype)
    if args.quantization is not None and args.quantization not in QUANTIZATION_METHODS:
        problems.append(f"unknown quantization {args.quantization}")
    spec = args.speculative_config
    if spec:
        if spec.get("method") not in literal(SpeculativeMethod):
            problems.append(f"unknown speculative method {spec.get('method')}")
    if args.tool_call_parser and args.tool_call_parser not in ToolParserManager.list_registered():
        problems.append(f"unknown tool-call parser {args.tool_call_parser}")
    if args.reasoning_parser and args.reasoning_parser not in ReasoningParserManager.list_registered():
        problems.append(f"unknown reasoning parser {args.reasoning_parser}")
    ns = {k: v for k, v in sorted(vars(args).items()) if k not in ("dispatch_function", "config", "model_tag")}
    return problems, json.loads(json.dumps(ns, default=str))

results = []
for case in json.load(sys.stdin):
    try:
        problems, ns = parse(case)
        results.append({"ok": not problems, "problems": problems, "namespace": ns})
    except SystemExit as exc:
        results.append({"ok": False, "problems": [f"argparse exit {exc.code}"], "namespace": None})
    except Exception as exc:
        results.append({"ok": False, "problems": [f"{type(exc).__name__}: {exc}"], "namespace": None})
print("@@RESULT@@" + json.dumps(results))
'''


def vllm_python() -> str:
    """The vLLM venv's python (scripts/test.sh exports LLMC_VLLM_PYTHON; otherwise build/locate it)."""
    if os.environ.get("LLMC_VLLM_PYTHON"):
        return os.environ["LLMC_VLLM_PYTHON"]
    out = subprocess.run([str(REPO / "scripts" / "ensure-vllm-parser.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def parse_with_vllm(cases: list[list[str]]) -> list[dict]:
    """Parse each argv (starting with "serve") with vLLM's parser; one result dict per case."""
    env = dict(os.environ, VLLM_TARGET_DEVICE="cpu", VLLM_LOGGING_LEVEL="ERROR", VLLM_NO_USAGE_STATS="1")
    proc = subprocess.run([vllm_python(), "-c", PROBE], input=json.dumps(cases), capture_output=True, text=True,
                          env=env, timeout=600)
    marker = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@")]
    if proc.returncode != 0 or not marker:
        raise RuntimeError(f"vLLM parser probe failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(marker[0][len("@@RESULT@@"):])


def serve_argv(script: str) -> list[str]:
    """The argv of the `vllm serve` line of an emitted serve.sh, as the shell would split it."""
    import shlex

    text = script.replace("\\\n", " ")
    line = next(line for line in text.splitlines() if '"${VLLM:-vllm}" serve' in line)
    tokens = shlex.split(line.split('"${VLLM:-vllm}"', 1)[1])
    return [t for t in tokens if t != "$@"]


