"""Ollama: llama.cpp's memory model and speed, admitted by its own share of free memory."""

from .base import RuntimeProfile
from .llamacpp import EFFICIENCY, LLAMA_MEMORY_SOURCE

PROFILE = RuntimeProfile(
    name="ollama", engine="llama", kv_runtime="llama.cpp", efficiency=EFFICIENCY, error_band=0.05,
    memory_budget="admission", quantized_gguf_mmq=True,
    rank=3, offload=True,
    service_name="ollama", launcher=None, create_script="ollama/create.sh",
    override_hint="Override the executable with `OLLAMA=/path/to/ollama`.", smoke_path="/",
    gguf_download=True,
    memory_log="llama-buffers", memory_source=LLAMA_MEMORY_SOURCE, llama_log_verbosity=True,
)
