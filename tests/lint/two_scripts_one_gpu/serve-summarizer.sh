#!/bin/bash
# lint-expect: E815:9
# systemd: vllm-summarizer.service, added later on the same card
export CUDA_VISIBLE_DEVICES=0
exec vllm serve meta-llama/Llama-3.2-3B-Instruct \
  --host 127.0.0.1 --port 8001 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 16384 \
  --gpu-memory-utilization 0.55 \
  --enable-auto-tool-choice --tool-call-parser llama3_json
