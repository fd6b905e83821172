"""Why an alternative lost: the comparison that decided, quoted the right way round.

The ranking (objective.sort_key) compares plans criterion by criterion, then two rules can reorder it: the
quality floor of the speed objectives and replicas before tensor parallelism. The reason given for an
alternative is the first of these that decided against it, with both figures shown to the precision that
tells them apart.
"""

from __future__ import annotations

from .evaluate import Evaluation
from .objective import QUALITY_FLOOR, criteria, peak_memory_fraction, quality, score


def why_lost(best: Evaluation, ev: Evaluation, objective: str, task: str, best_quality: float) -> str:
    if objective != "quality" and quality(ev, task) < best_quality - QUALITY_FLOOR:
        return (f"more than {QUALITY_FLOOR:g} quality points below the best plan for {task} "
                f"({_pair(quality(ev, task), best_quality, '')}), so its {objective} does not count")
    for (name, mine), (_, theirs) in zip(criteria(ev, objective, task), criteria(best, objective, task)):
        if mine == theirs:
            continue
        if mine < theirs:  # better on the criterion that ranks first: a reordering rule chose the plan
            b, c = best.candidate.layout, ev.candidate.layout
            return (f"TP {c.tensor} is within the estimate's band of {b.replicas} replicas of TP {b.tensor}, "
                    "which need no all-reduce per layer: replicas first")
        return _worse(name, best, ev, objective, task)
    return "equal on every criterion; ordered by name"


def _worse(name: str, best: Evaluation, ev: Evaluation, objective: str, task: str) -> str:
    if name == "objective" and objective != "quality":
        name = {"latency": "tpot", "memory": "memory", "throughput": "throughput"}[objective]
    if name in ("objective", "quality"):
        same = "" if name == "objective" else f"same {objective} score; "
        return f"{same}lower quality score for {task}: {_pair(quality(ev, task), quality(best, task), '')}"
    if name == "throughput":
        return f"lower throughput: {_pair(score(ev, objective, task), score(best, objective, task), ' tok/s')}"
    if name == "runtime":
        return (f"same scores; {best.candidate.runtime.name} ranks before {ev.candidate.runtime.name} between "
                "equal plans")
    if name == "tpot":
        return f"slower decode: {_pair(ev.speed.tpot_s.value * 1000, best.speed.tpot_s.value * 1000, ' ms')} per token"
    return (f"more memory: {_pair(peak_memory_fraction(ev) * 100, peak_memory_fraction(best) * 100, '%')} "
            "of the fullest GPU")


def _pair(mine: float, theirs: float, unit: str) -> str:
    """'a vs b' at the fewest decimals (up to 3) that show them differ."""
    for places in range(4):
        a, b = f"{mine:.{places}f}", f"{theirs:.{places}f}"
        if a != b:
            break
    return f"{a}{unit} vs {b}{unit}"
