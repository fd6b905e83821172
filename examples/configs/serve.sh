#!/usr/bin/env bash
# A launch script for two RTX 4090s: `llmc import` turns it into a spec with every choice pinned.
set -euo pipefail
MODEL=Qwen/Qwen3-8B
export NCCL_P2P_DISABLE=1
exec vllm serve "$MODEL" \
  --host 127.0.0.1 \
  --api-key "$VLLM_API_KEY" \
  --tensor-parallel-size 2 \
  --max-model-len 32768 \
  --gpu-memory-utilization 0.90 \
  --max-num-seqs 32 \
  --enable-auto-tool-choice --tool-call-parser hermes \
  --reasoning-parser qwen3
