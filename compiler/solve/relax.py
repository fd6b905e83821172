"""For an infeasible spec: the nearest changes that would make it feasible.

Each relaxation is a modified copy of the deployment, solved again; only those
that really produce a plan are reported.
"""

from __future__ import annotations

from ..spec import Bound, Bytes, Deployment, Duration, Licenses, Tokens, Word
from ..units import format_duration, format_tokens

LOWER_FORMATS = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "q3_k_m", "iq4_xs", "q2_k")
MAX_FIXES = 4


def relaxations(d: Deployment, ctx, result, try_spec) -> list[str]:
    fixes: list[str] = []
    for attempt in (_smaller_context, _lower_quantization, _more_gpus, _host_ram, _license, _looser_latency):
        fix = attempt(d, ctx, result, try_spec)
        if fix:
            fixes.append(fix)
        if len(fixes) == MAX_FIXES:
            break
    return fixes


def _plan_text(plan) -> str:
    return f"{plan.model.name} {plan.model.format} on {plan.runtime.name}"


def _smaller_context(d: Deployment, ctx, result, try_spec):
    current = d.context.value if d.context else 32 * 1024
    span = d.context.span if d.context else d.span
    size = current // 2
    while size >= 2048:
        plan = try_spec(d.model_copy(update={"context": Tokens(value=size, span=span)}))
        if plan:
            return f"context {format_tokens(current)} → {format_tokens(size)} fits ({_plan_text(plan)})"
        size //= 2
    return None


def _lower_quantization(d: Deployment, ctx, result, try_spec):
    allowed = d.quantization.allowed
    if not allowed:
        return None
    lowest = max((LOWER_FORMATS.index(q) for q in allowed if q in LOWER_FORMATS), default=None)
    if lowest is None:
        return None
    for q in LOWER_FORMATS[lowest + 1:]:
        choice = d.quantization.model_copy(update={"kind": "one", "values": (Word(value=q, span=d.span),)})
        plan = try_spec(d.model_copy(update={"quantization": choice}))
        if plan:
            return f"{allowed[-1]} → {q} fits ({_plan_text(plan)})"
    return None


def _more_gpus(d: Deployment, ctx, result, try_spec):
    gpus = d.hardware.gpu
    if not gpus:
        return None
    first = gpus[0]
    for extra in (1, 2, 3, 4, 6):
        grown = (first.model_copy(update={"count": first.count + extra}),) + tuple(gpus[1:])
        plan = try_spec(d.model_copy(update={"hardware": d.hardware.model_copy(update={"gpu": grown})}))
        if plan:
            return f"add {extra} × {first.name} ({_plan_text(plan)})"
    return None


def _host_ram(d: Deployment, ctx, result, try_spec):
    if not d.hardware.gpu or (d.runtime.allowed and not {"llama.cpp", "ollama"} & set(d.runtime.allowed)):
        return None
    current = d.host_memory_bytes
    for gib in (32, 64, 128, 256, 512):
        if gib * 2**30 <= current:
            continue
        hw = d.hardware.model_copy(update={"memory": Bytes(value=gib * 2**30, span=d.span)})
        plan = try_spec(d.model_copy(update={"hardware": hw}))
        if plan:
            return f"give {gib} GiB of host RAM for CPU offload ({_plan_text(plan)})"
    return None


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
        bound = getattr(lat, name)
        if bound is None or not isinstance(bound.value, Duration):
            continue
        for factor in (1.5, 2, 3, 5):
            seconds = bound.value.seconds * factor
            looser = Bound(op=bound.op, value=Duration(seconds=seconds, span=bound.value.span), span=bound.span)
            plan = try_spec(d.model_copy(update={"latency": lat.model_copy(update={name: looser})}))
            if plan:
                return (f"{name} ≤ {format_duration(bound.value.seconds)} → {format_duration(seconds)} "
                        f"({_plan_text(plan)})")
    return None
