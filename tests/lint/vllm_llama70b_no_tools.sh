#!/bin/bash
# lint-expect: E814:10 W806:8
# lint-hardware: 8 x "A100 SXM 80GB"
# GPUs 0-1 are taken by the embedding service
export CUDA_VISIBLE_DEVICES=2,3
export VLLM_API_KEY=$(cat /run/secrets/vllm_key)

vllm serve meta-llama/Llama-3.3-70B-Instruct \
  --host 127.0.0.1 \
  --tensor-parallel-size 4 \
  --max-model-len 32768 \
  --api-key "$VLLM_API_KEY"
