"""Speed from the roofline: bytes moved and FLOPs per device, for one step of a replica (`StepModel`).

A step reads the active weights once per micro-batch (MoE: the routed experts its tokens touch,
E x (1 - (1 - k/E)^B) of them) plus each decoding sequence's KV (sliding layers at most their window), over
bandwidth x efficiency; its FLOPs are 2 x active parameters per token (the output projection only for sampled
tokens, in llama.cpp the last layer's FFN too; routed experts in 64-row tiles), plus the attention pairs, at
the rate of the weights' storage types (per type on a CPU). TP divides both and adds two all-reduces per
layer (latency + ring transfer over NVLink or PCIe); expert parallelism across replicas spreads the routed
experts over TP x DP ranks and adds two all-to-alls per MoE layer. Layers in host RAM (llama.cpp -ngl /
--n-cpu-moe) are read at host bandwidth. `estimate_speed` gives the unloaded figures (a request alone; a
decode step at the running batch), floors the solver prunes on; estimate/serving.py simulates the load with
the same step. Efficiency factors per runtime x device class are in each runtime's profile (llmc.runtimes),
each with where it came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

from ..catalog.params import active_fraction, moe_layer_indices, param_counts
from ..catalog.schema import Gpu, KvType, Model
from ..plan import Calibration as PlanCalibration
from ..plan import Estimate, Performance, StepParts
from ..runtimes import Efficiency, profile
from .calibration import PRIOR, PRIOR_BAND, Correction, Parts, step_seconds
from .kv import token_bytes
from .memory import HardwareView, MemoryEstimate, ParallelView
from .speculative import SpecSpeedup
from .weights import WeightBytes

if TYPE_CHECKING:
    from .serving import LoadFigures

# Weight-only int4 kernels (AWQ/GPTQ Marlin) dequantize on the fly and reach about half the bandwidth
# share of a 16-bit GEMV at batch 1: fitted to row s9 (Qwen2.5-14B AWQ, A100).
INT4_KERNEL_BANDWIDTH = 0.68
INT4_FAMILIES = ("awq", "gptq", "int4")
# Quantized GGUF matmuls (MMQ on int8 tensor cores) against 16-bit ones (cuBLAS) in prefill, same card and
# build: BF16 4263 vs Q4_K_M 5165 t/s at pp8096 on an RTX 6000 Ada (ggml-org/llama.cpp#19053, 2026-01, master):
# 1.2x, not the 2x of the int8 peak (dequantizing and quantizing the activations to q8_1 cost the rest).
MMQ_PREFILL_SPEEDUP = 1.2
# Grouped expert GEMMs run in tiles of token rows: each expert a batch touches wastes half a tile on average,
# and one with fewer tokens than a tile pays for the whole tile. 64 rows are assumed (llama.cpp's MMQ picks its
# token tile per batch from per-architecture configs, ggml-cuda/mmq-config-*.cuh; vLLM's fused-MoE Triton
# configs use BLOCK_SIZE_M 16-64) and checked against row s15 of docs/accuracy.md (gpt-oss-20b pp512, +15%).
# Only batched paths tile: up to MMVQ_MAX_BATCH tokens llama.cpp runs its vector kernels
# (ggml-cuda/mmvq.cuh MMVQ_MAX_BATCH_SIZE 8), and decode reads are memory-bound anyway.
EXPERT_TILE_ROWS = 64
MMVQ_MAX_BATCH = 8
CPU_DEFAULT_BANDWIDTH_GBPS = 50.0
# A host's measured all-core read bandwidth (`llmc detect`) is what llama.cpp's decode reads its weights at.
SUSTAINED_READ_SHARE = 1.0
SUSTAINED_READ_SOURCE = "weights read at the host's measured bandwidth (benchmarks/calibration_cpu.py)"
CPU_DEFAULT_TFLOPS = 1.0
# FP32 FLOPs per cycle per core that llama.cpp's CPU kernels are priced against (runtimes/llamacpp.py's shares
# are of this): the FMA width they are written for, two pipes x lanes x 2. AVX2 32, NEON 16, SVE (256-bit) 32.
# AVX-512 doubles the hardware's peak (64) but not ggml-cpu's: an AVX-512 build ran this project's Xeon's
# prompts 17-26% faster than the AVX2 build (docs/calibration.md), and x86's quantized dot products are AVX2
# code (ggml-cpu/arch/x86/quants.c), so 1.2 x AVX2. The released images pick the widest build the host runs
# (.devops/cpu.Dockerfile: GGML_CPU_ALL_VARIANTS). AMX tiles are not counted. The all-core clock is assumed.
CPU_FLOPS_PER_CYCLE = {"avx512": 38.4, "avx2": 32, "sve": 32, "neon": 16}
CPU_ASSUMED_GHZ = 3.0


def cpu_tflops(cores: int, isa: tuple[str, ...]) -> float:
    """A CPU host's dense rate for llama.cpp's kernels from its cores and widest vector unit (AVX2 when the
    spec names none)."""
    per_cycle = max((CPU_FLOPS_PER_CYCLE[i] for i in isa if i in CPU_FLOPS_PER_CYCLE), default=32)
    return round(cores * per_cycle * CPU_ASSUMED_GHZ / 1e3, 3)
CPU_DEFAULT_SOURCE = "no CPU record: dual-channel DDR5 (~50 GB/s) and ~1 TFLOPS assumed"
# A GPU record without its dense FP16/BF16 rate (a user's card): this many TFLOPS per GB/s of bandwidth, about
# the lowest ratio among the built-in records that state both (Apple GPUs: an M4 Max's 18.4 at 546 GB/s is
# 0.034; GeForce cards 0.08-0.2, an H100 0.3), so prefill is not promised faster than the card may run; the
# figure's source says so
GPU_TFLOPS_PER_GBPS = 0.03
LINK = {"nvlink": (450.0, 8e-6), "pcie": (25.0, 20e-6)}
LINK_SOURCE = ("all-reduce: ring transfer 2(tp-1)/tp x message over the link (NVLink 4 ~450 GB/s, PCIe 4 x16 "
               "~25 GB/s per direction) plus per-call latency (NCCL small messages: ~8 us NVLink, ~20 us PCIe; estimates)")


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
    load: LoadFigures | None = None   # the serving simulation's figures, when it ran
    band: float = PRIOR_BAND          # relative error band of the figures (calibration narrows it)
    step_parts: dict[str, Parts] = field(default_factory=dict)   # "decode", "prefill": the prior's parts

    def to_plan(self, calibration: PlanCalibration | None = None) -> Performance:
        loaded = self.load is not None
        steps = {f"{name}_parts": StepParts(**{k: round(v, 9) for k, v in asdict(parts).items()})
                 for name, parts in self.step_parts.items()}
        return Performance(ttft_s=self.ttft_s, tpot_s=self.tpot_s, throughput_tok_s=self.throughput_tok_s,
                           prefill_tok_s=round(self.prefill_tok_s, 1), bound=self.bound,
                           sources=self.sources + ((self.load.source,) if loaded else ()),
                           basis="simulated" if loaded else "unloaded",
                           unloaded_ttft_s=self.parts.get("unloaded_ttft_s"),
                           unloaded_tpot_s=self.parts.get("unloaded_tpot_s"),
                           load=self.load.to_plan() if loaded else None, calibration=calibration, **steps)


def device_class(gpu: Gpu | None) -> str:
    return "cpu" if gpu is None or gpu.kind == "cpu" else gpu.device_class


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


def _device_peaks(hardware: HardwareView, weights: WeightBytes, runtime: str = "") -> tuple[float, float, Gpu | None, str]:
    if hardware.cpu_only:
        cpu = hardware.cpu
        if cpu is None:
            return CPU_DEFAULT_BANDWIDTH_GBPS * 1e9, CPU_DEFAULT_TFLOPS * 1e12, None, CPU_DEFAULT_SOURCE
        return cpu.bandwidth_gbps * 1e9, (cpu.bf16_tflops or CPU_DEFAULT_TFLOPS) * 1e12, cpu, cpu.reference
    gpu = hardware.gpus[0]
    tflops = gpu.bf16_tflops or GPU_TFLOPS_PER_GBPS * gpu.bandwidth_gbps
    source = gpu.reference if gpu.bf16_tflops else \
        f"{gpu.name}: no TFLOPS in its record, {GPU_TFLOPS_PER_GBPS} x its {gpu.bandwidth_gbps:g} GB/s assumed"
    if weights.family == "fp8" and gpu.fp8_tflops:
        tflops = gpu.fp8_tflops
    elif weights.family == "gguf" and bool(runtime) and profile(runtime).quantized_gguf_mmq \
            and weights.bits_per_weight < 12:
        tflops *= MMQ_PREFILL_SPEEDUP   # quantized GGUF matmuls run on int8 tensor cores (MMQ)
    return gpu.bandwidth_gbps * 1e9, tflops * 1e12, gpu, source


def routed_active_params(model: Model) -> float:
    """Parameters of the routed experts one token uses: gate, up and down of k experts in every MoE layer."""
    moe = model.moe
    if moe is None:
        return 0.0
    return len(moe_layer_indices(model)) * moe.experts_per_token * 3 * model.hidden_size * moe.expert_intermediate_size


def expert_tile_efficiency(model: Model, tokens: int) -> float:
    """Useful rows / computed rows of a pass's grouped expert GEMMs (EXPERT_TILE_ROWS): 1 on the vector path."""
    moe = model.moe
    if moe is None or tokens <= MMVQ_MAX_BATCH:
        return 1.0
    rows = tokens * moe.experts_per_token
    touched = moe.num_experts * experts_touched_fraction(model, tokens)
    return rows / max(rows + touched * EXPERT_TILE_ROWS / 2, touched * EXPERT_TILE_ROWS)


