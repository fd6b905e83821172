"""Enumerate, prune and evaluate candidates for one deployment."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..catalog.schema import Format, Model, Variant
from ..estimate.from_file import weights_from_tensors
from ..estimate.speculative import speedup
from ..estimate.weights import WeightBytes, weight_bytes
from ..catalog.params import param_counts
from .candidates import (Candidate, Draft, Rejection, checkpoint_rejection, context_for, kv_rejection, layouts,
                         model_rejection, runtime_rejection)
from .evaluate import (Context, Evaluation, estimate_speed_for, evaluate, fit_with_offload, memory_violation,
                       speed_violation, with_draft, with_mtp)
from .objective import candidate_quality

# KV types `auto` may pick, best quality first.
AUTO_KV = ("f16", "fp8", "q8_0", "q4_0")
# Speculative decoding pays off for a few concurrent streams; at large batch the target is compute-bound.
SPECULATIVE_MAX_CONCURRENCY = 4
# A draft model is worth loading only when it is much smaller than the target (the seed's rows: 1B and 7B
# drafts for a 70B target).
DRAFT_MAX_FRACTION = 8
# The chosen plan plus its listed alternatives (distinct model × runtime).
MAX_PLACES = 6


@dataclass
class SearchResult:
    feasible: list[Evaluation] = field(default_factory=list)
    infeasible: list[Evaluation] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    evaluated: int = 0


def search(ctx: Context, models, catalog, local=None) -> SearchResult:
    """Estimate candidates best-first; under `prefer = quality` stop once no remaining one can place.

    A candidate's quality score needs no estimate, so it is an exact upper bound on its objective:
    after the chosen plan and its alternatives are found, candidates of lower quality cannot change
    the result and are reported as not estimated.
    """
    result = SearchResult()
    pending = [pair for model in models for pair in _search_model(ctx, model, catalog, local, result)]
    d = ctx.deployment
    if d.objective == "quality":
        pending.sort(key=lambda pair: (-candidate_quality(pair[0], d.task), _tie(pair[0])))
    else:
        pending.sort(key=lambda pair: _tie(pair[0]))
    places: dict[tuple[str, str], float] = {}
    for i, (candidate, weights) in enumerate(pending):
        if d.objective == "quality" and len(places) > MAX_PLACES:
            floor = sorted(places.values(), reverse=True)[MAX_PLACES]
            if candidate_quality(candidate, d.task) < floor:
                _not_estimated(pending[i:], result)
                break
        ev = _record(ctx, candidate, weights, catalog, result)
        if ev.feasible:
            key = (candidate.model.id, candidate.runtime.name)
            places[key] = max(places.get(key, float("-inf")), candidate_quality(candidate, d.task))
    return result


def _tie(c: Candidate) -> tuple:
    return (c.model.id, c.fmt.id, c.runtime.name, c.kv.id, c.layout.tensor)


def _not_estimated(rest, result: SearchResult) -> None:
    families = {c.model.name for c, _ in rest} - {e.candidate.model.name for e in result.feasible + result.infeasible}
    for family in sorted(families):
        result.rejected.append(Rejection(family, "objective",
                                         "lower quality bound than the chosen plan and its alternatives; not estimated"))


def _variants(ctx: Context, model: Model, catalog, local) -> list[tuple[Variant | None, Format, WeightBytes]]:
    allowed = ctx.deployment.quantization.allowed
    out = []
    if local is not None:
        # a folder without weight files holds no format of its own: the spec's quantization says what it will
        formats = allowed if allowed and not local.tensors else (local.format,)
        # a model from the Hugging Face cache is loaded by its repo at the cached commit: its one variant
        variant = local.model.variants[0] if local.model.variants else None
        for fmt in filter(None, map(catalog.formats.get, formats)):
            out.append((variant, fmt, _local_weights(local, fmt, catalog.formats)))
        return out
    seen = set()
    for variant in sorted(model.variants, key=lambda v: (v.format, v.repo, v.file or "")):
        fmt = catalog.formats.get(variant.format)
        # one checkpoint per format and file kind: a BF16 GGUF for llama.cpp beside the original repo for vLLM
        key = (variant.format, variant.file is not None)
        if fmt is None or key in seen or (allowed and variant.format not in allowed):
            continue
        seen.add(key)
        out.append((variant, fmt, weight_bytes(model, fmt, catalog.formats)))
    return out


def _joined(reasons, shown: int = 3) -> str:
    """The distinct reasons, the first few in full and how many more there were."""
    distinct = list(dict.fromkeys(reasons))
    more = len(distinct) - shown
    return "; ".join(distinct[:shown]) + (f" (and {more} more)" if more > 0 else "")


def _is_gguf(variant, local) -> bool:
    return local.kind == "gguf" if variant is None else variant.file is not None


def _local_weights(local, fmt: Format, formats) -> WeightBytes:
    """Exact from the file's tensors; an HF folder with only config.json is estimated from its architecture."""
    if not local.tensors:
        return weight_bytes(local.model, fmt, formats)
    return weights_from_tensors(local.model, local.tensors, fmt.id, local.kind, fmt.family)


