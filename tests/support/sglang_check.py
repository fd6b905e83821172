"""Check emitted `python3 -m sglang.launch_server` commands with SGLang 0.5.23's own parser.

SGLang lives in its own venv (scripts/ensure-sglang-parser.sh; ~6 s to import), so every case is
checked in one subprocess with `prepare_server_args`, the function `sglang.launch_server` calls on
its argv: the parser of `ServerArgs.add_cli_args` (which rejects unknown flags and, by choices, unknown
--quantization / --kv-cache-dtype / parser names) and the merge of a `--config` YAML into the argv.
Then the registries the server dispatches on, for what the parser lets through or names only from a
list: `SpeculativeAlgorithm.from_string` for --speculative-algorithm, and the tool-call and reasoning
parser registries.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support.tools import REPO

PROBE = r'''
import contextlib, io, json, sys
from sglang.srt.arg_groups.arg_utils import record_fields
from sglang.srt.function_call.function_call_parser import FunctionCallParser
from sglang.srt.parser.reasoning_parser import ReasoningParser
from sglang.srt.server_args import ServerArgs, prepare_server_args
from sglang.srt.speculative.spec_info import SpeculativeAlgorithm

def problems_of(args):
    problems = []
    try:
        SpeculativeAlgorithm.from_string(args.speculative_algorithm)
    except ValueError as exc:
        problems.append(str(exc))
    if args.tool_call_parser not in (None, "auto", *FunctionCallParser.ToolCallParserEnum):
        problems.append(f"unknown tool-call parser {args.tool_call_parser}")
    if args.reasoning_parser not in (None, "auto", *ReasoningParser.DetectorMap):
        problems.append(f"unknown reasoning parser {args.reasoning_parser}")
    return problems

def last_line(stream):  # argparse prints its whole usage (500+ flags) before the error
    return (stream.getvalue().strip().splitlines() or [""])[-1]

def check(argv):
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            args = prepare_server_args(argv)
    except SystemExit as exc:
        return {"ok": False, "problems": [f"argparse exit {exc.code}: {last_line(stderr)}"], "namespace": None}
    except Exception as exc:
        return {"ok": False, "problems": [f"{type(exc).__name__}: {exc}"], "namespace": None}
    problems = problems_of(args)
    ns = {f.name: getattr(args, f.name) for f in record_fields(ServerArgs)}
    return {"ok": not problems, "problems": problems, "namespace": json.loads(json.dumps(ns, default=str))}

results = [check(case) for case in json.load(sys.stdin)]
print("@@RESULT@@" + json.dumps(results))
'''

# Stands in for python3 in an emitted launch.sh: records the argv and a copy of the --config file
# (the script deletes its key directory when the "server" exits).
RECORDER = r'''#!/usr/bin/env bash
printf '%s\0' "$@" > "$RECORD/argv"
prev=
for arg in "$@"; do
  if [ "$prev" = --config ]; then cp "$arg" "$RECORD/config.yaml"; fi
  prev="$arg"
done
'''


def sglang_python() -> str:
    """The SGLang venv's python (scripts/test.sh exports LLMC_SGLANG_PYTHON; otherwise build/locate it)."""
    if os.environ.get("LLMC_SGLANG_PYTHON"):
        return os.environ["LLMC_SGLANG_PYTHON"]
    out = subprocess.run([str(REPO / "scripts" / "ensure-sglang-parser.sh")], check=True, capture_output=True,
                         text=True)
    return out.stdout.strip().splitlines()[-1]


def parse_with_sglang(cases: list[list[str]]) -> list[dict]:
    """Parse each argv (what follows `-m sglang.launch_server`) with SGLang; one result dict per case."""
    proc = subprocess.run([sglang_python(), "-c", PROBE], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=600)
    marker = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@")]
    if proc.returncode != 0 or not marker:
        raise RuntimeError(f"SGLang parser probe failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(marker[0][len("@@RESULT@@"):])


def launch_argv(script: Path, record: Path, env: dict[str, str]) -> list[str]:
    """Run an emitted launch.sh with a recorder for python3; the argv it passes after
    `-m sglang.launch_server`, its --config (if any) pointing at a kept copy in `record`."""
    record.mkdir(parents=True, exist_ok=True)
    recorder = record / "python3"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    run_env = {"PATH": os.environ["PATH"], **env, "PYTHON": str(recorder), "RECORD": str(record)}
    proc = subprocess.run(["bash", str(script)], env=run_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    argv = (record / "argv").read_text().split("\0")[:-1]
    assert argv[:2] == ["-m", "sglang.launch_server"], argv
    argv = argv[2:]
    if "--config" in argv:
        argv[argv.index("--config") + 1] = str(record / "config.yaml")
    return argv
