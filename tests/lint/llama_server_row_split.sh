#!/bin/bash
# lint-expect: W832:11
# lint-hardware: 2 x "RTX 3090"
# two 3090s, no NVLink bridge. Row split "because it's faster for multi-GPU" (reddit).
llama-server \
  -m /models/Llama-3.3-70B-Instruct-Q4_K_M.gguf \
  --host 127.0.0.1 \
  --port 8080 \
  -ngl 99 \
  -c 8192 -np 1 \
  -sm row \
  -ts 1,1 \
  -fa on