def _search_model(ctx: Context, model: Model, catalog, local, result: SearchResult) -> list[tuple[Candidate, WeightBytes]]:
    """Every candidate of one model that survives the cheap constraints (no estimates yet)."""
    d = ctx.deployment
    if local is None:
        rejection = model_rejection(d, model)
        if rejection:
            result.rejected.append(rejection)
            return []
    variants = _variants(ctx, model, catalog, local)
    if not variants:
        want = ", ".join(d.quantization.allowed or ()) or "known"
        result.rejected.append(Rejection(model.name, "quantization", f"no {want} checkpoint in the catalog"))
        return []
    context = context_for(d, model)
    capacity = _total_capacity(ctx)
    reasons: list[tuple[str, str]] = []   # (constraint, why), for a model that keeps no candidate
    out = []
    fits = [v for v in variants if v[2].total_bytes <= capacity]
    if not fits:
        _, fmt, weights = min(variants, key=lambda v: v[2].total_bytes)
        reasons.append(("memory", f"its smallest checkpoint, {fmt.id} ({weights.total_bytes / 2**30:.1f} GiB), "
                                  "exceeds all GPU and host memory"))
    for variant, fmt, weights in fits:
        for runtime in _runtimes(ctx, catalog):
            why = checkpoint_rejection(runtime, fmt, _is_gguf(variant, local)) or \
                runtime_rejection(d, runtime, fmt, ctx.topology, model)
            if why:
                reasons.append(("runtime support", why))
                continue
            for kv in _kv_types(ctx, catalog):
                why = kv_rejection(kv, runtime, model, ctx.topology, d.pin_value("backend"))
                if why:
                    reasons.append(("runtime support", why))
                    continue
                placements, why = layouts(runtime, model, ctx.topology, d)
                if why:
                    reasons.append(("settings", why))
                for layout in placements:
                    c = Candidate(model=model, variant=variant, fmt=fmt, runtime=runtime, kv=kv, layout=layout,
                                  context=context, slots=_slots(d, layout))
                    if d.min_quality is not None and candidate_quality(c, d.task) < d.min_quality.value:
                        reasons.append(("quality", f"{fmt.id} weights with a {kv.id} KV cache score "
                                        f"{candidate_quality(c, d.task):.1f}, below min_quality {d.min_quality.value}"))
                        continue
                    out.append((c, weights))
    if reasons and not out:
        result.rejected.append(Rejection(model.name, reasons[0][0], _joined(why for _, why in reasons)))
    return out


def _record(ctx: Context, c: Candidate, weights: WeightBytes, catalog, result: SearchResult) -> Evaluation:
    ev = evaluate(ctx, c, weights)
    result.evaluated += 1
    if ev.violation and ev.violation.constraint == "memory":
        offloaded = fit_with_offload(ctx, c, weights)
        if offloaded is not None:
            ev = offloaded
    if ev.violation and ev.violation.constraint == "tpot":
        ev = _with_speculation(ctx, ev, weights, catalog) or ev
    (result.feasible if ev.feasible else result.infeasible).append(ev)
    return ev


