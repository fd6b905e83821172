from ..context import finding
from ..registry import rule


@rule("W820", "NCCL-P2P", "Tensor parallelism on GPUs without peer-to-peer, P2P left on",
      "vllm#8058, PR#36570; nccl-tests#117; the catalog's p2p per GPU (GeForce cards: off in the driver)")
def nccl_p2p(server, ctx):
    gpu = ctx.gpu()
    ranks = (server.integer("tensor") or 1) * (server.integer("pipeline") or 1)
    if gpu is None or gpu.p2p or ranks <= 1 or not server.runtime.homogeneous_ranks \
            or "NCCL_P2P_DISABLE" in server.env:
        return
    yield finding("W820", f"{ranks} {gpu.name} ranks without peer-to-peer: NCCL may hang at start",
                  server.value("tensor") or server.span, label="NCCL over PCIe",
                  detail="NCCL tries peer-to-peer copies the driver does not allow on these cards (or an IOMMU/ACS "
                         "setting blocks), and the first all-reduce waits for ever.",
                  help="set NCCL_P2P_DISABLE=1 in the server's environment")
