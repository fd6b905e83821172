#!/bin/bash
# lint-expect: E811:11
# lint-hardware: 1 x "RTX 3060 12GB"
# q8 KV to squeeze a longer context onto the 3060; FA off because it was
# slower on an older build.
./build/bin/llama-server \
    -m ~/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf \
    -ngl 99 -c 16384 -np 1 \
    --cache-type-k q8_0 \
    --cache-type-v q8_0 \
    --flash-attn off \
    --port 8080
