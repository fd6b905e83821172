from ..context import finding
from ..registry import rule


@rule("E823", "CTR-NO-GPU", "GPU server container without a GPU",
      "ollama#3417, #5166; Compose spec deploy.resources.reservations.devices")
def no_gpu(server, ctx):
    if not _unreserved(server) or server.runtime.offload:
        return
    yield finding("E823", f"the {server.runtime.name} container reserves no GPU and cannot start without one",
                  server.container.span, label="no GPU reserved",
                  detail="Containers see no GPU unless one is reserved; the engine fails at start.",
                  help=_HELP)


@rule("W824", "CTR-NO-GPU", "Container that runs the model on the CPU for want of a GPU reservation",
      "ollama#3417, #5166; Compose spec deploy.resources.reservations.devices")
def cpu_fallback(server, ctx):
    if not _unreserved(server) or not server.runtime.offload or not _gpu_image(server):
        return
    yield finding("W824", f"the {server.runtime.name} container reserves no GPU: it runs the model on the CPU, "
                  "many times slower, without an error", server.container.span, label="no GPU reserved",
                  help=_HELP)


_HELP = ("compose: `deploy.resources.reservations.devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]` "
         "(or `gpus: all`); Kubernetes: `resources.limits: {nvidia.com/gpu: 1}`; docker run: `--gpus all`")


def _unreserved(server) -> bool:
    c = server.container
    return c is not None and c.gpus is None and not c.gpus_all and not c.device_ids


def _gpu_image(server) -> bool:
    """Whether the image runs on a GPU: a runtime with one image for all (Ollama) always; else a tag of the
    pin's GPU images (llama.cpp's `server-cuda-*`, `server-rocm-*`; not its CPU `server-*`)."""
    pin = server.runtime.pin
    if pin.gpu_tag is None:
        return True
    image = server.container.image.text if server.container.image else ""
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
    gpu_tags = [pin.gpu_tag, *(ref.rpartition(":")[2] for _, ref in pin.backend_images)]
    return any(tag.startswith(t.rpartition("-")[0]) for t in gpu_tags)
