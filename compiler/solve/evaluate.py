"""One candidate → its memory and speed estimates, and the first constraint it breaks.

Constraints are checked in a fixed order (memory, then time to first token, time
per output token, throughput), so "why not" always names the first one that failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ..catalog.schema import Gpu
from ..estimate.calibration import Calibration, Correction, Key
from ..estimate.memory import HardwareView, MemoryEstimate, MemorySettings, ParallelView, plan_memory
from ..estimate.speculative import SpecSpeedup
from ..estimate.serving import MAX_SIMULATED_EVENTS, Budget, Load, LoadFigures, simulate, simulation_events
from ..estimate.speed import SpeedEstimate, StepModel, band, device_class, step_model, unloaded_speed
from ..estimate.weights import SOURCE as WEIGHTS_SOURCE
from ..estimate.weights import WeightBytes
from ..plan import Estimate, MemoryPart
from ..runtimes import profile
from ..spec import Deployment
from ..units import format_bytes, format_duration
from .candidates import Candidate, Layout, with_offload
from .topology import Topology


@dataclass(frozen=True)
class Violation:
    constraint: str       # memory | rate | ttft | tpot | throughput | estimate (a non-finite figure)
    detail: str
    shortfall: float      # relative: 0.25 = 25 % over the limit


@dataclass(frozen=True)
class Evaluation:
    candidate: Candidate
    memory: MemoryEstimate
    speed: SpeedEstimate | None
    violation: Violation | None

    @property
    def feasible(self) -> bool:
        return self.violation is None


@dataclass(frozen=True)
class Context:
    """What every evaluation of one deployment shares."""

    deployment: Deployment
    topology: Topology
    host_ram_bytes: int
    host_ram_given: bool
    calibration: Calibration = field(default_factory=Calibration)   # measured runs the speed model learns from


def hardware_view(ctx: Context, layout: Layout) -> HardwareView:
    topo = ctx.topology
    gpus = tuple(d.gpu for d in layout.devices)
    return HardwareView(gpus=gpus, host_ram_bytes=ctx.host_ram_bytes, nodes=topo.nodes, link=topo.link_kind,
                        p2p=topo.p2p, cpu=topo.cpu_host, desktop=may_drive_desktop(ctx.deployment, gpus),
                        tensor_split=layout.tensor_split)


def calibration_key(ctx: Context, c: Candidate) -> Key:
    """What a run of this candidate is measured on (estimate/calibration.py): the device the step model
    prices (the first GPU, or the CPU host as the spec states it) and how its bandwidth is known, the runtime
    release, the model's shape."""
    gpu = c.layout.devices[0].gpu if c.layout.devices else None
    device = gpu.name if gpu is not None else cpu_device(ctx.deployment)
    shape = f"{c.model.architecture} {'moe' if c.model.is_moe else 'dense'}"
    priced = gpu or ctx.topology.cpu_host
    return Key(runtime=c.runtime.name, version=profile(c.runtime.name).pin.version, device=device,
               device_class=device_class(gpu), shape=shape,
               bandwidth_basis="measured" if priced is not None and priced.sustained_bandwidth else "peak")


def correction(ctx: Context, c: Candidate) -> Correction:
    """What measured runs say of this candidate's setup (its memory and its speed both read it)."""
    return ctx.calibration.correction(calibration_key(ctx, c))


def cpu_device(d: Deployment) -> str:
    """A CPU host by what the spec states of it; hosts described alike share their records."""
    hw = d.hardware
    said = [f"{hw.cores.value} cores" if hw.cores else "",
            " ".join(sorted(w.value for w in hw.isa)),
            f"{hw.memory_bandwidth.bytes_per_s / 1e9:g} GB/s" if hw.memory_bandwidth else ""]
    return "cpu: " + (", ".join(p for p in said if p) or "as assumed")


def may_drive_desktop(deployment: Deployment, gpus: tuple[Gpu, ...]) -> bool:
    """GPU 0 is taken to drive a desktop when it has display outputs, unless the spec says `headless = true`."""
    headless = deployment.hardware.headless
    return bool(gpus) and gpus[0].display_capable and not (headless and headless.value)


def parallel_view(layout: Layout) -> ParallelView:
    return ParallelView(tp=layout.tensor, pp=layout.pipeline, ep=layout.expert, dp=layout.replicas,
                        gpu_layers=layout.gpu_layers, n_cpu_moe=layout.n_cpu_moe)


