"""Enumerate, prune and evaluate candidates for one deployment."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..catalog.schema import Format, Model, Variant
from ..estimate.speculative import speedup
from ..estimate.from_file import weights_from_tensors
from ..estimate.weights import WeightBytes, weight_bytes
from .candidates import (Candidate, Rejection, context_for, kv_rejection, layouts, model_rejection,
                         runtime_rejection)
from .evaluate import Context, Evaluation, estimate_speed_for, evaluate, fit_with_offload, speed_violation

# KV types `auto` may pick, best quality first.
AUTO_KV = ("f16", "fp8", "q8_0", "q4_0")
# Speculative decoding pays off for a few concurrent streams; at large batch the target is compute-bound.
SPECULATIVE_MAX_CONCURRENCY = 4


@dataclass
class SearchResult:
    feasible: list[Evaluation] = field(default_factory=list)
    infeasible: list[Evaluation] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    evaluated: int = 0


def search(ctx: Context, models, catalog, local=None) -> SearchResult:
    result = SearchResult()
    for model in models:
        _search_model(ctx, model, catalog, local, result)
    return result


def _variants(ctx: Context, model: Model, catalog, local) -> list[tuple[Variant | None, Format, WeightBytes]]:
    allowed = ctx.deployment.quantization.allowed
    out = []
    if local is not None:
        fmt = catalog.formats.get(local.format)
        if fmt is not None:
            out.append((None, fmt, _local_weights(local, fmt)))
        return out
    seen = set()
    for variant in sorted(model.variants, key=lambda v: (v.format, v.repo, v.file or "")):
        fmt = catalog.formats.get(variant.format)
        if fmt is None or variant.format in seen or (allowed and variant.format not in allowed):
            continue
        seen.add(variant.format)
        out.append((variant, fmt, weight_bytes(model, fmt, catalog.formats)))
    return out


def _local_weights(local, fmt: Format) -> WeightBytes:
    return weights_from_tensors(local.model, local.tensors, fmt.id)


def _search_model(ctx: Context, model: Model, catalog, local, result: SearchResult) -> None:
    d = ctx.deployment
    if local is None:
        rejection = model_rejection(d, model)
        if rejection:
            result.rejected.append(rejection)
            return
    variants = _variants(ctx, model, catalog, local)
    if not variants:
        want = ", ".join(d.quantization.allowed or ()) or "known"
        result.rejected.append(Rejection(model.name, "quantization", f"no {want} checkpoint in the catalog"))
        return
    context = context_for(d, model)
    capacity = _total_capacity(ctx)
    reasons: list[str] = []
    for variant, fmt, weights in variants:
        if weights.total_bytes > capacity:
            reasons.append(f"{fmt.id} weights ({weights.total_bytes / 2**30:.1f} GiB) exceed all GPU and host memory")
            continue
        for runtime in _runtimes(ctx, catalog):
            why = runtime_rejection(d, runtime, fmt, ctx.topology, model)
            if why:
                reasons.append(why)
                continue
            for kv in _kv_types(ctx, catalog):
                why = kv_rejection(kv, runtime, model, ctx.topology)
                if why:
                    reasons.append(why)
                    continue
                for layout in layouts(runtime, model, ctx.topology):
                    c = Candidate(model=model, variant=variant, fmt=fmt, runtime=runtime, kv=kv, layout=layout,
                                  context=context, slots=_slots(d, layout))
                    _record(ctx, c, weights, catalog, result)
    if reasons and not any(e.candidate.model is model for e in result.feasible + result.infeasible):
        result.rejected.append(Rejection(model.name, _constraint_of(reasons[0]), reasons[0]))


def _constraint_of(reason: str) -> str:
    return "memory" if "exceed" in reason else "runtime support"


def _record(ctx: Context, c: Candidate, weights: WeightBytes, catalog, result: SearchResult) -> None:
    ev = evaluate(ctx, c, weights)
    result.evaluated += 1
    if ev.violation and ev.violation.constraint == "memory":
        offloaded = fit_with_offload(ctx, c, weights)
        if offloaded is not None:
            ev = offloaded
    if ev.violation and ev.violation.constraint == "tpot":
        ev = _with_speculation(ctx, ev, weights, catalog) or ev
    (result.feasible if ev.feasible else result.infeasible).append(ev)


def _with_speculation(ctx: Context, ev: Evaluation, weights: WeightBytes, catalog) -> Evaluation | None:
    d = ctx.deployment
    c = ev.candidate
    if d.concurrency > SPECULATIVE_MAX_CONCURRENCY:
        return None
    best = None
    for method in _spec_methods(c):
        spec = speedup(d.task, method)
        speed = estimate_speed_for(ctx, c, weights, ev.memory, spec)
        trial = Evaluation(replace(c, speculative=spec), ev.memory, speed, speed_violation(ctx, speed))
        if trial.feasible and (best is None or speed.tpot_s.value < best.speed.tpot_s.value):
            best = trial
    return best


def _spec_methods(c: Candidate) -> list[str]:
    methods = []
    if c.model.mtp_layers and "mtp" in c.runtime.speculative:
        methods.append("mtp")
    if "ngram" in c.runtime.speculative:
        methods.append("ngram")
    return methods


def _runtimes(ctx: Context, catalog):
    allowed = ctx.deployment.runtime.allowed
    return [catalog.runtimes[n] for n in sorted(catalog.runtimes) if not allowed or n in allowed]


def _kv_types(ctx: Context, catalog):
    allowed = ctx.deployment.kv_cache.allowed
    names = allowed or tuple(k for k in AUTO_KV if k in catalog.kv_types)
    return [catalog.kv_types[n] for n in names if n in catalog.kv_types]


def _slots(d, layout) -> int:
    return max(1, -(-d.concurrency // max(layout.replicas, 1)))


def _total_capacity(ctx: Context) -> int:
    gpus = sum(dev.gpu.memory_bytes for dev in ctx.topology.devices)
    return gpus + ctx.host_ram_bytes
