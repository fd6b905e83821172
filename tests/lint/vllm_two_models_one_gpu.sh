#!/bin/bash
# lint-expect: E815:20
# Chat model and a small draft/utility model on the same 48 GB card.
export CUDA_VISIBLE_DEVICES=0
export HF_HOME=/data/hf

vllm serve Qwen/Qwen3-4B-Instruct-2507 \
  --host 127.0.0.1 --port 8000 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 32768 \
  --gpu-memory-utilization 0.6 \
  --enable-auto-tool-choice --tool-call-parser hermes \
  > /var/log/vllm-chat.log 2>&1 &

vllm serve meta-llama/Llama-3.2-1B-Instruct \
  --host 127.0.0.1 --port 8001 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 8192 \
  --enable-auto-tool-choice --tool-call-parser llama3_json \
  --gpu-memory-utilization 0.5 \
  > /var/log/vllm-small.log 2>&1 &

wait
