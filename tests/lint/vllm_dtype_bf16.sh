# lint-expect: E835:7
vllm serve microsoft/phi-4 \
  --host 127.0.0.1 \
  --port 8000 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 16384 \
  --dtype bf16
