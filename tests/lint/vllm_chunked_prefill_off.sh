#!/bin/bash
# lint-expect: E819:13
# lint-hardware: 1 x "A100 SXM 80GB"
# Benchmarks showed lower TTFT variance with chunked prefill off.
export VLLM_API_KEY=${VLLM_API_KEY:?set VLLM_API_KEY}

vllm serve Qwen/Qwen3-30B-A3B-Instruct-2507 \
  --host 127.0.0.1 \
  --port 8000 \
  --max-model-len 32768 \
  --max-num-seqs 64 \
  --disable-chunked-prefill \
  --max-num-batched-tokens 8192 \
  --enable-auto-tool-choice \
  --tool-call-parser hermes
