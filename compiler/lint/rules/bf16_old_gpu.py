from ..context import finding
from ..registry import rule


@rule("E822", "BF16-OLD-GPU", "bfloat16 on a GPU without bfloat16",
      "vllm#946, #1157; vLLM 0.33 platforms/cuda.py:637 check_if_supports_dtype (\"Bfloat16 is only supported on "
      "GPUs with compute capability of at least 8.0\")")
def bf16_old_gpu(server, ctx):
    dtype, gpu = server.value("dtype"), ctx.gpu()
    if dtype is None or (dtype.text or "").lower() not in ("bfloat16", "bf16") or gpu is None:
        return
    cc = gpu.compute_capability
    if cc is None or float(cc) >= 8.0:
        return
    yield finding("E822", f"the {gpu.name} (compute capability {cc}) has no bfloat16: the workers fail at start",
                  dtype, label="bfloat16", detail="bfloat16 needs compute capability 8.0 (Ampere) or newer; with "
                  "--dtype auto the runtime falls back to float16 by itself.",
                  help="use --dtype half (or auto)")