def last_ffn_active(model: Model, weights: WeightBytes) -> float:
    """Active parameters of one layer's feed-forward (its dense FFN or shared experts, and the routed experts
    a token uses), averaged over the layers that have it."""
    per_layer = [g for g in weights.groups if g.per_layer and g.kind in ("ffn", "shared_experts", "experts")]
    return sum(g.n_params / g.layers * (active_fraction(model) if g.kind == "experts" else 1.0)
               for g in per_layer)


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


def _host_share(memory: MemoryEstimate | None, weights: WeightBytes) -> float:
    """Share of the streamed weight bytes that stay in host RAM while GPUs exist (partial offload). llama.cpp
    keeps the token embedding table in host memory, but a step reads only its tokens' rows of it
    (src/llama-model.cpp: tok_embd goes to the CPU input buffer; the lookup is ggml_get_rows), so the table
    is not streamed."""
    if memory is None:
        return 0.0
    gpu = sum(d.weights_bytes for d in memory.devices if d.kind == "gpu")
    cpu = sum(d.weights_bytes for d in memory.devices if d.kind == "cpu")
    if not gpu:
        return 0.0
    embed = weights.bytes_of("embed")
    streamed = max(0.0, cpu - embed)
    return streamed / max(1.0, gpu + streamed)


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


