"""The Plan: the compiler's IR and the interface review pipelines read (plan.json).

Targets consume only this. Every figure carries its parts and where it came from.
The schema is versioned: a breaking change bumps PLAN_SCHEMA.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .runtimes import RuntimeName

PLAN_SCHEMA = "llmc.plan/1"


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Estimate(Node):
    """A predicted figure with its error band."""

    value: float
    low: float
    high: float


# A plan.json is tens of KiB; a reader of one refuses more (it is then not a plan llmc wrote).
MAX_PLAN_BYTES = 16 << 20


class ModelRef(Node):
    id: str                      # catalog id (HF repo id of the original model) or "local:<name>"
    name: str                    # display name
    format: str                  # weight format id (q4_k_m, bf16, fp8, awq ...)
    source: Literal["hf", "gguf", "local"]
    repo: str | None = None      # the repo to load (HF id of the quantized variant or the original)
    file: str | None = None      # GGUF file name inside `repo`
    revision: str | None = None  # pinned revision when known
    path: str | None = None      # local("path"): absolute as written, or relative to `Plan.spec_dir`
    quantization_flag: str | None = None  # vLLM/SGLang --quantization when the checkpoint does not imply it
    architecture: str | None = None       # e.g. llama, qwen3moe, gemma3
    license: str
    chat_template: str | None = None
    tool_call_parser: str | None = None
    reasoning_parser: str | None = None
    thinking: Literal["on", "off"] | None = None  # whether the model thinks here; None: it cannot
    chat_template_kwargs: dict[str, bool] = Field(default_factory=dict)  # what the server sets by default
    language_only: bool = False  # a vision checkpoint served for text: its vision tower is not loaded
    stop: tuple[str, ...] = ()
    max_context: int
    n_layers: int
    moe: bool = False


class RuntimeRef(Node):
    name: RuntimeName        # a registered runtime profile (llmc.runtimes)
    version: str
    image: str | None        # pinned image reference, never :latest; None where the backend has no image (Metal)
    health_path: str
    default_port: int
    backend: str = "cuda"    # what the runtime runs the model on: cuda, rocm, vulkan, metal, sycl, xpu, cpu


class Hardware(Node):
    gpu: str | None           # catalog GPU name; None on a CPU-only host
    gpus_per_node: int        # 0 on a CPU-only host
    nodes: int = 1
    gpu_memory_bytes: int = 0
    host_memory_bytes: int = 0
    link: Literal["pcie", "nvlink", "none"] = "none"
    p2p: bool = False
    devices: tuple[str, ...] = ()  # per-GPU names for mixed cards, in device order
    vendor: str | None = None      # the GPUs' maker (nvidia, amd, intel, apple): whose device plugin serves them
    rdma: str | None = None        # a Kubernetes resource to request once per pod (an RDMA device)


class Parallelism(Node):
    tensor: int = 1
    pipeline: int = 1
    expert: int = 1           # expert-parallel size (1 = off)
    replicas: int = 1         # data-parallel replicas
    nodes: int = 1
    gpu_layers: int | None = None       # llama.cpp -ngl when offloading (None = all on GPU, or CPU host)
    n_cpu_moe: int | None = None        # llama.cpp --n-cpu-moe
    split_mode: Literal["none", "layer", "row", "tensor"] | None = None
    tensor_split: tuple[float, ...] | None = None


class Settings(Node):
    """Runtime knobs the plan decided; a target renders the ones its runtime has."""

    flash_attention: Literal["on", "off", "auto"] | None = None
    kv_unified: bool | None = None
    batch_size: int | None = None
    ubatch_size: int | None = None
    threads: int | None = None
    gpu_memory_utilization: float | None = None
    max_num_batched_tokens: int | None = None
    enable_prefix_caching: bool | None = None
    enable_chunked_prefill: bool | None = None
    mem_fraction_static: float | None = None
    enforce_eager: bool | None = None        # no CUDA graphs (vLLM --enforce-eager, SGLang --disable-cuda-graph)
    block_size: int | None = None            # KV block / page size in tokens
    dtype: str | None = None                 # the activations' dtype as the runtime names it (vLLM/SGLang --dtype)
    keep_alive_s: float | None = None        # Ollama: an idle model stays loaded this long (-1: for ever)
    env: dict[str, str] = Field(default_factory=dict)  # e.g. NCCL_P2P_DISABLE=1


class Serving(Node):
    host: str = "127.0.0.1"
    port: int
    served_name: str
    api_key_env: str | None = None   # name of the env var holding the key; never the key itself


class Speculative(Node):
    method: Literal["ngram", "draft", "mtp"]
    num_tokens: int
    draft_repo: str | None = None
    draft_file: str | None = None
    acceptance: float
    speedup: float
    source: str


class MemoryPart(Node):
    name: str          # weights | kv_cache | compute | overhead | margin | desktop
    bytes: int
    source: str
    detail: str = ""


class DeviceMemory(Node):
    device: str        # "gpu0 (RTX 4090)", "cpu (host RAM)"
    kind: Literal["gpu", "cpu"]
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    overhead_bytes: int
    total_bytes: int
    capacity_bytes: int
    parts: tuple[MemoryPart, ...] = ()


class Memory(Node):
    devices: tuple[DeviceMemory, ...]
    safety_margin: float           # fraction of capacity kept free
    kv_tokens_capacity: int | None = None   # vLLM/SGLang: KV pool in tokens
    max_concurrency: float | None = None    # at the plan's context
    error_band: float = 0.0                 # relative, from calibration


class Percentiles(Node):
    mean: float
    p50: float
    p90: float
    p99: float


class Load(Node):
    """The figures under load, from the serving simulation of the runtime's scheduler (estimate/serving.py)."""

    workload: str                  # what arrived: closed-loop users or a Poisson rate, per replica
    scheduler: str                 # how the runtime batched them, with its budgets
    ttft_s: Percentiles
    tpot_s: Percentiles            # per request: (last token - first token) / (output - 1)
    itl_s: Percentiles             # per token: the gaps between a stream's tokens
    e2e_s: Percentiles
    queue_s: Percentiles           # arrival to admission
    request_rate: float            # requests/s one replica completes
    kv_peak: float                 # the largest share of the KV pool (or of the slots' cells) in use
    kv_mean: float
    preemptions: int
    saturated: bool                # arrivals outpace the replica: its queue grows while they last
    requests: int                  # the steady-state requests measured
    source: str


