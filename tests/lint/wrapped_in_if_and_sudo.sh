#!/bin/bash
# lint-expect: E804:5
# a systemd helper: the command sits behind `if`, `sudo -E`, `nohup` and redirections
if [ -n "${START_VLLM:-1}" ]; then
  sudo -E nohup vllm serve Qwen/Qwen3-8B --max-model-len 8192 --reasoning-parser qwen3 --enable-auto-tool-choice --tool-call-parser hermes > /var/log/vllm.log 2>&1 &
fi
