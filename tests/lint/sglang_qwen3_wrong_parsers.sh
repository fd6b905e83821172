# lint-expect: E812:6 W827:7
python -m sglang.launch_server \
    --model-path Qwen/Qwen3-8B \
    --host 127.0.0.1 --port 30000 \
    --context-length 32768 \
    --tool-call-parser qwen3_coder \
    --reasoning-parser deepseek-r1
