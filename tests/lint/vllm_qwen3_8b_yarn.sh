# lint-expect: clean
# lint-hardware: 1 x "H100 PCIe"
# 128k via YaRN, as the Qwen3 model card describes (factor 4 over the native 32k)
vllm serve Qwen/Qwen3-8B \
    --host 127.0.0.1 \
    --port 8000 \
    --api-key "$VLLM_API_KEY" \
    --hf-overrides '{"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}' \
    --max-model-len 131072 \
    --enable-auto-tool-choice \
    --tool-call-parser hermes \
    --reasoning-parser qwen3
