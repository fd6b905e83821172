#!/bin/bash
# lint-expect: E813:11
# lint-hardware: 3 x "RTX 3090"
# three 3090s in the workstation, so use all of them
export CUDA_VISIBLE_DEVICES=0,1,2
export VLLM_API_KEY=$(pass show llm/vllm)

exec python -m vllm.entrypoints.openai.api_server \
  --model Qwen/Qwen3-14B \
  --host 127.0.0.1 --port 8001 \
  --tensor-parallel-size 3 \
  --max-model-len 16384 \
  --gpu-memory-utilization 0.90 \
  --enable-auto-tool-choice --tool-call-parser hermes \
  --reasoning-parser qwen3
