"""Spec + Catalog + estimates → the best feasible Plan, why it won, and why the rest lost."""

from __future__ import annotations

import functools
from pathlib import Path

from ..diagnostics import Diagnostic, define_code, error, warning
from ..estimate.calibration import Calibration
from ..plan import Plan
from ..spec import Deployment, Latency
from .assemble import build_plan
from .candidates import Rejection
from .evaluate import Context, Evaluation
from .objective import QUALITY_FLOOR, precise_kv_only, quality, replicas_before_shards, sort_key
from .relax import relaxations
from .resolve import missing_weights, resolve
from .search import SearchResult, search

INFEASIBLE = define_code("E410", "No feasible deployment")
QUALITY_COST = define_code("W411", "Latency bounds cost quality")
# Quality points the written latency bounds may cost before the plan says so.
QUALITY_COST_POINTS = 10.0

# When no single relaxation solves the spec: what the nearest miss asks for.
NO_FIX = {
    "memory": "no candidate fits: allow smaller quantizations or KV cache types, a shorter `context`, or more GPUs",
    "ttft": "no candidate starts answering in time: loosen `latency.ttft`, shorten `prompt`, or add faster GPUs",
    "tpot": "no candidate decodes fast enough: loosen `latency.tpot` (or the task's default), or add faster GPUs",
    "throughput": "no candidate reaches the throughput: lower `latency.throughput` or add GPUs",
    "rate": "arrivals outpace every candidate: lower `workload.rate`, or add GPUs (replicas share the arrivals)",
    "license": "no model under the allowed licenses fits: widen `license`",
    "": "no single change to the spec makes it feasible: see the closest candidates above",
}

__all__ = ["INFEASIBLE", "evaluate_pinned", "solve"]


def solve(deployment: Deployment, catalog, base_dir: Path = Path("."),
          calibration: Calibration | None = None) -> tuple[Plan | None, list[Diagnostic]]:
    """`calibration`: measured runs the speed model learns from (none: the published prior alone)."""
    calibration = calibration or Calibration()
    resolved, diags = resolve(deployment, catalog, base_dir)
    if resolved is None:
        return None, diags
    ctx = make_context(deployment, resolved.topology, calibration)
    result = search(ctx, resolved.models, catalog, resolved.local)
    try_spec = functools.partial(_feasible, catalog=catalog, base_dir=base_dir, calibration=calibration)
    if result.feasible:
        plan = choose(ctx, result)
        return plan, missing_weights(deployment, resolved.local) + quality_cost(deployment, plan, try_spec)
    return None, [infeasible(ctx, result, try_spec)]


def quality_cost(d: Deployment, plan: Plan, try_spec) -> list[Diagnostic]:
    """W411 when the written latency bounds cost the plan more than QUALITY_COST_POINTS of quality: the plan
    without them, and the bound whose removal alone recovers the most."""
    lat = d.latency
    written = [name for name in ("ttft", "tpot", "decode", "throughput") if getattr(lat, name)]
    if not written:
        return []
    free = try_spec(d.model_copy(update={"latency": Latency(span=lat.span)}))
    if free is None or free.quality - plan.quality <= QUALITY_COST_POINTS:
        return []
    pairs = {"tpot": ("tpot", "decode"), "decode": ("tpot", "decode")}
    recovered = {}
    for name in written:
        without = lat.model_copy(update={n: None for n in pairs.get(name, (name,))})
        alone = try_spec(d.model_copy(update={"latency": without}))
        recovered[name] = alone.quality if alone else plan.quality
    binding = max(written, key=lambda n: (recovered[n], -written.index(n)))
    bound = getattr(lat, binding)
    return [warning(QUALITY_COST, f"`latency.{binding}` costs {free.quality - plan.quality:.0f} quality points",
                    span=bound.span, label="this bound", detail=(
                        f"The plan, {plan.model.name} {plan.model.format}, scores {plan.quality:.1f} for {d.task}; "
                        f"without the latency bounds {free.model.name} {free.model.format} on {free.runtime.name} "
                        f"would score {free.quality:.1f}, and without `{binding}` alone "
                        f"{recovered[binding]:.1f}."),
                    help=f"loosen `latency.{binding}` or add faster GPUs if the quality matters more; "
                         "`min_quality = N` refuses any plan below N")]


