#!/usr/bin/env bash
# lint-expect: E838:11
# lint-hardware: 1 x "RTX 4090"
# reachable from the office VLAN, protected by the key
llama-server \
  -m /models/gpt-oss-20b-MXFP4.gguf \
  --host 0.0.0.0 \
  --port 8080 \
  -ngl 99 \
  -c 32768 -np 1 \
  --api-key office-llm-8c1d2e \
  --jinja
