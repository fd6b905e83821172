"""Units of the .llmspec language: which suffixes exist and what they scale by."""

from __future__ import annotations

import re
from enum import Enum


class Kind(str, Enum):
    TOKENS = "tokens"
    BYTES = "bytes"
    DURATION = "duration"
    RATE = "rate"
    REQUEST_RATE = "request rate"
    BANDWIDTH = "bandwidth"
    NUMBER = "number"


TOKEN_SCALE = {"": 1, "k": 1024, "M": 1024**2}
BYTE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
              "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}
RATE_UNITS = {"tok/s": 1.0}
REQUEST_RATE_UNITS = {"req/s": 1.0}
BANDWIDTH_UNITS = {f"{unit}/s": size for unit, size in BYTE_UNITS.items() if unit != "B"}   # bytes per second
TOKEN_UNITS = {"tokens": 1, "token": 1}

UNIT_KIND: dict[str, Kind] = {
    **{u: Kind.BYTES for u in BYTE_UNITS},
    **{u: Kind.DURATION for u in DURATION_UNITS},
    **{u: Kind.RATE for u in RATE_UNITS},
    **{u: Kind.REQUEST_RATE for u in REQUEST_RATE_UNITS},
    **{u: Kind.BANDWIDTH for u in BANDWIDTH_UNITS},
    **{u: Kind.TOKENS for u in TOKEN_UNITS},
}


def format_bytes(n: float) -> str:
    """Human form in IEC units, as PLAN.md and estimates print them (e.g. '43.1 GiB')."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def format_tokens(n: int) -> str:
    """'32k' for 32768, '1M' for 1048576, else the plain number."""
    if n % 1024**2 == 0 and n >= 1024**2:
        return f"{n // 1024**2}M"
    if n % 1024 == 0 and n >= 1024:
        return f"{n // 1024}k"
    return str(n)


def format_duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f}us"
    if seconds < 1:
        return f"{seconds * 1e3:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    return f"{seconds / 60:.1f}min"


# Sizes as Docker (`--shm-size 16g`, compose `shm_size: 16gb`: binary multiples, docker/go-units RAMInBytes)
# and Kubernetes quantities (`16Gi`, `16G`) write them.
_SIZE = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "m": 2**20, "mb": 2**20, "g": 2**30, "gb": 2**30, "t": 2**40,
         "tb": 2**40, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def parse_size(text: str) -> int | None:
    """Bytes of a Docker or Kubernetes size, or None when it is not one."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).lower() not in _SIZE:
        return None
    return int(float(m.group(1)) * _SIZE[m.group(2).lower()])


# Durations as Go's time.ParseDuration and Ollama's OLLAMA_KEEP_ALIVE write them: `5m`, `1h30m`, `300` (seconds),
# a negative value (for ever).
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float | None:
    text = text.strip()
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return float(text)
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)", text.lstrip("-"))
    if not parts or "".join(a + b for a, b in parts) != text.lstrip("-"):
        return None
    seconds = sum(float(a) * _GO_UNITS[b] for a, b in parts)
    return -seconds if text.startswith("-") else seconds
