"""SGLang: a paged KV pool sized by mem_fraction_static, TP/PP over identical GPUs."""

from .base import RuntimeProfile

PROFILE = RuntimeProfile(
    name="sglang", engine="paged", kv_runtime="vllm", speed_runtime="sglang", error_band=0.10,
    memory_budget="fraction", slow_int4_kernels=True,
    rank=1, needs_tool_parser=True, homogeneous_ranks=True,
    service_name="sglang", launcher="sglang/launch.sh",
    override_hint="Override the interpreter with `PYTHON=/path/to/python3`; extra arguments are passed on.",
    memory_log="vllm-lines",
)
