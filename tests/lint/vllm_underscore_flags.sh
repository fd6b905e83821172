# lint-expect: clean
# vLLM's parser accepts underscores in long options (--max_model_len == --max-model-len)
python3 -m vllm.entrypoints.openai.api_server --model Qwen/Qwen3-4B-Instruct-2507 --host 127.0.0.1 --api-key "$VLLM_API_KEY" --max_model_len 16384 --gpu_memory_utilization 0.8 --enable-auto-tool-choice --tool-call-parser hermes
