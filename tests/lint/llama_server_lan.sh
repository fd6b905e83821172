#!/bin/sh
# lint-expect: E804:6
# serve the homelab; the other machines on the LAN use it
nohup llama-server \
  -hf bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M \
  --host 0.0.0.0 --port 8080 \
  -ngl 99 -c 8192 -np 1 \
  > ~/llama.log 2>&1 &