@dataclass(frozen=True)
class StepModel:
    """Seconds one forward step of one replica takes, from the roofline parts above: the analytic figures
    and the serving simulation (estimate/serving.py) price every step with this one function."""

    model: Model
    weights: WeightBytes
    kv: KvType
    hardware: HardwareView
    parallel: ParallelView
    eff: Efficiency
    bw: float                 # device peak bytes/s
    flops: float              # device peak FLOP/s for this weight type
    gemm_rate: float          # achieved / peak FLOPs of the GEMMs over these weights (Efficiency.gemm_share)
    int4_extra: float         # bytes per rank the slow int4 kernels cost on top of the weights
    host_share: float         # share of a step's weight bytes read from host RAM (offloaded layers)
    host_rate: float          # achieved host bytes/s
    ubatch: int | None        # a step's tokens run in passes of this many (llama.cpp -ub); None: one pass
    body_active: float        # active parameters a token's layers multiply by (not the embedding lookup or the head)
    last_ffn_active: float    # ... of them in the last layer's FFN, where the runtime runs it for sampled rows only
    expert_active: float      # ... of them in routed experts (their GEMMs tile, expert_tile_efficiency)
    head_params: float        # the output projection, computed only for tokens that are sampled
    kv_full: float            # KV bytes per token per rank over the layers that read every token
    kv_window: float          # ... over the sliding-window layers (they read at most `window` tokens)
    window: int | None
    attn_width: float         # attention layers x heads x head_dim / tp: the FLOPs weight of one token pair
    fixed_s: float            # per step: scheduling and per-layer launch costs
    request_s: float          # per request, outside the steps (the scheduler's request overhead)
    sample_s: float           # per token sampled on the host (Scheduler.sampling_s_per_entry x the vocabulary)
    sources: tuple[str, ...]
    correction: Correction = PRIOR   # measured runs' scales of `eff` (estimate/calibration.py), applied

    terms: dict[int, tuple[float, ...]] = field(default_factory=dict, compare=False, repr=False)

    def compute_rate(self, per_pass: int) -> float:
        """Achieved / peak FLOPs of a pass of this many tokens: matrix-vector kernels up to MMVQ_MAX_BATCH
        tokens where the device has a rate of its own for them, else its GEMMs over these weights' types."""
        return self.eff.vector_compute if self._matrix_vector(per_pass) else self.gemm_rate

    def _matrix_vector(self, per_pass: int) -> bool:
        return per_pass <= MMVQ_MAX_BATCH and self.eff.vector_compute is not None

    def passes(self, tokens: int) -> int:
        return max(1, -(-tokens // self.ubatch)) if self.ubatch else 1

    def per_pass(self, tokens: int) -> int:
        """Tokens in each of a step's micro-batches."""
        return -(-tokens // self.passes(tokens))

    def _terms(self, tokens: int) -> tuple[float, ...]:
        """What depends only on the step's token count, computed once per count: seconds of weight reads on
        the GPU and from host RAM, of matmul FLOPs, of communication, of fixed costs; the pass's FLOPs rate, and
        whether it multiplies in matrix-vector kernels (compute_rate)."""
        found = self.terms.get(tokens)
        if found is None:
            passes, per_pass = self.passes(tokens), self.per_pass(tokens)
            tp = max(1, self.parallel.tp)
            w = rank_weight_bytes(self.model, self.weights, per_pass, self.parallel)
            gpu = passes * (w * (1 - self.host_share) + self.int4_extra) / (self.bw * self.eff.bandwidth)
            host = passes * w * self.host_share / self.host_rate
            body = self.body_active - self.expert_active + self.expert_active / expert_tile_efficiency(
                self.model, per_pass)
            rate = self.flops * self.compute_rate(per_pass)
            matmul = 2 * body * tokens / tp / rate
            comm = passes * (_allreduce_s(self.model, self.hardware, tp, per_pass)
                             + _alltoall_s(self.model, self.hardware, self.parallel, per_pass))
            fixed = self.fixed_s + self.eff.layer_overhead_s * self.model.n_layers * (passes - 1)
            found = self.terms[tokens] = (gpu, host, matmul, comm, fixed, rate, self._matrix_vector(per_pass))
        return found

    def time(self, decode: int = 0, kv_tokens: float = 0.0, kv_window_tokens: float = 0.0, prefill: int = 0,
             prefill_pairs: float = 0.0) -> float:
        """One step: `decode` sequences emitting a token after reading `kv_tokens` cached tokens in all
        (`kv_window_tokens` as the sliding layers see them), plus `prefill` prompt tokens whose attention
        covers `prefill_pairs` (token, earlier token) pairs."""
        mem, host, compute, comm, fixed, vector = self._split(decode, kv_tokens, kv_window_tokens, prefill,
                                                              prefill_pairs)
        # Matrix-vector kernels (a CPU's decode) do not hide their dot products behind the weight reads.
        # llama-server's decode on this project's 2-core VM follows the sum (a Q8_0 640 x 262,144 head: 11.5 /
        # 14.7 / 18.7 / 32.8 ms at 1 / 2 / 4 / 8 slots; the sum predicts 10.4 / 14.2 / 21.9 / 37.3, the larger
        # of the two 7.8 / 9.0 / 15.4 / 30.8)
        return step_seconds(mem + host, 0.0 if vector else compute, compute if vector else 0.0, comm + fixed)

    def _split(self, decode: int, kv_tokens: float, kv_window_tokens: float, prefill: int,
               prefill_pairs: float) -> tuple[float, float, float, float, float, bool]:
        """(GPU memory, host memory, compute, communication, fixed) seconds of one step, and whether its
        compute is in matrix-vector kernels."""
        tokens = max(1, decode + prefill)
        gpu, host, matmul, comm, fixed, rate, vector = self._terms(tokens)
        mem = gpu + (self.kv_full * kv_tokens + self.kv_window * kv_window_tokens) / (self.bw * self.eff.bandwidth)
        outputs = decode + (1 if prefill else 0)
        skipped = self.last_ffn_active * (tokens - outputs)
        compute = matmul + (2 * (self.head_params * outputs - skipped) / max(1, self.parallel.tp) +
                            4 * self.attn_width * (kv_tokens + prefill_pairs)) / rate
        return mem, host, compute, comm, fixed + outputs * self.sample_s, vector

    def parts(self, decode: int, kv_tokens: float, kv_window_tokens: float) -> dict[str, float]:
        """A decode step's terms, for the plan's explanation."""
        mem, host, compute, comm, fixed, _ = self._split(decode, kv_tokens, kv_window_tokens, 0, 0.0)
        tokens = max(1, decode)
        w = rank_weight_bytes(self.model, self.weights, self.per_pass(tokens), self.parallel)
        return {"weights_bytes_per_step": w * self.passes(tokens),
                "kv_bytes_per_step": self.kv_full * kv_tokens + self.kv_window * kv_window_tokens,
                "t_mem_s": mem, "t_host_s": host, "t_compute_s": compute, "t_comm_s": comm, "t_fixed_s": fixed}

    def prior_parts(self, decode: int = 0, kv_tokens: float = 0.0, kv_window_tokens: float = 0.0, prefill: int = 0,
                    prefill_pairs: float = 0.0, request: bool = False) -> Parts:
        """A step's parts as the uncalibrated model prices them (what a calibration record keeps): this
        model's, with its correction taken back out. `request`: the per-request cost is counted (a TTFT)."""
        mem, host, compute, comm, fixed, in_vector = self._split(decode, kv_tokens, kv_window_tokens, prefill,
                                                                 prefill_pairs)
        bandwidth, flops, vector, overhead, host_rate = self.correction.factors
        return Parts(memory_s=mem * bandwidth, host_s=host * host_rate,
                     compute_s=0.0 if in_vector else compute * flops, vector_s=compute * vector if in_vector else 0.0,
                     fixed_s=(fixed + (self.request_s if request else 0.0)) / overhead, comm_s=comm)

    def prefill_s(self, tokens: int, offset: int = 0) -> float:
        """A prompt (or the part after `offset` cached tokens) alone in its steps."""
        return self.time(prefill=tokens, prefill_pairs=tokens * (offset + tokens / 2))

    def decode_s(self, batch: int, context: float) -> float:
        """A decode step of `batch` sequences each `context` tokens long, nothing else in the batch."""
        return self.time(decode=batch, kv_tokens=batch * context,
                         kv_window_tokens=batch * (min(context, self.window) if self.window else 0.0))


def step_model(model: Model, weights: WeightBytes, kv: KvType, runtime: str, hardware: HardwareView,
               parallel: ParallelView, memory: MemoryEstimate | None = None, host: Gpu | None = None,
               correction: Correction = PRIOR, eager: bool = False) -> StepModel:
    """The step model of a candidate; `correction` scales the runtime's efficiency as measured runs on this
    device say (estimate/calibration.py); `eager`: CUDA graphs are off (enforce_eager pinned), so each step
    also pays the runtime's host-side launches per layer."""
    bw, flops, dev, dev_source = _device_peaks(hardware, weights, runtime)
    eff = corrected(sustained(efficiency(runtime, dev), dev), correction)
    runtime_profile = profile(runtime)
    tp = max(1, parallel.tp)
    slow_kernels = (weights.family in INT4_FAMILIES and dev is not None and dev.kind == "gpu"
                    and runtime_profile.slow_int4_kernels)
    # int4 weight-only matmuls stream slower than 16-bit ones: count their bytes as if larger
    int4 = sum(g.bytes for g in weights.groups if g.bits < 8 and g.kind not in ("embed", "norm")) / tp \
        if slow_kernels else 0.0
    host_share = _host_share(memory, weights) if not hardware.cpu_only else 0.0
    host_bw = (host.bandwidth_gbps * 1e9) if host else CPU_DEFAULT_BANDWIDTH_GBPS * 1e9
    host_eff = sustained(runtime_profile.fit("cpu"), host).bandwidth * correction.host if host_share else 1.0
    _, active = param_counts(model)
    kinds = model.layer_kinds()
    attn_layers = [k for k in kinds if k != "linear"]
    per_kind = token_bytes(model, kv, tp)
    window = model.attention.sliding_window
    sliding = kinds.count("sliding") if window else 0
    heads = model.n_heads / tp
    sched = runtime_profile.scheduler
    eager_s = runtime_profile.eager_layer_s * correction.overhead if eager else 0.0
    return StepModel(
        model=model, weights=weights, kv=kv, hardware=hardware, parallel=parallel, eff=eff, bw=bw, flops=flops,
        gemm_rate=eff.gemm_share(weights.layer_type_mix()),
        int4_extra=int4 * (1 / INT4_KERNEL_BANDWIDTH - 1), host_share=host_share, host_rate=host_bw * host_eff,
        ubatch=sched.ubatch, body_active=active - model.vocab_size * model.hidden_size * (
            1 if model.tie_word_embeddings else 2), expert_active=routed_active_params(model),
        last_ffn_active=last_ffn_active(model, weights) if runtime_profile.last_layer_output_rows else 0.0,
        head_params=model.vocab_size * model.hidden_size,
        kv_full=sum(per_kind.values()) - (per_kind.get("sliding", 0) if sliding else 0),
        kv_window=per_kind.get("sliding", 0) if sliding else 0, window=window if sliding else None,
        attn_width=heads * sum(model.kv_shape(k)[1] if k != "mla" else model.head_dim for k in attn_layers),
        fixed_s=eff.step_overhead_s + (eff.layer_overhead_s + eager_s) * model.n_layers,
        request_s=sched.request_overhead_s * correction.overhead,
        sample_s=sched.sampling_s_per_entry * model.vocab_size * correction.overhead, correction=correction,
        sources=(dev_source, eff.source) + ((LINK_SOURCE,) if tp > 1 else ())
        + ((runtime_profile.eager_source,) if eager_s else ()))


def sustained(eff: Efficiency, device: Gpu | None) -> Efficiency:
    """The runtime's efficiency against a bandwidth measured as sustained (Gpu.sustained_bandwidth): its
    weight reads reach that figure, where they reach `eff.bandwidth` of a datasheet peak."""
    if device is None or not device.sustained_bandwidth:
        return eff
    return replace(eff, bandwidth=SUSTAINED_READ_SHARE, source=f"{eff.source}; {SUSTAINED_READ_SOURCE}")


def corrected(eff: Efficiency, correction: Correction) -> Efficiency:
    """The runtime's efficiency with measured runs' scales applied (the prior when there are none)."""
    if correction.factors == PRIOR.factors:
        return eff
    bandwidth, compute, vector, overhead, _ = correction.factors   # the host's is applied to the host rate
    vector_compute = eff.vector_compute * vector if eff.vector_compute is not None else None
    return replace(eff, bandwidth=eff.bandwidth * bandwidth, compute=eff.compute * compute,
                   gemm_by_type=tuple((kind, share * compute) for kind, share in eff.gemm_by_type),
                   vector_compute=vector_compute,
                   step_overhead_s=eff.step_overhead_s * overhead, layer_overhead_s=eff.layer_overhead_s * overhead)


def estimate_speed(model: Model, weights: WeightBytes, kv: KvType, runtime: str, hardware: HardwareView,
                   parallel: ParallelView, *, prompt_tokens: int, output_tokens: int, concurrency: int,
                   memory: MemoryEstimate | None = None, speculative: SpecSpeedup | None = None,
                   host: Gpu | None = None) -> SpeedEstimate:
    """The unloaded figures: a request's own prefill (no queue) plus the runtime's per-request cost, and a
    decode step at the running batch with no prefill mixed in. The TTFT is a floor on every percentile the
    serving simulation (estimate/serving.py) finds under load, so the solver prunes on it first."""
    return unloaded_speed(step_model(model, weights, kv, runtime, hardware, parallel, memory, host), runtime,
                          prompt_tokens=prompt_tokens, output_tokens=output_tokens, concurrency=concurrency,
                          speculative=speculative)


def unloaded_speed(step: StepModel, runtime: str, *, prompt_tokens: int, output_tokens: int, concurrency: int,
                   speculative: SpecSpeedup | None = None) -> SpeedEstimate:
    """estimate_speed's figures from a step model already built (the solver simulates with the same one)."""
    batch = max(1, concurrency)
    context = prompt_tokens + output_tokens / 2
    window_tokens = batch * (min(context, step.window) if step.window else 0.0)
    parts = step.parts(batch, batch * context, window_tokens)
    spec_up = speculative.speedup if speculative else 1.0
    tpot = step.decode_s(batch, context) / spec_up
    t_prefill = step.prefill_s(prompt_tokens)
    ttft = t_prefill + step.request_s
    throughput = batch / tpot
    sources = step.sources + (profile(runtime).scheduler.source,) + ((speculative.source,) if speculative else ())
    parts |= {"t_prefill_s": t_prefill}
    steps = {"decode": step.prior_parts(batch, batch * context, window_tokens),
             "prefill": step.prior_parts(prefill=prompt_tokens, prefill_pairs=prompt_tokens * prompt_tokens / 2,
                                         request=True)}
    rel = step.correction.band
    return SpeedEstimate(
        ttft_s=band(ttft, rel), tpot_s=band(tpot, rel), throughput_tok_s=band(throughput, rel),
        prefill_tok_s=prompt_tokens / t_prefill if t_prefill else 0.0, decode_tok_s=1 / tpot,
        bound=_bound(parts), sources=sources, parts=parts, band=rel, step_parts=steps)


def _bound(parts: dict[str, float]) -> str:
    mem, host, compute = parts["t_mem_s"], parts["t_host_s"], parts["t_compute_s"]
    return "compute" if compute > mem + host else ("host memory bandwidth" if host > mem else "memory bandwidth")


def band(value: float, rel: float = PRIOR_BAND) -> Estimate:
    return Estimate(value=round(value, 6), low=round(value * (1 - rel), 6), high=round(value * (1 + rel), 6))


def bandwidth_limit_tok_s(model: Model, weights: WeightBytes, hardware: HardwareView, tp: int = 1) -> float:
    """The physical ceiling for one stream: peak bandwidth / bytes per token (no estimate may beat it)."""
    bw, _, _, _ = _device_peaks(hardware, weights)
    return bw * tp / decode_weight_bytes(model, weights, 1)
