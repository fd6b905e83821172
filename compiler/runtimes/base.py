"""What llmc knows about one runtime, as data: `RuntimeProfile`.

A stage that behaves differently per runtime reads a field here instead of comparing names, so
adding a runtime is a new profile (plus its target folder and catalog record), not a hunt for
`if runtime == ...` branches. This module is a leaf: it imports only llmc's name grammars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..names import IMAGE, TAG, split_image
from .knobs import Knob, Tunable

CALIBRATION = "docs/accuracy.md (published llama.cpp / vLLM measurements; benchmarks/accuracy.py)"


@dataclass(frozen=True)
class Efficiency:
    """What a runtime achieves of a device's peak (estimate/speed.py's roofline reads it)."""

    bandwidth: float        # achieved / peak memory bandwidth in decode
    compute: float          # achieved / peak dense FLOPs in prefill (int8 tensor peak for quantized GGUF)
    step_overhead_s: float  # fixed cost per decode step (scheduling, sampling, detokenizing)
    layer_overhead_s: float  # per layer per step (kernel launches and syncs that do not overlap)
    source: str
    # a pass of at most MMVQ_MAX_BATCH tokens runs matrix-vector kernels: achieved / peak FLOPs there
    # (None: as `compute`; a GPU's decode is memory-bound long before)
    vector_compute: float | None = None
    # achieved / peak FLOPs of a prompt's GEMMs per GGUF weight type, as (ggml type prefix, share) measured
    # on this device class; a type not listed runs at `compute` (empty: every type at `compute`)
    gemm_by_type: tuple[tuple[str, float], ...] = ()

    def gemm_share(self, type_mix: dict[str, float]) -> float:
        """Achieved / peak FLOPs of GEMMs over weights of these types (type -> share of the multiplied
        parameters): the harmonic mean of the types' rates, as each type's share of the work runs at its own."""
        if not self.gemm_by_type or not type_mix:
            return self.compute
        seconds = sum(share / self._type_rate(kind) for kind, share in type_mix.items())
        return sum(type_mix.values()) / seconds

    def _type_rate(self, kind: str) -> float:
        """The rate of the longest listed type prefix of `kind` (q4_k_m, a file's label, reads as q4_k)."""
        matches = [(len(prefix), share) for prefix, share in self.gemm_by_type if kind.startswith(prefix)]
        return max(matches)[1] if matches else self.compute


@dataclass(frozen=True)
class Scheduler:
    """How the runtime batches requests (estimate/serving.py simulates it). Policies:
      mixed:         each step spends a token budget: every running sequence's next token first, then
                     prompt chunks of the waiting requests (vLLM V1's chunked prefill);
      prefill-first: a waiting prompt runs as a batch of its own, pausing the decodes (SGLang's default);
      slots:         a fixed number of slots; each step one batch over all of them: the generating slots'
                     tokens, then prompt tokens up to the batch size, run in micro-batches (llama-server)."""

    policy: Literal["mixed", "prefill-first", "slots"]
    request_overhead_s: float       # per request, outside the steps: HTTP, templating, tokenizing, detokenizing
    source: str
    step_tokens: int | None = None  # tokens per step; None: the profile's batched_tokens by the card's memory
    ubatch: int | None = None       # a step runs in passes of this many tokens, each reading the weights
    preempts: bool = False          # a full KV pool evicts the newest running request, recomputed later
    # admission keeps pool room for the whole answer of the request admitted and of every running one (False:
    # for the prompt only, the answers' growth left to preemption)
    reserves_answers: bool = False
    # seconds per sampled token per vocabulary entry, where the runtime samples on the host over every logit
    # (0: sampling is inside the step, on the device, and in the step's fitted overhead)
    sampling_s_per_entry: float = 0.0


# The two KV sizing rules (estimate/kv.py): llama.cpp's cells per device, or vLLM's paged blocks.
KV_LLAMA = "llama.cpp"
KV_PAGED = "vllm"


@dataclass(frozen=True)
class Pin:
    """The runtime release llmc emits for, and what is tied to it: the image, the flag table generated from
    that release's own parser (targets/<folder>/flags_<version>.json), the package the test command installs
    to run that parser."""

    version: str
    image: str                  # repository
    tag: str                    # pinned, never latest
    source: str
    gpu_tag: str | None = None  # the CUDA image, where the CPU one differs
    # the images of the other backends (llmc.catalog.schema.Backend), as (backend, repository:tag)
    backend_images: tuple[tuple[str, str], ...] = ()
    flag_table: bool = True     # the target checks its flags against a generated table
    test_package: tuple[str, str] | None = None   # (variable, version) scripts/ensure-*.sh install at this pin

    def __post_init__(self) -> None:
        refs = [f"{self.image}:{t}" for t in (self.tag, self.gpu_tag) if t is not None]
        for ref in refs + [ref for _, ref in self.backend_images]:
            repo, _, tag = ref.rpartition(":")
            if not IMAGE.fullmatch(repo) or not TAG.fullmatch(tag) or "latest" in tag:
                raise ValueError(f"pin {ref}: an image repository and a pinned tag, never latest")

    def image_ref(self, backend: str) -> str | None:
        """The container image for a backend ("cpu" on a host without a GPU); None where the release
        publishes none (Metal: llama.cpp runs natively on macOS)."""
        if backend == "cpu":
            return f"{self.image}:{self.tag}"
        if backend == "cuda":
            return f"{self.image}:{self.gpu_tag or self.tag}"
        return dict(self.backend_images).get(backend)

    def backend_of(self, image: str) -> str | None:
        """The backend an image of this runtime runs on: a backend's own repository (`vllm/vllm-openai-rocm`)
        or tag (`server-vulkan-b1234`, `0.33.0-rocm`, any release); None for the CPU or CUDA image, or an image
        several backends share."""
        repo, tag = split_image(image)
        tag, own = tag or "", split_image(self.image)[0]
        for backend, ref in self.backend_images:
            their_repo, their_tag = split_image(ref)
            if their_repo != own:
                if repo == their_repo:
                    return backend
                continue
            stem = their_tag.replace(self.version, "").strip("-")
            if stem and f"-{stem}-" in f"-{tag}-":
                return backend
        return None

    @property
    def flags_file(self) -> str | None:
        return f"flags_{self.version}.json" if self.flag_table else None


@dataclass(frozen=True)
class SwaPool:
    """SGLang's pools for sliding-window layers: models of `architectures` keep those layers in a second pool of
    `ratio` x the full layers' tokens (its capacity is the full pool's); any other model's sliding-window layers
    are pooled as full ones, holding the whole context."""

    architectures: frozenset[str]
    ratio: float
    source: str

    def share(self, architecture: str) -> float:
        """A sliding-window layer's tokens per token of the full layers."""
        return self.ratio if architecture in self.architectures else 1.0


@dataclass(frozen=True)
class RuntimeProfile:
    name: str                                   # the spec's runtime word and plan.runtime.name
    pin: Pin
    # ---- estimate
    engine: Literal["paged", "llama"]           # memory model: a paged KV pool (vLLM/SGLang) or llama.cpp's buffers
    kv_runtime: Literal["vllm", "llama.cpp"]    # which kv_bytes rule sizes its cache
    # its efficiency per device class ("datacenter", "consumer", "cpu"), each with where it came from
    efficiency: tuple[tuple[str, Efficiency], ...]
    error_band: float                           # the memory estimate's stated error, as a fraction, from the
    #                                             calibration residuals (docs/accuracy.md)
    memory_budget: Literal["fit-target", "admission", "utilization", "fraction"]   # also picks the plan's
    #   serving settings (solve/assemble.py): llama.cpp's for the llama engine, else the budget's knob
    #   fit-target: llama.cpp's -fitt margin; admission: Ollama's share of free memory;
    #   utilization: vLLM's gpu_memory_utilization; fraction: SGLang's mem_fraction_static
    memory_fraction: float | None = None        # the share of GPU memory it budgets, as the plan emits it
    memory_fraction_source: str = ""
    # batch budgets by the card's memory, ((at least GiB, value), ...) from the largest: what a paged engine
    # schedules per step (max_num_batched_tokens) and at once (max_num_seqs)
    batched_tokens: tuple[tuple[float, int], ...] = ()
    max_seqs: tuple[tuple[float, int], ...] = ()
    budget_floor_devices: tuple[str, ...] = ()  # cards given the lowest row whatever their memory
    scheduler: Scheduler = Scheduler("slots", 0.0, "")
    pads_mxfp4_experts: bool = False            # MXFP4 expert matrices padded for the kernels (memory.py)
    kv_groups: bool = False                     # a sliding-window hybrid's pool is vLLM's grouped one (kv.PagedPool)
    swa_pool: SwaPool | None = None             # else how sliding-window layers are pooled (None: at their window)
    in_flight_batches: int = 1                  # steps scheduled ahead (async scheduling): tokens a window keeps
    # without CUDA graphs (enforce_eager pinned) every step launches each layer's kernels from the host
    eager_layer_s: float = 0.0
    eager_source: str = ""
    quantized_gguf_mmq: bool = False            # quantized GGUF matmuls run on int8 tensor cores (2x fp16)
    slow_int4_kernels: bool = False             # int4 formats run the slower int4 kernels on GPUs
    # the last layer's feed-forward runs only for the rows that are sampled, so a prompt's other tokens skip
    # it: llama.cpp b11312 src/models/*.cpp (132 of 156 builders: `if (il == n_layer - 1 && inp_out_ids)`
    # ggml_get_rows before the FFN), Ollama's engine (model/models/*/model.go passes lastLayerOutputs)
    last_layer_output_rows: bool = False
    # ---- solve
    rank: int = 9                               # tie-break order among equal plans (lower first)
    needs_tool_parser: bool = False             # agent task: needs a catalog tool-call parser for the model
    homogeneous_ranks: bool = False             # TP/PP engine: same GPU on every rank, heads divide TP,
    #                                             a format's compute capability is checked; else a layer split
    offload: bool = False                       # can put layers / MoE experts in host RAM (-ngl, --n-cpu-moe)
    # ---- targets
    service_name: str = ""                      # the compose service
    launcher: str | None = None                 # the native launch script in a build (README, llmc smoke)
    api_key_env: str | None = None              # the runtime reads its API key from this variable
    serve_command: tuple[str, ...] = ()         # the image's server command (compose entrypoint for the key)
    ray_multi_node: bool = False                # multi-node over Ray (README, Kubernetes LeaderWorkerSet)
    config_file: str | None = None              # the same settings as a config file in the build
    create_script: str | None = None            # a script that registers the model with the server
    override_hint: str = ""                     # README: how to point the launcher at another executable
    smoke_path: str | None = None               # README smoke curl path (None: plan.runtime.health_path)
    gguf_download: bool = False                 # the launcher downloads one GGUF into the models dir
    # ---- smoke
    metrics: tuple[str, ...] = ()               # /metrics names llmc smoke records
    memory_log: Literal["llama-buffers", "vllm-lines", "none"] = "none"   # how smoke reads its memory figures:
    #   llama-server's buffer lines, or vLLM-style startup lines (and /metrics)
    metrics_figures: bool = False               # smoke rereads memory figures once /metrics is up
    memory_source: tuple[str, str | None] | None = None   # (where smoke reads memory, help when absent)
    llama_log_verbosity: bool = False           # smoke raises llama-server's log verbosity (buffer lines)
    compose_log_override: bool = False          # ... also under --compose, with an override file
    tokenize: Literal["content", "prompt"] = "prompt"   # the /tokenize body: llama-server's {"content"},
    #                                                   or {"model", "prompt"}
    # ---- hand-written configs (llmc import / lint)
    target_package: str = ""                    # llmc.targets.<package>: its flag table
    commands: tuple[tuple[str, ...], ...] = ()  # argv beginnings that start this server ("vllm", "serve");
    #                                             "python" stands for any python3.x
    former_images: tuple[str, ...] = ()         # repositories it was published under before (ggerganov/llama.cpp)
    model_positional: bool = False              # the first positional argument names the model
    # how its command line is parsed: Python argparse takes any unique prefix of a long option (`--tp` for
    # `--tp-size`); vLLM's FlexibleArgumentParser also reads `_` as `-` in names and `32K` / `32k` as numbers
    flag_prefixes: bool = False
    flag_underscores: bool = False
    human_readable_ints: bool = False
    # `--config FILE` YAML (long option names as keys): vLLM makes `false` its `--no-KEY` option only where one
    # exists and drops it otherwise (utils/argparse_utils.py load_config_file); SGLang skips a false store_true
    # flag, whose default is off anyway (srt/utils/server_args_config_parser.py _add_boolean_arg)
    config_yaml: bool = False
    config_drops_false: bool = False
    knobs: tuple[Knob, ...] = ()                # its settings, as flags, variables and Modelfile parameters
    tunables: tuple[Tunable, ...] = ()          # what `llmc tune` searches on the target, in this order
    listens_on_all: bool = False                # with no host setting it binds every interface
    # no context setting: by the GPUs' total memory ((at least GiB, tokens), ...); empty: the model's window
    default_context: tuple[tuple[float, int], ...] = ()
    default_slots: int = 1                      # no parallel setting: sequences it serves at once
    slots_split_context: bool = False           # llama.cpp: an explicit -np K without -kvu gives each slot c / K
    default_keep_alive_s: float | None = None   # an idle model is unloaded after this long (None: never)
    cache_dir: str = ""                         # where it keeps downloaded models in its image
    cache_env: str = ""                         # the variable that moves it (HF_HOME, OLLAMA_MODELS)
    port_env: str | None = None                 # a variable it parses as its port at start (VLLM_PORT)
    long_context_env: str | None = None         # the variable that lets a context exceed the model's window
    image_env: tuple[tuple[str, str], ...] = () # what its images set (ENV): their defaults inside a container
    unguarded_routes: str = ""                  # what its API key leaves open (besides health checks)
    source_knobs: str = ""                      # where the defaults above were read

    @property
    def images(self) -> tuple[str, ...]:
        """The image repositories (without registry) that run it: the pin's, its backends', its former ones."""
        refs = [self.pin.image, *(ref for _, ref in self.pin.backend_images)]
        return tuple(dict.fromkeys([*(split_image(r)[0] for r in refs), *self.former_images]))

    def knob(self, setting: str) -> Knob | None:
        return next((k for k in self.knobs if k.setting == setting), None)

    def fit(self, device_class: str) -> Efficiency | None:
        return dict(self.efficiency).get(device_class)

    def budgets(self, gib: float, device: str = "") -> tuple[int, int]:
        """(tokens per step, sequences at once) the runtime defaults to on a card of `gib` GiB named `device`."""
        floor = any(word in device.lower() for word in self.budget_floor_devices)
        return tuple(table[-1][1] if floor else by_memory(table, gib)   # type: ignore[return-value]
                     for table in (self.batched_tokens, self.max_seqs))


def by_memory(table: tuple[tuple[float, int], ...], gib: float) -> int:
    """The value of the first row whose memory floor the card reaches."""
    return next(value for floor, value in table if gib >= floor)


__all__ = ["CALIBRATION", "KV_LLAMA", "KV_PAGED", "Efficiency", "Knob", "Pin", "RuntimeProfile", "Scheduler", "SwaPool",
           "by_memory"]
