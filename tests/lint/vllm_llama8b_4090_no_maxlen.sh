#!/usr/bin/env bash
# lint-expect: E801:12
# lint-hardware: 1 x "RTX 4090"
# Single 4090 box in the lab; model straight from the Hub.
set -euo pipefail

export HF_HOME=/srv/hf-cache
export VLLM_API_KEY="$(cat /etc/vllm/api-key)"

MODEL=meta-llama/Llama-3.1-8B-Instruct

vllm serve "$MODEL" \
    --host 127.0.0.1 \
    --port 8000 \
    --enable-auto-tool-choice \
    --tool-call-parser llama3_json \
    --served-model-name llama-8b
