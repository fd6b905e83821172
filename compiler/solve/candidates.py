"""The search space: model × weight format × runtime × KV type × parallel layout.

Enumeration is ordered so that cheap constraints prune before expensive ones:
license, task and context rule out whole models; runtime capability rules out
formats and KV types; only what survives is estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..catalog.schema import Format, KvType, Model, Runtime, Variant
from ..runtimes import profile
from ..spec import Deployment
from ..catalog import license_words
from ..estimate.kv import kv_constraints
from .resolve import license_allowed
from .topology import Device, Topology, tensor_split

TASK_NEEDS = {"multimodal": "vision", "agent": "tool calling"}


@dataclass(frozen=True)
class Layout:
    """How one replica of the model is placed."""

    tensor: int = 1
    pipeline: int = 1
    expert: int = 1
    replicas: int = 1
    devices: tuple[Device, ...] = ()      # the devices of one replica (empty on a CPU host)
    gpu_layers: int | None = None         # llama.cpp partial offload
    n_cpu_moe: int | None = None          # llama.cpp expert offload
    split_mode: str | None = None
    tensor_split: tuple[float, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        parts = []
        if self.tensor > 1:
            parts.append(f"TP {self.tensor}")
        if self.pipeline > 1:
            parts.append(f"PP {self.pipeline}")
        if self.expert > 1:
            parts.append(f"EP {self.expert}")
        if self.replicas > 1:
            parts.append(f"{self.replicas} replicas")
        if self.split_mode and len(self.devices) > 1:
            parts.append(f"{self.split_mode} split over {len(self.devices)} GPUs")
        if self.gpu_layers is not None:
            parts.append(f"{self.gpu_layers} layers on GPU")
        if self.n_cpu_moe:
            parts.append(f"experts of {self.n_cpu_moe} layers on CPU")
        if not self.devices:
            parts.append("CPU only")
        return ", ".join(parts) or "1 GPU"


@dataclass(frozen=True)
class Candidate:
    model: Model
    variant: Variant | None       # None for a local file
    fmt: Format
    runtime: Runtime
    kv: KvType
    layout: Layout
    context: int
    slots: int
    speculative: object | None = None     # llmc.estimate.speculative.SpecSpeedup
    draft: "Draft | None" = None           # the draft model, for speculative method "draft"

    @property
    def label(self) -> str:
        return (f"{self.model.name} {self.fmt.id} on {self.runtime.name} "
                f"(KV {self.kv.id}, {self.layout.describe()})")

    @property
    def family(self) -> str:
        return self.model.name


@dataclass(frozen=True)
class Draft:
    """A small same-family model that proposes tokens for the target to verify."""

    model: Model
    variant: Variant
    weight_bytes: int


@dataclass
class Rejection:
    family: str
    constraint: str
    detail: str = ""
    rank: int = 0          # how far the candidate got: higher = closer to feasible
    blocked_by: str = ""   # the value that ruled it out, when a relaxation could allow it (a license id)


def context_for(deployment: Deployment, model: Model) -> int:
    if deployment.context:
        return deployment.context.value
    return min(model.max_context, 32 * 1024)


def model_rejection(deployment: Deployment, model: Model) -> Rejection | None:
    """The first model-level constraint that rules the whole model out, if any."""
    if not license_allowed(deployment, model):
        return Rejection(model.name, "license", f"{license_words(model)} is not in the allowed licenses",
                         blocked_by=model.license.id if model.license.verified else "")
    if deployment.task == "multimodal" and not model.has_vision:
        return Rejection(model.name, "task", "the multimodal task needs a model with vision input")
    if deployment.task == "agent" and not any(p.tool_call for p in model.parsers.values()):
        return Rejection(model.name, "task", "the agent task needs tool calling; no runtime has a tool-call parser for it")
    context = context_for(deployment, model)
    if context > model.max_context:
        return Rejection(model.name, "context",
                         f"context {context} exceeds the model's window of {model.max_context} tokens")
    return None


def checkpoint_rejection(runtime: Runtime, fmt: Format, gguf: bool) -> str | None:
    """Why the runtime cannot read this checkpoint's files (a GGUF file, or a folder of safetensors), or None:
    llama.cpp and Ollama read BF16 weights only from a BF16 GGUF, never from the original repo."""
    if gguf and "gguf" not in runtime.formats:
        return f"{runtime.name} does not load GGUF files"
    if not gguf and fmt.family not in runtime.formats:
        return f"{runtime.name} loads {fmt.id} only from a GGUF file, and the catalog lists no {fmt.id} GGUF"
    return None


def runtime_rejection(deployment: Deployment, runtime: Runtime, fmt: Format, topology: Topology,
                      model: Model) -> str | None:
    """Why this runtime cannot serve this format on this hardware, or None."""
    if runtime.name not in fmt.runtimes:
        return f"{runtime.name} does not load {fmt.id}"
    if topology.cpu_only and not runtime.cpu_only:
        return f"{runtime.name} needs a GPU"
    if deployment.nodes > 1 and not runtime.multi_node:
        return f"{runtime.name} does not serve one model across nodes"
    if runtime.max_devices and topology.gpus_per_node > runtime.max_devices:
        return f"{runtime.name} drives at most {runtime.max_devices} GPUs, not {topology.gpus_per_node}"
    if deployment.task == "agent":
        if not runtime.tool_calling:
            return f"{runtime.name} has no tool calling"
        parsers = model.parsers.get(runtime.name)
        if profile(runtime.name).needs_tool_parser and not (parsers and parsers.tool_call):
            return f"no {runtime.name} tool-call parser for {model.name}"
    if deployment.task == "multimodal" and not runtime.vision:
        return f"{runtime.name} does not serve vision input"
    if deployment.task == "multimodal" and fmt.family == "gguf":
        # the vision tower of a GGUF model is a second file (llama-server --mmproj), which no catalog
        # variant lists and the launchers do not fetch: without it the server answers text only
        return f"{runtime.name} serves images from a GGUF only with its mmproj file, which llmc does not fetch"
    pinned = deployment.pin_value("backend")
    if topology.cpu_only and pinned not in (None, "cpu"):
        return f"the {pinned} backend needs a GPU; this host has none"
    if not topology.cpu_only:
        backend = topology.backend(runtime.name, pinned)
        if backend is None:
            what = f"no {pinned} backend" if pinned else "no backend"
            return f"{runtime.name} has {what} for {_cards(topology)} ({_served_by(topology)})"
        if deployment.emit and profile(runtime.name).pin.image_ref(backend) is None:
            return f"{runtime.name} publishes no {backend} container image, which " \
                   f"`emit = [{', '.join(deployment.emits)}]` needs (it runs natively there)"
        why = _cuda_rejection(runtime, fmt, topology) if backend == "cuda" else _kernel_rejection(fmt, backend)
        if why or not profile(runtime.name).homogeneous_ranks:
            return why
        return _placement_rejection(runtime, model, topology)
    return None


def _cuda_rejection(runtime: Runtime, fmt: Format, topology: Topology) -> str | None:
    """The compute capability the runtime and the format's kernels need, against the weakest card."""
    cc = min(gpu.compute_capability or 0 for gpu in topology.distinct_cards)
    if runtime.min_compute_capability and cc < runtime.min_compute_capability:
        return f"{runtime.name} needs compute capability {runtime.min_compute_capability}"
    if fmt.min_compute_capability and cc < fmt.min_compute_capability and profile(runtime.name).homogeneous_ranks:
        floor = fmt.weight_only.get(runtime.name)
        if floor is None or cc < floor:
            return f"{fmt.id} needs compute capability {floor or fmt.min_compute_capability} on {runtime.name} " \
                   f"(this GPU has {cc})"
    return None


