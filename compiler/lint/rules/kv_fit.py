from ...units import format_bytes
from ..context import finding
from ..registry import rule


@rule("E801", "VLLM-CTX-FIT", "KV pool cannot hold one full-length sequence",
      "vllm#2418, #10517, #5976; Qwen3#295; vLLM 0.33 v1/core/kv_cache_planning.py:76 (\"To serve at least one "
      "request with the model's max seq len ...\")")
def kv_fit(server, ctx):
    ev = ctx.evaluation(server)
    mem = ev.memory if ev else None
    if mem is None or mem.kv_tokens_capacity is None:
        return
    context = ev.candidate.context
    capacity = mem.kv_tokens_capacity
    if capacity >= context:
        return
    value = server.value("context")
    device = mem.devices[0]
    pool = format_bytes(device.kv_cache_bytes)
    where = value or server.span
    default = "" if value else f" (no context setting: {server.runtime.name} takes the model's {context:,})"
    gpus = ctx.hardware_text(ev.candidate.layout.tensor * ev.candidate.layout.pipeline)
    if capacity == 0:
        yield finding("E801", f"the weights ({format_bytes(device.weights_bytes)} per GPU) leave no room for a KV "
                      f"cache{default}", where, label="no KV cache",
                      detail=f"On {gpus} the weights and the runtime's reserve take the whole memory budget, and the "
                             "engine refuses to start (\"No available memory for the cache blocks\"). (llmc's "
                             "memory model: docs/estimation.md)",
                      help="serve a quantized checkpoint (AWQ, FP8, a GGUF on llama.cpp), raise the memory fraction, "
                           "or add GPUs (tensor parallelism)")
        return
    yield finding("E801", f"the KV pool ({pool} per GPU) holds {capacity:,} tokens; a {context:,}-token sequence "
                  f"does not fit{default}", where, label=f"{context:,} tokens",
                  detail=f"On {gpus}: weights {format_bytes(device.weights_bytes)} and the runtime's reserve leave "
                         f"{pool} for the KV cache, and the engine refuses to start when one request of the full "
                         "length cannot be stored. (llmc's memory model: docs/estimation.md)",
                  help=f"set the context to at most {capacity:,} tokens, use an fp8 KV cache, raise the memory "
                       "fraction, or add GPUs (tensor parallelism)")
