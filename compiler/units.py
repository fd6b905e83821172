"""Units of the .llmspec language: which suffixes exist and what they scale by."""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    TOKENS = "tokens"
    BYTES = "bytes"
    DURATION = "duration"
    RATE = "rate"
    REQUEST_RATE = "request rate"
    NUMBER = "number"


TOKEN_SCALE = {"": 1, "k": 1024, "M": 1024**2}
BYTE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
              "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}
RATE_UNITS = {"tok/s": 1.0}
REQUEST_RATE_UNITS = {"req/s": 1.0}
TOKEN_UNITS = {"tokens": 1, "token": 1}

UNIT_KIND: dict[str, Kind] = {
    **{u: Kind.BYTES for u in BYTE_UNITS},
    **{u: Kind.DURATION for u in DURATION_UNITS},
    **{u: Kind.RATE for u in RATE_UNITS},
    **{u: Kind.REQUEST_RATE for u in REQUEST_RATE_UNITS},
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
