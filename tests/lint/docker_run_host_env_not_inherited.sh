#!/bin/bash
# lint-expect: W806:9 W827:9 W820:10
# lint-hardware: 2 x "RTX 4090"
# The host's exports do not reach the container: only -e does (the key stays on the host, GPU 0 is not the limit)
export VLLM_API_KEY=not-for-the-container
export CUDA_VISIBLE_DEVICES=0
docker run --gpus all -p 127.0.0.1:8000:8000 --ipc host --shm-size 64m \
  -v hf:/root/.cache/huggingface \
  vllm/vllm-openai:v0.33.0 --model Qwen/Qwen3-8B \
  -tp 2
