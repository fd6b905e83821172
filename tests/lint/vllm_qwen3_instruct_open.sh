# lint-expect: E804:2
vllm serve Qwen/Qwen3-4B-Instruct-2507 --port 8000 --max-model-len 32768 --enable-auto-tool-choice --tool-call-parser hermes
