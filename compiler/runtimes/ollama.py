"""Ollama: llama.cpp's memory model and speed, admitted by its own share of free memory."""

from .base import Pin, RuntimeProfile, Scheduler
from .llamacpp import EFFICIENCY, LLAMA_MEMORY_SOURCE

VERSION = "0.33.0"

# Ollama's runner batches every parallel sequence into one batch per step (num_batch 512 by default), with
# llama.cpp underneath; requests beyond OLLAMA_NUM_PARALLEL wait in its queue.
SCHEDULER = Scheduler("slots", 0.005, step_tokens=512, ubatch=512, source=(
    f"Ollama {VERSION} runner (one batch of all parallel sequences per step, num_batch 512); per-request "
    "cost (HTTP, template, tokenizing, the Go server's hop to the runner) ~5 ms assumed"))

PROFILE = RuntimeProfile(
    name="ollama",
    # Ollama has no flags: targets/ollama checks the Modelfile with Ollama's own rules instead
    pin=Pin(VERSION, "ollama/ollama", VERSION, flag_table=False,
            source="ollama/ollama v0.33.0-rc2 Dockerfile, image ollama/ollama (the 0.33.0 tag is assumed)"),
    engine="llama", kv_runtime="llama.cpp", efficiency=EFFICIENCY, error_band=0.05,
    memory_budget="admission", quantized_gguf_mmq=True, scheduler=SCHEDULER,
    rank=3, offload=True,
    service_name="ollama", launcher=None, create_script="ollama/create.sh",
    override_hint="Override the executable with `OLLAMA=/path/to/ollama`.", smoke_path="/",
    gguf_download=True,
    memory_log="llama-buffers", memory_source=LLAMA_MEMORY_SOURCE, llama_log_verbosity=True,
)
