"""Prefill and decode speed from the roofline: bytes moved and FLOPs per device.

Decode step (memory-bound): the active weights once (MoE: the routed experts a batch touches,
E x (1 - (1 - k/E)^B) of them) plus each running sequence's KV, over bandwidth x efficiency;
floored by compute at large batch (2 x active params x batch FLOPs). TP divides both and adds two
all-reduces per layer (latency + ring transfer over NVLink or PCIe); expert parallelism across replicas
spreads the routed experts over TP x DP ranks (each reads its share, touched by the whole group's tokens)
and adds two all-to-alls per MoE layer. Layers in host RAM (llama.cpp
-ngl / --n-cpu-moe) are read at host bandwidth. Prefill (compute-bound): 2 x active params x tokens
plus the causal attention term 2 x layers x tokens^2 x heads x head_dim.
TTFT = own prefill + half the other concurrent prompts' prefills (requests arriving together);
TPOT = decode step at the running batch (divided by the speculative speedup); throughput = batch / TPOT.
Efficiency factors per runtime x device class are in each runtime's profile (llmc.runtimes), each with
where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog.params import moe_layer_indices, param_counts
from ..catalog.schema import Gpu, KvType, Model
from ..plan import Estimate, Performance
from ..runtimes import Efficiency, profile
from .kv import kv_heads_per_device
from .memory import HardwareView, MemoryEstimate, ParallelView
from .speculative import SpecSpeedup
from .weights import WeightBytes

# Weight-only int4 kernels (AWQ/GPTQ Marlin) dequantize on the fly and reach about half the bandwidth
# share of a 16-bit GEMV at batch 1: fitted to row s9 (Qwen2.5-14B AWQ, A100).
INT4_KERNEL_BANDWIDTH = 0.68
INT4_FAMILIES = ("awq", "gptq", "int4")
CPU_DEFAULT_BANDWIDTH_GBPS = 50.0
CPU_DEFAULT_TFLOPS = 1.0
CPU_DEFAULT_SOURCE = "no CPU record: dual-channel DDR5 (~50 GB/s) and ~1 TFLOPS assumed"
LINK = {"nvlink": (450.0, 8e-6), "pcie": (25.0, 20e-6)}
LINK_SOURCE = ("all-reduce: ring transfer 2(tp-1)/tp x message over the link (NVLink 4 ~450 GB/s, PCIe 4 x16 "
               "~25 GB/s per direction) plus per-call latency (NCCL small messages: ~8 us NVLink, ~20 us PCIe; estimates)")
SPEED_BAND = 0.25


@dataclass(frozen=True)
class SpeedEstimate:
    ttft_s: Estimate
    tpot_s: Estimate
    throughput_tok_s: Estimate
    prefill_tok_s: float
    decode_tok_s: float           # one stream's tokens/s at the running batch
    bound: str
    sources: tuple[str, ...]
    parts: dict[str, float] = field(default_factory=dict)

    def to_plan(self) -> Performance:
        return Performance(ttft_s=self.ttft_s, tpot_s=self.tpot_s, throughput_tok_s=self.throughput_tok_s,
                           prefill_tok_s=round(self.prefill_tok_s, 1), bound=self.bound, sources=self.sources)


def device_class(gpu: Gpu | None) -> str:
    if gpu is None or gpu.kind == "cpu":
        return "cpu"
    name = gpu.name.lower()
    if any(w in name for w in ("rtx", "geforce", "titan", "quadro")) and "pro 6000" not in name:
        return "consumer"
    return "datacenter"


def efficiency(runtime: str, gpu: Gpu | None) -> Efficiency:
    """The runtime's fit for this device's class (its datacenter fit where it has none for the class; on a
    CPU, the one runtime fitted there: only llama.cpp-based runtimes run without a GPU)."""
    fits = profile(runtime)
    return fits.fit(device_class(gpu)) or fits.fit("datacenter")


def experts_touched_fraction(model: Model, batch: int) -> float:
    """Expected share of routed experts a batch of tokens reads (uniform routing)."""
    if model.moe is None:
        return 1.0
    p = model.moe.experts_per_token / model.moe.num_experts
    return 1 - (1 - p) ** max(batch, 1)


def decode_weight_bytes(model: Model, weights: WeightBytes, batch: int) -> int:
    """Weight bytes one decode step reads: all but the embedding table (a row lookup) and the
    routed experts nobody in the batch uses. With tied embeddings the LM head reads the table."""
    dense = weights.total_bytes - weights.bytes_of("embed", "experts")
    if model.tie_word_embeddings:
        dense += weights.bytes_of("embed")
    experts = weights.bytes_of("experts") * experts_touched_fraction(model, batch)
    return round(dense + experts)


def kv_bytes_per_token(model: Model, kv: KvType, tp: int = 1) -> float:
    """KV bytes one token adds, on one TP rank, for attention that reads it (all layers)."""
    elem = kv.bits / 8
    kinds = model.layer_kinds()
    full = kinds.count("full") + kinds.count("sliding")
    per = 2 * kv_heads_per_device(model.n_kv_heads, tp) * model.head_dim * elem * full
    if kinds.count("mla"):
        mla = model.attention.mla
        per += (mla.kv_lora_rank + mla.qk_rope_head_dim) * elem * kinds.count("mla")
    return per


def _kv_read_bytes(model: Model, kv: KvType, tp: int, context: float) -> float:
    """One sequence's KV read in a decode step; sliding layers read at most their window."""
    kinds = model.layer_kinds()
    per_layer = kv_bytes_per_token(model, kv, tp) / max(1, len([k for k in kinds if k != "linear"]))
    total = 0.0
    window = model.attention.sliding_window
    for k in kinds:
        if k == "linear":
            continue
        span = min(context, window) if (k == "sliding" and window) else context
        total += per_layer * span
    return total


