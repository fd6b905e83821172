#!/bin/bash
# lint-expect: E804:8
# lint-hardware: 1 x "L4"
# host networking "because the port mapping was flaky"; vLLM binds 0.0.0.0 by default
docker run -d --name vllm \
  --gpus all \
  --ipc=host \
  --network host \
  -v /var/cache/hf:/root/.cache/huggingface \
  vllm/vllm-openai:v0.33.0 \
  --model Qwen/Qwen3-4B-Instruct-2507 \
  --max-model-len 16384 \
  --enable-auto-tool-choice \
  --tool-call-parser hermes
