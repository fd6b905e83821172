# lint-expect: E821:8
# lint-hardware: 1 x "H100 PCIe"
# need long context for the RAG pipeline
vllm serve Qwen/Qwen3-8B \
    --host 127.0.0.1 \
    --port 8000 \
    --api-key "$VLLM_API_KEY" \
    --max-model-len 131072 \
    --enable-auto-tool-choice \
    --tool-call-parser hermes \
    --reasoning-parser qwen3
