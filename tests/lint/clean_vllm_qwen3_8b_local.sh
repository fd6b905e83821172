#!/usr/bin/env bash
# lint-expect: clean
# lint-hardware: 1 x "RTX 4090"
# Qwen3-8B for the coding agent; nginx on :443 terminates TLS and proxies /v1 to us.
set -euo pipefail

: "${VLLM_API_KEY:?export VLLM_API_KEY first}"
export HF_HOME=/srv/hf

exec vllm serve Qwen/Qwen3-8B \
    --host 127.0.0.1 \
    --port 8000 \
    --api-key "$VLLM_API_KEY" \
    --max-model-len 16384 \
    --gpu-memory-utilization 0.90 \
    --enable-auto-tool-choice \
    --tool-call-parser hermes \
    --reasoning-parser qwen3 \
    --generation-config vllm