# Plans always start llama.cpp with `-fa on` (needed by a quantized V cache, and the deterministic
# choice for the compute buffer estimate); the batch sizes are the runtime's scheduler's (llama-server's
# defaults, Ollama's num_batch as both); vLLM/SGLang ignore these.
MEMORY_SETTINGS = MemorySettings(flash_attention=True)


def estimate_memory(ctx: Context, c: Candidate, weights: WeightBytes) -> MemoryEstimate:
    sched = profile(c.runtime.name).scheduler
    settings = replace(MEMORY_SETTINGS, n_batch=sched.step_tokens, n_ubatch=sched.ubatch) \
        if sched.policy == "slots" else MEMORY_SETTINGS
    settings = replace(pinned_memory_settings(ctx.deployment, settings),
                       compute_scale=correction(ctx, c).compute_memory)
    mem = plan_memory(c.model, weights, c.fmt, c.kv, c.runtime.name, hardware_view(ctx, c.layout),
                      parallel_view(c.layout), c.context, c.slots, settings)
    return with_vision_tower(mem, ctx, c)


def pinned_memory_settings(d: Deployment, settings: MemorySettings) -> MemorySettings:
    """What the spec's `settings` pin of the runtime's memory knobs (the rest stay the plan's)."""
    pins = {"gpu_memory_utilization": "gpu_memory_utilization", "mem_fraction_static": "mem_fraction_static",
            "max_num_batched_tokens": "max_num_batched_tokens", "slots": "max_num_seqs",
            "enforce_eager": "enforce_eager", "kv_unified": "kv_unified", "batch_size": "n_batch",
            "ubatch_size": "n_ubatch"}
    update = {field: d.pin_value(setting) for setting, field in pins.items() if d.pinned(setting)}
    fa = d.pin_value("flash_attention")
    if fa is not None:
        update["flash_attention"] = fa not in (False, "off")
    return replace(settings, **update) if update else settings


def with_vision_tower(mem: MemoryEstimate, ctx: Context, c: Candidate) -> MemoryEstimate:
    """A multimodal deployment also loads the vision tower and projector (text-only ones skip them: vLLM's
    --language-model-only). Quantized checkpoints keep them in 16 bits; vLLM and SGLang shard them over the
    first stage's tensor-parallel ranks (their ViTs use parallel linear layers)."""
    params = c.model.vision_params_b
    if ctx.deployment.task != "multimodal" or not params:
        return mem
    tp = max(1, c.layout.tensor)
    part = MemoryPart(name="vision_weights", bytes=round(params * 1e9 * 2 / tp), source=WEIGHTS_SOURCE,
                      detail=f"vision tower and projector, {params}B parameters in 16 bits" +
                             (f", / TP {tp}" if tp > 1 else ""))
    return _with_weights(mem, set(range(tp)), part)


def with_draft(mem: MemoryEstimate, draft) -> MemoryEstimate:
    """The draft model's weights sit beside the target's on the first device (llama.cpp: -ngld all;
    vLLM: draft_tensor_parallel_size 1). Its own KV cache is small and is not estimated."""
    part = MemoryPart(name="draft_weights", bytes=draft.weight_bytes, source=WEIGHTS_SOURCE,
                      detail=f"draft model {draft.model.name} ({draft.variant.format})")
    return _with_weights(mem, {0}, part)


def _with_weights(mem: MemoryEstimate, devices: set[int], part: MemoryPart) -> MemoryEstimate:
    """`part` (more weights) on these devices. A paged pool (vLLM, SGLang) gives the bytes up from its KV
    cache, the budget being fixed, so the pool holds fewer tokens; llama.cpp's buffers grow instead."""
    paged = mem.kv_tokens_capacity is not None
    out, shares = [], [1.0]
    for i, d in enumerate(mem.devices):
        if i not in devices:
            out.append(d)
            continue
        kv = max(0, d.kv_cache_bytes - part.bytes) if paged else d.kv_cache_bytes
        grown = d.total_bytes + part.bytes - (d.kv_cache_bytes - kv)
        parts = tuple(p.model_copy(update={"bytes": kv}) if paged and p.name == "kv_cache" else p for p in d.parts)
        out.append(d.model_copy(update={"weights_bytes": d.weights_bytes + part.bytes, "kv_cache_bytes": kv,
                                        "total_bytes": grown, "parts": parts + (part,)}))
        if paged:
            shares.append(kv / d.kv_cache_bytes if d.kv_cache_bytes else 0.0)
    if not paged:
        return replace(mem, devices=tuple(out))
    share = min(shares)
    pool = replace(mem.pool, num_blocks=int(mem.pool.num_blocks * share)) if mem.pool else None
    return replace(mem, devices=tuple(out), kv_tokens_capacity=int(mem.kv_tokens_capacity * share), pool=pool)


