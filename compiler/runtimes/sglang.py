"""SGLang: a paged KV pool sized by mem_fraction_static, TP/PP over identical GPUs."""

from dataclasses import replace

from .base import Pin, RuntimeProfile, Scheduler
from .vllm import EFFICIENCY as VLLM_EFFICIENCY

# SGLang 0.5.23 arg_groups/memory_hook.py handle_gpu_memory_settings: chunked_prefill_size by GPU memory
# (< 20 GiB 2048, < 60 GiB 4096, < 160 GiB 8192, else 16384); the prefill batch is min(that, max_prefill_tokens
# 16384). max_running_requests: resolve_max_num_reqs, 2048-4096 unless the pool is tiny.
CHUNKED_PREFILL = ((160, 16384), (60, 8192), (20, 4096), (0, 2048))
MAX_RUNNING = ((0, 2048),)

VERSION = "0.5.23"

SCHEDULER = Scheduler("prefill-first", 0.010, preempts=True, source=(
    f"SGLang {VERSION} srt/managers/scheduler.py get_next_batch_to_run (a prefill batch runs before decoding "
    "resumes; chunked_prefill_size per batch); per-request cost ~10 ms assumed, as vLLM's"))

PROFILE = RuntimeProfile(
    name="sglang",
    pin=Pin(VERSION, "lmsysorg/sglang", f"v{VERSION}", test_package=("SGLANG_VERSION", VERSION),
            source="sgl-project/sglang docker/Dockerfile, image lmsysorg/sglang; tags v<release> are CUDA 13 "
                   "builds (the -cu129 tags ended at v0.5.19)"),
    engine="paged", kv_runtime="vllm", error_band=0.10,
    # no SGLang rows to fit: assumed no faster than vLLM (same kinds of kernels), so an uncalibrated edge
    # never decides a plan; vLLM's lower rank wins the tie
    efficiency=tuple((cls, replace(fit, source=f"assumed equal to vLLM's ({fit.source}); no SGLang rows"))
                     for cls, fit in VLLM_EFFICIENCY),
    memory_budget="fraction", slow_int4_kernels=True,
    batched_tokens=CHUNKED_PREFILL, max_seqs=MAX_RUNNING, scheduler=SCHEDULER, memory_fraction=0.88,
    memory_fraction_source="SGLang --mem-fraction-static auto (~0.85-0.9 by GPU size; server_args heuristic)",
    rank=1, needs_tool_parser=True, homogeneous_ranks=True,
    service_name="sglang", launcher="sglang/launch.sh",
    override_hint="Override the interpreter with `PYTHON=/path/to/python3`; extra arguments are passed on.",
    memory_log="vllm-lines",
)
