# lint-expect: W840:8
docker run -d --name llama \
  --gpus all \
  --restart unless-stopped \
  -v /srv/models:/models \
  -v llama-cache:/root/.cache/llama.cpp \
  -p 127.0.0.1:8080:8080 \
  ghcr.io/ggml-org/llama.cpp:server-cuda \
  -m /models/gemma-3-27b-it-Q4_K_M.gguf \
  --host 0.0.0.0 --port 8080 \
  -ngl 99 -c 16384 -np 1 -fa on
