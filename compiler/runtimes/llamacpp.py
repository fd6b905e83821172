"""llama.cpp: llama-server's buffers per device, a layer split, layer/expert offload to host RAM."""

from .base import RuntimeProfile

LLAMA_HELP = ("keep the log verbosity at 4 or more (llmc smoke sets LLAMA_ARG_LOG_VERBOSITY=4; a -lv flag in "
              "the script overrides it)")
LLAMA_MEMORY_SOURCE = ("llama-server's buffer lines (log verbosity 4)", LLAMA_HELP)

PROFILE = RuntimeProfile(
    name="llama.cpp", engine="llama", kv_runtime="llama.cpp", speed_runtime="llama.cpp", error_band=0.03,
    memory_budget="fit-target", quantized_gguf_mmq=True,
    rank=2, offload=True,
    service_name="llama-cpp", launcher="llama.cpp/llama-server.sh",
    override_hint="Override the executable with `LLAMA_SERVER=/path/to/llama-server`; extra arguments are passed on.",
    gguf_download=True,
    metrics=("llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total",
             "llamacpp:prompt_seconds_total", "llamacpp:tokens_predicted_seconds_total",
             "llamacpp:n_decode_total", "llamacpp:n_tokens_max"),
    memory_log="llama-buffers", memory_source=LLAMA_MEMORY_SOURCE,
    llama_log_verbosity=True, compose_log_override=True, tokenize="content",
)
