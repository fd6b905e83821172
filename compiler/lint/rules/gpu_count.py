from ..context import finding
from ..registry import rule


@rule("E814", "GPU-COUNT", "Parallel sizes need more GPUs than the server has",
      "vllm#5790, #10151; vLLM 0.33 config/parallel.py:1066 (\"World size (...) is larger than the number of "
      "available GPUs\")")
def gpu_count(server, ctx):
    tp, pp, dp = (server.integer(s) or 1 for s in ("tensor", "pipeline", "replicas"))
    need = tp * pp * dp
    have, where = ctx.visible_gpus(server)
    if have is not None:
        have *= server.integer("nodes") or 1   # --nnodes: the same GPUs on each node
    if have is None or need <= have:
        return
    sizes = " x ".join(f"{name} {n}" for name, n in (("TP", tp), ("PP", pp), ("DP", dp)) if n > 1)
    at = server.value("tensor") or server.value("pipeline") or server.value("replicas")
    yield finding("E814", f"{sizes} needs {need} GPUs; the server sees {have}", at,
                  label=f"{need} GPUs", also=((where, f"{have} GPU{'s' * (have != 1)} here"),) if where else (),
                  detail="Each rank needs its own GPU: the engine refuses to start, or waits for workers that "
                         "never come.",
                  help=f"give it {need} GPUs, or lower the parallel sizes to fit {have}")
