#!/usr/bin/env bash
# lint-expect: W828:12
# Kimi K2 on the 8xH200 node.
MODEL=moonshotai/Kimi-K2-Instruct
PORT=${PORT:-8000}

vllm serve $MODEL \
  --host 127.0.0.1 \
  --port $PORT \
  --api-key "${VLLM_API_KEY}" \
  --tensor-parallel-size 8 \
  --trust-remote-code \
  --max-model-len 65536 \
  --enable-auto-tool-choice \
  --tool-call-parser kimi_k2
