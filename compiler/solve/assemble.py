"""A chosen Evaluation → the Plan, with the alternatives it beat and the families that failed."""

from __future__ import annotations

from .. import __version__
from ..plan import (Alternative, Calibration, Hardware, ModelRef, Parallelism, Plan, Rejected, RuntimeRef,
                    Serving, Settings, Speculative, Targets, Workload)
from ..estimate.kv import hybrid_align, hybrid_block_tokens
from ..runtimes import profile
from ..units import format_duration
from .candidates import Candidate, Rejection
from .evaluate import Context, Evaluation, calibration_key, kv_tokens_needed
from .objective import ASSUMED_LOSS, model_quality, quality, score
from .why import why_lost

MAX_ALTERNATIVES = 5


def build_plan(ctx: Context, best: Evaluation, ranked: list[Evaluation], rejected: list[Rejection]) -> Plan:
    d = ctx.deployment
    c = best.candidate
    objective, task = d.objective, d.task
    pin = profile(c.runtime.name).pin
    backend = ctx.topology.backend(c.runtime.name, d.pin_value("backend"))
    return Plan(
        llmc_version=__version__,
        deployment=d.name,
        workload=Workload(task=task, concurrency=d.concurrency, prompt_tokens=d.prompt_tokens,
                          output_tokens=d.output_tokens, rate=d.rate, spread=d.length_spread or None),
        model=_model_ref(c, d),
        runtime=RuntimeRef(name=c.runtime.name, version=pin.version, image=pin.image_ref(backend), backend=backend,
                           health_path=c.runtime.health_path, default_port=c.runtime.default_port),
        kv_cache={"type": c.kv.id},
        context=c.context,
        slots=c.slots,
        parallelism=Parallelism(tensor=c.layout.tensor, pipeline=c.layout.pipeline, expert=c.layout.expert,
                                replicas=c.layout.replicas, nodes=ctx.topology.nodes,
                                gpu_layers=c.layout.gpu_layers, n_cpu_moe=c.layout.n_cpu_moe,
                                split_mode=c.layout.split_mode, tensor_split=c.layout.tensor_split),
        hardware=_hardware(ctx),
        settings=_settings(ctx, c),
        serving=Serving(host=d.host, port=d.port or c.runtime.default_port,
                        served_name=d.serve.name.value if d.serve.name else d.name,
                        api_key_env=d.serve.api_key_env.value if d.serve.api_key_env else None),
        speculative=_speculative(c),
        memory=best.memory.to_plan(),
        performance=best.speed.to_plan(_calibration(ctx, c, best)),
        targets=_targets(d),
        binding_constraint=binding_constraint(ctx, best),
        score=score(best, objective, task),
        quality=quality(best, task),
        emit=tuple(sorted(set(d.emits) | ({"kubernetes"} if ctx.topology.nodes > 1 else set()))),
        alternatives=_alternatives(best, ranked, objective, task),
        rejected=_rejected(rejected),
        notes=_notes(ctx, best),
        pinned=tuple(sorted({s.setting for s in d.settings})),
    )


def _calibration(ctx: Context, c: Candidate, best: Evaluation) -> Calibration:
    key = calibration_key(ctx, c)
    fitted = ctx.calibration.correction(key)
    return Calibration(key=key.to_dict(), runs=fitted.runs, level=fitted.level, bandwidth=fitted.bandwidth,
                       compute=fitted.compute, vector=fitted.vector, overhead=fitted.overhead, host=fitted.host,
                       compute_memory=fitted.compute_memory,
                       residual=fitted.residual,
                       band=best.speed.band, files=ctx.calibration.sources if fitted.calibrated else ())


def _thinking(m, deployment) -> dict:
    """Whether the model thinks in this deployment, and the chat-template switch that makes it so when its
    default differs (vLLM's and SGLang's --default-chat-template-kwargs, llama.cpp's --reasoning)."""
    if m.thinking is None:
        return {}
    if m.thinking.default == "always":
        return {"thinking": "on"}
    wanted = deployment.thinking
    kwargs = {m.thinking.switch: wanted} if wanted != (m.thinking.default == "on") else {}
    return {"thinking": "on" if wanted else "off", "chat_template_kwargs": kwargs}


