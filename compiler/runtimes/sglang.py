"""SGLang: a paged KV pool sized by mem_fraction_static, TP/PP over identical GPUs."""

from .base import Efficiency, Pin, RuntimeProfile
from .vllm import BATCHED_TOKENS, MAX_SEQS  # its activation estimate reuses vLLM's schedule budgets

VERSION = "0.5.23"

PROFILE = RuntimeProfile(
    name="sglang",
    pin=Pin(VERSION, "lmsysorg/sglang", f"v{VERSION}", test_package=("SGLANG_VERSION", VERSION),
            source="sgl-project/sglang docker/Dockerfile, image lmsysorg/sglang; tags v<release> are CUDA 13 "
                   "builds (the -cu129 tags ended at v0.5.19)"),
    engine="paged", kv_runtime="vllm", error_band=0.10,
    efficiency=(("datacenter", Efficiency(0.78, 0.55, 0.0020, 0.0,
                                          "assumed close to vLLM (same kernels: FlashInfer/Triton); no SGLang rows")),
                ("consumer", Efficiency(0.75, 0.50, 0.0020, 0.0, "assumed close to vLLM; no SGLang rows"))),
    memory_budget="fraction", slow_int4_kernels=True,
    batched_tokens=BATCHED_TOKENS, max_seqs=MAX_SEQS, memory_fraction=0.88,
    memory_fraction_source="SGLang --mem-fraction-static auto (~0.85-0.9 by GPU size; server_args heuristic)",
    rank=1, needs_tool_parser=True, homogeneous_ranks=True,
    service_name="sglang", launcher="sglang/launch.sh",
    override_hint="Override the interpreter with `PYTHON=/path/to/python3`; extra arguments are passed on.",
    memory_log="vllm-lines",
)
