"""`llmc detect [--json]`: this machine as a `hardware { ... }` block: its NVIDIA GPUs (through NVML), or on a
machine without one the CPU host: cores and vector instructions read from /proc/cpuinfo, memory from the OS,
memory bandwidth from a short measurement, each labelled read or measured. Exit 0 either way.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass

from ..catalog import Catalog
from ..diagnostics import define_code, warning
from ..machine import usable_cores
from ._catalog_args import add_catalog_options, open_catalog, print_json
from ..text import count
from ._report import emit, out

W308 = define_code("W308", "No GPU detected", "commands.detect")


@dataclass(frozen=True)
class DetectedGpu:
    index: int
    name: str                      # as NVML reports it ("NVIDIA GeForce RTX 4090")
    memory_bytes: int
    compute_capability: str | None
    driver: str
    catalog_name: str | None       # the matching catalog record, if any


def register(sub) -> None:
    p = sub.add_parser("detect", help="print this machine as a hardware { ... } block: its NVIDIA GPUs, else its CPU "
                                      "host (cores, instructions, memory, measured bandwidth)")
    add_catalog_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    catalog = open_catalog(args)
    try:
        gpus = probe(catalog)
    except RuntimeError as exc:
        emit([warning(W308, "no NVIDIA GPU found on this machine: describing its CPU host", detail=str(exc),
                      help='on a GPU machine install the NVIDIA driver; AMD and Apple GPUs are not probed: write '
                           '`gpu = 1 x "NAME"` from `llmc gpus` by hand')], {}, "full")
        host = probe_cpu()
        block = cpu_block(host)
        if args.json:
            print_json({"gpus": [], "cpu": asdict(host), "hardware": block})
        else:
            out(block)
        return 0
    block = hardware_block(gpus, host_memory_bytes())
    if args.json:
        print_json({"gpus": [asdict(g) for g in gpus], "hardware": block})
    else:
        out(block)
    return 0


@dataclass(frozen=True)
class DetectedCpu:
    cores: int | None              # physical cores (llama.cpp's -t default counts them too)
    isa: tuple[str, ...]           # the vector instructions llama.cpp's CPU backend uses (llmc.spec.CPU_ISA)
    memory_bytes: int | None
    bandwidth_bytes_per_s: float   # every core reading a buffer of its own at once (what decode's weight reads do)
    model: str | None              # /proc/cpuinfo "model name"


# /proc/cpuinfo flags → the spec's `isa` words
CPU_FLAGS = {"avx2": "avx2", "avx512f": "avx512", "amx_tile": "amx", "asimd": "neon", "sve": "sve"}


def probe_cpu(read_bytes: int = 256 << 20) -> DetectedCpu:
    cores, flags, model = None, set(), None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        pairs = set(re.findall(r"physical id\s*:\s*(\d+)[\s\S]*?core id\s*:\s*(\d+)", text))
        cores = len(pairs) or None
        flags = set(" ".join(re.findall(r"^(?:flags|Features)\s*:(.*)$", text, re.M)).split())
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        model = found.group(1).strip() if found else None
    except OSError:
        pass
    isa = tuple(word for flag, word in CPU_FLAGS.items() if flag in flags)
    return DetectedCpu(cores=cores or os.cpu_count(), isa=isa, memory_bytes=host_memory_bytes(),
                       bandwidth_bytes_per_s=read_bandwidth(read_bytes, usable_cores()), model=model)


def read_bandwidth(size: int, threads: int, rounds: int = 4) -> float:
    """Bytes per second `threads` threads read together, each scanning `size` bytes of its own (numpy's
    count_nonzero: SIMD, releases the GIL), best of a few rounds. A copy would count writes a decode never
    makes; one thread alone reaches a fraction of the host's bandwidth."""
    import threading

    import numpy as np

    buffers = [np.ones(size, dtype=np.uint8) for _ in range(threads)]
    best = float("inf")
    for _ in range(rounds):
        workers = [threading.Thread(target=np.count_nonzero, args=(b,)) for b in buffers]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - start)
    return threads * size / best


def cpu_block(host: DetectedCpu) -> str:
    """`hardware { gpu = none ... }` with where each figure came from."""
    fields = [("gpu", "none", "no NVIDIA GPU (NVML)")]
    if host.memory_bytes:
        fields.append(("memory", f"{host.memory_bytes // 2**30} GiB", "read: the OS's total RAM"))
    if host.cores:
        fields.append(("cores", str(host.cores), "read: /proc/cpuinfo physical cores" +
                       (f" ({host.model})" if host.model else "")))
    if host.isa:
        fields.append(("isa", "[" + ", ".join(host.isa) + "]", "read: /proc/cpuinfo flags"))
    fields.append(("memory_bandwidth", f"{host.bandwidth_bytes_per_s / 1e9:.1f} GB/s",
                   f"measured: {count(usable_cores(), 'thread')} reading 256 MiB each"))
    return _block(fields)


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
    fields = [("gpu", gpu_value, "")]
    if host_memory:
        fields.append(("memory", f"{host_memory // 2**30} GiB", ""))
    return _block(fields) + "".join(f'# "{name}" is not in the catalog: add it with --catalog DIR (see docs/catalog.md)\n'
                                    for name in unknown)


def _block(fields: list[tuple[str, str, str]]) -> str:
    """`hardware { ... }` in the canonical layout: `=` aligned, and each (key, value, why) commented when it
    says where the value came from."""
    width = max(len(k) for k, _, _ in fields)
    shown = [f"  {key.ljust(width)} = {value}" for key, value, _ in fields]
    pad = max(len(line) for line in shown)
    lines = [f"{line.ljust(pad)}  # {why}" if why else line for line, (_, _, why) in zip(shown, fields)]
    return "\n".join(["hardware {", *lines, "}"]) + "\n"


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
