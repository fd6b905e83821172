#!/bin/bash
# lint-expect: clean
# lint-hardware: 2 x "RTX 4090"
# Two 4090s without P2P: NCCL over host memory.
set -euo pipefail

docker run -d --name vllm-qwen3-14b \
  --gpus '"device=0,1"' \
  --ipc=host \
  -e NCCL_P2P_DISABLE=1 \
  -e VLLM_API_KEY="${VLLM_API_KEY}" \
  -v /srv/hf:/root/.cache/huggingface \
  -p 127.0.0.1:8000:8000 \
  vllm/vllm-openai:v0.33.0 \
  --model Qwen/Qwen3-14B-AWQ \
  --tensor-parallel-size 2 \
  --max-model-len 32768 \
  --enable-auto-tool-choice \
  --tool-call-parser hermes \
  --reasoning-parser qwen3