def with_mtp(mem: MemoryEstimate, c: Candidate, weights: WeightBytes) -> MemoryEstimate:
    """The MTP heads are loaded only when MTP decoding is on: `mtp_layers` decoder layers of the target's
    own format (they share its embeddings and head), sharded over the tensor-parallel ranks of the last
    pipeline stage, which runs them."""
    layer = weights.per_layer_bytes // c.model.n_layers  # per_layer_bytes is what all the layers hold
    per_rank = c.model.mtp_layers * layer // max(1, c.layout.tensor)
    gpus = [i for i, d in enumerate(mem.devices) if d.kind == "gpu"]
    part = MemoryPart(name="mtp_weights", bytes=per_rank, source=WEIGHTS_SOURCE,
                      detail=f"{c.model.mtp_layers} MTP layer(s) at the target's per-layer size")
    return _with_weights(mem, set(gpus[-max(1, c.layout.tensor):]), part)


def memory_violation(ctx: Context, c: Candidate, mem: MemoryEstimate) -> Violation | None:
    offloading = ctx.topology.cpu_only or c.layout.gpu_layers is not None or bool(c.layout.n_cpu_moe)
    for device in mem.devices:
        if device.kind == "cpu" and not offloading and not ctx.host_ram_given:
            continue
        if device.total_bytes > device.capacity_bytes:
            over = device.total_bytes - device.capacity_bytes
            return Violation("memory", f"{device.device} needs {format_bytes(device.total_bytes)} of "
                             f"{format_bytes(device.capacity_bytes)} ({format_bytes(over)} over)",
                             over / max(device.capacity_bytes, 1))
    if mem.kv_tokens_capacity is not None:
        need = kv_tokens_needed(ctx, c, mem)
        if mem.kv_tokens_capacity < need:
            why = f"one {c.context}-token sequence (the context) does not fit, and the runtime refuses to start" \
                if need == c.context else f"the workload needs {need}"
            return Violation("memory", f"KV cache holds {mem.kv_tokens_capacity} tokens; {why}",
                             (need - mem.kv_tokens_capacity) / need)
    return None


def kv_tokens_needed(ctx: Context, c: Candidate, mem: MemoryEstimate | None = None) -> int:
    """The tokens a paged pool must hold: one full context, and every concurrent request's prompt and answer.
    A grouped pool (a sliding-window hybrid on vLLM) counts capacity in full-context requests, so the
    requests' blocks are converted to those units."""
    d = ctx.deployment
    if d.rate:   # open loop: what is in flight is the simulation's outcome (preemptions, a growing queue)
        return c.context
    running = min(d.concurrency, c.slots)
    request = d.prompt_tokens + d.output_tokens
    pool = mem.pool if mem is not None else None
    if pool is None:
        return max(c.context, running * request)
    return max(c.context, math.ceil(running * pool.blocks(request) / pool.blocks(c.context) * c.context))


def speed_violation(ctx: Context, speed: SpeedEstimate) -> Violation | None:
    # Every comparison with NaN is false, so a NaN estimate would pass any bound: reject it first.
    figures = {"ttft": speed.ttft_s.value, "tpot": speed.tpot_s.value, "throughput": speed.throughput_tok_s.value}
    broken = [name for name, value in figures.items() if not math.isfinite(value)]
    if broken:
        return Violation("estimate", f"non-finite {', '.join(broken)} estimate (a catalog figure out of range?)",
                         math.inf)
    load = speed.load
    if load is not None and load.saturated:
        offered = load.load.rate
        return Violation("rate", f"{offered:g} req/s per replica outpace it: it serves {load.request_rate:g} req/s "
                         "and its queue grows", offered / max(load.request_rate, 1e-9) - 1)
    lat = ctx.deployment.latency
    checks = []
    if lat.ttft:
        checks.append(("ttft", figure(speed, "ttft", lat.ttft.percentile), lat.ttft.value.seconds,
                       _words("time to first token", lat.ttft.percentile)))
    tpot, default = ctx.deployment.tpot_target
    percentile = lat.tpot.percentile if lat.tpot else None
    checks.append(("tpot", figure(speed, "tpot", percentile), tpot, _words("time per output token", percentile) + (
        f" (the default target for {ctx.deployment.task}; set `latency.tpot` to change it)" if default else "")))
    for name, value, limit, words in checks:
        if value > limit:
            return Violation(name, f"{words} {format_duration(value)} exceeds {format_duration(limit)}",
                             value / limit - 1)
    if lat.throughput and speed.throughput_tok_s.value < lat.throughput.value.tok_s:
        want = lat.throughput.value.tok_s
        got = speed.throughput_tok_s.value
        return Violation("throughput", f"throughput {got:.0f} tok/s is below {want:.0f} tok/s", want / got - 1)
    return None