def _model_ref(c: Candidate, deployment) -> ModelRef:
    m, v = c.model, c.variant
    parsers = m.parsers.get(c.runtime.name)
    source = "local" if v is None else ("gguf" if c.fmt.family == "gguf" else "hf")
    return ModelRef(
        id=m.id, name=m.name, format=c.fmt.id, source=source,
        repo=v.repo if v else None, file=v.file if v else None, revision=v.revision if v else None,
        path=m.source[0] if v is None else None,
        # Every quantized checkpoint in the catalog (AWQ, GPTQ, FP8, NVFP4) declares its method in its
        # config.json, which vLLM and SGLang read; no --quantization flag is needed.
        quantization_flag=None,
        architecture=m.architecture, license=m.license.id, chat_template=m.chat_template,
        tool_call_parser=parsers.tool_call if parsers else None,
        reasoning_parser=parsers.reasoning if parsers else None,
        stop=tuple(getattr(m, "stop", ()) or ()), max_context=m.max_context, n_layers=m.n_layers,
        moe=m.is_moe, language_only=m.has_vision and deployment.task != "multimodal", **_thinking(m, deployment))


def _hardware(ctx: Context) -> Hardware:
    topo = ctx.topology
    node0 = topo.node_devices(0)
    return Hardware(gpu=node0[0].gpu.name if node0 else None, gpus_per_node=len(node0), nodes=topo.nodes,
                    gpu_memory_bytes=node0[0].gpu.memory_bytes if node0 else 0,
                    host_memory_bytes=ctx.host_ram_bytes if ctx.host_ram_given else 0,
                    link=topo.link_kind if node0 else "none", p2p=topo.p2p if len(node0) > 1 else False,
                    devices=tuple(d.gpu.name for d in node0), vendor=node0[0].gpu.vendor if node0 else None,
                    rdma=ctx.deployment.hardware.rdma.value if ctx.deployment.hardware.rdma else None)


def _settings(ctx: Context, c: Candidate) -> Settings:
    settings = _chosen_settings(ctx, c)
    pinned = {s.setting: s.value for s in ctx.deployment.settings if s.setting in Settings.model_fields}
    if "flash_attention" in pinned and isinstance(pinned["flash_attention"], bool):
        pinned["flash_attention"] = "on" if pinned["flash_attention"] else "off"
    keep_alive = ctx.deployment.pin_value("keep_alive")
    if keep_alive is not None:
        pinned["keep_alive_s"] = keep_alive
    return settings.model_copy(update=pinned) if pinned else settings


def _chosen_settings(ctx: Context, c: Candidate) -> Settings:
    env = dict(c.layout.env)
    interface = ctx.deployment.hardware.interface
    if interface and ctx.topology.nodes > 1:  # NCCL's and Gloo's bootstrap sockets pick the wrong NIC otherwise
        env |= {"NCCL_SOCKET_IFNAME": interface.value, "GLOO_SOCKET_IFNAME": interface.value}
    runtime = profile(c.runtime.name)
    if runtime.engine == "llama":
        sched = runtime.scheduler
        cores = ctx.deployment.hardware.cores   # -t: llama.cpp's default is its own count of physical cores
        return Settings(flash_attention="on", kv_unified=False, batch_size=sched.step_tokens, ubatch_size=sched.ubatch,
                        threads=cores.value if cores else None, env=env)
    if runtime.memory_budget == "utilization":
        return Settings(gpu_memory_utilization=runtime.memory_fraction,
                        enable_prefix_caching=_prefix_caching_pays(ctx, c), enable_chunked_prefill=True,
                        max_num_batched_tokens=_batched_tokens(ctx, runtime), env=env)
    # the fraction the memory estimate plans with (the profile's), so launch.sh runs what the plan predicts
    return Settings(mem_fraction_static=runtime.memory_fraction, enable_prefix_caching=True, env=env)


