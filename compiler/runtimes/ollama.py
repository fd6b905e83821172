"""Ollama: llama.cpp's memory model and speed, admitted by its own share of free memory."""

from .base import Pin, RuntimeProfile, Scheduler
from .knobs import Tunable, backend_knob, knob
from .llamacpp import EFFICIENCY, LLAMA_MEMORY_SOURCE, SAMPLING_S_PER_ENTRY

VERSION = "0.33.0"

# Ollama 0.33 serves GGUF models with upstream llama-server (llm/server.go NewLlamaServer), so it schedules as
# llama-server does; requests beyond OLLAMA_NUM_PARALLEL wait in its queue. It passes the Modelfile's num_batch
# as both -b and -ub (llm/llama_server.go appendBatchArgs): the plans' num_batch 2048 is one micro-batch.
SCHEDULER = Scheduler("slots", 0.005, step_tokens=2048, ubatch=2048, sampling_s_per_entry=SAMPLING_S_PER_ENTRY,
                      source=(f"Ollama {VERSION} llm/server.go (llama-server underneath, its host-side sampling "
                              "too), llm/llama_server.go appendBatchArgs (-b = -ub = num_batch); per-request cost "
                              "(HTTP, template, the Go server's hop to llama-server) ~5 ms assumed"))

# Ollama 0.33 envconfig/config.go (OLLAMA_* variables) and api/types.go Options (Modelfile PARAMETERs)
KNOBS = (
    backend_knob(),
    knob("model", "from", "text", parameter="FROM"),
    knob("host", "host", "text", env="OLLAMA_HOST"),
    knob("context", "num_ctx", "tokens", parameter="num_ctx", env="OLLAMA_CONTEXT_LENGTH"),
    knob("kv_cache", "kv_cache_type", "word", env="OLLAMA_KV_CACHE_TYPE"),
    knob("slots", "num_parallel", "int", env="OLLAMA_NUM_PARALLEL"),
    knob("gpu_layers", "num_gpu", "int", parameter="num_gpu"),
    knob("batch_size", "num_batch", "int", parameter="num_batch"),
    knob("threads", "num_thread", "int", parameter="num_thread"),
    knob("flash_attention", "flash_attention", "bool", env="OLLAMA_FLASH_ATTENTION"),
    knob("keep_alive", "keep_alive", "duration", env="OLLAMA_KEEP_ALIVE"),
    knob("origins", "origins", "text", env="OLLAMA_ORIGINS", pin=False),
    knob("chat_template", "template", "text", parameter="TEMPLATE", pin=False),
    knob("n_predict", "num_predict", "int", parameter="num_predict", pin=False),
)

PROFILE = RuntimeProfile(
    name="ollama",
    # Ollama has no flags: targets/ollama checks the Modelfile with Ollama's own rules instead
    pin=Pin(VERSION, "ollama/ollama", VERSION, flag_table=False,
            backend_images=(("rocm", f"ollama/ollama:{VERSION}-rocm"), ("vulkan", f"ollama/ollama:{VERSION}")),
            source="ollama/ollama v0.33.0-rc2 Dockerfile, image ollama/ollama (the 0.33.0 tag is assumed); "
                   "docs/docker.mdx: the -rocm image for AMD, Vulkan bundled in the amd64 image"),
    engine="llama", kv_runtime="llama.cpp", efficiency=EFFICIENCY, error_band=0.05,
    memory_budget="admission", quantized_gguf_mmq=True, scheduler=SCHEDULER, last_layer_output_rows=True,
    rank=3, offload=True,
    service_name="ollama", launcher=None, create_script="ollama/create.sh",
    override_hint="Override the executable with `OLLAMA=/path/to/ollama`.", smoke_path="/",
    gguf_download=True,
    memory_log="llama-buffers", memory_source=LLAMA_MEMORY_SOURCE, llama_log_verbosity=True,
    target_package="ollama", commands=(("ollama", "serve"),), knobs=KNOBS,
    tunables=(Tunable("threads", "threads"), Tunable("gpu_layers", "step", minimum=0, needs_gpu=True)),
    default_context=((47, 262144), (23, 32768), (0, 4096)), default_slots=1, default_keep_alive_s=300,
    cache_dir="/root/.ollama", cache_env="OLLAMA_MODELS",
    image_env=(("OLLAMA_HOST", "0.0.0.0:11434"),),   # Dockerfile:317 (v0.33.0-rc2)
    source_knobs=f"Ollama {VERSION}-rc2 envconfig/config.go (OLLAMA_HOST 127.0.0.1:11434, OLLAMA_KEEP_ALIVE 5m, "
                 "OLLAMA_NUM_PARALLEL 1), server/routes.go:2043 (OLLAMA_CONTEXT_LENGTH 0: 4k / 32k / 256k by "
                 "total VRAM), server/routes.go GenerateRoutes (no authentication)",
)
