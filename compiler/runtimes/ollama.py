"""Ollama: llama.cpp's memory model and speed, admitted by its own share of free memory."""

from .base import Pin, RuntimeProfile
from .llamacpp import EFFICIENCY, LLAMA_MEMORY_SOURCE

VERSION = "0.33.0"

PROFILE = RuntimeProfile(
    name="ollama",
    # Ollama has no flags: targets/ollama checks the Modelfile with Ollama's own rules instead
    pin=Pin(VERSION, "ollama/ollama", VERSION, flag_table=False,
            source="ollama/ollama v0.33.0-rc2 Dockerfile, image ollama/ollama (the 0.33.0 tag is assumed)"),
    engine="llama", kv_runtime="llama.cpp", efficiency=EFFICIENCY, error_band=0.05,
    memory_budget="admission", quantized_gguf_mmq=True,
    rank=3, offload=True,
    service_name="ollama", launcher=None, create_script="ollama/create.sh",
    override_hint="Override the executable with `OLLAMA=/path/to/ollama`.", smoke_path="/",
    gguf_download=True,
    memory_log="llama-buffers", memory_source=LLAMA_MEMORY_SOURCE, llama_log_verbosity=True,
)
