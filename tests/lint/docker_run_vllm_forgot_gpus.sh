# lint-expect: E823:6
docker run --rm -it \
  -p 127.0.0.1:8000:8000 \
  -v hf-cache:/root/.cache/huggingface \
  --ipc=host \
  vllm/vllm-openai:v0.33.0 \
  --model google/gemma-3-4b-it \
  --max-model-len 8192
