# lint-expect: E822:9
# lint-hardware: 1 x "T4"
# Colab-style T4 box. bf16 because the model card says bf16.
vllm serve Qwen/Qwen3-1.7B \
  --host 127.0.0.1 \
  --api-key "$VLLM_API_KEY" \
  --max-model-len 8192 \
  --gpu-memory-utilization 0.9 \
  --dtype bfloat16 \
  --enable-auto-tool-choice --tool-call-parser hermes \
  --reasoning-parser qwen3
