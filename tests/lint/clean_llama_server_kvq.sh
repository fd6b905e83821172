#!/bin/bash
# lint-expect: clean
# lint-hardware: 1 x "RTX 3090"
# 4 slots x 16k each in one unified pool, q8_0 KV (needs FA on).
MODELS=/opt/models

llama-server \
  --model "$MODELS/Qwen3-14B-Q4_K_M.gguf" \
  --host 127.0.0.1 \
  --port 8080 \
  --api-key-file /etc/llama/keys \
  --n-gpu-layers 99 \
  --ctx-size 65536 \
  --parallel 4 \
  --kv-unified \
  --cache-type-k q8_0 \
  --cache-type-v q8_0 \
  --flash-attn on \
  --jinja \
  --metrics
