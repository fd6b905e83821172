from ..context import finding
from ..container_gpu import HELP, unreserved
from ..registry import rule


@rule("E823", "CTR-NO-GPU", "GPU server container without a GPU",
      "ollama#3417, #5166; Compose spec deploy.resources.reservations.devices")
def no_gpu(server, ctx):
    if not unreserved(server) or server.runtime.offload:
        return
    yield finding("E823", f"the {server.runtime.name} container reserves no GPU and cannot start without one",
                  server.container.span, label="no GPU reserved",
                  detail="Containers see no GPU unless one is reserved; the engine fails at start.",
                  help=HELP)
