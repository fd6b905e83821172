"""Memory per device, in parts, under each runtime's own allocation rules.

llama.cpp / Ollama: layers (and the output layer) go to GPUs by -ngl and the split by free memory
(src/llama-model.cpp load_tensors: the last `ngl` of n_layer+1 units, split points proportional to
free memory); the token embeddings stay on the CPU; --n-cpu-moe N keeps the experts of the first N
layers in host RAM; each layer's KV lives with the layer; every backend reserves a compute buffer.
The free margin is --fit-target (1024 MiB per device by default, common/arg.cpp).
Capacity is what the runtime sees (Gpu.visible_memory_bytes), less a desktop on GPU 0 when the card may drive one.
Ollama runs llama-server with -c num_ctx*parallel -np parallel (ollama llm/server.go).
vLLM: gpu_memory_utilization x device memory is the budget; weights, the profiled activation peak,
CUDA graphs and non-torch memory come off it and the rest is paged KV (capacity in tokens).
SGLang: mem_fraction_static x device memory holds weights plus the KV pool; the rest is activations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..catalog.schema import Gpu, KvType, Model
from ..plan import DeviceMemory, Memory, MemoryPart
from ..runtimes import KV_LLAMA, KV_PAGED, profile
from .compute import (CUDA_CONTEXT_BYTES, CUDA_CONTEXT_SOURCE, GIB, LLAMA_CPU_OVERHEAD_BYTES,
                      LLAMA_CPU_OVERHEAD_SOURCE, MIB, NCCL_BYTES, NCCL_SOURCE, VLLM_CUDA_GRAPH_BYTES,
                      VLLM_NON_TORCH_BYTES, VLLM_NON_TORCH_SOURCE,
                      VLLM_CUDA_GRAPH_SOURCE, ComputeBytes, llama_compute_bytes, vllm_activation_bytes)
from .kv import (KvBytes, PagedPool, flashinfer_gdn, hybrid_align, hybrid_block_tokens, kv_bytes, kv_groups,
                 paged_bytes_per_token, pad)
from .weights import WeightBytes

MEASURED_SCALE_SOURCE = "compute buffers scaled to measured runs of this setup (llmc smoke records)"
OUTPUT_SOURCE = "llama.cpp@0c1e57098 llama_context::output_reserve (n_vocab x max(n_outputs, n_seq) x 4 B)"
LLAMA_FIT_TARGET = 1024 * MIB
LLAMA_FIT_SOURCE = "llama.cpp b11312 common/arg.cpp: --fit-target default 1024 MiB free per device"
OLLAMA_ADMISSION = 0.20
OLLAMA_SOURCE = "Ollama schedules a model when its estimate fits ~80% of free memory (estimation.md)"
VLLM_BLOCK = 16
DESKTOP_BYTES = 1024 * MIB
DESKTOP_SOURCE = ("public nvidia-smi outputs of a desktop: GNOME `570MiB /  8192MiB` (Xorg 293MiB, gnome-shell 84MiB, "
                  "a browser 122MiB), KDE `402MiB / 11175MiB`, idle RTX 5070 Tis `348MiB /  16303MiB` with a display "
                  "and `40MiB /  16303MiB` without; under one TP-2 server the display GPU held 890 MiB (2x RTX 3090, "
                  "noonghunna/club-3090#1120) and 1033 MiB (2x RTX 5090, noonghunna/club-3090#1229) more than its "
                  "headless twin")
DESKTOP_DETAIL = "GPU 0 may drive a display: hardware.headless is not true"

# Relative error bands, from the calibration residuals (docs/accuracy.md): each runtime profile's
# `error_band` (llmc.runtimes).


@dataclass(frozen=True)
class HardwareView:
    """The devices the plan uses: GPUs in device order (all nodes), or none for a CPU-only host."""

    gpus: tuple[Gpu, ...] = ()
    host_ram_bytes: int = 0
    nodes: int = 1
    link: str = "pcie"        # pcie | nvlink | none
    p2p: bool = True
    cpu: Gpu | None = None    # a CPU host record (kind "cpu") for bandwidth, when known
    desktop: bool = False     # gpus[0] may hold a desktop: DESKTOP_BYTES are kept for it
    tensor_split: tuple[float, ...] | None = None   # llama.cpp -ts the plan passes; None: split by free memory

    def reserved_bytes(self, device: int) -> int:
        """Memory another process holds on a GPU before the runtime starts: the desktop on GPU 0."""
        return DESKTOP_BYTES if self.desktop and device == 0 else 0

    def free_bytes(self) -> list[int]:
        """What each GPU has for the runtime: its visible memory less what is reserved on it."""
        return [g.visible_memory_bytes - self.reserved_bytes(d) for d, g in enumerate(self.gpus)]

    @property
    def cpu_only(self) -> bool:
        return not self.gpus


@dataclass(frozen=True)
class ParallelView:
    tp: int = 1
    pp: int = 1
    ep: int = 1
    dp: int = 1
    gpu_layers: int | None = None    # llama.cpp -ngl (None: all layers on the GPUs)
    n_cpu_moe: int | None = None     # llama.cpp --n-cpu-moe


@dataclass(frozen=True)
class MemorySettings:
    flash_attention: bool = True
    kv_unified: bool = False
    n_batch: int = 2048
    n_ubatch: int = 512
    kv_v: KvType | None = None              # llama.cpp: a different V cache type
    gpu_memory_utilization: float | None = None
    max_num_batched_tokens: int | None = None
    max_num_seqs: int | None = None
    enforce_eager: bool = False
    mem_fraction_static: float | None = None
    compute_scale: float = 1.0              # measured runs' compute buffers / the model's (estimate/calibration.py)


@dataclass(frozen=True)
class MemoryEstimate:
    devices: tuple[DeviceMemory, ...]
    safety_margin: float
    runtime: str
    kv: KvBytes
    kv_tokens_capacity: int | None = None
    max_concurrency: float | None = None
    error_band: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    pool: PagedPool | None = None   # vLLM's grouped pool of a sliding-window hybrid: capacity is in its units

    @property
    def fits(self) -> bool:
        return all(d.total_bytes <= d.capacity_bytes for d in self.devices)

    def device(self, kind: str = "gpu") -> tuple[DeviceMemory, ...]:
        return tuple(d for d in self.devices if d.kind == kind)

    def to_plan(self) -> Memory:
        return Memory(devices=self.devices, safety_margin=self.safety_margin,
                      kv_tokens_capacity=self.kv_tokens_capacity, max_concurrency=self.max_concurrency,
                      error_band=self.error_band)


def _device(name: str, kind: str, capacity: int, parts: list[MemoryPart]) -> DeviceMemory:
    by = {p.name: p.bytes for p in parts}
    total = sum(p.bytes for p in parts)
    return DeviceMemory(device=name, kind=kind, weights_bytes=by.get("weights", 0),
                        kv_cache_bytes=by.get("kv_cache", 0),
                        compute_bytes=by.get("compute", 0) + by.get("output", 0),
                        overhead_bytes=by.get("overhead", 0) + by.get("margin", 0) + by.get("desktop", 0),
                        total_bytes=total, capacity_bytes=capacity, parts=tuple(parts))


def _gpu_name(i: int, gpu: Gpu) -> str:
    return f"gpu{i} ({gpu.name})"


def _desktop_part(hardware: HardwareView, device: int) -> list[MemoryPart]:
    """The desktop kept on this device, as its own part (none where nothing is reserved)."""
    reserved = hardware.reserved_bytes(device)
    if not reserved:
        return []
    return [MemoryPart(name="desktop", bytes=reserved, source=DESKTOP_SOURCE, detail=DESKTOP_DETAIL)]


# ---------------------------------------------------------------- llama.cpp / Ollama

def llama_layer_devices(n_layers: int, gpu_layers: int | None, capacities: Sequence[float]) -> list[int]:
    """Device index per unit (n_layers repeating layers, then the output layer); -1 is the CPU.

    Exactly llama_model::load_tensors: units >= n_layer + 1 - ngl go to GPUs, split by the
    cumulative share of `capacities` (free memory, or -ts) (std::upper_bound over the normalized split points).
    """
    n_units = n_layers + 1
    if not capacities:
        return [-1] * n_units
    ngl = n_units if gpu_layers is None else max(0, gpu_layers)
    start = max(n_units - ngl, 0)
    act = min(ngl, n_units)
    total = float(sum(capacities))
    splits, acc = [], 0.0
    for c in capacities:
        acc += c
        splits.append(acc / total)
    out = []
    for il in range(n_units):
        if il < start or il - start >= act:
            out.append(-1)
            continue
        x = (il - start) / act
        out.append(next((i for i, s in enumerate(splits) if s > x), len(splits) - 1))
    return out


_LAYER_BYTES_CACHE: dict[tuple, tuple[list[int], list[int]]] = {}


def _layer_weight_bytes(model: Model, weights: WeightBytes) -> tuple[list[int], list[int]]:
    """(bytes of each repeating layer without routed experts, bytes of its routed experts).

    Memoised: the solver asks for the same model and weights once per candidate layout and offload step."""
    key = (model.id, model.n_layers, model.attention.pattern, model.moe, weights)
    if key not in _LAYER_BYTES_CACHE:
        _LAYER_BYTES_CACHE[key] = _split_layer_weight_bytes(model, weights)
    return _LAYER_BYTES_CACHE[key]


def _split_layer_weight_bytes(model: Model, weights: WeightBytes) -> tuple[list[int], list[int]]:
    from ..catalog.params import moe_layer_indices

    moe_layers = set(moe_layer_indices(model))
    kinds = model.layer_kinds()
    dense_ffn = next((g for g in weights.groups if g.kind == "ffn" and g.name == "ffn"), None)
    base, experts = [0] * model.n_layers, [0] * model.n_layers
    for g in weights.groups:
        if not g.per_layer:
            continue
        if g.kind in ("attn_q", "attn_kv", "attn_o"):
            members = [i for i, k in enumerate(kinds) if k in ("full", "sliding")]
        elif g.kind in ("mla", "linear"):
            members = [i for i, k in enumerate(kinds) if k == g.kind]
        elif g is dense_ffn:
            members = [i for i in range(model.n_layers) if i not in moe_layers]
        elif g.kind in ("experts", "shared_experts") or g.name == "ffn_router":
            members = sorted(moe_layers)
        else:
            members = list(range(model.n_layers))
        members = members or list(range(model.n_layers))
        share, rest = divmod(g.bytes, len(members))
        for n, i in enumerate(members):
            (experts if g.kind == "experts" else base)[i] += share + (1 if n < rest else 0)
    return base, experts


def _llama_kv_per_layer(model: Model, kv: KvBytes) -> list[int]:
    kinds = model.layer_kinds()
    per_kind = {p.kind: p.bytes_per_layer for p in kv.parts}
    return [per_kind.get(k, 0) for k in kinds]


def llama_memory(model: Model, weights: WeightBytes, kv_type: KvType, hardware: HardwareView,
                 parallel: ParallelView, *, context: int, slots: int, settings: MemorySettings,
                 runtime: str = "llama.cpp") -> MemoryEstimate:
    kv = kv_bytes(model, kv_type, n_ctx=context, n_seq=slots, runtime=KV_LLAMA,
                  unified=settings.kv_unified, n_ubatch=settings.n_ubatch, n_batch=settings.n_batch,
                  kv_v=settings.kv_v)
    free = hardware.free_bytes()
    units = llama_layer_devices(model.n_layers, parallel.gpu_layers, hardware.tensor_split or free)
    base, experts = _layer_weight_bytes(model, weights)
    kv_layer = _llama_kv_per_layer(model, kv)
    n_cpu_moe = parallel.n_cpu_moe or 0
    n_dev = len(hardware.gpus)
    w = {d: 0 for d in range(-1, n_dev)}
    kvd = dict.fromkeys(w, 0)
    layers_on = dict.fromkeys(w, 0)
    for il in range(model.n_layers):
        d = units[il]
        w[d] += base[il]
        w[-1 if il < n_cpu_moe else d] += experts[il]
        kvd[d] += kv_layer[il]
        layers_on[d] += 1
    out_dev = units[model.n_layers]
    w[-1] += weights.bytes_of("embed")
    # the output layer unit: the LM head and any other global tensor (output_norm) but the embeddings
    w[out_dev] += sum(g.bytes for g in weights.groups if not g.per_layer and g.kind != "embed")
    n_kv_cells, swa_cells = _mask_spans(model, kv)
    devices = []
    margin = LLAMA_FIT_TARGET
    margin_source = LLAMA_FIT_SOURCE
    admission = profile(runtime).memory_budget == "admission"
    if admission:
        margin_source = OLLAMA_SOURCE
    pipelined = n_dev > 1 and layers_on[-1] == 0 and not n_cpu_moe
    for d in range(n_dev):
        gpu = hardware.gpus[d]
        comp = llama_compute_bytes(model, n_ctx=context, n_kv_cells=n_kv_cells, n_batch=settings.n_batch,
                                   n_ubatch=settings.n_ubatch, flash_attention=settings.flash_attention,
                                   n_seq=slots, layers_here=layers_on[d], output_here=out_dev == d,
                                   swa_cells=swa_cells)
        if pipelined:
            comp = pipeline_copies(model, comp, n_kv_cells + swa_cells, settings)
        comp = measured_scale(comp, settings.compute_scale)
        m = round(free[d] * OLLAMA_ADMISSION) if admission else margin
        parts = [
            MemoryPart(name="weights", bytes=w[d], source=weights.source,
                       detail=f"{layers_on[d]} layers" + (" + output" if out_dev == d else "")),
            MemoryPart(name="kv_cache", bytes=kvd[d], source=kv.source,
                       detail=f"{layers_on[d]} layers' KV, {kv.streams} stream(s) x {kv.n_ctx_seq} cells"),
            MemoryPart(name="compute", bytes=comp.bytes, source=comp.source, detail=comp.detail),
            MemoryPart(name="overhead", bytes=CUDA_CONTEXT_BYTES, source=CUDA_CONTEXT_SOURCE),
            MemoryPart(name="margin", bytes=m, source=margin_source),
            *_desktop_part(hardware, d),
        ]
        devices.append(_device(_gpu_name(d, gpu), "gpu", gpu.visible_memory_bytes, parts))
    devices.append(_llama_host(model, weights, kv, hardware, settings, context, slots,
                               w[-1], kvd[-1], layers_on[-1], out_dev == -1, (n_kv_cells, swa_cells)))
    margin_frac = LLAMA_FIT_TARGET / max(free) if free else 0.0
    return MemoryEstimate(tuple(devices), margin_frac, runtime, kv, error_band=profile(runtime).error_band)


# llama.cpp pipelines a batch across GPUs when every layer is on one (llama-context.cpp: more than one device,
# all layers offloaded, layer split, no tensor overrides such as --n-cpu-moe); its scheduler then keeps this
# many copies of every split's inputs alive (ggml-backend.cpp GGML_SCHED_MAX_COPIES, inputs flagged
# INPUT|OUTPUT so ggml-alloc never reuses them).
PIPELINE_COPIES = 4
PIPELINE_SOURCE = ("llama.cpp b11312 pipeline parallelism: n_copies 4 of each split's inputs (the masks and the "
                   "incoming hidden state), ggml-backend.cpp ggml_backend_sched_new / split_graph")


def pipeline_copies(model: Model, comp: ComputeBytes, mask_cells: int, settings: MemorySettings) -> ComputeBytes:
    """A GPU's compute buffer with the extra copies of its split's inputs that pipelining keeps."""
    ub = min(settings.n_ubatch, settings.n_batch)
    inputs = mask_cells * ub * (2 if settings.flash_attention else 4) + ub * model.hidden_size * 4
    extra = (PIPELINE_COPIES - 1) * inputs
    return ComputeBytes(comp.bytes + extra, comp.stage, comp.detail + f" + {PIPELINE_COPIES - 1} pipeline copies of "
                        f"its inputs ({extra} B)", f"{comp.source}; {PIPELINE_SOURCE}")


def _mask_spans(model: Model, kv: KvBytes) -> tuple[int, int]:
    """Cells the attention masks span: the full cache per stream, and the sliding cache per stream."""
    kinds = set(model.layer_kinds())
    sliding = kv.part("sliding")
    swa = sliding.cells // kv.streams if sliding else 0
    full = kv.n_ctx_seq if kinds & {"full", "mla"} else 0
    return full, swa


def _llama_host(model, weights, kv, hardware, settings, context, slots, w_cpu, kv_cpu, layers_cpu,
                output_cpu, spans) -> DeviceMemory:
    comp = llama_compute_bytes(model, n_ctx=context, n_kv_cells=spans[0], n_batch=settings.n_batch,
                               n_ubatch=settings.n_ubatch, flash_attention=settings.flash_attention,
                               n_seq=slots, layers_here=layers_cpu, output_here=output_cpu, swa_cells=spans[1])
    comp = measured_scale(comp, settings.compute_scale)
    output_buf = model.vocab_size * max(slots, 1) * 4
    parts = [
        MemoryPart(name="weights", bytes=w_cpu, source=weights.source,
                   detail=f"{layers_cpu} layers on the CPU, token embeddings" + (" + output" if output_cpu else "")),
        MemoryPart(name="kv_cache", bytes=kv_cpu, source=kv.source, detail=f"{layers_cpu} layers' KV"),
        MemoryPart(name="compute", bytes=comp.bytes, source=comp.source, detail=comp.detail),
        MemoryPart(name="output", bytes=output_buf, source=OUTPUT_SOURCE, detail="n_vocab x n_seq f32 logits"),
        MemoryPart(name="overhead", bytes=LLAMA_CPU_OVERHEAD_BYTES, source=LLAMA_CPU_OVERHEAD_SOURCE),
    ]
    return _device("cpu (host RAM)", "cpu", hardware.host_ram_bytes, parts)


# ---------------------------------------------------------------- vLLM / SGLang

def mxfp4_expert_padding(model: Model, gpu: Gpu | None, tp: int) -> float:
    """How much larger vLLM makes gpt-oss-style MXFP4 expert matrices for its kernels (vLLM 0.33
    fused_moe/oracle/mxfp4.py mxfp4_round_up_hidden_size_and_intermediate_size): Blackwell's FlashInfer
    TRT-LLM kernels round the per-rank intermediate size up to 128 and the hidden size to 256; Hopper's
    Triton kernels the per-rank intermediate size to 64."""
    if model.moe is None or gpu is None:
        return 1.0
    inter, hidden = model.moe.expert_intermediate_size / max(1, tp), model.hidden_size
    blackwell = int(gpu.compute_capability or 0) >= 10
    padded_inter = math.ceil(inter / (128 if blackwell else 64)) * (128 if blackwell else 64)
    padded_hidden = math.ceil(hidden / 256) * 256 if blackwell else hidden
    return padded_inter * padded_hidden / (inter * hidden)


def _sharded_weights(model: Model, weights: WeightBytes, parallel: ParallelView, expert_scale: float = 1.0) -> int:
    """Weights one rank holds: TP shards every matrix (vocab-parallel embeddings too), PP splits layers,
    EP (experts over tp x dp ranks) shards the routed experts (`expert_scale` for a kernel's padding); norms
    replicate."""
    tp, pp = parallel.tp, parallel.pp
    layer_share = 1 / pp
    total = 0.0
    for g in weights.groups:
        if g.kind == "norm":
            total += g.bytes * layer_share
        elif g.kind == "experts":
            ranks = tp * parallel.dp if parallel.ep > 1 else tp
            total += g.bytes * layer_share / ranks * expert_scale
        elif g.per_layer:
            total += g.bytes * layer_share / tp
        else:
            total += g.bytes / tp   # embed on the first stage, output on the last: the worst stage holds one
    return round(total)


def paged_memory(model: Model, weights: WeightBytes, kv_type: KvType, hardware: HardwareView,
                 parallel: ParallelView, *, context: int, slots: int, settings: MemorySettings,
                 runtime: str = "vllm") -> MemoryEstimate:
    if hardware.cpu_only:
        raise ValueError(f"{runtime} needs a GPU in this compiler")
    gpu = hardware.gpus[0]
    runtime_profile = profile(runtime)
    pads = runtime_profile.pads_mxfp4_experts and weights.family == "mxfp4"
    w = _sharded_weights(model, weights, parallel,
                         mxfp4_expert_padding(model, gpu, parallel.tp) if pads else 1.0)
    default_tokens, default_seqs = runtime_profile.budgets(gpu.visible_memory_bytes / GIB, gpu.name)
    tokens_batched = settings.max_num_batched_tokens or default_tokens
    max_seqs = settings.max_num_seqs or default_seqs
    act, overhead = vllm_reserve(model, parallel, tokens_batched, max_seqs, cuda_graphs=not settings.enforce_eager)
    act = measured_scale(act, settings.compute_scale)
    total = gpu.visible_memory_bytes
    fraction = runtime_profile.memory_budget == "fraction"
    budget_source = runtime_profile.memory_fraction_source
    if fraction:
        frac = settings.mem_fraction_static or runtime_profile.memory_fraction
        budget = round(frac * total)
        # SGLang sizes the pool from the memory free after loading (profile_max_num_token: rest = free -
        # total x (1 - fraction)), so a desktop's share comes off the pool of every rank (the minimum is taken).
        kv_pool = budget - w - hardware.reserved_bytes(0)
        budget_detail = f"mem_fraction_static {frac}"
    else:
        util = settings.gpu_memory_utilization or runtime_profile.memory_fraction
        budget = round(util * total)
        kv_pool = budget - w - act.bytes - overhead
        budget_detail = f"gpu_memory_utilization {util}"
    fixed = total - budget
    swa = runtime_profile.swa_pool if "sliding" in model.layer_kinds() else None
    share = swa.share(model.architecture) if swa else None
    need = paged_kv_needed(model, kv_type, context=context, slots=slots, tp=parallel.tp, pp=parallel.pp,
                           sliding_share=share)
    pool = grouped_pool(model, kv_type, parallel, max(0, kv_pool), tokens_batched, runtime_profile, gpu)
    if pool is not None:
        capacity, concurrency = pool.tokens(context), round(pool.requests(context), 2)
    else:
        per_token = _paged_token_bytes(model, kv_type, parallel, context, share)
        capacity = max(0, kv_pool) // per_token if per_token else 0
        capacity = capacity // VLLM_BLOCK * VLLM_BLOCK
        concurrency = round(capacity / context, 2) if context else None
    kv_part_bytes = max(kv_pool, 0)
    parts = [
        MemoryPart(name="weights", bytes=w, source=weights.source,
                   detail=f"sharded over TP {parallel.tp} x PP {parallel.pp}"),
        MemoryPart(name="kv_cache", bytes=kv_part_bytes,
                   source=need.source + (f"; {swa.source}" if swa else ""),
                   detail=f"paged pool: {capacity} tokens; the workload needs {need.total_bytes} B "
                          f"({slots} x {context} tokens)"),
    ]
    if not fraction:
        parts += [
            MemoryPart(name="compute", bytes=act.bytes, source=act.source, detail=act.detail),
            MemoryPart(name="overhead", bytes=overhead, source=f"{VLLM_NON_TORCH_SOURCE}; {VLLM_CUDA_GRAPH_SOURCE}"
                       + (f"; {NCCL_SOURCE}" if parallel.tp * parallel.pp > 1 else "")),
        ]
    else:
        parts += [MemoryPart(name="compute", bytes=fixed, source=budget_source,
                             detail="outside the static fraction: activations, CUDA graphs, context")]
        fixed = 0
    margin = MemoryPart(name="margin", bytes=fixed, source=budget_source, detail=budget_detail)
    n_ranks = parallel.tp * parallel.pp
    gpus = hardware.gpus[:n_ranks] if len(hardware.gpus) >= n_ranks else hardware.gpus
    devices = _ranks(gpus, lambda i, g: _device(_gpu_name(i, g), "gpu", g.visible_memory_bytes,
                                                _rank_parts(parts, margin, hardware, i)), hardware)
    notes = ()
    if kv_pool < need.total_bytes:
        notes = (f"KV pool holds {capacity} tokens, fewer than {slots} x {context}",)
    return MemoryEstimate(devices, 1 - (budget / total), runtime, need, capacity, concurrency,
                          profile(runtime).error_band, notes, pool)


def _ranks(gpus, device_for, hardware: HardwareView) -> tuple[DeviceMemory, ...]:
    """One entry per rank. Ranks on the same card with the same reservation hold the same: each distinct
    one is built once and copied under its rank's name (a TP 8 x PP 64 plan has 512 ranks)."""
    built: dict[tuple[str, int], DeviceMemory] = {}
    out = []
    for i, g in enumerate(gpus):
        key = (g.name, hardware.reserved_bytes(i))
        if key not in built:
            built[key] = device_for(i, g)
        out.append(built[key].model_copy(update={"device": _gpu_name(i, g)}))
    return tuple(out)


def _rank_parts(parts: list[MemoryPart], margin: MemoryPart, hardware: HardwareView, device: int) -> list[MemoryPart]:
    """One rank's parts. vLLM refuses to start unless utilization x total is free (gpu_worker: "Free memory on
    device ... is less than desired GPU memory utilization"), so a desktop sits in its margin and, past it, the
    device is over capacity; SGLang's margin is empty, the desktop having come off its pool."""
    rest = max(0, margin.bytes - hardware.reserved_bytes(device))
    return [*parts, margin.model_copy(update={"bytes": rest}), *_desktop_part(hardware, device)]


def measured_scale(comp: ComputeBytes, scale: float) -> ComputeBytes:
    """The compute buffers scaled as measured runs of this setup found them (1: the model's own figure)."""
    if scale == 1.0:
        return comp
    return replace(comp, bytes=round(comp.bytes * scale), detail=f"{comp.detail}; x{scale:.3g} as measured runs found",
                   source=f"{comp.source}; {MEASURED_SCALE_SOURCE}")


def vllm_reserve(model: Model, parallel: ParallelView, batched_tokens: int, max_seqs: int,
                 cuda_graphs: bool = True) -> tuple[ComputeBytes, int]:
    """What vLLM's profiler takes from its budget besides the weights: the activation peak of its profiling
    run, and the fixed part (CUDA graphs when captured, non-torch memory, NCCL under TP or PP)."""
    act = vllm_activation_bytes(model, tp=parallel.tp, max_num_batched_tokens=batched_tokens, max_num_seqs=max_seqs)
    fixed = (VLLM_CUDA_GRAPH_BYTES if cuda_graphs else 0) + VLLM_NON_TORCH_BYTES + \
        (NCCL_BYTES if parallel.tp * parallel.pp > 1 else 0)
    return act, fixed


def grouped_pool(model: Model, kv_type: KvType, parallel: ParallelView, pool_bytes: int, batched_tokens: int,
                  runtime_profile, gpu: Gpu | None = None) -> PagedPool | None:
    """vLLM's grouped pool for a model with full layers beside sliding-window or linear-attention ones
    (kv.PagedPool); None for a model of one kind, or a runtime that pools otherwise."""
    kinds = model.layer_kinds()
    window = model.attention.sliding_window
    linear = "linear" in kinds
    if not runtime_profile.kv_groups or not (linear or (window and "sliding" in kinds)):
        return None
    size, full, other = kv_groups(model, parallel.pp)
    per = paged_bytes_per_token(model, kv_type, parallel.tp)
    # one layer's bytes per token, per kind; every group's page is the largest one's
    layer = {kind: per[kind] / kinds.count(kind) for kind in per}
    layer_token = max(layer.values())
    if not linear:
        span = window - 1 + runtime_profile.in_flight_batches * batched_tokens
        # smaller full-layer pages take a multiple of the block; one that does not divide is padded instead
        ratio = layer_token / layer.get("full", layer_token)
        return PagedPool(pool_bytes // round(size * layer_token * VLLM_BLOCK), full, other, span,
                         full_block=VLLM_BLOCK * int(ratio) if ratio > 1 and ratio.is_integer() else None)
    # the attention block grows until its page holds a state page (kv.hybrid_block_tokens); prefix caching,
    # on by default, keeps a request's states in "align" mode: 2 pages, 3 where FlashInfer checkpoints
    # (MambaSpec.max_memory_usage_bytes; qwen_gdn_linear_attn.py num_prefill_checkpoint_blocks=1)
    block = hybrid_block_tokens(model, kv_type, tp=parallel.tp, align=hybrid_align(model, gpu))
    pages = 3 if flashinfer_gdn(model, gpu) else 2
    return PagedPool(pool_bytes // round(size * layer_token * block), full, block=block, state_groups=other,
                     state_pages=pages)


def _paged_token_bytes(model: Model, kv_type: KvType, parallel: ParallelView, context: int,
                       sliding_share: float | None) -> int:
    """Bytes one more token of one request costs on a rank, sliding layers counted at their window share, or
    at the runtime's SWA pool share (runtimes.SwaPool)."""
    per = paged_bytes_per_token(model, kv_type, parallel.tp)
    total = per.get("full", 0) + per.get("mla", 0)
    if "sliding" in per:
        window = model.attention.sliding_window or context
        share = sliding_share if sliding_share is not None else min(1.0, (window + VLLM_BLOCK) / max(context, 1))
        total += per["sliding"] * share
    return max(1, round(total / parallel.pp))


def paged_kv_needed(model: Model, kv_type: KvType, *, context: int, slots: int, tp: int, pp: int = 1,
                    sliding_share: float | None = None) -> KvBytes:
    kv = kv_bytes(model, kv_type, n_ctx=context, n_seq=slots, runtime=KV_PAGED, tp=tp, sliding_share=sliding_share)
    if pp == 1:
        return kv
    parts = tuple(type(p)(p.kind, p.layers, p.cells, p.bytes_per_cell, p.bytes // pp, p.rule + f", / PP {pp}")
                  for p in kv.parts)
    return KvBytes(parts, kv.n_ctx, kv.n_ctx_seq, kv.streams, kv.source)


# ---------------------------------------------------------------- entry point

def plan_memory(model: Model, weights: WeightBytes, fmt, kv: KvType, runtime: str, hardware: HardwareView,
                parallel: ParallelView, context: int, slots: int,
                settings: MemorySettings | None = None) -> MemoryEstimate:
    """Memory per device for one candidate plan.

    `context` is the per-request context; for llama.cpp/Ollama the runtime is started with
    -c context*slots (Ollama does the same: num_ctx*parallel), unless kv_unified shares one pool.
    `fmt` is kept for the callers' symmetry (weights already carry the format).
    """
    settings = settings or MemorySettings()
    engine = profile(runtime).engine
    if engine == "llama":
        total_ctx = context * slots
        return llama_memory(model, weights, kv, hardware, parallel, context=total_ctx, slots=slots,
                            settings=settings, runtime=runtime)
    if engine == "paged":
        return paged_memory(model, weights, kv, hardware, parallel, context=context, slots=slots,
                            settings=settings, runtime=runtime)
    raise ValueError(f"unknown runtime {runtime!r}")


def fits_context_slots(model, weights, fmt, kv, runtime, hardware, parallel, context, slots, settings=None) -> bool:
    est = plan_memory(model, weights, fmt, kv, runtime, hardware, parallel, context, slots, settings)
    if profile(runtime).engine == "paged":
        return est.kv_tokens_capacity is not None and est.kv_tokens_capacity >= context * slots and est.fits
    return est.fits


__all__ = ["HardwareView", "ParallelView", "MemorySettings", "MemoryEstimate", "plan_memory", "llama_memory",
           "paged_memory", "llama_layer_devices", "pad", "fits_context_slots"]
