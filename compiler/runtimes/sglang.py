"""SGLang: a paged KV pool sized by mem_fraction_static, TP/PP over identical GPUs."""

from .base import Efficiency, RuntimeProfile
from .vllm import BATCHED_TOKENS, MAX_SEQS  # its activation estimate reuses vLLM's schedule budgets

PROFILE = RuntimeProfile(
    name="sglang", engine="paged", kv_runtime="vllm", error_band=0.10,
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
