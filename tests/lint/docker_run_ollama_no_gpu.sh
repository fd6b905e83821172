# lint-expect: E803:4 W802:5 W824:5 W825:5 W829:5 W840:5
# from the README, minus the --gpus flag (the host had no nvidia-container-toolkit yet)
docker run -d --name ollama \
  -p 11434:11434 \
  ollama/ollama
