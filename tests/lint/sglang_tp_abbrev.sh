# lint-expect: clean
# lint-hardware: 4 x "H100 SXM"
# --tp / --dp as the SGLang docs write them (argparse prefix of --tp-size / --dp-size)
python3 -m sglang.launch_server --model-path meta-llama/Llama-3.1-70B-Instruct --tp 4 --context-length 32768 --tool-call-parser llama3 --port 30000
