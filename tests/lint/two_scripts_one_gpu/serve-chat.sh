#!/bin/bash
# lint-expect: clean
# systemd: vllm-chat.service (GPU 0, 0.55 of it)
export CUDA_VISIBLE_DEVICES=0
exec vllm serve Qwen/Qwen3-4B-Instruct-2507 \
  --host 127.0.0.1 --port 8000 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 16384 \
  --gpu-memory-utilization 0.55 \
  --enable-auto-tool-choice --tool-call-parser hermes