def _device_peaks(hardware: HardwareView, weights: WeightBytes, runtime: str = "") -> tuple[float, float, Gpu | None, str]:
    if hardware.cpu_only:
        cpu = hardware.cpu
        if cpu is None:
            return CPU_DEFAULT_BANDWIDTH_GBPS * 1e9, CPU_DEFAULT_TFLOPS * 1e12, None, CPU_DEFAULT_SOURCE
        return cpu.bandwidth_gbps * 1e9, (cpu.bf16_tflops or CPU_DEFAULT_TFLOPS) * 1e12, cpu, cpu.source[0]
    gpu = hardware.gpus[0]
    tflops = gpu.bf16_tflops or 50.0
    if weights.family == "fp8" and gpu.fp8_tflops:
        tflops = gpu.fp8_tflops
    elif weights.family == "gguf" and bool(runtime) and profile(runtime).quantized_gguf_mmq \
            and weights.bits_per_weight < 12:
        tflops *= 2   # quantized GGUF matmuls run on int8 tensor cores (MMQ), twice the fp16 rate
    return gpu.bandwidth_gbps * 1e9, tflops * 1e12, gpu, gpu.source[0]


def rank_weight_bytes(model: Model, weights: WeightBytes, batch: int, parallel: ParallelView) -> float:
    """Weight bytes one GPU reads per decode step: the dense part split by TP; the routed experts split over
    the expert group (TP x DP under expert parallelism, as vLLM shards them), touched by the tokens of every
    replica in that group."""
    tp = max(1, parallel.tp)
    group = parallel.ep if parallel.ep > 1 else tp
    experts = weights.bytes_of("experts")
    dense = decode_weight_bytes(model, weights, batch) - experts * experts_touched_fraction(model, batch)
    return dense / tp + experts * experts_touched_fraction(model, batch * max(1, group // tp)) / group


def _alltoall_s(model: Model, hardware: HardwareView, parallel: ParallelView, tokens: int) -> float:
    """Expert parallelism across replicas: each MoE layer sends every token to its experts' ranks and back
    (two all-to-alls of tokens x experts_per_token hidden states)."""
    group = parallel.ep if parallel.ep > 1 else 1
    if group <= max(1, parallel.tp) or model.moe is None:
        return 0.0
    gbps, latency = _link(hardware)
    msg = tokens * model.moe.experts_per_token * model.hidden_size * 2 * (group - 1) / group
    return 2 * len(moe_layer_indices(model)) * (latency + msg / (gbps * 1e9))


def _host_share(memory: MemoryEstimate | None) -> float:
    """Share of weight bytes that stay in host RAM while GPUs exist (partial offload)."""
    if memory is None:
        return 0.0
    gpu = sum(d.weights_bytes for d in memory.devices if d.kind == "gpu")
    cpu = sum(d.weights_bytes for d in memory.devices if d.kind == "cpu")
    if not gpu:
        return 0.0
    return cpu / (gpu + cpu)


def _link(hardware: HardwareView) -> tuple[float, float]:
    """(GB/s, seconds per call) of the link between the GPUs."""
    gbps, latency = LINK["nvlink" if hardware.link == "nvlink" else "pcie"]
    gpu = hardware.gpus[0] if hardware.gpus else None
    if gpu is not None:
        if hardware.link == "nvlink" and gpu.nvlink_gbps:
            gbps = gpu.nvlink_gbps
        elif hardware.link != "nvlink" and gpu.pcie_gbps:
            gbps = gpu.pcie_gbps
    return gbps, latency


def _allreduce_s(model: Model, hardware: HardwareView, tp: int, tokens: int) -> float:
    if tp <= 1:
        return 0.0
    gbps, latency = _link(hardware)
    msg = tokens * model.hidden_size * 2
    per_call = latency + msg * 2 * (tp - 1) / tp / (gbps * 1e9)
    return 2 * model.n_layers * per_call


def estimate_speed(model: Model, weights: WeightBytes, kv: KvType, runtime: str, hardware: HardwareView,
                   parallel: ParallelView, *, prompt_tokens: int, output_tokens: int, concurrency: int,
                   memory: MemoryEstimate | None = None, speculative: SpecSpeedup | None = None,
                   host: Gpu | None = None) -> SpeedEstimate:
    bw, flops, dev, dev_source = _device_peaks(hardware, weights, runtime)
    eff = efficiency(runtime, dev)
    slow_kernels = (weights.family in INT4_FAMILIES and dev is not None and dev.kind == "gpu"
                    and profile(runtime).slow_int4_kernels)
    batch = max(1, concurrency)
    tp = max(1, parallel.tp)
    _, active = param_counts(model)

    context = prompt_tokens + output_tokens / 2
    w_bytes = rank_weight_bytes(model, weights, batch, parallel)
    # int4 weight-only matmuls stream slower than 16-bit ones: count their bytes as if larger
    w_int4 = sum(g.bytes for g in weights.groups if g.bits < 8 and g.kind not in ("embed", "norm")) / tp \
        if slow_kernels else 0.0
    w_eff_bytes = w_bytes + w_int4 * (1 / INT4_KERNEL_BANDWIDTH - 1)
    kv_read = batch * _kv_read_bytes(model, kv, tp, context)
    host_share = _host_share(memory) if not hardware.cpu_only else 0.0
    host_bw = (host.bandwidth_gbps * 1e9) if host else CPU_DEFAULT_BANDWIDTH_GBPS * 1e9
    host_eff = profile(runtime).fit("cpu").bandwidth if host_share else 1.0  # host layers: llama.cpp only
    t_mem = (w_eff_bytes * (1 - host_share) + kv_read) / (bw * eff.bandwidth)
    t_host = w_bytes * host_share / (host_bw * host_eff)
    t_compute = 2 * active * batch / tp / (flops * eff.compute)
    t_comm = _allreduce_s(model, hardware, tp, batch) + _alltoall_s(model, hardware, parallel, batch)
    t_fixed = eff.step_overhead_s + eff.layer_overhead_s * model.n_layers
    step = max(t_mem + t_host, t_compute) + t_comm + t_fixed
    bound = "compute" if t_compute > t_mem + t_host else ("host memory bandwidth" if t_host > t_mem else "memory bandwidth")
    spec_up = speculative.speedup if speculative else 1.0
    tpot = step / spec_up

    kinds = model.layer_kinds()
    attn_layers = len([k for k in kinds if k != "linear"])
    attn_flops = 2 * attn_layers * prompt_tokens ** 2 * model.n_heads * model.head_dim
    prefill_flops = 2 * active * prompt_tokens + attn_flops
    t_prefill_compute = prefill_flops / tp / (flops * eff.compute)
    t_prefill_mem = (w_eff_bytes * (1 - host_share)) / (bw * eff.bandwidth) + t_host
    t_prefill = max(t_prefill_compute, t_prefill_mem) + t_comm
    queue = (batch - 1) / 2 * t_prefill
    ttft = t_prefill + queue

    throughput = batch / tpot
    sources = (dev_source, eff.source) + ((LINK_SOURCE,) if tp > 1 else ()) + \
        ((speculative.source,) if speculative else ())
    band = SPEED_BAND
    parts = {"weights_bytes_per_step": w_bytes, "kv_bytes_per_step": kv_read, "t_mem_s": t_mem,
             "t_host_s": t_host, "t_compute_s": t_compute, "t_comm_s": t_comm, "t_fixed_s": t_fixed,
             "t_prefill_s": t_prefill}
    return SpeedEstimate(
        ttft_s=_band(ttft, band), tpot_s=_band(tpot, band), throughput_tok_s=_band(throughput, band),
        prefill_tok_s=prompt_tokens / t_prefill if t_prefill else 0.0, decode_tok_s=1 / tpot,
        bound=bound, sources=sources, parts=parts)


def _band(value: float, rel: float) -> Estimate:
    return Estimate(value=round(value, 6), low=round(value * (1 - rel), 6), high=round(value * (1 + rel), 6))


def bandwidth_limit_tok_s(model: Model, weights: WeightBytes, hardware: HardwareView, tp: int = 1) -> float:
    """The physical ceiling for one stream: peak bandwidth / bytes per token (no estimate may beat it)."""
    bw, _, _, _ = _device_peaks(hardware, weights)
    return bw * tp / decode_weight_bytes(model, weights, 1)
