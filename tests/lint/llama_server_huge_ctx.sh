# lint-expect: W816:9
# lint-hardware: 1 x "RTX 3060 12GB"
# "use the full 128k context the model supports"
llama-server \
  -m /models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf \
  --host 127.0.0.1 \
  --port 8080 \
  -ngl 99 \
  -c 131072 \
  -np 1 \
  -fa on
