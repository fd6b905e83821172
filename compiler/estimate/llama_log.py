"""Parse the memory lines llama-server prints at load (llama.cpp@0c1e57098; -lv 4 shows them all).

Lines read (format strings from src/llama-model.cpp, llama-kv-cache.cpp, llama-memory-recurrent.cpp,
llama-context.cpp):
  load_tensors:          CPU_Mapped model buffer size =   219.13 MiB
  llama_kv_cache:        CPU KV buffer size =     4.00 MiB
  llama_kv_cache: size =    4.00 MiB (  1024 cells,   2 layers,  1/1 seqs), K (f16):    2.00 MiB, V (f16):    2.00 MiB
  llama_memory_recurrent:        CPU RS buffer size =     0.13 MiB
  llama_context:        CPU compute buffer size =    12.50 MiB
  llama_context:        CPU  output buffer size =     0.49 MiB
  llama_context: n_ctx = 1024 / n_ctx_seq / n_batch / n_ubatch / flash_attn
  load_tensors: offloaded 10/33 layers to GPU
All sizes are printed in MiB with two decimals, so a byte figure matches when it rounds to the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MIB = 1024 * 1024

_BUFFER = re.compile(r"(?P<fn>\w+):\s+(?P<dev>\S+)\s+(?P<kind>model|KV|RS|compute|output) buffer size =\s*"
                     r"(?P<mib>[0-9.]+) MiB")
_KV_SIZE = re.compile(r"(?P<fn>llama_kv_cache\w*): size =\s*(?P<mib>[0-9.]+) MiB \(\s*(?P<cells>\d+) cells,\s*"
                      r"(?P<layers>\d+) layers,\s*(?P<seqs>\d+)/(?P<streams>\d+) seqs\), "
                      r"K \((?P<kt>\w+)\):\s*(?P<kmib>[0-9.]+) MiB, V \((?P<vt>\w+)\):\s*(?P<vmib>[0-9.]+) MiB")
_PARAM = re.compile(r"llama_context: (?P<key>n_ctx|n_ctx_seq|n_batch|n_ubatch|n_seq_max|flash_attn|kv_unified)"
                    r"\s+=\s+(?P<val>\S+)")
_OFFLOAD = re.compile(r"offloaded (?P<n>\d+)/(?P<of>\d+) layers to GPU")


@dataclass(frozen=True)
class Buffer:
    kind: str          # model | KV | RS | compute | output
    device: str        # CPU, CPU_Mapped, CUDA0, CUDA_Host ...
    mib: float

    @property
    def bytes(self) -> int:
        return round(self.mib * MIB)


@dataclass(frozen=True)
class KvCacheLine:
    mib: float
    cells: int
    layers: int
    seqs: int
    streams: int
    k_type: str
    k_mib: float
    v_type: str
    v_mib: float


@dataclass
class LlamaLog:
    buffers: list[Buffer] = field(default_factory=list)
    kv_caches: list[KvCacheLine] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    offloaded: tuple[int, int] | None = None

    def mib(self, kind: str, device: str | None = None) -> float:
        """Sum of the buffers of one kind (optionally one device), in MiB as printed."""
        return round(sum(b.mib for b in self.buffers if b.kind == kind and (device is None or b.device == device)), 2)

    def devices(self, kind: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for b in self.buffers:
            if b.kind == kind:
                out[b.device] = round(out.get(b.device, 0.0) + b.mib, 2)
        return out

    def param(self, key: str) -> int | None:
        val = self.params.get(key)
        return int(val) if val is not None and val.isdigit() else None

    @property
    def complete(self) -> bool:
        """True once the compute buffers were printed (the context finished allocating)."""
        return any(b.kind == "compute" for b in self.buffers)


def parse_llama_log(text: str) -> LlamaLog:
    log = LlamaLog()
    for line in text.splitlines():
        if m := _BUFFER.search(line):
            log.buffers.append(Buffer(m["kind"], m["dev"], float(m["mib"])))
        elif m := _KV_SIZE.search(line):
            log.kv_caches.append(KvCacheLine(float(m["mib"]), int(m["cells"]), int(m["layers"]), int(m["seqs"]),
                                             int(m["streams"]), m["kt"], float(m["kmib"]), m["vt"], float(m["vmib"])))
        elif m := _PARAM.search(line):
            log.params.setdefault(m["key"], m["val"])
        elif m := _OFFLOAD.search(line):
            log.offloaded = (int(m["n"]), int(m["of"]))
    return log


def mib_text(n_bytes: int) -> str:
    """A byte count the way llama.cpp prints it (%.2f MiB), for exact comparison with a log line."""
    return f"{n_bytes / MIB:.2f}"