def make_context(deployment: Deployment, topology, calibration: Calibration | None = None) -> Context:
    """Host RAM is what `hardware.memory` says: none on a GPU host without it (no offload), and a CPU-only
    host must say it (E403)."""
    given = deployment.hardware.memory is not None
    return Context(deployment=deployment, topology=topology,
                   host_ram_bytes=deployment.host_memory_bytes if given else 0, host_ram_given=given,
                   calibration=calibration or Calibration())


def choose(ctx: Context, result: SearchResult) -> Plan:
    d = ctx.deployment
    ranked = sorted(precise_kv_only(result.feasible, ctx), key=lambda ev: sort_key(ev, d.objective, d.task))
    if d.objective != "quality":
        floor = max(quality(ev, d.task) for ev in ranked) - QUALITY_FLOOR
        ranked = [ev for ev in ranked if quality(ev, d.task) >= floor] + \
                 [ev for ev in ranked if quality(ev, d.task) < floor]
    ranked = replicas_before_shards(ranked, ctx)
    best = ranked[0]
    rejected = result.rejected + _failed_families(result)
    return build_plan(ctx, best, ranked[1:], rejected)


def _failed_families(result: SearchResult) -> list[Rejection]:
    """Models that were estimated but never fit: the first constraint their closest candidate broke."""
    feasible = {ev.candidate.model.id for ev in result.feasible}
    closest: dict[str, Evaluation] = {}
    for ev in result.infeasible:
        mid = ev.candidate.model.id
        if mid in feasible:
            continue
        if mid not in closest or ev.violation.shortfall < closest[mid].violation.shortfall:
            closest[mid] = ev
    return [Rejection(ev.candidate.model.name, ev.violation.constraint,
                      f"{ev.candidate.label}: {ev.violation.detail}", rank=1)
            for _, ev in sorted(closest.items())]


def _feasible(deployment: Deployment, catalog, base_dir: Path, calibration: Calibration) -> Plan | None:
    """A relaxed copy of the spec, solved without looking for relaxations of its own."""
    resolved, _ = resolve(deployment, catalog, base_dir)
    if resolved is None:
        return None
    ctx = make_context(deployment, resolved.topology, calibration)
    result = search(ctx, resolved.models, catalog, resolved.local)
    return choose(ctx, result) if result.feasible else None


def evaluate_pinned(deployment: Deployment, catalog, base_dir: Path = Path(".")
                    ) -> tuple[Evaluation | None, list[Rejection], list[Diagnostic]]:
    """A fully pinned spec (an imported config) evaluated as it is: its one candidate's memory and speed,
    feasible or not, or why no candidate exists (the rejections), or the spec's own errors."""
    resolved, diags = resolve(deployment, catalog, base_dir)
    if resolved is None:
        return None, [], diags
    ctx = make_context(deployment, resolved.topology)
    result = search(ctx, resolved.models, catalog, resolved.local)
    evaluations = result.feasible + result.infeasible
    return (evaluations[0] if evaluations else None), result.rejected, diags


def _closest_per_constraint(evaluations: list[Evaluation], limit: int = 4) -> list[Evaluation]:
    """The nearest miss for each constraint that failed, nearest first."""
    best: dict[str, Evaluation] = {}
    for ev in sorted(evaluations, key=lambda ev: (ev.violation.shortfall, ev.candidate.label)):
        best.setdefault(ev.violation.constraint, ev)
    return sorted(best.values(), key=lambda ev: ev.violation.shortfall)[:limit]


def infeasible(ctx: Context, result: SearchResult, try_spec) -> Diagnostic:
    d = ctx.deployment
    near = _closest_per_constraint(result.infeasible)
    lines = [f"- {ev.candidate.label}: {ev.violation.detail}" for ev in near]
    if not near:
        lines = [f"- {r.family}: {r.constraint} ({r.detail})" for r in result.rejected[:5]]
    fixes = relaxations(d, ctx, result, try_spec)
    detail = "The closest candidates and the constraint each one broke:\n" + "\n".join(lines or ["- none"])
    if fixes:
        detail += "\n\nChanges that would make it feasible:\n" + "\n".join(f"- {f}" for f in fixes)
    nearest = near[0].violation.constraint if near else (result.rejected[0].constraint if result.rejected else "")
    return error(INFEASIBLE, f"no feasible deployment for '{d.name}'", span=d.name_span, detail=detail,
                 help=fixes[0] if fixes else NO_FIX.get(nearest, NO_FIX[""]), relaxations=fixes)

