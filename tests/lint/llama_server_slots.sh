#!/usr/bin/env bash
# lint-expect: W810:13
# lint-hardware: 1 x "RTX 4090"
# four concurrent users for the team wiki bot
MODEL_DIR=/opt/models
MODEL=$MODEL_DIR/Qwen3-8B-Q4_K_M.gguf

llama-server \
  -m "$MODEL" \
  --host 127.0.0.1 --port 8080 \
  -ngl 99 \
  -c 32768 \
  -np 4 \
  -fa on \
  --metrics