class StepParts(Node):
    """A step's seconds as the uncalibrated model prices them (what a calibration record learns from)."""

    memory_s: float               # weights and KV read on the device
    host_s: float                 # layers read from host RAM
    compute_s: float              # FLOPs in GEMMs
    fixed_s: float                # per step, per layer (and for a TTFT, per request)
    comm_s: float = 0.0           # between GPUs
    vector_s: float = 0.0         # FLOPs in matrix-vector kernels (a CPU's decode)


class Calibration(Node):
    """Which measured runs corrected the speed figures (estimate/calibration.py), and the key a record of a
    run of this plan is filed under."""

    key: dict[str, str]           # runtime, version, device, device_class, shape, bandwidth_basis
    runs: int = 0                 # matching records; 0: the published prior alone
    level: str = ""               # how they match: "this setup" | "this device" | "this device class"
    bandwidth: float = 1.0        # the factors the runtime's efficiency was scaled by
    compute: float = 1.0          # GEMM FLOPs
    vector: float = 1.0           # matrix-vector FLOPs
    overhead: float = 1.0
    host: float = 1.0             # ... and the host bandwidth of layers left in host RAM
    compute_memory: float = 1.0   # the compute buffers' scale, from runs of this setup
    residual: float = 0.0         # relative RMS error of the runs' figures after the fit
    band: float                   # the speed figures' relative band
    files: tuple[str, ...] = ()   # where the records came from


