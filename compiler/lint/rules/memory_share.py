from ...importers.config import VISIBLE_DEVICES
from ..context import finding
from ..registry import rule


@rule("E815", "GMU-COLOCATE", "Servers on the same GPUs whose memory fractions add up to more than all of it",
      "vllm#17979, #10533, #20305; vLLM 0.33 v1/worker/utils.py:724 (requested_memory = total x "
      "gpu_memory_utilization, which must be free at start)", scope="run")
def memory_share(configs, ctx):
    """Servers of one file share a host (a compose file, a script); across the files of a run, only servers
    that name the same GPU (CUDA_VISIBLE_DEVICES, device_ids) are taken to share it. A Kubernetes pod's
    counted GPUs are its own (the device plugin allocates them)."""
    placed = []
    for config in configs:
        for server in config.servers:
            fraction = _fraction(server)
            if fraction is None or (server.container is not None and server.container.exclusive_gpus):
                continue
            devices = _devices(server)
            sharing = [(s, f) for s, f, d, c in placed
                       if (d is not None and devices is not None and d & devices)
                       or (c is config and (d is None or devices is None))]
            yield from _over(server, fraction, sharing)
            placed.append((server, fraction, devices, config))


def _over(server, fraction: float, sharing):
    total = fraction + sum(f for _, f in sharing)
    if not sharing or total <= 1:
        return
    first = sharing[0][0]
    at = server.value("gpu_memory_utilization") or server.value("mem_fraction_static") or server.span
    yield finding("E815", f"{len(sharing) + 1} servers on the same GPU claim {total:.0%} of its memory",
                  at, label=f"{fraction:g} of the GPU", also=((first.span, f"{_fraction(first):g} here"),),
                  detail="Each engine takes its fraction of the GPU's whole memory and needs it free when it "
                         "starts; the second one finds too little and exits (\"No available memory for the cache "
                         "blocks\"), or evicts the first.",
                  help="give them fractions that add up to at most 0.9, or separate GPUs "
                       "(CUDA_VISIBLE_DEVICES, device_ids)")


def _fraction(server) -> float | None:
    rt = server.runtime
    if rt.memory_fraction is None:
        return None
    value = server.value("gpu_memory_utilization") or server.value("mem_fraction_static")
    number = value.number() if value else None
    return number if number is not None else rt.memory_fraction


def _devices(server) -> frozenset[str] | None:
    """The GPU ids the server may use; None: every GPU of the host."""
    for name in VISIBLE_DEVICES:
        value = server.env.get(name)
        if value is not None and value.text and not value.symbolic and value.text != "all":
            return frozenset(d.strip() for d in value.text.split(","))
    c = server.container
    if c is not None and c.device_ids:
        return frozenset(c.device_ids)
    if c is not None and c.gpus is not None and not c.gpus_all:
        return None if c.gpus else frozenset()
    return None
