#!/bin/bash
# lint-expect: clean
# lint-hardware: 1 x "RTX 4090"
# vLLM parses human-readable lengths: 32K = 32768 tokens (k = 1000, K = 1024)
vllm serve meta-llama/Llama-3.1-8B-Instruct \
  --host 127.0.0.1 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 32K \
  --enable-auto-tool-choice \
  --tool-call-parser llama3_json
