#!/bin/sh
# lint-expect: clean
# lint-hardware: 1 x "RTX 3090"
docker run -d --name llamacpp --restart unless-stopped \
  --gpus all \
  -p 127.0.0.1:8080:8080 \
  -v /srv/models:/models:ro \
  ghcr.io/ggml-org/llama.cpp:server-cuda-b11312 \
  -m /models/Mistral-Small-3.1-24B-Instruct-2503-Q4_K_M.gguf \
  --host 0.0.0.0 --port 8080 \
  -ngl 99 \
  -c 16384 -np 1 \
  -fa on
