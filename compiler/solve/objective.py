"""The objective per `prefer`, and deterministic tie-breaks.

Quality = the model's per-task score (catalog, with its source) minus the
perplexity increase of its weight format and KV type (formats' quality figures).
Latency, throughput and memory come from the estimates.
"""

from __future__ import annotations

import functools
import math

from ..catalog.params import param_counts
from ..runtimes import profile
from ..text import public_source

from .evaluate import Evaluation, kv_tokens_needed

# One benchmark and version per task, so that scores compare like with like. A score on another suite or
# version (tau2-Bench for agents, LiveCodeBench over another window, MMMU-Pro ...) is not compared; "<suite> (derived)" is a score mapped onto
# the suite by a stated regression, compared and marked.
TASK_SUITES = {"chat": "MMLU-Pro", "code": "LiveCodeBench v6", "reasoning": "GPQA Diamond", "agent": "BFCL v4",
               "long-context": "LongBench v2", "multimodal": "MMMU"}
# A model without a score on the task's suite ranks by a conservative prior: 30 + 8·log2(active params in B),
# capped at the lower quartile of the built-in catalog's scores on that suite (tests/test_quality_scores.py
# keeps the caps there), so a model with evidence outranks one without unless it is among the weakest measured.
UNSCORED_BASE, UNSCORED_SLOPE = 30.0, 8.0
UNSCORED_CAP = {"chat": 60.0, "code": 30.0, "reasoning": 40.0, "agent": 29.0, "long-context": 43.0,
                "multimodal": 60.0}
# Between equally good candidates, prefer the engine built for the hardware: each runtime profile's `rank`
# (llmc.runtimes) puts vLLM before SGLang (whose speed figures are assumed equal to vLLM's for lack of
# calibration rows), llama.cpp before Ollama (which runs llama-server underneath and adds an admission margin).
# Under prefer = latency / throughput / memory, only plans within this many quality points of the best
# feasible one compete: "fastest" should not mean "a 270M model".
QUALITY_FLOOR = 10.0
# Points of quality lost per 1 % of perplexity increase.
PPL_WEIGHT = 0.5


def model_quality(model, task: str) -> tuple[float, str]:
    """The model's score for the task on the task's suite, and where it came from; else the prior, saying why."""
    suite, q = TASK_SUITES[task], model.quality
    theirs = q.suites.get(task) if q and task in q.scores else None
    if theirs in (suite, f"{suite} (derived)"):
        shown = suite if theirs == suite else f"{suite}, derived by a stated regression (not measured)"
        return q.scores[task], f"{shown}; " + "; ".join(public_source(s) for s in q.source)
    why = f"its {task} score is on {theirs}, not {suite}" if theirs else f"no published {task} score ({suite})"
    cap = UNSCORED_CAP[task]
    return _size_prior(model, cap), f"{why}: conservative prior 30 + 8·log2(active B), at most {cap:g}"


@functools.lru_cache(maxsize=4096)
def _size_prior_of(total_active: tuple[int, int], cap: float) -> float:
    active = total_active[1]
    return min(cap, UNSCORED_BASE + UNSCORED_SLOPE * math.log2(max(active / 1e9, 0.1)))


def _size_prior(model, cap: float) -> float:
    return _size_prior_of(param_counts(model), cap)


# Where the catalog has no measured perplexity increase, interpolate one from bits per weight through the
# seed's measured points (Llama-3-8B, Wikitext-2: Q4_K_M 4.9 bpw +2.7 %, Q3_K_M 3.9 bpw +13.6 %), with
# 8-bit formats at +0.1 % ("minimal quality loss", seed ch. 9-10) and 16-bit at 0. An assumption, stated
# in the plan's notes; a measured figure in the catalog always wins.
WEIGHT_LOSS_POINTS = ((2.6, 40.0), (3.9, 13.6), (4.9, 2.7), (6.6, 0.5), (8.0, 0.1), (16.0, 0.0))
KV_LOSS_POINTS = ((4.5, 2.0), (8.0, 0.1), (16.0, 0.0))
ASSUMED_LOSS = "perplexity increase interpolated from bits per weight (seed ch. 11 points); assumed"


def _interpolate(points, bits: float) -> float:
    if bits <= points[0][0]:
        return points[0][1]
    for (b0, l0), (b1, l1) in zip(points, points[1:]):
        if bits <= b1:
            return l0 + (l1 - l0) * (bits - b0) / (b1 - b0)
    return points[-1][1]


def format_loss(fmt) -> float:
    if fmt.ppl_increase_pct is not None:
        return fmt.ppl_increase_pct
    return _interpolate(WEIGHT_LOSS_POINTS, fmt.bits_per_weight)


def kv_loss(kv) -> float:
    if kv.ppl_increase_pct is not None:
        return kv.ppl_increase_pct
    return _interpolate(KV_LOSS_POINTS, kv.bits)


def candidate_quality(c, task: str) -> float:
    score, _ = model_quality(c.model, task)
    return round(score - PPL_WEIGHT * (format_loss(c.fmt) + kv_loss(c.kv)), 3)