def _kernel_rejection(fmt: Format, backend: str) -> str | None:
    """Formats whose kernels llmc knows on CUDA only (FP8, NVFP4, MXFP4 carry a compute capability)."""
    if fmt.min_compute_capability:
        return f"{fmt.id} needs compute capability {fmt.min_compute_capability} kernels (CUDA); " \
               f"llmc has no record of them on {backend}"
    return None


def _cards(topology: Topology) -> str:
    return " + ".join(card.name for card in topology.distinct_cards)


def _served_by(topology: Topology) -> str:
    """What does serve the cards: 'llama.cpp through rocm, vulkan; ollama through rocm'."""
    card = topology.distinct_cards[0]
    served = [f"{name} through {', '.join(b)}" for name, b in card.backends if b]
    return "; ".join(served) or "nothing llmc knows"


def _placement_rejection(runtime: Runtime, model: Model, topology: Topology) -> str | None:
    """vLLM/SGLang: why no tensor x pipeline layout places this model on these GPUs, or None."""
    if not topology.homogeneous:
        return f"{runtime.name} needs the same GPU model on every rank"
    if topology.nodes > model.n_layers:
        return (f"{runtime.name} runs a pipeline stage per node: {topology.nodes} nodes exceed the "
                f"{model.n_layers} layers")
    if not _tensor_sizes(model, topology):
        return (f"{runtime.name} spans nodes with TP over each node's {topology.gpus_per_node} GPUs, "
                f"which must divide the {model.n_heads} attention heads")
    return None


def _tensor_sizes(model: Model, topology: Topology) -> list[int]:
    """Tensor-parallel sizes that divide the heads: one node's GPUs across nodes, else 1, 2, 4 or 8 with replicas."""
    per_node = topology.gpus_per_node
    sizes = [per_node] if topology.nodes > 1 else [t for t in (1, 2, 4, 8) if t <= per_node and per_node % t == 0]
    return [t for t in sizes if model.n_heads % t == 0]


