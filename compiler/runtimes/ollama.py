"""Ollama: llama.cpp's memory model and speed, admitted by its own share of free memory."""

from .base import Pin, RuntimeProfile, Scheduler
from .llamacpp import EFFICIENCY, LLAMA_MEMORY_SOURCE

VERSION = "0.33.0"

# Ollama 0.33 serves GGUF models with upstream llama-server (llm/server.go NewLlamaServer), so it schedules as
# llama-server does; requests beyond OLLAMA_NUM_PARALLEL wait in its queue. It passes the Modelfile's num_batch
# as both -b and -ub (llm/llama_server.go appendBatchArgs): the plans' num_batch 2048 is one micro-batch.
SCHEDULER = Scheduler("slots", 0.005, step_tokens=2048, ubatch=2048, source=(
    f"Ollama {VERSION} llm/server.go (llama-server underneath), llm/llama_server.go appendBatchArgs (-b = -ub = "
    "num_batch); per-request cost (HTTP, template, the Go server's hop to llama-server) ~5 ms assumed"))

PROFILE = RuntimeProfile(
    name="ollama",
    # Ollama has no flags: targets/ollama checks the Modelfile with Ollama's own rules instead
    pin=Pin(VERSION, "ollama/ollama", VERSION, flag_table=False,
            backend_images=(("rocm", f"ollama/ollama:{VERSION}-rocm"), ("vulkan", f"ollama/ollama:{VERSION}")),
            source="ollama/ollama v0.33.0-rc2 Dockerfile, image ollama/ollama (the 0.33.0 tag is assumed); "
                   "docs/docker.mdx: the -rocm image for AMD, Vulkan bundled in the amd64 image"),
    engine="llama", kv_runtime="llama.cpp", efficiency=EFFICIENCY, error_band=0.05,
    memory_budget="admission", quantized_gguf_mmq=True, scheduler=SCHEDULER,
    rank=3, offload=True,
    service_name="ollama", launcher=None, create_script="ollama/create.sh",
    override_hint="Override the executable with `OLLAMA=/path/to/ollama`.", smoke_path="/",
    gguf_download=True,
    memory_log="llama-buffers", memory_source=LLAMA_MEMORY_SOURCE, llama_log_verbosity=True,
)
