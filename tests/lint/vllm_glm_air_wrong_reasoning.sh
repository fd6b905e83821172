#!/bin/bash
# lint-expect: W827:15
# lint-hardware: 4 x "H100 SXM"
# copied the flags from our Qwen3 script and swapped the model
export VLLM_API_KEY="$(vault kv get -field=key secret/llm/vllm)"
vllm serve zai-org/GLM-4.5-Air-FP8 \
  --host 127.0.0.1 \
  --port 8000 \
  --api-key "$VLLM_API_KEY" \
  --tensor-parallel-size 4 \
  --max-model-len 65536 \
  --enable-auto-tool-choice \
  --tool-call-parser glm45 \
  --served-model-name glm-air \
  --reasoning-parser qwen3
