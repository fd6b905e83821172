#!/bin/bash
# lint-expect: E801:14 E809:11 W805:8 W840:11
# lint-hardware: 2 x "A100 SXM 80GB"
set -euo pipefail
docker run -d --name vllm-70b \
  --gpus all \
  -e VLLM_API_KEY \
  -p 8000:8000 \
  -v /data/hf:/root/.cache/huggingface \
  -e HF_TOKEN="$HF_TOKEN" \
  vllm/vllm-openai:latest \
  --model meta-llama/Llama-3.1-70B-Instruct \
  --tensor-parallel-size 2 \
  --max-model-len 32768 \
  --enable-auto-tool-choice \
  --tool-call-parser llama3_json
