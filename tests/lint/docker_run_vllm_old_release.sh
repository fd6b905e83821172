# lint-expect: W837:9
# pinned to the release we validated last year
docker run --runtime nvidia --gpus '"device=0"' \
  --ipc=host \
  -v ~/.cache/huggingface:/root/.cache/huggingface \
  -p 127.0.0.1:8000:8000 \
  -e VLLM_API_KEY=${VLLM_API_KEY} \
  --name vllm \
  vllm/vllm-openai:v0.6.3.post1 \
  --model meta-llama/Llama-3.1-8B-Instruct \
  --max-model-len 16384 \
  --enable-auto-tool-choice --tool-call-parser llama3_json
