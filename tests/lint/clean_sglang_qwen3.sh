#!/usr/bin/env bash
# lint-expect: clean
# lint-hardware: 1 x "H100 SXM"
# SGLang listens on 127.0.0.1 by default; the gateway on this host does auth.
export HF_HOME=/mnt/hf

python3 -m sglang.launch_server \
  --model-path Qwen/Qwen3-30B-A3B \
  --port 30000 \
  --context-length 32768 \
  --mem-fraction-static 0.85 \
  --tool-call-parser qwen25 \
  --reasoning-parser qwen3
