# lint-expect: W830:9
# lint-hardware: 1 x "RTX 4090"
/usr/local/bin/llama-server \
  --model /srv/gguf/gemma-3-12b-it-Q4_K_M.gguf \
  --host 127.0.0.1 \
  --port 8081 \
  --n-gpu-layers 99 \
  --ctx-size 16384 \
  --context-shift \
  --kv-unified