def hybrid_cache_block(ctx: Context, c: Candidate) -> int | None:
    """The tokens a hybrid model's prefix cache hits in on vLLM, or None when the model is not hybrid.

    vLLM 0.33 caches a hybrid (linear-attention) model's prefixes by default in "align" mode: a state is kept
    only at block boundaries, so a prefix hits in whole blocks (~1,056 tokens for Qwen3.6-35B-A3B at TP 2,
    vllm#42317), never below one, and each running request holds 2-3 state pages instead of one
    (v1/kv_cache_interface.py MambaSpec). FlashInfer's GDN prefill (Hopper; Blackwell with 128-wide keys)
    keeps its checkpoints on a 64-token grid (gdn_attn.py FLASHINFER_GDN_CHECKPOINT_ALIGNMENT)."""
    if "linear" not in c.model.layer_kinds():
        return None
    node0 = ctx.topology.node_devices(0)
    gpu = node0[0].gpu if node0 else None
    return hybrid_block_tokens(c.model, c.kv, tp=c.layout.tensor, align=hybrid_align(c.model, gpu))


def _prefix_caching_pays(ctx: Context, c: Candidate) -> bool:
    """Prefix caching, unless the model is hybrid and a prompt is not longer than one cache block."""
    block = hybrid_cache_block(ctx, c)
    return block is None or ctx.deployment.prompt_tokens > block


def _batched_tokens(ctx: Context, runtime) -> int:
    """The runtime's own default for this card (its profile's budgets), stated explicitly."""
    node0 = ctx.topology.node_devices(0)
    gpu = node0[0].gpu if node0 else None
    return runtime.budgets(gpu.visible_memory_bytes / 2**30 if gpu else 0, gpu.name if gpu else "")[0]


def _speculative(c: Candidate) -> Speculative | None:
    s = c.speculative
    if s is None:
        return None
    draft = c.draft
    return Speculative(method=s.method, num_tokens=s.num_tokens, acceptance=s.acceptance, speedup=s.speedup,
                       source=s.source, draft_repo=draft.variant.repo if draft else None,
                       draft_file=draft.variant.file if draft else None)


def _targets(d) -> Targets:
    lat = d.latency
    tpot, default = d.tpot_target
    return Targets(ttft_s=lat.ttft.value.seconds if lat.ttft else None, tpot_s=tpot, tpot_default=default,
                   throughput_tok_s=lat.throughput.value.tok_s if lat.throughput else None,
                   ttft_percentile=lat.ttft.percentile if lat.ttft else None,
                   tpot_percentile=lat.tpot.percentile if lat.tpot else None)


BINDS_WITHIN = 0.15


def binding_constraint(ctx: Context, ev: Evaluation) -> str:
    """The constraint with the least slack: what would break first if the spec tightened."""
    d = ctx.deployment
    slacks = []
    peak = max((x for x in ev.memory.devices if x.kind == "gpu"), default=None,
               key=lambda x: x.total_bytes / max(x.capacity_bytes, 1))
    if ev.memory.kv_tokens_capacity:
        # Paged runtimes fill the card by design; what can run out is the KV pool.
        need = kv_tokens_needed(ctx, ev.candidate, ev.memory)
        slacks.append((1 - need / ev.memory.kv_tokens_capacity,
                       f"KV cache: {need} of {ev.memory.kv_tokens_capacity} tokens needed"))
    elif peak is not None:
        frac = peak.total_bytes / max(peak.capacity_bytes, 1)
        slacks.append((1 - frac, f"memory: {peak.device} at {frac:.0%} of capacity"))
    t = _targets(d)
    perf = ev.speed
    if t.ttft_s:
        slacks.append((1 - perf.ttft_s.value / t.ttft_s,
                       f"ttft: {format_duration(perf.ttft_s.value)} of {format_duration(t.ttft_s)}"))
    if t.tpot_s:
        slacks.append((1 - perf.tpot_s.value / t.tpot_s,
                       f"tpot: {format_duration(perf.tpot_s.value)} of {format_duration(t.tpot_s)}"))
    if t.throughput_tok_s:
        slacks.append((perf.throughput_tok_s.value / t.throughput_tok_s - 1,
                       f"throughput: {perf.throughput_tok_s.value:.0f} of {t.throughput_tok_s:.0f} tok/s"))
    slack, text = min(slacks)
    # a constraint with this much room left does not bind: the objective decided
    return text if slack < BINDS_WITHIN else f"none binds (least slack {text}); chosen by prefer = {d.objective}"