def quality(ev: Evaluation, task: str) -> float:
    return candidate_quality(ev.candidate, task)


def peak_memory_fraction(ev: Evaluation) -> float:
    gpus = [d for d in ev.memory.devices if d.kind == "gpu"] or list(ev.memory.devices)
    return max(d.total_bytes / max(d.capacity_bytes, 1) for d in gpus)


def score(ev: Evaluation, objective: str, task: str) -> float:
    """Higher is better; the figure shown as `score` in plan.json."""
    speed = ev.speed
    if objective == "quality":
        return quality(ev, task)
    if objective == "latency":
        return round(-(speed.tpot_s.value * 1000), 3)
    if objective == "throughput":
        return round(speed.throughput_tok_s.value, 3)
    return round(-peak_memory_fraction(ev) * 100, 3)


# A smaller KV type buys memory at a quality cost; it is worth it only where the more precise one is tight:
# its pool holds less than this much more than the load needs (paged engines), or its devices are fuller
# than this (llama.cpp's buffers).
KV_POOL_HEADROOM = 1.25
KV_MEMORY_HEADROOM = 0.90


def precise_kv_only(evaluations: list[Evaluation], ctx) -> list[Evaluation]:
    """Drop a plan whose KV type could be more precise: the same plan with a higher-precision KV cache is
    feasible with headroom (so q4_0 is never chosen where f16 fits easily, and fp8 only where it widens a
    pool that binds)."""
    roomy: dict[tuple, float] = {}
    for ev in evaluations:
        if _roomy(ev, ctx):
            key = _without_kv(ev.candidate)
            roomy[key] = max(roomy.get(key, 0), ev.candidate.kv.bits)
    return [ev for ev in evaluations if ev.candidate.kv.bits >= roomy.get(_without_kv(ev.candidate), 0)]


def _without_kv(c) -> tuple:
    return (c.model.id, c.fmt.id, c.runtime.name, c.layout, c.speculative.method if c.speculative else None)


def _roomy(ev: Evaluation, ctx) -> bool:
    if ev.memory.kv_tokens_capacity is not None:
        return ev.memory.kv_tokens_capacity >= KV_POOL_HEADROOM * kv_tokens_needed(ctx, ev.candidate, ev.memory)
    return peak_memory_fraction(ev) <= KV_MEMORY_HEADROOM


# The load favours replicas when each one would still batch at least this many requests.
REPLICA_BATCH = 8


def replicas_before_shards(ranked: list[Evaluation], ctx) -> list[Evaluation]:
    """Data parallel before tensor parallel: when the chosen plan splits a model that one GPU could hold,
    and the objective or the load favours throughput, the same plan as more replicas of fewer GPUs comes first
    unless the split's estimate beats it by more than the estimate's own band (they cannot be told apart
    closer than that). Replicas need no all-reduce per layer; "if the model fits on a single GPU, distributed
    inference is probably unnecessary" (docs.vllm.ai serving/parallelism_scaling; vllm discussion #294:
    "start multiple vLLM replicas")."""
    d = ctx.deployment
    best = ranked[0]
    if d.objective in ("latency", "memory") or best.candidate.layout.tensor == 1:
        return ranked
    for ev in ranked[1:]:
        c, b = ev.candidate, best.candidate
        if (c.model.id, c.fmt.id, c.runtime.name, c.kv.id) != (b.model.id, b.fmt.id, b.runtime.name, b.kv.id) \
                or c.layout.tensor >= b.layout.tensor or c.layout.replicas <= b.layout.replicas:
            continue
        load = d.objective == "throughput" or d.concurrency >= REPLICA_BATCH * c.layout.replicas
        mine, theirs = score(ev, d.objective, d.task), score(best, d.objective, d.task)
        band = abs(theirs) * _speed_band(best)
        if load and mine >= theirs - band:
            return [ev] + [x for x in ranked if x is not ev]
    return ranked


def _speed_band(ev: Evaluation) -> float:
    t = ev.speed.throughput_tok_s
    return (t.high - t.value) / t.value if t.value else 0.0


def criteria(ev: Evaluation, objective: str, task: str) -> tuple[tuple[str, float], ...]:
    """What decides between two plans, in order, each as (name, value) with lower better."""
    return (
        ("objective", -score(ev, objective, task)),
        ("quality", -quality(ev, task)),
        ("runtime", profile(ev.candidate.runtime.name).rank),
        ("tpot", round(ev.speed.tpot_s.value, 6)),
        ("memory", round(peak_memory_fraction(ev), 6)),
    )


def sort_key(ev: Evaluation, objective: str, task: str) -> tuple:
    """The criteria, then stable names: the result never depends on catalog order."""
    c = ev.candidate
    return (
        *(value for _, value in criteria(ev, objective, task)),
        c.model.id, c.fmt.id, c.runtime.name, c.kv.id, c.layout.tensor, c.layout.replicas,
        c.layout.gpu_layers if c.layout.gpu_layers is not None else 10**6,
        c.speculative.method if c.speculative else "",
    )
