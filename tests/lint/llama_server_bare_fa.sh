#!/bin/bash
# lint-expect: E835:9
# 2024-era invocation: -fa used to be a switch; this llama.cpp release wants -fa on|off|auto,
# so the next word (-ngl) is taken as its value and the server exits.
llama-server \
  -m /models/Qwen3-4B-Q4_K_M.gguf \
  --host 127.0.0.1 --port 8080 \
  -c 16384 -np 1 \
  -fa \
  -ngl 99
