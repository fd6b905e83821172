"""Human renderings of a Plan: PLAN.md, `llmc explain FILE` (Terraform-style) and `llmc estimate`.

All three use the same words for the same figures (weights, KV cache, compute,
overhead, free; TTFT, TPOT, throughput), so a reader can match them up.
"""

from __future__ import annotations

from .estimate.report import LEGEND, memory_bar, memory_table
from .plan import Estimate, Plan
from .runtimes import profile
from .text import count, md_fence, md_text
from .units import format_bytes, format_duration, format_tokens


def _band(e: Estimate, fmt) -> str:
    return f"{fmt(e.value)} ({fmt(e.low)} – {fmt(e.high)})"


def _rate(v: float) -> str:
    return f"{v:.1f} tok/s"


def choice_lines(plan: Plan) -> list[tuple[str, str]]:
    m, r = plan.model, plan.runtime
    where = m.path or (f"{m.repo}/{m.file}" if m.file else m.repo)
    rows = [
        ("model", f"{m.name} ({m.id})"),
        ("weights", f"{m.format} from {where}" + (f" @ {m.revision}" if m.revision else "")),
        ("license", m.license),
        ("runtime", f"{r.name} {r.version} on {r.backend} "
                    + (f"(image {r.image})" if r.image else "(no container image for this backend: runs natively)")),
        ("kv cache", plan.kv_cache.get("type", "")),
        ("context", f"{format_tokens(plan.context)} tokens per request, {plan.slots} concurrent "
                    f"sequence{'s' * (plan.slots != 1)}"),
        ("parallelism", parallelism_text(plan)),
        ("serving", f"{plan.serving.host}:{plan.serving.port} as '{plan.serving.served_name}'"
                    + (f", API key from ${plan.serving.api_key_env}" if plan.serving.api_key_env else "")),
    ]
    if plan.speculative:
        s = plan.speculative
        rows.append(("speculative", f"{s.method}, {s.num_tokens} tokens, ~{s.speedup:.2f}x at {s.acceptance:.0%} "
                                    f"acceptance ({s.source})"))
    for key, value in sorted(plan.settings.env.items()):
        rows.append(("env", f"{key}={value}"))
    return rows


def parallelism_text(plan: Plan) -> str:
    p, hw = plan.parallelism, plan.hardware
    parts = []
    if hw.gpu is None:
        return "CPU only (host RAM)"
    if p.nodes > 1:
        parts.append(f"{p.nodes} nodes")
    engine = profile(plan.runtime.name).engine
    if engine == "paged":
        parts.append(f"TP {p.tensor}")
    if p.pipeline > 1:
        parts.append(f"PP {p.pipeline}")
    if p.expert > 1:
        parts.append(f"EP {p.expert}")
    if p.replicas > 1:
        parts.append(f"{p.replicas} replicas")
    if engine == "llama":
        parts.append(f"{p.split_mode} split over {hw.gpus_per_node} GPUs" if hw.gpus_per_node > 1 else "1 GPU")
    if p.tensor_split:
        parts.append("tensor split " + ",".join(f"{x:g}" for x in p.tensor_split))
    if p.gpu_layers is not None:
        parts.append(f"{p.gpu_layers}/{plan.model.n_layers} layers on GPU")
    if p.n_cpu_moe:
        parts.append(f"experts of {p.n_cpu_moe} layers on CPU")
    return ", ".join(parts)


def memory_lines(plan: Plan) -> list[str]:
    lines = [f"Memory per device ({LEGEND}):"]
    lines += ["  " + memory_bar(d) for d in plan.memory.devices]
    mem = plan.memory
    if mem.kv_tokens_capacity is not None:
        lines.append(f"  KV cache capacity: {mem.kv_tokens_capacity} tokens"
                     + (f", maximum concurrency {mem.max_concurrency:.2f}x at {format_tokens(plan.context)}"
                        if mem.max_concurrency else ""))
    lines.append(f"  Safety margin kept free: {mem.safety_margin:.0%}; error band ±{mem.error_band:.0%}")
    lines += [f"  Assumed: {d.device} drives a desktop, {format_bytes(p.bytes)} kept for it; write `headless = true` "
              "in hardware { } if no display is attached" for d in mem.devices for p in d.parts if p.name == "desktop"]
    return lines


