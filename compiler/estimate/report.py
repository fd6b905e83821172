"""Text renderings of the estimates for PLAN.md and `llmc explain` (deterministic, ASCII only)."""

from __future__ import annotations

from ..plan import DeviceMemory
from .memory import MemoryEstimate
from .speed import SpeedEstimate

GIB = 1024 ** 3
SEGMENTS = (("weights", "W"), ("KV cache", "K"), ("compute", "C"), ("overhead", "O"))
LEGEND = "W weights, K KV cache, C compute, O overhead, . free"


def gib(n: int | float) -> str:
    return f"{n / GIB:.2f} GiB"


def _segment_bytes(device: DeviceMemory) -> dict[str, int]:
    return {"weights": device.weights_bytes, "KV cache": device.kv_cache_bytes,
            "compute": device.compute_bytes, "overhead": device.overhead_bytes}


def memory_bar(device: DeviceMemory, width: int = 40) -> str:
    """One bar per device: `[WWWWKKC O......] 18.20 / 24.00 GiB  gpu0 (RTX 4090)`.

    Cells are allotted by the largest-remainder rule so the bar always has exactly `width` cells;
    an over-full device shows `!` at the end instead of free cells.
    """
    capacity = max(device.capacity_bytes, 1)
    sizes = _segment_bytes(device)
    scale = max(capacity, device.total_bytes)
    raw = [(name, sizes[name] * width / scale) for name, _ in SEGMENTS]
    cells = {name: int(v) for name, v in raw}
    used = min(device.total_bytes, scale) * width / scale
    target = min(width, round(used))
    order = sorted(raw, key=lambda kv: (-(kv[1] - int(kv[1])), kv[0]))
    i = 0
    while sum(cells.values()) < target and order:
        cells[order[i % len(order)][0]] += 1
        i += 1
    bar = "".join(ch * cells[name] for name, ch in SEGMENTS)
    free = width - len(bar)
    over = device.total_bytes > device.capacity_bytes
    bar = bar[:width - 1] + "!" if over else bar + "." * free
    return f"[{bar}] {gib(device.total_bytes)} / {gib(device.capacity_bytes)}  {device.device}"


def memory_table(device: DeviceMemory) -> str:
    rows = [f"  {p.name:<9} {gib(p.bytes):>12}  {p.source}" + (f" ({p.detail})" if p.detail else "")
            for p in device.parts]
    free = device.capacity_bytes - device.total_bytes
    rows.append(f"  {'free':<9} {gib(free):>12}")
    return "\n".join([device.device] + rows)


def render_estimate(memory: MemoryEstimate, speed: SpeedEstimate | None = None, width: int = 40) -> str:
    """The memory bars, the per-part table with sources, KV capacity, and the speed figures."""
    lines = ["Memory per device (" + LEGEND + "):"]
    lines += ["  " + memory_bar(d, width) for d in memory.devices]
    lines.append("")
    for d in memory.devices:
        lines.append(memory_table(d))
    if memory.kv_tokens_capacity is not None:
        lines.append(f"KV cache capacity: {memory.kv_tokens_capacity} tokens"
                     + (f", maximum concurrency {memory.max_concurrency:.2f}x" if memory.max_concurrency else ""))
    lines.append(f"Memory error band: +/-{memory.error_band * 100:.0f}%")
    for note in memory.notes:
        lines.append(f"Note: {note}")
    if speed is not None:
        lines += [
            "",
            f"Speed ({speed.bound} bound):",
            f"  TTFT        {_fmt(speed.ttft_s.value, 's')} ({_fmt(speed.ttft_s.low, 's')} - {_fmt(speed.ttft_s.high, 's')})",
            f"  TPOT        {_fmt(speed.tpot_s.value * 1000, 'ms')} ({_fmt(speed.tpot_s.low * 1000, 'ms')} - "
            f"{_fmt(speed.tpot_s.high * 1000, 'ms')})",
            f"  throughput  {speed.throughput_tok_s.value:.1f} tok/s (aggregate decode)",
            f"  prefill     {speed.prefill_tok_s:.0f} tok/s",
            "  sources: " + "; ".join(speed.sources),
        ]
    return "\n".join(lines) + "\n"


def _fmt(v: float, unit: str) -> str:
    return f"{v:.3f} {unit}" if v < 10 else f"{v:.1f} {unit}"
