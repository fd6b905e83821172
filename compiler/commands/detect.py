"""`llmc detect [--json]`: this machine's NVIDIA GPUs (through NVML), printed as a `hardware { ... }` block.

With no NVIDIA driver or GPU it says so plainly and exits 1.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass

from ..catalog import Catalog
from ..diagnostics import define_code, error
from ._catalog_args import add_catalog_options, open_catalog, print_json
from ._report import emit, out

E308 = define_code("E308", "No GPU detected", "commands.detect")


@dataclass(frozen=True)
class DetectedGpu:
    index: int
    name: str                      # as NVML reports it ("NVIDIA GeForce RTX 4090")
    memory_bytes: int
    compute_capability: str | None
    driver: str
    catalog_name: str | None       # the matching catalog record, if any


def register(sub) -> None:
    p = sub.add_parser("detect", help="print this machine's GPUs as a hardware { ... } block (needs the NVIDIA driver)")
    add_catalog_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    catalog = open_catalog(args)
    try:
        gpus = probe(catalog)
    except RuntimeError as exc:
        emit([error(E308, "no NVIDIA GPU found on this machine", detail=str(exc),
                    help='write the hardware block by hand (gpu = 1 x "RTX 4090", or gpu = none for CPU only)')],
             {}, "full")
        return 1
    block = hardware_block(gpus, host_memory_bytes())
    if args.json:
        print_json({"gpus": [asdict(g) for g in gpus], "hardware": block})
    else:
        out(block)
    return 0


def probe(catalog: Catalog) -> list[DetectedGpu]:
    """The GPUs NVML sees; RuntimeError (with NVML's reason) when there is no driver or no GPU."""
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise RuntimeError(f"NVML could not start: {exc} (is the NVIDIA driver installed?)") from None
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        count = pynvml.nvmlDeviceGetCount()
        if count == 0:
            raise RuntimeError(f"the NVIDIA driver {driver} is loaded but reports no GPU")
        return [_device(pynvml, i, driver, catalog) for i in range(count)]
    except pynvml.NVMLError as exc:
        raise RuntimeError(f"NVML query failed: {exc}") from None
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def _device(pynvml, index: int, driver: str, catalog: Catalog) -> DetectedGpu:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    name = _text(pynvml.nvmlDeviceGetName(handle))
    memory = int(pynvml.nvmlDeviceGetMemoryInfo(handle).total)
    try:
        major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
        cc = f"{major}.{minor}"
    except pynvml.NVMLError:
        cc = None
    match = match_gpu(catalog, name, memory)
    return DetectedGpu(index=index, name=name, memory_bytes=memory, compute_capability=cc, driver=driver,
                       catalog_name=match)


def match_gpu(catalog: Catalog, nvml_name: str, memory_bytes: int) -> str | None:
    """The catalog name for an NVML device name; between same-named SKUs, the one nearest in memory."""
    gpu = catalog.find_gpu(nvml_name)
    if gpu is not None:
        return gpu.name
    hits = [catalog.gpus[n] for n in catalog.gpu_suggestions(nvml_name) if n in catalog.gpus]
    close = [g for g in hits if abs(g.memory_bytes - memory_bytes) <= 0.1 * g.memory_bytes]
    return close[0].name if close else None


def hardware_block(gpus: list[DetectedGpu], host_memory: int | None) -> str:
    """`hardware { gpu = N x "NAME" ... }` in the canonical .llmspec layout."""
    counts = Counter(g.catalog_name or g.name for g in gpus)
    unknown = sorted({g.name for g in gpus if g.catalog_name is None})
    groups = [f'{n} x "{name}"' for name, n in counts.items()]
    gpu_value = groups[0] if len(groups) == 1 else "[" + ", ".join(groups) + "]"
    fields = [("gpu", gpu_value)]
    if host_memory:
        fields.append(("memory", f"{host_memory // 2**30} GiB"))
    width = max(len(k) for k, _ in fields)
    lines = ["hardware {"]
    for key, value in fields:
        lines.append(f"  {key.ljust(width)} = {value}")
    lines.append("}")
    for name in unknown:
        lines.append(f'# "{name}" is not in the catalog: add it with --catalog DIR (see docs/catalog.md)')
    return "\n".join(lines) + "\n"


def host_memory_bytes() -> int | None:
    """Total host RAM (Linux /proc/meminfo, else sysconf); None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
