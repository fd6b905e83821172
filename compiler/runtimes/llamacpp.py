"""llama.cpp: llama-server's buffers per device, a layer split, layer/expert offload to host RAM."""

from .base import CALIBRATION, Efficiency, Pin, RuntimeProfile, Scheduler

# compute: of the fp16 peak for 16-bit GGUFs, of MMQ_PREFILL_SPEEDUP x it for quantized ones (estimate/speed.py)
EFFICIENCY = (
    ("consumer", Efficiency(0.80, 0.55, 0.0002, 25e-6,
                            f"fitted to llama-bench rows s1, s2, s4 (RTX 4090 / 3080), {CALIBRATION}")),
    ("datacenter", Efficiency(0.66, 0.41, 0.0002, 25e-6,
                              f"P40 row s3 (bandwidth); compute assumed below consumer, {CALIBRATION}")),
    ("cpu", Efficiency(0.60, 0.50, 0.0005, 0.0,
                       "typical DDR stream efficiency of llama.cpp CPU decode (assumption; no CPU rows)")),
)

LLAMA_HELP = ("keep the log verbosity at 4 or more (llmc smoke sets LLAMA_ARG_LOG_VERBOSITY=4; a -lv flag in "
              "the script overrides it)")
LLAMA_MEMORY_SOURCE = ("llama-server's buffer lines (log verbosity 4)", LLAMA_HELP)

BUILD = "b11312"

# tools/server/server-context.cpp update_slots(): the sampled tokens of every generating slot go into the
# batch first, then prompt tokens of the slots still reading their prompt, up to n_batch (-b 2048); llama_decode
# runs the batch in micro-batches of n_ubatch (-ub 512), each a full pass over the weights.
SCHEDULER = Scheduler("slots", 0.002, step_tokens=2048, ubatch=512, source=(
    f"llama.cpp {BUILD} tools/server/server-context.cpp update_slots, src/llama-context.cpp decode (ubatch "
    "split); per-request cost (HTTP, template, tokenizing) ~2 ms assumed"))

PROFILE = RuntimeProfile(
    name="llama.cpp",
    pin=Pin(BUILD, "ghcr.io/ggml-org/llama.cpp", f"server-{BUILD}", gpu_tag=f"server-cuda-{BUILD}",
            backend_images=(("rocm", f"ghcr.io/ggml-org/llama.cpp:server-rocm-{BUILD}"),
                            ("vulkan", f"ghcr.io/ggml-org/llama.cpp:server-vulkan-{BUILD}"),
                            ("sycl", f"ghcr.io/ggml-org/llama.cpp:server-intel-{BUILD}")),
            # the tests build llama-server from the llama.cpp that llama-cpp-python 0.3.36 vendors:
            # commit 0c1e57098, which is release b11312
            test_package=("LLAMA_CPP_PYTHON_VERSION", "0.3.36"),
            source="ggml-org/llama.cpp@0c1e57098 docs/docker.md (images server, server-cuda) and "
                   ".github/workflows/docker.yml (versioned tags server-<variant>-b<build>: cuda, rocm (amd64, "
                   "gfx908-gfx1201), vulkan, intel); Metal has no image (macOS only, run natively)"),
    engine="llama", kv_runtime="llama.cpp", efficiency=EFFICIENCY, error_band=0.03,
    memory_budget="fit-target", quantized_gguf_mmq=True, scheduler=SCHEDULER,
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
