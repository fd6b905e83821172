from ..context import finding
from ..registry import rule


@rule("E809", "CTR-SHM", "Multi-GPU container without shared memory",
      "vllm#1710; MiniMax-01#42; Docker's default /dev/shm is 64 MiB")
def shared_memory(server, ctx):
    c = server.container
    ranks = (server.integer("tensor") or 1) * (server.integer("pipeline") or 1) * (server.integer("replicas") or 1)
    if c is None or c.shared_memory or ranks <= 1:
        return
    yield finding("E809", f"{ranks} GPU workers share a 64 MiB /dev/shm: NCCL fails or hangs at start", c.span,
                  label="no ipc: host, shm_size or /dev/shm volume",
                  detail="Tensor- and pipeline-parallel workers exchange data through shared memory; "
                         "containers get 64 MiB of it by default.",
                  help="compose: `ipc: host` or `shm_size: 16gb`; Kubernetes: an `emptyDir: {medium: Memory}` "
                       "volume mounted at /dev/shm; docker run: `--ipc=host`")