def _with_speculation(ctx: Context, ev: Evaluation, weights: WeightBytes, catalog) -> Evaluation | None:
    """The first method that meets the TPOT target, in order of how well its speedup is sourced: the
    model's own MTP heads, then a draft model (the seed's measured table). Only a measured speedup may
    carry a plan past its target: an assumed one (MTP of a family without a measurement, n-gram lookup)
    never does."""
    d = ctx.deployment
    c = ev.candidate
    if d.concurrency > SPECULATIVE_MAX_CONCURRENCY:
        return None
    for method, draft in _spec_methods(c, catalog):
        spec = speedup(d.task, method, draft_params_b=param_counts(draft.model)[0] / 1e9 if draft else None,
                       family=c.model.family)
        if not spec.sourced:
            continue
        memory = with_draft(ev.memory, draft) if draft else (
            with_mtp(ev.memory, c, weights) if method == "mtp" else ev.memory)
        if memory is not ev.memory and memory_violation(ctx, c, memory):
            continue
        speed = estimate_speed_for(ctx, c, weights, memory, spec)
        trial = Evaluation(replace(c, speculative=spec, draft=draft), memory, speed, speed_violation(ctx, speed))
        if trial.feasible:
            return trial
    return None


def _spec_methods(c: Candidate, catalog) -> list[tuple[str, Draft | None]]:
    methods: list[tuple[str, Draft | None]] = []
    if c.model.mtp_layers and "mtp" in c.runtime.speculative and carries_mtp(c):
        methods.append(("mtp", None))
    if "draft" in c.runtime.speculative:
        draft = draft_for(c, catalog)
        if draft:
            methods.append(("draft", draft))
    if "ngram" in c.runtime.speculative:
        methods.append(("ngram", None))
    return methods


def carries_mtp(c: Candidate) -> bool:
    """Whether the checkpoint keeps the model's MTP heads: the original repo does; a conversion (a GGUF, an
    AWQ/GPTQ export) does only when its catalog record says so (most drop them); a local file is not assumed to."""
    return c.variant is not None and (c.variant.repo == c.model.id or c.variant.mtp)


def draft_for(c: Candidate, catalog) -> Draft | None:
    """The smallest dense model with the target's tokenizer (vocabulary and chat template) and at most
    1/8 of its parameters, in a checkpoint this runtime loads and of the target's format family."""
    target_params = param_counts(c.model)[0]
    options = []
    for model in catalog.models.values():
        if (model.id == c.model.id or model.is_moe or model.vocab_size != c.model.vocab_size
                or model.chat_template != c.model.chat_template):
            continue
        params = param_counts(model)[0]
        if params * DRAFT_MAX_FRACTION > target_params:
            continue
        for variant in model.variants:
            fmt = catalog.formats.get(variant.format)
            if fmt and fmt.family == c.fmt.family and c.runtime.name in fmt.runtimes \
                    and checkpoint_rejection(c.runtime, fmt, _is_gguf(variant, None)) is None:
                options.append((params, fmt.id != c.fmt.id, model.id, variant.format, model, variant, fmt))
    if not options:
        return None
    *_, model, variant, fmt = min(options, key=lambda o: o[:4])
    return Draft(model=model, variant=variant, weight_bytes=weight_bytes(model, fmt, catalog.formats).total_bytes)


def _runtimes(ctx: Context, catalog):
    allowed = ctx.deployment.runtime.allowed
    return [catalog.runtimes[n] for n in sorted(catalog.runtimes) if not allowed or n in allowed]


def _kv_types(ctx: Context, catalog):
    allowed = ctx.deployment.kv_cache.allowed
    names = allowed or tuple(k for k in AUTO_KV if k in catalog.kv_types)
    return [catalog.kv_types[n] for n in names if n in catalog.kv_types]


def _slots(d, layout) -> int:
    """Sequences one replica serves at once: as pinned (max_num_seqs, -np ...), else its share of the users."""
    return int(d.pin_value("slots", 0)) or max(1, -(-d.concurrency // max(layout.replicas, 1)))


def _total_capacity(ctx: Context) -> int:
    return ctx.topology.memory_bytes + ctx.host_ram_bytes
