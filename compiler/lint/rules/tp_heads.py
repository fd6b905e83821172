from ..context import finding
from ..registry import rule


@rule("E813", "TP-HEADS", "Tensor-parallel size that does not divide the attention heads",
      "vllm#2652, #596, #11797; vLLM 0.33 config/model.py verify_with_parallel_config (\"Total number of attention "
      "heads (...) must be divisible by tensor parallel size (...)\")")
def tp_heads(server, ctx):
    tp = server.integer("tensor")
    found = ctx.model(server)
    if not tp or tp <= 1 or found is None or found.model.n_heads % tp == 0:
        return
    heads = found.model.n_heads
    sizes = [t for t in range(1, tp + 1) if heads % t == 0]
    yield finding("E813", f"TP {tp} does not divide {found.model.name}'s {heads} attention heads", server.value("tensor"),
                  label=f"{heads} heads / {tp}", detail="Each tensor-parallel rank holds a whole number of heads; "
                  "the engine refuses to start.",
                  help=f"use TP {sizes[-1]} (divisors of {heads}: {', '.join(map(str, sizes))}), or split the rest "
                       "with pipeline parallelism")
