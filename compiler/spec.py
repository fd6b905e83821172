"""The lowered `.llmspec`: typed, frozen values that remember where they came from.

Fields a user did not write are None here; `Deployment` exposes the language's
defaults as properties so later stages never re-implement them.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .runtimes import names as runtime_names
from .source import Span

TASKS = ("chat", "code", "reasoning", "agent", "long-context", "multimodal")
PREFERENCES = ("quality", "latency", "throughput", "memory")
EMITS = ("compose", "kubernetes")
RUNTIMES = runtime_names()  # the registered profiles (llmc.runtimes); lower reads the registry at call time
LICENSE_CLASSES = ("any", "permissive", "commercial")
LINKS = ("pcie", "nvlink")
# The vector instructions llama.cpp's CPU backend is built for (ggml-cpu: AVX2, AVX-512, AMX on x86; NEON, SVE
# on Arm): what a CPU host's `isa` lists.
CPU_ISA = ("avx2", "avx512", "amx", "neon", "sve")
THINKING = ("auto", "on", "off")
# `thinking = auto`: models that can think do so for these tasks, and answer at once for the others.
THINKING_TASKS = ("reasoning", "agent")
DEFAULT_CONTEXT_CAP = 32 * 1024
# Without `latency.tpot` or `decode`, a plan must still be usable: a reader reads ~4 words/s (~5 tokens/s), so
# chat-like tasks decode at least that fast; code, reasoning and agents emit long outputs someone or some tool
# waits for, so they need twice that. Any `latency` bound the spec writes replaces this floor.
DEFAULT_TPOT_S = {"chat": 0.2, "multimodal": 0.2, "long-context": 0.2, "code": 0.1, "reasoning": 0.1,
                  "agent": 0.1}


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Word(Node):
    """A bare word from a closed set (task, runtime, format, license id ...)."""

    value: str
    span: Span


class Text(Node):
    """A double-quoted string."""

    value: str
    span: Span


class Int(Node):
    value: int
    span: Span


class Bool(Node):
    value: bool
    span: Span


class Tokens(Node):
    value: int
    span: Span


class Bytes(Node):
    value: int
    span: Span


class Bandwidth(Node):
    bytes_per_s: float
    span: Span


class Duration(Node):
    seconds: float
    span: Span


class Rate(Node):
    tok_s: float
    span: Span


class RequestRate(Node):
    per_s: float
    span: Span


class Fraction(Node):
    value: float
    span: Span


class Bound(Node):
    """`ttft <= 1.5s`, `ttft p99 <= 2s`, `throughput >= 400 tok/s`."""

    op: Literal["<=", "<", ">=", ">"]
    value: Duration | Rate
    span: Span
    percentile: Literal["p50", "p90", "p99"] | None = None   # None: the mean


# Requests' lengths range this far about `prompt` and `output` unless the spec says (`spread`): real traffic's
# answers end where they end (EOS), so its users do not stay in step; 0 is a fixed-length benchmark
DEFAULT_SPREAD = 0.5


class Workload(Node):
    task: Word | None = None
    concurrency: Int | None = None
    rate: RequestRate | None = None   # open loop: Poisson arrivals per second (else `concurrency` users)
    prompt: Tokens | None = None
    output: Tokens | None = None
    spread: Fraction | None = None    # requests' lengths range ±spread about `prompt` and `output`
    thinking: Word | None = None
    span: Span | None = None


class Latency(Node):
    ttft: Bound | None = None
    tpot: Bound | None = None
    decode: Bound | None = None
    throughput: Bound | None = None
    span: Span | None = None


class GpuGroup(Node):
    """`2 x "RTX 4090"`: a count of one catalog GPU, as written."""

    count: int
    name: str
    span: Span


class Hardware(Node):
    gpu: tuple[GpuGroup, ...] | None = None  # None means `gpu = none`: a CPU-only host
    gpu_span: Span | None = None
    memory: Bytes | None = None
    nodes: Int | None = None
    link: Word | None = None
    p2p: Bool | None = None
    headless: Bool | None = None  # None: unknown (a consumer card may drive a display)
    # a CPU-only host as it is (gpu = none): its physical cores, memory bandwidth, vector instructions
    cores: Int | None = None
    memory_bandwidth: Bandwidth | None = None
    isa: tuple[Word, ...] = ()
    interface: Text | None = None  # the NIC multi-node traffic uses (NCCL_SOCKET_IFNAME, GLOO_SOCKET_IFNAME)
    rdma: Text | None = None      # the Kubernetes resource of an RDMA device, one per pod
    span: Span | None = None


class ModelChoice(Node):
    kind: Literal["auto", "id", "any", "local"] = "auto"
    ids: tuple[Text, ...] = ()
    path: Text | None = None
    span: Span | None = None


class Choice(Node):
    """`auto`, one word, or `any [a, b]` (quantization, kv_cache, runtime)."""

    kind: Literal["auto", "one", "any"] = "auto"
    values: tuple[Word, ...] = ()
    span: Span | None = None

    @property
    def allowed(self) -> tuple[str, ...] | None:
        """None when anything is allowed."""
        return None if self.kind == "auto" else tuple(v.value for v in self.values)


class Licenses(Node):
    kind: Literal["any", "permissive", "commercial", "list"] = "any"
    ids: tuple[Word, ...] = ()
    span: Span | None = None


class Serve(Node):
    port: Int | None = None
    host: Text | None = None
    api_key_env: Text | None = None  # the NAME in api_key = env("NAME")
    name: Text | None = None
    span: Span | None = None


class Setting(Node):
    """One pin of `settings { ... }`: a runtime setting under the runtime's own name (llmc.runtimes.knobs)."""

    name: str                        # as written: max_num_seqs, n_gpu_layers, num_ctx ...
    setting: str                     # llmc's name for it (Knob.setting): slots, gpu_layers ...
    value: bool | int | float | str
    span: Span


