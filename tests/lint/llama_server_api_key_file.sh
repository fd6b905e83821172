#!/bin/bash
# lint-expect: clean
# lint-hardware: 1 x "RTX 4090"
# LAN-facing, keys (one per client) in a root-only file
llama-server \
  -m /models/Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf \
  --host 0.0.0.0 --port 8080 \
  --api-key-file /etc/llama-server/api-keys \
  -ngl 99 -c 32768 -np 1 -fa on \
  --jinja