class Measured(Node):
    """What `llmc tune` measured on the target under the settings it chose (medians of its requests)."""

    ttft_s: float
    tpot_s: float
    throughput_tok_s: float | None = None
    requests: int
    trials: int                   # settings tried, the planned ones included
    planned: dict[str, int]       # the tuned settings as the build had them
    chosen: dict[str, int]        # ... as tune left them (the fastest measured)
    source: str


class Performance(Node):
    ttft_s: Estimate
    tpot_s: Estimate
    throughput_tok_s: Estimate
    prefill_tok_s: float | None = None
    bound: str = ""                # "memory bandwidth" | "compute" | ...
    sources: tuple[str, ...] = ()
    # "simulated": ttft/tpot/throughput are the load simulation's means (`load` holds the rest); "unloaded":
    # a request alone and a decode step at the running batch (a candidate that failed a bound before simulation)
    basis: Literal["simulated", "unloaded"] = "unloaded"
    unloaded_ttft_s: float | None = None
    unloaded_tpot_s: float | None = None
    load: Load | None = None
    # the parts of a decode step at the running batch and of a prompt's prefill, for calibration records
    decode_parts: StepParts | None = None
    prefill_parts: StepParts | None = None
    calibration: Calibration | None = None
    measured: Measured | None = None       # set by `llmc tune`, never by a build


class Targets(Node):
    """The spec's latency budget, copied so a smoke test can gate on it."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    tpot_default: bool = False   # tpot_s is the task's default floor (spec.DEFAULT_TPOT_S), not written
    throughput_tok_s: float | None = None
    # the statistic each latency bound limits: None is the mean, else "p50", "p90" or "p99"
    ttft_percentile: Literal["p50", "p90", "p99"] | None = None
    tpot_percentile: Literal["p50", "p90", "p99"] | None = None


class Workload(Node):
    task: str
    concurrency: int
    prompt_tokens: int
    output_tokens: int
    rate: float | None = None    # open loop: Poisson arrivals per second; None: `concurrency` users in a loop
    spread: float | None = None  # requests' lengths range ±spread about the typical ones; None: all alike


class Alternative(Node):
    choice: str       # "Qwen3-32B q4_k_m on llama.cpp, TP 1"
    score: float
    reason: str       # why it lost to the chosen plan


class Rejected(Node):
    family: str       # "Llama-3.1-70B-Instruct (all formats)" or "vllm"
    constraint: str   # the first constraint that ruled it out
    detail: str = ""


class Plan(Node):
    schema_: str = Field(PLAN_SCHEMA, alias="schema")
    llmc_version: str
    deployment: str
    workload: Workload
    model: ModelRef
    runtime: RuntimeRef
    kv_cache: dict[str, str]       # {"type": "q8_0"} or {"type_k": ..., "type_v": ...}
    context: int                   # longest request (prompt + output) accepted, per sequence
    slots: int                     # concurrent sequences
    parallelism: Parallelism
    hardware: Hardware
    settings: Settings
    serving: Serving
    speculative: Speculative | None = None
    memory: Memory
    performance: Performance
    targets: Targets
    binding_constraint: str
    score: float
    quality: float = 0.0     # the task score minus the format's and KV cache's losses (solve/objective.py)
    emit: tuple[str, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    notes: tuple[str, ...] = ()
    # The spec file's directory, relative to this deployment's build directory (`DIR/<deployment>`): the
    # artifacts find a relative local model through it, so a checkout elsewhere builds byte-identically.
    spec_dir: str | None = None
    # The settings the spec pinned (Knob.setting names): `llmc tune` leaves them as they are.
    pinned: tuple[str, ...] = ()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @property
    def total_context(self) -> int:
        """The KV cells a llama.cpp-style runtime allocates: -c (and Ollama's num_ctx x parallel) is
        context x slots, each slot getting `context` tokens."""
        return self.context * self.slots

    def to_json(self) -> str:
        """Canonical plan.json: sorted keys, two-space indent, trailing newline. Strict JSON: the solver
        never chooses a candidate with a non-finite estimate, so a NaN or infinity here is a bug and raises."""
        import json

        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=2, sort_keys=True,
                          allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        return cls.model_validate_json(text)