def _alternatives(best: Evaluation, ranked: list[Evaluation], objective: str, task: str) -> tuple[Alternative, ...]:
    out, seen = [], {(best.candidate.model.id, best.candidate.runtime.name)}
    best_quality = max(quality(ev, task) for ev in (best, *ranked))
    for ev in ranked:
        key = (ev.candidate.model.id, ev.candidate.runtime.name)
        if key in seen:
            continue
        seen.add(key)
        out.append(Alternative(choice=ev.candidate.label, score=score(ev, objective, task),
                               reason=why_lost(best, ev, objective, task, best_quality)))
        if len(out) == MAX_ALTERNATIVES:
            break
    return tuple(out)


def _rejected(rejected: list[Rejection]) -> tuple[Rejected, ...]:
    seen, out = set(), []
    for r in sorted(rejected, key=lambda r: (-r.rank, r.family, r.constraint)):
        if r.family in seen:
            continue
        seen.add(r.family)
        out.append(Rejected(family=r.family, constraint=r.constraint, detail=r.detail))
    return tuple(out)  # every family: "ruled out" is complete


def _notes(ctx: Context, best: Evaluation) -> tuple[str, ...]:
    c = best.candidate
    notes = list(best.memory.notes)
    _, source = model_quality(best.candidate.model, ctx.deployment.task)
    notes.append(f"quality score source: {source}")
    if c.fmt.ppl_increase_pct is None or c.kv.ppl_increase_pct is None:
        notes.append(f"quality loss of {c.fmt.id} weights / {c.kv.id} KV: {ASSUMED_LOSS}")
    elif c.fmt.ppl_family and c.fmt.ppl_family != c.model.family:
        notes.append(f"quality loss of {c.fmt.id} weights: +{c.fmt.ppl_increase_pct:g}% perplexity measured on a "
                     f"{c.fmt.ppl_family} model, not on {c.model.family}; assumed to carry over")
    if dict(c.layout.env).get("NCCL_P2P_DISABLE"):
        notes.append("NCCL_P2P_DISABLE=1: the GPUs cannot copy peer to peer, so NCCL goes through host memory")
    if c.layout.gpu_layers is not None:
        notes.append(f"partial offload: {c.layout.gpu_layers} of {c.model.n_layers} layers on GPU, the rest in host RAM")
    if c.layout.n_cpu_moe:
        notes.append(f"expert offload: routed experts of the first {c.layout.n_cpu_moe} layers in host RAM")
    block = hybrid_cache_block(ctx, c)
    if block is not None and profile(c.runtime.name).memory_budget == "utilization":
        notes.append(f"hybrid model: vLLM caches prefixes in blocks of {block} tokens; " + (
            "prefix caching off, a prompt is not longer than one block" if not _prefix_caching_pays(ctx, c) else
            "prefix caching on; each running request holds 2-3 state pages (align mode), the estimate one"))
    if c.model.thinking and c.model.thinking.default == "always" and not ctx.deployment.thinking:
        notes.append(f"{c.model.name} always thinks (no chat-template switch): its reasoning is returned apart "
                     "from the answer, and it costs output tokens before the answer")
    return tuple(notes)
