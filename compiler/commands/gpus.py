"""`llmc gpus [--json]`: the GPUs (and CPU-only hosts) in the catalog, with memory, bandwidth and TFLOPS."""

from __future__ import annotations


from ..catalog.schema import Gpu
from ..catalog.tables import fmt_num, text_table
from ._catalog_args import add_catalog_options, open_catalog, print_json
from ._report import report, terminal_width

HEADERS = ["GPU", "MEMORY", "BANDWIDTH", "BF16", "FP8", "FP4", "ARCH", "CC", "LINK", "ALIASES", "VERIFIED"]
OPTIONAL = ["ALIASES", "VERIFIED", "FP4", "CC", "LINK", "ARCH", "FP8"]   # dropped in this order on a narrow terminal


def register(sub) -> None:
    p = sub.add_parser("gpus", help="list the GPUs in the catalog (memory in GiB, bandwidth in GB/s, dense TFLOPS)")
    add_catalog_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    catalog = open_catalog(args)
    gpus = sorted(catalog.gpus.values(), key=lambda g: (g.vendor, g.name.lower()))
    hosts = sorted(catalog.cpu_hosts.values(), key=lambda g: g.name.lower())
    if args.json:
        print_json([g.model_dump(mode="json") for g in [*gpus, *hosts]])
        return 0
    report(text_table(HEADERS, [_row(g) for g in [*gpus, *hosts]], terminal_width(), OPTIONAL), table=True)
    return 0


def _link(gpu: Gpu) -> str:
    if gpu.kind == "cpu" or gpu.vendor == "apple":
        return "-"
    if gpu.nvlink:
        return f"nvlink {fmt_num(gpu.nvlink_gbps)} GB/s" if gpu.nvlink_gbps else "nvlink"
    return "pcie" + ("" if gpu.p2p else " (no p2p)")


def _row(gpu: Gpu) -> list[str]:
    return [gpu.name, f"{gpu.memory_bytes / 2**30:.0f} GiB", f"{fmt_num(gpu.bandwidth_gbps)} GB/s",
            fmt_num(gpu.bf16_tflops), fmt_num(gpu.fp8_tflops), fmt_num(gpu.fp4_tflops), gpu.arch,
            "-" if gpu.compute_capability is None else f"{gpu.compute_capability:.1f}", _link(gpu),
            ", ".join(sorted(gpu.aliases, key=len)[:2]), "yes" if gpu.verified else "no"]
