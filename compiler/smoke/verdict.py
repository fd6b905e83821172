"""Judge measurements against the plan: memory within the error band, latency within the spec's targets.

Memory is gated on the plan's band (never tighter than the runtime's print resolution). Latency is
gated on the spec's targets only (the median request); the prediction and its band are shown beside
the measurement, and being outside that band is reported, not failed: a speed model is calibrated
by these runs, not checked by them.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, error
from ..plan import Estimate, Plan
from ..runtimes import profile
from ..units import format_bytes, format_duration
from . import codes
from .load import LoadResult, percentile
from .measure import MemoryFigure, plan_devices
from .report import FAIL, INFO, PASS, SKIP, Check


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "not reported"
    return format_bytes(value) if unit == "bytes" else f"{value:,.0f} tokens"


def memory_check(f: MemoryFigure) -> Check:
    predicted = f"{_amount(f.predicted, f.unit)} ({_amount(max(f.low, 0), f.unit)} .. {_amount(f.high, f.unit)})"
    if f.measured is None:
        return Check(f"memory {f.device} {f.part}", FAIL if f.gating else INFO, f"not in {f.source}", predicted,
                     "not reported", codes.E607 if f.gating else None)
    off = (f.measured - f.predicted) / f.predicted * 100 if f.predicted else 0.0
    if not f.gating:
        note = "within its band" if f.within else "outside its band; judged in the device's buffers total"
        return Check(f"memory {f.device} {f.part}", INFO, f"{off:+.1f}% vs plan, {note}; {f.source}", predicted,
                     _amount(f.measured, f.unit))
    status = PASS if f.within else FAIL
    return Check(f"memory {f.device} {f.part}", status, f"{off:+.1f}% vs plan; {f.source}", predicted,
                 _amount(f.measured, f.unit), None if f.within else codes.E607)


def memory_checks(plan: Plan, figures: list[MemoryFigure]) -> tuple[list[Check], list[Diagnostic]]:
    if not any(not f.source.startswith("NVML") and f.measured is not None for f in figures):
        where, help = profile(plan.runtime.name).memory_source or ("the runtime's log", None)
        summary = f"{plan.runtime.name} reported no memory figures"
        return [Check("memory", FAIL, summary, code=codes.E611)], [
            error(codes.E611, summary, detail=f"llmc smoke reads them from {where}", help=help)]
    checks = [memory_check(f) for f in figures]
    failed = [c for c in checks if c.failed]
    if not failed:
        return checks, []
    lines = [f"{c.name}: measured {c.measured}, planned {c.predicted}" for c in failed]
    return checks, [error(codes.E607, f"{len(failed)} memory figure(s) outside the plan's band "
                                      f"(±{plan.memory.error_band:.0%})", detail="\n".join(lines),
                          help="the memory estimate for this model/runtime is off: check the runtime version "
                               "matches the plan's; calibration corrects speed, not memory, so report the run's "
                               "smoke.json")]


def _estimate_text(e: Estimate, fmt=format_duration) -> str:
    return f"{fmt(e.value)} ({fmt(e.low)} .. {fmt(e.high)})"


def _band_note(measured: float, e: Estimate) -> str:
    return "within the predicted band" if e.low <= measured <= e.high else "outside the predicted band"


def _latency_check(name: str, values: list[float], target: float | None, e: Estimate,
                   statistic: str | None = None) -> Check:
    """The bound's statistic (the mean, or the percentile it names) against its target; the band is the
    predicted mean's."""
    p50 = percentile(values, 50)
    if p50 is None:   # e.g. TPOT with one output token
        if target is None:
            return Check(name, SKIP, "not measured and no target in the spec", _estimate_text(e), "-")
        return Check(name, FAIL, "not measured (answers too short)", _estimate_text(e), "-", codes.E608)
    mean = sum(values) / len(values)
    measured = f"mean {format_duration(mean)}, p50 {format_duration(p50)}, p95 {format_duration(percentile(values, 95))}"
    note = _band_note(mean, e)
    if target is None:
        return Check(name, SKIP, f"no {name} target in the spec; {note}", _estimate_text(e), measured)
    got = percentile(values, int(statistic[1:])) if statistic else mean
    ok = got <= target
    return Check(name, PASS if ok else FAIL, f"target <= {format_duration(target)} ({statistic or 'mean'}); {note}",
                 _estimate_text(e), measured, None if ok else codes.E608)


