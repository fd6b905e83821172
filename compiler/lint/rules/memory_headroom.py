from ...estimate.memory import DESKTOP_BYTES
from ...units import format_bytes
from ..context import finding
from ..registry import rule


@rule("W826", "CUDAGRAPH-OOM", "Memory fraction that a desktop on the GPU leaves no room for",
      "vllm#15598, #11251; vLLM 0.33 v1/worker/utils.py:761 request_memory (\"Free memory on device ... on startup "
      "is less than desired GPU memory utilization\"), v1/worker/gpu_worker.py:707 (CUDA graphs are profiled "
      "inside the budget since 0.21); the desktop's share: llmc.estimate.memory.DESKTOP_BYTES")
def memory_headroom(server, ctx):
    gpu = ctx.gpu()
    rt = server.runtime
    if gpu is None or not gpu.display_capable or rt.memory_budget != "utilization":
        return
    value = server.value("gpu_memory_utilization")
    fraction = value.number() if value else rt.memory_fraction
    if fraction is None:
        return
    wanted = fraction * gpu.visible_memory_bytes
    free = gpu.visible_memory_bytes - DESKTOP_BYTES
    if wanted <= free:
        return
    yield finding("W826", f"{fraction:g} of the {gpu.name} is {format_bytes(wanted)}, more than is free if a "
                  f"desktop holds ~{format_bytes(DESKTOP_BYTES)} of it", value or server.span,
                  label="needs to be free at start",
                  detail=f"{rt.name} takes the fraction of the card's whole memory and checks at start that it is "
                         "free; a display server, a browser or another process holding memory on the card makes it "
                         "exit. (CUDA graphs are captured inside this budget in the pinned release, so the old "
                         "capture-time OOM is this check now.)",
                  help=f"lower it to {free / gpu.visible_memory_bytes:.2f} or less on a card that drives a display, "
                       "or run the card headless")
