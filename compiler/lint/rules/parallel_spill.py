from ...units import format_bytes
from ..context import finding
from ..registry import rule
from ..spill import consequence, over, parts


@rule("W817", "OLL-PARALLEL-SPILL", "Parallel slots whose KV caches do not fit on the GPU",
      "ollama#5756, #11335; Ollama 0.33 llm/llama_server.go:375 (-c num_ctx x num_parallel)")
def parallel_spill(server, ctx):
    found = over(server, ctx)
    if server.runtime.slots_split_context:
        return   # llama-server's -c is shared by its slots: more slots do not grow the cache (W816 says -c)
    if found is None or found[2] > found[1].capacity_bytes or found[0].candidate.slots <= 1:
        return
    ev, device, one = found
    value = server.value("slots")
    yield finding("W817", f"{ev.candidate.slots} slots x {ev.candidate.context:,} tokens do not fit on "
                  f"{device.device}: {parts(device)}; one slot would ({format_bytes(one)})", value or server.span,
                  label=f"{ev.candidate.slots} slots", detail=consequence(server),
                  help="serve fewer requests at once, or give each a shorter context")
