#!/bin/bash
# lint-expect: E834:10 E834:11
# Copied from our 2024 runbook.
vllm serve mistralai/Mistral-Small-3.1-24B-Instruct-2503 \
  --host 127.0.0.1 \
  --port 8000 \
  --api-key "$VLLM_API_KEY" \
  --tokenizer-mode mistral \
  --max-model-len 32768 \
  --swap-space 16 \
  --use-v2-block-manager \
  --enable-auto-tool-choice \
  --tool-call-parser mistral
