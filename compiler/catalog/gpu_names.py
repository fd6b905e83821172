"""GPU names as users and drivers write them: "NVIDIA GeForce RTX 3090" (nvidia-smi, CUDA), "L40S 48GB",
"H100 80GB HBM3" (nvidia-smi on an H100 SXM), "RTX3090 24GB".

A name reduces to a key: the vendor and brand words dropped, the memory size taken out as a number (it must
then agree with the card's), the memory technology dropped. Cards that share a key differ only in memory
("RTX 4060 Ti 8GB" and "16GB"): the size picks one, and without a size the name is ambiguous.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from .schema import Gpu

# brand words a driver or a shop puts before the model name; both sides of a match drop them
BRAND_WORDS = frozenset({"nvidia", "geforce", "tesla", "amd", "radeon", "instinct", "intel", "apple", "graphics"})
MEMORY_TECH = frozenset({"hbm", "hbm2", "hbm2e", "hbm3", "hbm3e", "gddr6", "gddr6x", "gddr7", "lpddr5x", "vram"})
_DROPPED = BRAND_WORDS | MEMORY_TECH
_SIZE = re.compile(r"(\d+)\s*gi?b\b")


def gpu_key(name: str) -> tuple[str, int | None]:
    """("rtx3090", 24) for "NVIDIA GeForce RTX 3090 24GB"; the size is None where the name gives none."""
    text = name.lower()
    sizes = _SIZE.findall(text)
    words = [w for w in re.findall(r"[a-z0-9]+", _SIZE.sub(" ", text)) if w not in _DROPPED]
    return "".join(words), int(sizes[-1]) if sizes else None


def memory_agrees(gpu: Gpu, size_gb: int | None) -> bool:
    """A size written in a name ("48GB") is the nominal one, in GiB as the catalog records it."""
    return size_gb is None or abs(gpu.memory_bytes / 2**30 - size_gb) < 1


class GpuNames:
    """Every name and alias of the catalog's GPUs, by key."""

    def __init__(self, gpus: Iterable[Gpu]):
        self.by_key: dict[str, list[Gpu]] = {}
        self.names: dict[str, Gpu] = {}
        for gpu in gpus:
            for name in (gpu.name, *gpu.aliases):
                self.names.setdefault(name, gpu)
                group = self.by_key.setdefault(gpu_key(name)[0], [])
                if gpu not in group:
                    group.append(gpu)

    def find(self, name: str) -> Gpu | None:
        key, size = gpu_key(name)
        hits = [g for g in self.by_key.get(key, ()) if memory_agrees(g, size)]
        return hits[0] if len(hits) == 1 else None

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Names close to `name`, the same model number first ("RTX3090 24GB": RTX 3090 and 3090 Ti before
        RTX 3060), then by likeness of the keys."""
        key, size = gpu_key(name)
        numbers = set(re.findall(r"\d{2,}", key))
        scored = []
        for gpu in dict.fromkeys(self.names.values()):
            best = max(difflib.SequenceMatcher(None, key, gpu_key(n)[0]).ratio() for n in (gpu.name, *gpu.aliases))
            same_number = bool(numbers & set(re.findall(r"\d{2,}", gpu_key(gpu.name)[0])))
            if same_number or best >= 0.6:
                scored.append((not same_number, not memory_agrees(gpu, size), -best, gpu.name))
        return [name for *_, name in sorted(scored)[:limit]]
