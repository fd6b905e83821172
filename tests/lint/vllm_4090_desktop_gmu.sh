#!/bin/bash
# lint-expect: W826:11
# lint-hardware: 1 x "RTX 4090"
# my workstation (the 4090 also drives the monitors); squeeze out every MB for KV
vllm serve Qwen/Qwen3-4B-Instruct-2507 \
  --host 127.0.0.1 \
  --port 8000 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 65536 \
  --max-num-seqs 16 \
  --gpu-memory-utilization 0.98 \
  --enable-auto-tool-choice \
  --tool-call-parser hermes
