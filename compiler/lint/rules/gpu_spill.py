from ...units import format_bytes
from ..context import finding
from ..registry import rule


def _over(server, ctx):
    """(the evaluation, the first GPU over its capacity, that GPU at one slot) or None."""
    verdict = ctx.evaluation(server)
    ev = verdict.evaluation if verdict else None
    if ev is None or ev.memory.kv_tokens_capacity is not None or ev.candidate.layout.gpu_layers is not None:
        return None
    device = next((d for d in ev.memory.devices if d.kind == "gpu" and d.total_bytes > d.capacity_bytes), None)
    if device is None:
        return None
    slots = ev.candidate.slots
    one_slot = device.total_bytes - device.kv_cache_bytes * (slots - 1) // max(slots, 1)
    return ev, device, one_slot


def _parts(device) -> str:
    return (f"weights {format_bytes(device.weights_bytes)} + KV cache {format_bytes(device.kv_cache_bytes)} + "
            f"compute {format_bytes(device.compute_bytes)} = {format_bytes(device.total_bytes)} of "
            f"{format_bytes(device.capacity_bytes)}")


def _consequence(server) -> str:
    if server.runtime.memory_budget == "admission":
        return "Ollama then loads fewer layers on the GPU and runs the rest on the CPU, many times slower, without " \
               "an error."
    return "llama-server then moves layers to the CPU to fit (many times slower), or fails to allocate the context."


@rule("W816", "CTX-HUGE-KV", "Context whose KV cache does not fit beside the weights",
      "llama.cpp#8817; envoyproxy/ai-gateway PR#2400 (14 GiB KV for a 1.7B); llama.cpp b11312 common/common.h:452 "
      "(-c 0 = the trained context)")
def huge_context(server, ctx):
    over = _over(server, ctx)
    if over is None or over[2] <= over[1].capacity_bytes and over[0].candidate.slots > 1:
        return
    ev, device, _ = over
    value = server.value("context")
    yield finding("W816", f"a {ev.candidate.context:,}-token context does not fit on {device.device}: {_parts(device)}",
                  value or server.span, label="KV cache too large", detail=_consequence(server),
                  help="lower the context to what requests need, or quantize the KV cache (q8_0 halves it)")


@rule("W817", "OLL-PARALLEL-SPILL", "Parallel slots whose KV caches do not fit on the GPU",
      "ollama#5756, #11335; Ollama 0.33 llm/llama_server.go:375 (-c num_ctx x num_parallel)")
def parallel_spill(server, ctx):
    over = _over(server, ctx)
    if over is None or over[2] > over[1].capacity_bytes or over[0].candidate.slots <= 1:
        return
    ev, device, one = over
    value = server.value("slots")
    yield finding("W817", f"{ev.candidate.slots} slots x {ev.candidate.context:,} tokens do not fit on "
                  f"{device.device}: {_parts(device)}; one slot would ({format_bytes(one)})", value or server.span,
                  label=f"{ev.candidate.slots} slots", detail=_consequence(server),
                  help="serve fewer requests at once, or give each a shorter context")