def kv_rejection(kv: KvType, runtime: Runtime, model: Model, topology: Topology, pinned_backend: str | None = None
                 ) -> str | None:
    if runtime.name not in kv.runtimes or kv.id not in runtime.kv_types:
        return f"{runtime.name} has no {kv.id} KV cache"
    if kv.block_size > 1 and (reasons := kv_constraints(model, kv, runtime.name)):
        return reasons[0]
    if kv.min_compute_capability and not topology.cpu_only:
        if topology.backend(runtime.name, pinned_backend) != "cuda":
            return f"{kv.id} KV needs compute capability {kv.min_compute_capability} kernels (CUDA)"
        cc = min(gpu.compute_capability or 0 for gpu in topology.distinct_cards)
        if cc < kv.min_compute_capability:
            return f"{kv.id} KV needs compute capability {kv.min_compute_capability}"
    return None


def layouts(runtime: Runtime, model: Model, topology: Topology, deployment: Deployment | None = None
            ) -> tuple[list[Layout], str | None]:
    """Placements of the model that this runtime can run on this topology, as the spec's `settings` pin them,
    and why there is none when the pins rule every one out."""
    pins = deployment if deployment is not None and deployment.settings else None
    if topology.cpu_only:
        return [Layout()], None
    if profile(runtime.name).homogeneous_ranks:
        if pins is not None and any(pins.pinned(s) for s in PARALLEL_PINS):
            return _pinned_engine_layout(model, topology, pins)
        return _engine_layouts(model, topology), None
    layout = _llama_layout(topology)
    return [_pinned_llama_layout(layout, model, pins) if pins is not None else layout], None


# The parallel sizes a spec may pin; one pinned means the others are the runtime's default, 1, as a command
# line that sets only --tensor-parallel-size runs.
PARALLEL_PINS = ("tensor", "pipeline", "replicas", "expert")


def _pinned_engine_layout(model: Model, topology: Topology, d: Deployment) -> tuple[list[Layout], str | None]:
    tp, pp, dp = (int(d.pin_value(s, 1)) for s in ("tensor", "pipeline", "replicas"))
    if model.n_heads % tp:
        return [], f"tensor parallel size {tp} does not divide {model.name}'s {model.n_heads} attention heads"
    need, have = tp * pp * dp, topology.gpus_per_node * topology.nodes
    if need > have:
        return [], f"tensor x pipeline x data parallel = {need} GPUs, and the hardware has {have}"
    expert = d.pin_value("expert", False)
    ep = (tp * dp if expert is True else int(expert) if expert else 1) if model.is_moe else 1
    devices = topology.devices[:tp * pp] if pp > 1 else topology.node_devices(0)[:tp]
    env = () if topology.p2p else (("NCCL_P2P_DISABLE", "1"),)
    return [Layout(tensor=tp, pipeline=pp, expert=ep, replicas=dp, devices=devices,
                   env=env if tp > 1 or pp > 1 else ())], None


def _pinned_llama_layout(layout: Layout, model: Model, d: Deployment) -> Layout:
    """-ngl, --n-cpu-moe, -sm and -ts as pinned (-ngl of the model's layers or more keeps every layer on the GPUs)."""
    ngl = d.pin_value("gpu_layers")
    split = d.pin_value("split_mode")
    shares = d.pin_value("tensor_split")
    return replace(layout, gpu_layers=None if ngl is None or ngl > model.n_layers else int(ngl),
                   n_cpu_moe=d.pin_value("n_cpu_moe"), split_mode=split or layout.split_mode,
                   tensor_split=tuple(float(x) for x in shares.split(",")) if shares else layout.tensor_split)


def _engine_layouts(model: Model, topology: Topology) -> list[Layout]:
    """The placements that `_placement_rejection` has not ruled out."""
    node0 = topology.node_devices(0)
    env = () if topology.p2p else (("NCCL_P2P_DISABLE", "1"),)
    options = []
    for tp in _tensor_sizes(model, topology):
        pp = topology.nodes
        replicas = 1 if pp > 1 else topology.gpus_per_node // tp
        ep = tp * replicas if model.is_moe and tp * replicas > 1 else 1  # vLLM: EP spans TP x DP
        options.append(Layout(tensor=tp, pipeline=pp, expert=ep, replicas=replicas,
                              devices=node0[:tp] if pp == 1 else topology.devices,
                              env=env if tp > 1 or pp > 1 else ()))
    return options


def _llama_layout(topology: Topology) -> Layout:
    devices = topology.node_devices(0)
    if len(devices) == 1:
        return Layout(devices=devices, split_mode="none")
    # Layer split, with or without P2P: its one hidden-state copy per device boundary per step goes through
    # cudaMemcpyPeerAsync, which CUDA stages through the host when the cards have no peer access
    # (ggml-cuda.cu ggml_backend_cuda_cpy_tensor_async, b11312), while row split exchanges partial results
    # at every matmul, worst over PCIe; a maintainer calls -sm row deprecated (llama.cpp PR#22729, #21730).
    return Layout(devices=devices, split_mode="layer", tensor_split=tensor_split(devices))


def with_offload(layout: Layout, gpu_layers: int | None = None, n_cpu_moe: int | None = None) -> Layout:
    return replace(layout, gpu_layers=gpu_layers, n_cpu_moe=n_cpu_moe)
