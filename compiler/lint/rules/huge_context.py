from ..context import finding
from ..registry import rule
from ..spill import consequence, over, parts


@rule("W816", "CTX-HUGE-KV", "Context whose KV cache does not fit beside the weights",
      "llama.cpp#8817; envoyproxy/ai-gateway PR#2400 (14 GiB KV for a 1.7B); llama.cpp b11312 common/common.h:452 "
      "(-c 0 = the trained context)")
def huge_context(server, ctx):
    found = over(server, ctx)
    shared = server.runtime.slots_split_context   # -c holds every slot's context: the total is what to lower
    if found is None or (found[2] <= found[1].capacity_bytes and found[0].candidate.slots > 1 and not shared):
        return
    ev, device, _ = found
    value = server.value("context")
    yield finding("W816", f"a {ev.candidate.context:,}-token context does not fit on {device.device}: {parts(device)}",
                  value or server.span, label="KV cache too large", detail=consequence(server),
                  help="lower the context to what requests need, or quantize the KV cache (q8_0 halves it)")
