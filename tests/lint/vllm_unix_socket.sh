#!/bin/bash
# lint-expect: clean
# behind a local proxy on a Unix socket: no TCP port at all
exec vllm serve Qwen/Qwen3-8B --uds /run/vllm/vllm.sock --max-model-len 8192 \
  --reasoning-parser qwen3 --enable-auto-tool-choice --tool-call-parser hermes
