from ..container_gpu import HELP, gpu_image, unreserved
from ..context import finding
from ..registry import rule


@rule("W824", "CTR-NO-GPU", "Container that runs the model on the CPU for want of a GPU reservation",
      "ollama#3417, #5166; Compose spec deploy.resources.reservations.devices")
def cpu_fallback(server, ctx):
    if not unreserved(server) or not server.runtime.offload or not gpu_image(server):
        return
    yield finding("W824", f"the {server.runtime.name} container reserves no GPU: it runs the model on the CPU, "
                  "many times slower, without an error", server.container.span, label="no GPU reserved",
                  help=HELP)