def speed_lines(plan: Plan) -> list[str]:
    perf, t = plan.performance, plan.targets
    w = plan.workload
    def goal(bound: float | None, statistic: str | None) -> str | None:
        return bound and f"{statistic or 'mean'} ≤ {format_duration(bound)}"

    rows = [
        ("TTFT", _band(perf.ttft_s, format_duration), goal(t.ttft_s, t.ttft_percentile)),
        ("TPOT", _band(perf.tpot_s, format_duration), goal(t.tpot_s, t.tpot_percentile) and
         goal(t.tpot_s, t.tpot_percentile) + (" (default target for the task)" if t.tpot_default else "")),
        ("throughput", _band(perf.throughput_tok_s, _rate),
         t.throughput_tok_s and f"≥ {_rate(t.throughput_tok_s)}"),
    ]
    arrivals = f"Poisson arrivals at {w.rate:g} req/s" if w.rate else f"{count(w.concurrency, 'user')} in a closed loop"
    spread = f", lengths ±{w.spread:.0%}" if w.spread else ""
    lines = [f"Speed under load ({arrivals}), {format_tokens(w.prompt_tokens)} prompt, "
             f"{w.output_tokens} output tokens{spread} ({perf.bound} bound); means, with their band:"]
    for name, value, target in rows:
        lines.append(f"  {name:<11} {value}" + (f"   target {target}" if target else ""))
    return lines + _load_lines(perf) + calibration_lines(perf) + measured_lines(perf)


def measured_lines(perf) -> list[str]:
    """What `llmc tune` measured on the target, and the settings it chose."""
    m = perf.measured
    if m is None:
        return []
    changed = ", ".join(f"{k} {m.planned.get(k)} → {v}" for k, v in m.chosen.items() if m.planned.get(k) != v)
    rate = f", throughput {_rate(m.throughput_tok_s)}" if m.throughput_tok_s else ""
    return [f"  measured    TTFT {format_duration(m.ttft_s)}, TPOT {format_duration(m.tpot_s)}{rate} (medians of "
            f"{count(m.requests, 'request')}; llmc tune, {count(m.trials, 'trial')}: {changed or 'as planned'})"]


def factors_text(bandwidth: float, compute: float, vector: float, overhead: float) -> str:
    """A calibration's factors as PLAN.md and `llmc calibration fit` say them (the matrix-vector FLOPs only
    where a run moved them: on a GPU no kernel is priced at that rate)."""
    matvec = f", matrix-vector FLOPs ×{vector:.2f}" if round(vector, 2) != 1 else ""
    return f"bandwidth ×{bandwidth:.2f}, FLOPs ×{compute:.2f}{matvec}, fixed costs ×{overhead:.2f}"


def calibration_lines(perf) -> list[str]:
    """Whether measured runs corrected the figures: how many, how they match, the factors and the band."""
    cal = perf.calibration
    if cal is None:
        return []
    key = cal.key
    setup = f"{key['runtime']} {key['version']} on {key['device']}"
    if not cal.runs:
        return [f"  calibration: no measured run of {setup} yet; the published fit (band ±{cal.band:.0%}). "
                "`llmc smoke` records one"]
    buffers = [f"  compute buffers ×{cal.compute_memory:.2f} as the runs' logs showed them"] \
        if round(cal.compute_memory, 2) != 1 else []
    return [f"  calibrated from {count(cal.runs, 'measured run')} ({cal.level}: {setup}, {key['shape']}): "
            f"{factors_text(cal.bandwidth, cal.compute, cal.vector, cal.overhead)} of the published fit; runs within "
            f"{cal.residual:.0%} after it; band ±{cal.band:.0%}", *buffers,
            f"  records: {', '.join(cal.files)}"]


def _load_lines(perf) -> list[str]:
    """The simulation's distribution, or why there is none."""
    load = perf.load
    if load is None:
        return ["  (unloaded figures: a request alone and a decode step at the running batch; not simulated)"]
    dur = format_duration
    lines = [f"  simulated per replica: {load.workload}; {load.scheduler}; {load.requests} steady-state requests"]
    for name, dist in (("TTFT", load.ttft_s), ("TPOT", load.tpot_s), ("ITL", load.itl_s),
                       ("end-to-end", load.e2e_s), ("queue", load.queue_s)):
        lines.append(f"  {name:<11} p50 {dur(dist.p50)}, p90 {dur(dist.p90)}, p99 {dur(dist.p99)}")
    lines.append(f"  KV in use   mean {load.kv_mean:.0%}, peak {load.kv_peak:.0%}; {load.preemptions} preemption(s)"
                 + ("; arrivals outpace the replica, its queue grows" if load.saturated else ""))
    if perf.unloaded_ttft_s is not None:
        lines.append(f"  unloaded    TTFT {dur(perf.unloaded_ttft_s)} (a request alone), TPOT "
                     f"{dur(perf.unloaded_tpot_s)} (a decode step at the full batch)")
    return lines