def latency_checks(plan: Plan, load: LoadResult) -> tuple[list[Check], list[Diagnostic]]:
    perf, targets = plan.performance, plan.targets
    checks = [_latency_check("ttft", load.ttfts(), targets.ttft_s, perf.ttft_s, targets.ttft_percentile),
              _latency_check("tpot", load.tpots(), targets.tpot_s, perf.tpot_s, targets.tpot_percentile)]
    throughput = load.throughput_tok_s()
    if targets.throughput_tok_s is not None:
        ok = throughput is not None and throughput >= targets.throughput_tok_s
        checks.append(Check("throughput", PASS if ok else FAIL, f"target >= {targets.throughput_tok_s:g} tok/s",
                            _estimate_text(perf.throughput_tok_s, _rate), _rate(throughput),
                            None if ok else codes.E608))
    failed = [c for c in checks if c.failed]
    if not failed:
        return checks, []
    return checks, [error(codes.E608, ", ".join(c.name for c in failed) + " missed the spec's target",
                          detail="\n".join(f"{c.name}: {c.measured}; {c.detail}" for c in failed),
                          help="the deployment is slower than the latency budget: relax the budget, lower the "
                               "concurrency, or give the spec faster hardware and rebuild")]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} tok/s"


def _stats(values: list[float], e: Estimate, target: float | None) -> dict:
    mean = sum(values) / len(values) if values else None
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "mean": mean,
            "n": len(values), "predicted": e.model_dump(), "target": target,
            "within_band": None if mean is None else e.low <= mean <= e.high}


def latency_summary(plan: Plan, load: LoadResult) -> dict:
    perf, targets = plan.performance, plan.targets
    throughput = load.throughput_tok_s()
    return {
        "ttft_s": _stats(load.ttfts(), perf.ttft_s, targets.ttft_s),
        "tpot_s": _stats(load.tpots(), perf.tpot_s, targets.tpot_s),
        "throughput_tok_s": {"measured": throughput, "predicted": perf.throughput_tok_s.model_dump(),
                             "target": targets.throughput_tok_s,
                             "within_band": None if throughput is None else
                             perf.throughput_tok_s.low <= throughput <= perf.throughput_tok_s.high},
    }


PARTS = ("weights", "kv_cache", "compute")


def predicted_figures(plan: Plan) -> dict:
    """What the plan predicted, in the calibration record's keys."""
    devices = {key: {f"{p}_bytes": getattr(d, f"{p}_bytes") for p in (*PARTS, "total")}
               for key, d in plan_devices(plan).items()}
    out = {f"{p}_bytes": sum(d[f"{p}_bytes"] for d in devices.values()) for p in (*PARTS, "total")}
    out.update(devices=devices, ttft_s=plan.performance.ttft_s.value, tpot_s=plan.performance.tpot_s.value,
               throughput_tok_s=plan.performance.throughput_tok_s.value, error_band=plan.memory.error_band,
               kv_tokens_capacity=plan.memory.kv_tokens_capacity)
    return out


def measured_figures(figures: list[MemoryFigure], load: LoadResult) -> dict:
    """What the run measured, in the same keys (a part nobody reported is left out)."""
    devices: dict[str, dict] = {}
    for f in figures:
        if f.measured is None:
            continue
        if f.part == "buffers":
            continue
        key = "kv_tokens_capacity" if f.part == "kv_tokens" else f"{f.part}_bytes"
        devices.setdefault(f.device, {})[key] = f.measured
    out: dict = {}
    for part in PARTS:
        values = [d[f"{part}_bytes"] for d in devices.values() if f"{part}_bytes" in d]
        if values:
            out[f"{part}_bytes"] = sum(values)
    gpu_totals = {k: d["total_bytes"] for k, d in devices.items() if "total_bytes" in d}
    if gpu_totals:
        out["gpu_total_bytes"] = gpu_totals
    out.update(devices=devices, ttft_s=percentile(load.ttfts(), 50), tpot_s=percentile(load.tpots(), 50),
               throughput_tok_s=load.throughput_tok_s(), prompt_tokens=load.prompt_tokens_seen(),
               requests=len(load.requests), concurrency=load.concurrency)
    return out
