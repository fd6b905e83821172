"""For an infeasible spec: the nearest changes that would make it feasible.

Each relaxation is a modified copy of the deployment, solved again; only those
that really produce a plan are reported.
"""

from __future__ import annotations

from ..runtimes import profile
from ..spec import Bound, Bytes, Deployment, Duration, Licenses, Tokens, Word
from ..units import format_duration, format_tokens
from .search import AUTO_KV

LOWER_FORMATS = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "q3_k_m", "iq4_xs", "q2_k")
MAX_FIXES = 4


def relaxations(d: Deployment, ctx, result, try_spec) -> list[str]:
    fixes: list[str] = []
    for attempt in (_no_containers, _smaller_kv, _smaller_context, _lower_quantization, _more_gpus, _host_ram,
                    _license, _looser_latency):
        fix = attempt(d, ctx, result, try_spec)
        if fix and fix not in fixes:
            fixes.append(fix)
        if len(fixes) == MAX_FIXES:
            break
    return fixes


def _plan_text(plan) -> str:
    return f"{plan.model.name} {plan.model.format} on {plan.runtime.name}"


def _least(options: list, try_option):
    """(option, plan) for the first option that solves, the options ordered from the smallest change to the
    largest; None when none does. Feasibility only grows along the options, so the largest is tried first
    (one solve when nothing helps) and the boundary is found by bisection: a few solves, never one each."""
    if not options or not (plan := try_option(options[-1])):
        return None
    lo, hi, best = 0, len(options) - 1, (options[-1], plan)
    while lo < hi:
        mid = (lo + hi) // 2
        if plan := try_option(options[mid]):
            hi, best = mid, (options[mid], plan)
        else:
            lo = mid + 1
    return best


def _no_containers(d: Deployment, ctx, result, try_spec):
    """`emit = [...]` asks for containers that no runtime publishes for this GPU's backend (Metal)."""
    if not d.emit:
        return None
    plan = try_spec(d.model_copy(update={"emit": ()}))
    if plan is None or plan.runtime.image is not None:
        return None
    return (f"drop `emit = [{', '.join(d.emits)}]`: {plan.runtime.name} has no {plan.runtime.backend} container "
            f"image, and its launch script runs natively ({_plan_text(plan)})")


def _smaller_kv(d: Deployment, ctx, result, try_spec):
    """A pinned KV cache type that is too large: the most precise smaller one that fits."""
    known = [AUTO_KV.index(k) for k in d.kv_cache.allowed or () if k in AUTO_KV]
    if not known:
        return None

    def with_kv(kv: str):
        choice = d.kv_cache.model_copy(update={"kind": "one", "values": (Word(value=kv, span=d.span),)})
        return try_spec(d.model_copy(update={"kv_cache": choice}))
    for kv in AUTO_KV[max(known) + 1:]:  # most precise first: the first that solves is the one to suggest
        if plan := with_kv(kv):
            return f"kv_cache {d.kv_cache.allowed[-1]} → {kv} fits ({_plan_text(plan)})"
    return None


def _smaller_context(d: Deployment, ctx, result, try_spec):
    current = d.context.value if d.context else 32 * 1024
    span = d.context.span if d.context else d.span
    sizes = [current >> k for k in range(1, 32) if current >> k >= 2048]
    found = _least(sizes, lambda size: try_spec(d.model_copy(update={"context": Tokens(value=size, span=span)})))
    if found:
        return f"context {format_tokens(current)} → {format_tokens(found[0])} fits ({_plan_text(found[1])})"
    return None


def _lower_quantization(d: Deployment, ctx, result, try_spec):
    allowed = d.quantization.allowed
    if not allowed:
        return None
    lowest = max((LOWER_FORMATS.index(q) for q in allowed if q in LOWER_FORMATS), default=None)
    if lowest is None:
        return None

    def with_format(q: str):
        choice = d.quantization.model_copy(update={"kind": "one", "values": (Word(value=q, span=d.span),)})
        return try_spec(d.model_copy(update={"quantization": choice}))
    found = _least(list(LOWER_FORMATS[lowest + 1:]), with_format)
    return f"{allowed[-1]} → {found[0]} fits ({_plan_text(found[1])})" if found else None


def _more_gpus(d: Deployment, ctx, result, try_spec):
    gpus = d.hardware.gpu
    if not gpus:
        return None
    first = gpus[0]

    def with_extra(extra: int):
        grown = (first.model_copy(update={"count": first.count + extra}),) + tuple(gpus[1:])
        return try_spec(d.model_copy(update={"hardware": d.hardware.model_copy(update={"gpu": grown})}))
    found = _least([1, 2, 3, 4, 6], with_extra)
    return f"add {found[0]} × {first.name} ({_plan_text(found[1])})" if found else None


def _host_ram(d: Deployment, ctx, result, try_spec):
    if not d.hardware.gpu or (d.runtime.allowed and not any(profile(r).offload for r in d.runtime.allowed)):
        return None
    current = d.host_memory_bytes

    def with_ram(gib: int):
        hw = d.hardware.model_copy(update={"memory": Bytes(value=gib * 2**30, span=d.span)})
        return try_spec(d.model_copy(update={"hardware": hw}))
    found = _least([gib for gib in (32, 64, 128, 256, 512) if gib * 2**30 > current], with_ram)
    return f"give {found[0]} GiB of host RAM for CPU offload ({_plan_text(found[1])})" if found else None


def _license(d: Deployment, ctx, result, try_spec):
    if d.license.kind == "any":
        return None
    blocked = sorted({r.blocked_by for r in result.rejected if r.constraint == "license"})
    for lic in blocked:
        ids = tuple(d.license.ids) + (Word(value=lic, span=d.span),)
        relaxed = Licenses(kind="list", ids=ids, span=d.license.span) if d.license.kind == "list" else \
            Licenses(kind="any", span=d.license.span)
        plan = try_spec(d.model_copy(update={"license": relaxed}))
        if plan and plan.model.license == lic:
            return f"allow the {lic} license ({_plan_text(plan)})"
    return None


def _looser_latency(d: Deployment, ctx, result, try_spec):
    lat = d.latency
    for name in ("tpot", "ttft"):
        bound = getattr(lat, name) or _default_tpot_bound(d, name)
        if bound is None or not isinstance(bound.value, Duration):
            continue
        def with_limit(seconds: float, name=name, bound=bound):
            looser = Bound(op=bound.op, value=Duration(seconds=seconds, span=bound.value.span), span=bound.span,
                           percentile=bound.percentile)
            return try_spec(d.model_copy(update={"latency": lat.model_copy(update={name: looser})}))
        found = _least([bound.value.seconds * factor for factor in (1.5, 2, 3, 5)], with_limit)
        if found:
            return (f"{name} ≤ {format_duration(bound.value.seconds)} → {format_duration(found[0])} "
                    f"({_plan_text(found[1])})")
    return None


def _default_tpot_bound(d: Deployment, name: str) -> Bound | None:
    """The task's default TPOT floor as a bound the spec could write, where the spec writes none."""
    seconds, default = d.tpot_target
    if name != "tpot" or not default or d.latency.decode:
        return None
    span = d.latency.span or d.name_span
    return Bound(op="<=", value=Duration(seconds=seconds, span=span), span=span)