def figure(speed: SpeedEstimate, name: str, percentile: str | None) -> float:
    """A latency figure at a percentile: the simulation's when it ran, else the unloaded floor."""
    if percentile and speed.load is not None:
        return getattr(speed.load, f"{name}_s").at(percentile)
    return getattr(speed, f"{name}_s").value


def _words(what: str, percentile: str | None) -> str:
    return f"{percentile} {what}" if percentile else what


def estimate_speed_for(ctx: Context, c: Candidate, weights: WeightBytes, mem: MemoryEstimate,
                       spec: SpecSpeedup | None = None) -> SpeedEstimate:
    """The unloaded figures, then, for a candidate whose unloaded TTFT already meets the spec (it is a lower
    bound), the figures under the spec's load from the serving simulation."""
    d = ctx.deployment
    per_replica = per_replica_concurrency(d.concurrency, c)
    step = step_model(c.model, weights, c.kv, c.runtime.name, hardware_view(ctx, c.layout), parallel_view(c.layout),
                      mem, ctx.topology.cpu_host, correction(ctx, c),
                      eager=bool(d.pin_value("enforce_eager")))
    speed = unloaded_speed(step, c.runtime.name, prompt_tokens=d.prompt_tokens, output_tokens=d.output_tokens,
                           concurrency=per_replica, speculative=spec)
    budget, load = serving_budget(ctx, c, mem, spec), replica_load(ctx, c)
    request_s = speed.ttft_s.value + max(0, d.output_tokens - 1) * speed.tpot_s.value
    if not _unloaded_meets(ctx, speed) or simulation_events(load, budget, request_s) > MAX_SIMULATED_EVENTS:
        return across_replicas(speed, min(c.layout.replicas, -(-d.concurrency // per_replica)))
    figures = _simulated(c, step, budget, load)
    return across_replicas(under_load(speed, figures), c.layout.replicas if d.rate else
                           min(c.layout.replicas, -(-d.concurrency // per_replica)))


_SIMULATED: dict[tuple, LoadFigures] = {}


def _simulated(c: Candidate, step: StepModel, budget: Budget, load: Load) -> LoadFigures:
    """The simulation, once per candidate and load in a process (a build solves the spec again without its
    bounds to price them, W411, and meets the same candidates)."""
    key = (_shape(c.model), c.fmt.id, c.kv.id, c.runtime.name, repr(c.layout), c.slots, c.context,
           step.weights.total_bytes, load, budget, step.host_share, step.host_rate, step.bw, step.flops, step.eff,
           step.request_s)
    found = _SIMULATED.get(key)
    if found is None:
        if len(_SIMULATED) > 4096:
            _SIMULATED.clear()
        found = _SIMULATED[key] = simulate(step, profile(c.runtime.name).scheduler, budget, load)
    return found


# What a model's step time depends on: its shape, not its name, scores or checkpoints.
SHAPE_FIELDS = {"architecture", "n_layers", "hidden_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size",
                "intermediate_size", "tie_word_embeddings", "moe", "attention", "mtp_layers"}


def _shape(model) -> str:
    return model.model_dump_json(include=SHAPE_FIELDS)


def _unloaded_meets(ctx: Context, speed: SpeedEstimate) -> bool:
    """The unloaded TTFT (own prefill, nothing queued) is a floor on every percentile under load."""
    bound = ctx.deployment.latency.ttft
    return math.isfinite(speed.ttft_s.value) and (bound is None or speed.ttft_s.value <= bound.value.seconds)


def replica_load(ctx: Context, c: Candidate) -> Load:
    """What one replica serves: its share of the users, or of the arrival rate."""
    d = ctx.deployment
    lengths = {"prompt_spread": d.length_spread, "output_spread": d.length_spread, "longest": c.context}
    if d.rate:
        return Load("open", d.prompt_tokens, d.output_tokens, rate=d.rate / max(1, c.layout.replicas), **lengths)
    return Load("closed", d.prompt_tokens, d.output_tokens, users=per_replica_concurrency(d.concurrency, c),
                **lengths)


def serving_budget(ctx: Context, c: Candidate, mem: MemoryEstimate, spec: SpecSpeedup | None) -> Budget:
    """The scheduler's limits as the plan launches the runtime: a paged engine's step budget and sequence cap
    by the card's memory (its profile's defaults, which the plan states), and its pool in tokens of this
    workload's requests; llama.cpp's slots, each holding its own context."""
    runtime = profile(c.runtime.name)
    speedup = spec.speedup if spec else 1.0
    if runtime.scheduler.policy == "slots":
        return Budget(runtime.scheduler.step_tokens, c.slots, None, speedup, slot_context=c.context)
    gpu = c.layout.devices[0].gpu if c.layout.devices else None
    pool = mem.kv_tokens_capacity
    if mem.pool is not None:   # in tokens of this workload's requests, which hold fewer window blocks
        pool = mem.pool.tokens(ctx.deployment.prompt_tokens + ctx.deployment.output_tokens)
    tokens, seqs = runtime.budgets(gpu.visible_memory_bytes / 2**30 if gpu else 0, gpu.name if gpu else "")
    d = ctx.deployment
    return Budget(int(d.pin_value("max_num_batched_tokens", tokens)), int(d.pin_value("slots", seqs)), pool, speedup)


def under_load(speed: SpeedEstimate, figures: LoadFigures) -> SpeedEstimate:
    """The simulated means become the plan's figures (the bounds read them); percentiles ride along."""
    rel = speed.band
    return replace(speed, ttft_s=band(figures.ttft_s.mean, rel),
                   tpot_s=band(figures.tpot_s.mean or speed.tpot_s.value, rel),
                   throughput_tok_s=band(figures.throughput_tok_s, rel), load=figures,
                   parts={**speed.parts, "unloaded_ttft_s": speed.ttft_s.value,
                          "unloaded_tpot_s": speed.tpot_s.value})


def across_replicas(speed: SpeedEstimate, busy: int) -> SpeedEstimate:
    """Throughput is the deployment's: one replica's times the replicas the load keeps busy (latencies are
    one replica's). The objective and the `throughput >=` check read this one figure."""
    if busy <= 1:
        return speed
    t = speed.throughput_tok_s
    return replace(speed, throughput_tok_s=Estimate(value=round(t.value * busy, 6), low=round(t.low * busy, 6),
                                                    high=round(t.high * busy, 6)),
                   parts={**speed.parts, "busy_replicas": busy})


def per_replica_concurrency(concurrency: int, c: Candidate) -> int:
    return max(1, min(c.slots, -(-concurrency // max(c.layout.replicas, 1))))


def evaluate(ctx: Context, c: Candidate, weights: WeightBytes) -> Evaluation:
    mem = estimate_memory(ctx, c, weights)
    violation = memory_violation(ctx, c, mem)
    if violation:
        return Evaluation(c, mem, None, violation)
    speed = estimate_speed_for(ctx, c, weights, mem, c.speculative)
    return Evaluation(c, mem, speed, speed_violation(ctx, speed))


def fit_with_offload(ctx: Context, c: Candidate, weights: WeightBytes) -> Evaluation | None:
    """llama.cpp only: the most layers (or the fewest CPU expert layers) that fit the GPUs.

    The search estimates memory only; speed is estimated once, for the boundary it finds."""
    pinned = any(ctx.deployment.pinned(s) for s in ("gpu_layers", "n_cpu_moe"))
    if not profile(c.runtime.name).offload or ctx.topology.cpu_only or not ctx.host_ram_bytes or pinned:
        return None
    n = c.model.n_layers
    found = None
    if c.model.is_moe:
        found = _boundary(ctx, lambda k: replace(c, layout=with_offload(c.layout, n_cpu_moe=k)), weights,
                          lo=1, hi=n, fewest=True)
    if found is None:
        found = _boundary(ctx, lambda k: replace(c, layout=with_offload(c.layout, gpu_layers=k)), weights,
                          lo=0, hi=n - 1, fewest=False)
    return evaluate(ctx, found, weights) if found is not None else None


def _boundary(ctx: Context, candidate_for, weights: WeightBytes, lo: int, hi: int, fewest: bool) -> Candidate | None:
    """Binary search for the candidate at the boundary where memory starts (or stops) fitting."""
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = candidate_for(mid)
        if memory_violation(ctx, candidate, estimate_memory(ctx, candidate, weights)) is None:
            best = candidate
            hi, lo = (mid - 1, lo) if fewest else (hi, mid + 1)
        else:
            hi, lo = (hi, mid + 1) if fewest else (mid - 1, lo)
    return best
