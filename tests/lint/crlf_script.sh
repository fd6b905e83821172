#!/bin/bash
# lint-expect: E814:4 W820:4
# lint-hardware: 1 x "RTX 4090"
CUDA_VISIBLE_DEVICES=0 vllm serve Qwen/Qwen3-8B --tensor-parallel-size 2 \
  --host 127.0.0.1 --max-model-len 8192 --reasoning-parser qwen3 --enable-auto-tool-choice --tool-call-parser hermes
