#!/bin/bash
# lint-expect: W831:8
# lint-hardware: 4 x "H100 SXM"
# Llama 3.3 70B on one 4xH100 node. The long timeout is for the first
# torch.compile + weight load, which was taking > 10 min on NFS.
set -e
export HF_HOME=/mnt/nfs/hf
export NCCL_TIMEOUT=1800
export NCCL_DEBUG=WARN

vllm serve meta-llama/Llama-3.3-70B-Instruct \
  --tensor-parallel-size 4 \
  --max-model-len 65536 \
  --host 127.0.0.1 \
  --api-key "$VLLM_API_KEY" \
  --enable-auto-tool-choice \
  --tool-call-parser llama3_json \
  --generation-config vllm
