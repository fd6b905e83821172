#!/usr/bin/env bash
# A venv with SGLang's own argument parser (no GPU, no CUDA kernels), cached outside the repo
# and keyed by version; the tests parse every emitted `python3 -m sglang.launch_server` command with it.
# Recipe as for vLLM (scripts/ensure-vllm-parser.sh): the torch CPU wheel, `sglang --no-deps`, then
# only the light requirements that prepare_server_args (with its --config YAML merge) and the
# tool-call / reasoning-parser registries import. sglang.srt.utils.common imports torch and triton
# at the top, so neither can be left out; sglang pins torch 2.14.1 (CUDA), the CPU 2.13 wheel parses the same.
# Prints the venv's python on stdout.
set -euo pipefail
VERSION="${SGLANG_VERSION:-$("$(dirname "$0")/pin.sh" SGLANG_VERSION)}"
TORCH="${SGLANG_TORCH_VERSION:-2.13.0}"
VENV="${LLMC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmc-tools}/sglang-${VERSION}"
PY="$VENV/bin/python"
probe() {
  "$PY" -c "
from sglang.srt.server_args import prepare_server_args
from sglang.srt.utils.server_args_config_parser import ConfigArgumentMerger
from sglang.srt.function_call.function_call_parser import FunctionCallParser
from sglang.srt.parser.reasoning_parser import ReasoningParser
from sglang.srt.speculative.spec_info import SpeculativeAlgorithm
prepare_server_args(['--model-path', 'm'])" >/dev/null 2>&1
}
if [ -x "$PY" ] && probe; then
  echo "$PY"; exit 0
fi
python3 -m venv "$VENV" >&2
"$PY" -m pip install -q "torch==${TORCH}" >&2   # the CPU wheel on local disk (pip find-links)
"$PY" -m pip install -q --no-deps "sglang==${VERSION}" >&2
# What server_args imports (and --config: pyyaml; the parser registries: openai .. xgrammar), at the
# versions sglang pins; triton and starlette are imported but reach sglang through torch and fastapi.
pins() {
  "$PY" -c '
import importlib.metadata as md, re, sys
want = set(sys.argv[1:])
for req in md.requires("sglang"):
    if "extra ==" not in req and re.match(r"[\w.-]+", req).group() in want:
        print(req.split(";")[0])' "$@"
}
REQS="$(pins aiohttp IPython msgspec numpy orjson packaging pillow psutil pybase64 pydantic pyzmq \
  requests tqdm openai partial_json_parser tokenizers transformers xgrammar)"
# shellcheck disable=SC2086  # one requirement a word
"$PY" -m pip install -q "torch==${TORCH}" "triton==3.9.0" starlette pyyaml $REQS >&2
probe || { echo "SGLang ${VERSION} parser does not import in $VENV" >&2; exit 1; }
echo "$PY"
