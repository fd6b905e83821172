#!/usr/bin/env bash
# The test command: installs everything the tests need (cached outside the repo
# where slow to build) and runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
export LLMC_LLAMA_SERVER="$(scripts/ensure-llama-server.sh)"
if [ -x scripts/ensure-vllm-parser.sh ]; then
  export LLMC_VLLM_PYTHON="$(scripts/ensure-vllm-parser.sh)"
fi
if [ -x scripts/ensure-sglang-parser.sh ]; then
  export LLMC_SGLANG_PYTHON="$(scripts/ensure-sglang-parser.sh)"
fi
exec .venv/bin/python -m pytest "$@"
