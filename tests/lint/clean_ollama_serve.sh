#!/bin/sh
# lint-expect: clean
# lint-hardware: 1 x "RTX 3060 12GB"
# run as the `ollama` user from cron @reboot on the NUC-style box
export OLLAMA_HOST=127.0.0.1:11434
export OLLAMA_CONTEXT_LENGTH=8192
export OLLAMA_FLASH_ATTENTION=1
export OLLAMA_KV_CACHE_TYPE=q8_0
export OLLAMA_MODELS=/data/ollama/models
exec ollama serve >> /var/log/ollama.log 2>&1
