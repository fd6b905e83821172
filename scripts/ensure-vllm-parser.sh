#!/usr/bin/env bash
# A venv with vLLM's own argument parser (no GPU, no CUDA kernels), cached outside the repo
# and keyed by version; the tests parse every emitted `vllm serve` command with it.
# Recipe from design/verification.md: the torch CPU wheel, `vllm --no-deps`, then only the
# light requirements that importing vllm.entrypoints.common.cli_args needs.
# Prints the venv's python on stdout.
set -euo pipefail
VERSION="${VLLM_VERSION:-$("$(dirname "$0")/pin.sh" VLLM_VERSION)}"
TORCH="${VLLM_TORCH_VERSION:-2.13.0}"
VENV="${LLMC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmc-tools}/vllm-${VERSION}"
PY="$VENV/bin/python"
probe() {
  VLLM_TARGET_DEVICE=cpu "$PY" -c "from vllm.entrypoints.common.cli_args import make_arg_parser" >/dev/null 2>&1
}
if [ -x "$PY" ] && probe; then
  echo "$PY"; exit 0
fi
python3 -m venv "$VENV" >&2
"$PY" -m pip install -q "torch==${TORCH}" >&2   # the CPU wheel on local disk (pip find-links)
"$PY" -m pip install -q --no-deps "vllm==${VERSION}" >&2
"$PY" -m pip install -q regex cachetools psutil sentencepiece numpy requests tqdm blake3 py-cpuinfo \
  "transformers<5.21.0,>=5.16.1" huggingface_hub tokenizers safetensors protobuf "fastapi<0.137.0,>=0.133.0" \
  starlette aiohttp openai pydantic orjson prometheus_client pillow prometheus-fastapi-instrumentator tiktoken \
  partial-json-parser jsonschema pyzmq msgspec pyyaml einops cloudpickle python-json-logger pybase64 cbor2 ijson \
  setproctitle filelock typing_extensions watchfiles uvicorn "oss-harmony>=0.0.11" uvloop "xgrammar==0.2.8" \
  llguidance "torch==${TORCH}" >&2
probe || { echo "vLLM ${VERSION} parser does not import in $VENV" >&2; exit 1; }
echo "$PY"
