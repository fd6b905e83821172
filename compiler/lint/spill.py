"""What a llama.cpp-style server does not fit on its GPUs (W816, W817 read it)."""

from ..units import format_bytes


def over(server, ctx):
    """(the evaluation, the first GPU over its capacity, that GPU at one slot) or None."""
    ev = ctx.evaluation(server)
    if ev is None or ev.memory.kv_tokens_capacity is not None or ev.candidate.layout.gpu_layers is not None:
        return None
    device = next((d for d in ev.memory.devices if d.kind == "gpu" and d.total_bytes > d.capacity_bytes), None)
    if device is None:
        return None
    slots = ev.candidate.slots
    one_slot = device.total_bytes - device.kv_cache_bytes * (slots - 1) // max(slots, 1)
    return ev, device, one_slot


def parts(device) -> str:
    rest = device.total_bytes - device.weights_bytes - device.kv_cache_bytes - device.compute_bytes
    return (f"weights {format_bytes(device.weights_bytes)} + KV cache {format_bytes(device.kv_cache_bytes)} + "
            f"compute {format_bytes(device.compute_bytes)} + runtime and margin {format_bytes(rest)} = "
            f"{format_bytes(device.total_bytes)} of {format_bytes(device.capacity_bytes)}")


def consequence(server) -> str:
    if server.runtime.memory_budget == "admission":
        return "Ollama then loads fewer layers on the GPU and runs the rest on the CPU, many times slower, without " \
               "an error."
    return "llama-server then moves layers to the CPU to fit (many times slower), or fails to allocate the context."


__all__ = ["consequence", "over", "parts"]
