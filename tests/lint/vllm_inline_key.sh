# lint-expect: E838:8
# quick test box, TODO move key to vault
CUDA_VISIBLE_DEVICES=1 vllm serve google/gemma-3-12b-it \
  --host 127.0.0.1 \
  --port 8080 \
  --max-model-len 8192 \
  --gpu-memory-utilization 0.85 \
  --api-key sk-proj-7f3a9c2e41b84d0e9a6c55d1b2f0e8aa