class Deployment(Node):
    name: str
    name_span: Span
    span: Span
    workload: Workload = Workload()
    context: Tokens | None = None
    latency: Latency = Latency()
    license: Licenses = Licenses()
    hardware: Hardware
    model: ModelChoice = ModelChoice()
    quantization: Choice = Choice()
    kv_cache: Choice = Choice()
    runtime: Choice = Choice()
    prefer: Word | None = None
    min_quality: Int | None = None   # the lowest quality score (model score minus quantization loss) to accept
    emit: tuple[Word, ...] = ()
    serve: Serve = Serve()
    settings: tuple[Setting, ...] = ()   # pinned runtime settings (with `runtime` pinned to one)
    runtime_version: Text | None = None  # `settings { version = "..." }`: checked against the runtime's pin

    def pinned(self, setting: str) -> Setting | None:
        """The pin of one of llmc's settings (Knob.setting), or None when the solver chooses it."""
        return next((s for s in self.settings if s.setting == setting), None)

    def pin_value(self, setting: str, default=None):
        pin = self.pinned(setting)
        return default if pin is None else pin.value

    # The language's defaults, in one place.
    @property
    def task(self) -> str:
        return self.workload.task.value if self.workload.task else "chat"

    @property
    def concurrency(self) -> int:
        """Requests in flight the plan provisions for (llama.cpp slots, the KV a pool must hold). With only
        `rate` written, Little's law at the TPOT target: rate x output tokens x TPOT, what is in flight
        when each request takes as long as the target allows."""
        if self.workload.concurrency:
            return self.workload.concurrency.value
        if self.rate:
            return max(1, min(100_000, math.ceil(self.rate * self.output_tokens * self.tpot_target[0])))
        return 1

    @property
    def rate(self) -> float | None:
        return self.workload.rate.per_s if self.workload.rate else None

    @property
    def prompt_tokens(self) -> int:
        return self.workload.prompt.value if self.workload.prompt else 1024

    @property
    def output_tokens(self) -> int:
        return self.workload.output.value if self.workload.output else 256

    @property
    def length_spread(self) -> float:
        """How far requests' prompt and output lengths range about the typical ones, as a fraction (0: all alike);
        unwritten, DEFAULT_SPREAD."""
        return self.workload.spread.value if self.workload.spread else DEFAULT_SPREAD

    @property
    def objective(self) -> str:
        return self.prefer.value if self.prefer else "quality"

    @property
    def thinking(self) -> bool:
        """Whether a model that can think should: `on`/`off` as written, `auto` by task."""
        mode = self.workload.thinking.value if self.workload.thinking else "auto"
        return self.task in THINKING_TASKS if mode == "auto" else mode == "on"

    @property
    def tpot_target(self) -> tuple[float | None, bool]:
        """(seconds per output token, whether it is the task's default floor); `tpot` or `decode` as written."""
        lat = self.latency
        if lat.tpot:
            return lat.tpot.value.seconds, False
        if lat.decode:
            return 1 / lat.decode.value.tok_s, False
        return DEFAULT_TPOT_S[self.task], True

    @property
    def nodes(self) -> int:
        return self.hardware.nodes.value if self.hardware.nodes else 1

    @property
    def host_memory_bytes(self) -> int:
        return self.hardware.memory.value if self.hardware.memory else 0

    @property
    def emits(self) -> tuple[str, ...]:
        return tuple(e.value for e in self.emit)

    @property
    def port(self) -> int | None:
        return self.serve.port.value if self.serve.port else None

    @property
    def host(self) -> str:
        return self.serve.host.value if self.serve.host else "127.0.0.1"


class Spec(Node):
    file: str
    deployments: tuple[Deployment, ...]