def explain_text(plan: Plan) -> str:
    """Terraform-style: what will be deployed, with every choice and estimate."""
    out = [f"# deployment \"{plan.deployment}\" will be built", ""]
    for key, value in choice_lines(plan):
        out.append(f"  + {key:<12} = {value}")
    out += ["", *memory_lines(plan), "", *speed_lines(plan), "",
            f"Binding constraint: {plan.binding_constraint}", ""]
    if plan.alternatives:
        out.append("Alternatives considered:")
        out += [f"  ~ {a.choice}: {a.reason}" for a in plan.alternatives]
        out.append("")
    if plan.rejected:
        out.append("Ruled out:")
        out += [f"  - {r.family}: {r.constraint}" + (f" ({r.detail})" if r.detail else "") for r in plan.rejected]
        out.append("")
    artifacts = 1 + len(plan.emit)
    out.append(f"Plan: 1 deployment, {artifacts} artifact set(s) ({', '.join((plan.runtime.name,) + plan.emit)}).")
    return "\n".join(out) + "\n"


def estimate_text(plan: Plan) -> str:
    """`llmc estimate`: the chosen configuration's memory (with every part's source) and speed."""
    out = [f"{plan.deployment}: {plan.model.name} {plan.model.format} on {plan.runtime.name} "
           f"({parallelism_text(plan)}), KV {plan.kv_cache.get('type')}, context {format_tokens(plan.context)}", ""]
    out += memory_lines(plan) + [""]
    for d in plan.memory.devices:
        out.append(memory_table(d))
    out += ["", *speed_lines(plan), "  sources: " + "; ".join(plan.performance.sources)]
    return "\n".join(out) + "\n"


def plan_markdown(plan: Plan) -> str:
    """PLAN.md. Every value may come from a model file or a catalog record: each goes through md_text
    (prose, table cells) or md_fence (code blocks), so none can add markup."""
    out = [f"# Plan: {md_text(plan.deployment)}", "",
           f"Compiled by llmc {md_text(plan.llmc_version)} (plan schema `{plan.schema_}`).", "", "## Choices", "",
           "| | |", "| --- | --- |"]
    out += [f"| {k} | {md_text(v)} |" for k, v in choice_lines(plan)]
    out += ["", "## Memory", "", *md_fence(memory_lines(plan)), ""]
    for d in plan.memory.devices:
        out += [f"**{md_text(d.device)}** — {format_bytes(d.total_bytes)} of {format_bytes(d.capacity_bytes)}", "",
                "| part | bytes | source |", "| --- | ---: | --- |"]
        out += [f"| {md_text(p.name)} | {p.bytes} | {md_text(p.source + (f' ({p.detail})' if p.detail else ''))} |"
                for p in d.parts]
        out.append("")
    out += ["## Latency and throughput", "", *md_fence(speed_lines(plan)), "",
            "Sources: " + md_text("; ".join(plan.performance.sources)), "",
            f"**Binding constraint:** {md_text(plan.binding_constraint)}", ""]
    if plan.alternatives:
        out += ["## Alternatives", "", "| choice | score | why it lost |", "| --- | ---: | --- |"]
        out += [f"| {md_text(a.choice)} | {a.score:g} | {md_text(a.reason)} |" for a in plan.alternatives]
        out.append("")
    if plan.rejected:
        out += ["## Ruled out", "", "| family | constraint | detail |", "| --- | --- | --- |"]
        out += [f"| {md_text(r.family)} | {md_text(r.constraint)} | {md_text(r.detail)} |" for r in plan.rejected]
        out.append("")
    if plan.notes:
        out += ["## Notes", ""] + [f"- {md_text(n)}" for n in plan.notes] + [""]
    return "\n".join(out)
