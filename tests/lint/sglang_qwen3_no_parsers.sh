#!/bin/bash
# lint-expect: E804:9 W806:7 W827:7
# lint-hardware: 2 x "L40S"
# SGLang for the agent team (they call it with tools=[...]).
export HF_HOME=/models/hf

python3 -m sglang.launch_server \
  --model-path Qwen/Qwen3-32B \
  --host 0.0.0.0 \
  --port 30000 \
  --tp-size 2 \
  --context-length 32768 \
  --mem-fraction-static 0.85
