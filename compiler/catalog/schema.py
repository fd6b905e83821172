"""Catalog records: pydantic schemas, validated on load. Every record names its source.

This module is the contract between the catalog, the estimates and the solver:
field names here are relied on elsewhere; add fields freely, rename none.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..names import URL_PATH, is_repo_file, is_repo_id, is_revision
from ..runtimes import RuntimeName, names as runtime_names
from ..runtimes.knobs import GPU_BACKENDS

LayerKind = Literal["full", "sliding", "linear", "mla"]

# Physically sane bounds for catalog figures. A value outside them is a typo or hostile input, never a
# real device or model, and the estimates divide by most of these fields: each bound sits one to two
# orders of magnitude above the largest real figure, so no future record should need a change.
MAX_MEMORY_BYTES = 16 * 2**40        # 16 TiB per device or host record; largest GPU today ~192 GB
MIN_BANDWIDTH_GBPS = 0.1             # below a PCIe 1.0 x1 link; keeps every time estimate finite
MAX_BANDWIDTH_GBPS = 1e6             # 1 PB/s; HBM3e GPUs ~8 TB/s
MIN_TFLOPS = 1e-3                    # 1 GFLOP/s
MAX_TFLOPS = 1e6                     # 1 EFLOP/s per device; B200 FP4 ~10 PFLOP/s dense
MAX_WATTS = 1e5                      # 100 kW per device; GB200 superchip ~2.7 kW
MAX_COMPUTE_CAPABILITY = 100.0       # CUDA sm_121 is 12.1
MAX_LAYERS = 10_000                  # largest published models have ~128 layers
MAX_WIDTH = 2**20                    # hidden size, head count, head dim, vocabulary, experts: ~262k at most
MAX_CONTEXT = 2**30                  # tokens; longest published windows ~10M
MAX_PARAMS_B = 1e5                   # 100T parameters; largest published ~1T
MIN_BITS, MAX_BITS = 1.0, 64.0       # per weight or KV element; IQ1_S is 1.56, f32 is 32
MAX_BLOCK = 2**16                    # GGUF/KV block sizes and bytes per block: 256 and 210 at most today
MAX_PPL_INCREASE_PCT = 1e4           # a 100x perplexity increase is already meaningless

# Numbers are strict: a string, a bool or a float where a count belongs is a wrong type, not a value.
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_WIDTH)]
Width = Annotated[int, Field(strict=True, ge=1, le=MAX_WIDTH)]
Layers = Annotated[int, Field(strict=True, ge=1, le=MAX_LAYERS)]
LayerCount = Annotated[int, Field(strict=True, ge=0, le=MAX_LAYERS)]
Tokens = Annotated[int, Field(strict=True, ge=1, le=MAX_CONTEXT)]
Bytes = Annotated[int, Field(strict=True, ge=1, le=MAX_MEMORY_BYTES)]
Block = Annotated[int, Field(strict=True, ge=1, le=MAX_BLOCK)]
Port = Annotated[int, Field(strict=True, ge=1, le=65_535)]


def _grammar(check, what: str):
    def validate(text: str) -> str:
        if not check(text):
            raise ValueError(f"{text!r} is not {what}")
        return text
    return AfterValidator(validate)


RepoId = Annotated[str, _grammar(is_repo_id, "a Hugging Face repo id (owner/name)")]
UrlPath = Annotated[str, _grammar(lambda t: bool(URL_PATH.fullmatch(t)), "an HTTP path")]
RepoFile = Annotated[str, _grammar(is_repo_file, "a file path inside a repo")]
Revision = Annotated[str, _grammar(is_revision, "a branch, tag or commit")]


def _finite(low: float, high: float, *, open_low: bool = True) -> object:
    """A finite float in (low, high] (or [low, high] with open_low=False)."""
    bound = {"gt": low} if open_low else {"ge": low}
    return Annotated[float, Field(strict=True, le=high, allow_inf_nan=False, **bound)]


Bandwidth = _finite(MIN_BANDWIDTH_GBPS, MAX_BANDWIDTH_GBPS, open_low=False)
Tflops = _finite(MIN_TFLOPS, MAX_TFLOPS, open_low=False)
Watts = _finite(0, MAX_WATTS)
ComputeCapability = _finite(0, MAX_COMPUTE_CAPABILITY)
ParamsB = _finite(0, MAX_PARAMS_B)
Bits = _finite(MIN_BITS, MAX_BITS, open_low=False)
Fraction = _finite(0, 1, open_low=False)
Score = _finite(0, 100, open_low=False)
PplIncrease = _finite(-100, MAX_PPL_INCREASE_PCT)


# What a reader can open: a URL, a repository (github:owner/name ...), a file of this repository, or a
# runtime's source at its release; "code corpus ..." notes of where a figure was found are not.
FOLLOWABLE = re.compile(r"https?://|\bgithub:[\w.-]+/|^(docs|benchmarks)/|arXiv:\d|"
                        r"^(llama\.cpp|vLLM|vllm|SGLang|sglang|Ollama|ollama) (b\d+|v?\d+\.\d+)")


class Record(BaseModel):
    # allow_inf_nan: also for float fields without one of the bounded types above
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Sourced(Record):
    source: tuple[str, ...]
    verified: bool = False
    notes: str = ""

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return (v,) if isinstance(v, str) else v

    @field_validator("source")
    @classmethod
    def _non_empty(cls, v):
        if not v or not all(s.strip() for s in v):
            raise ValueError("every record needs at least one source")
        return v

    @property
    def reference(self) -> str:
        """The first source a reader can follow (a URL, a repository path, a runtime's source file), for a
        plan to cite; a record with none is cited as itself (its sources and notes stay in the catalog)."""
        return next((s for s in self.source if FOLLOWABLE.search(s)), self.source[0])


# ---------------------------------------------------------------- models

class LinearAttention(Record):
    """Gated DeltaNet / Mamba-style layers: a constant state per sequence."""

    num_k_heads: Width
    num_v_heads: Width
    head_k_dim: Width
    head_v_dim: Width
    conv_kernel: Width = 4
    # the recurrent (SSM) state's precision in a paged runtime: config.json `mamba_ssm_dtype` (Qwen3.5:
    # float32), else the model dtype (vLLM 0.33 model_executor/models/config.py, mamba_utils.py)
    ssm_state_bits: Literal[16, 32] = 16


class Mla(Record):
    """Multi-head latent attention: one compressed latent per token per layer."""

    kv_lora_rank: Width
    qk_rope_head_dim: Count
    qk_nope_head_dim: Width
    v_head_dim: Width
    q_lora_rank: Width | None = None


@functools.lru_cache(maxsize=1024)
def _repeat_pattern(pattern: tuple[str, ...], n_layers: int) -> tuple[str, ...]:
    """Cached: the solver asks for every candidate's layer layout many times."""
    return tuple(pattern[i % len(pattern)] for i in range(n_layers))


class Attention(Record):
    """Per-layer attention layout: `pattern` repeats over the layers (gemma3: 5 sliding, 1 full)."""

    pattern: tuple[LayerKind, ...] = Field(("full",), min_length=1, max_length=MAX_LAYERS)
    sliding_window: Tokens | None = None
    linear: LinearAttention | None = None
    mla: Mla | None = None
    # the full-attention layers' KV geometry where it differs from the sliding ones' (Gemma 4: 4 KV heads of
    # 512 beside 16 of 256; config.json num_global_key_value_heads, global_head_dim)
    full_kv_heads: Width | None = None
    full_head_dim: Width | None = None
    v_head_dim: Width | None = None  # V's head size where it differs from K's (MiMo-V2-Flash: 128 beside 192)
    output_gate: bool = False        # gated attention (Qwen3-Next/3.5): q_proj also emits a per-head gate
    dsa_topk: Tokens | None = None   # DeepSeek sparse attention: each query attends to its top-k tokens

    def layer_kinds(self, n_layers: int) -> tuple[LayerKind, ...]:
        return _repeat_pattern(self.pattern, n_layers)


class Moe(Record):
    num_experts: Width
    experts_per_token: Width
    expert_intermediate_size: Width
    shared_experts: Count = 0
    shared_intermediate_size: Width | None = None  # per shared expert; defaults to expert size
    first_dense_layers: LayerCount = 0             # leading layers with a dense MLP
    layer_step: Layers = 1                         # MoE every `layer_step` layers after those

    @model_validator(mode="after")
    def _routes_to_existing_experts(self):
        if self.experts_per_token > self.num_experts:
            raise ValueError(f"experts_per_token ({self.experts_per_token}) exceeds num_experts ({self.num_experts})")
        return self


# The license ids a record may carry and a spec may allow (`license = [...]`): SPDX ids where one exists, the
# model families' own licenses otherwise, lower-case (matched case-insensitively, as SPDX ids are); each with
# its terms as (commercial use allowed, possibly with conditions; permissive: apache/mit/bsd-style).
LICENSE_TERMS = {
    "apache-2.0": (True, True), "mit": (True, True), "modified-mit": (True, False), "bsd-2-clause": (True, True),
    "bsd-3-clause": (True, True), "llama2": (True, False), "llama3": (True, False), "llama3.1": (True, False),
    "llama3.2": (True, False), "llama3.3": (True, False), "llama4": (True, False), "gemma": (True, False),
    "qwen": (True, False), "deepseek": (True, False), "mistral-research": (False, False), "cc-by-4.0": (True, True),
    "cc-by-nc-4.0": (False, False), "openrail": (True, False), "other": (False, False),
}
LICENSE_IDS = tuple(LICENSE_TERMS)


class License(Record):
    id: str                    # one of LICENSE_IDS
    # commercial use allowed (possibly with conditions), permissive (apache/mit/bsd-style): the id's terms
    # (LICENSE_TERMS) unless the record says otherwise, which it may only to agree with them
    commercial: bool | None = None
    permissive: bool | None = None
    # read for this model and size (its LICENSE file or model card); an unverified license satisfies only
    # `license = any`, since a family's license does not always hold for each of its sizes
    verified: bool = True
    notes: str = ""

    @field_validator("id")
    @classmethod
    def _known_id(cls, v: str) -> str:
        if v.lower() not in LICENSE_IDS:
            raise ValueError(f"unknown license id {v!r}; use one of {', '.join(LICENSE_IDS)}")
        return v.lower()

    @model_validator(mode="after")
    def _terms_of_the_id(self):
        commercial, permissive = LICENSE_TERMS[self.id]
        if self.commercial not in (None, commercial) or self.permissive not in (None, permissive):
            raise ValueError(f"{self.id} is commercial={commercial}, permissive={permissive} (LICENSE_TERMS)")
        object.__setattr__(self, "commercial", commercial)
        object.__setattr__(self, "permissive", permissive)
        return self


class Parsers(Record):
    tool_call: str | None = None
    reasoning: str | None = None


class Thinking(Sourced):
    """How a model thinks: by default (`on`, a chat-template switch turns it off), on request (`off`, the
    switch turns it on), or always (`always`, no switch)."""

    default: Literal["on", "off", "always"]
    switch: str | None = None     # the chat-template kwarg (enable_thinking, thinking); None when always

    @model_validator(mode="after")
    def _switch_unless_always(self):
        if (self.default == "always") != (self.switch is None):
            raise ValueError("a switch is named exactly when the model does not always think")
        return self


class Variant(Sourced):
    """A quantized (or native) checkpoint that really exists. Its repo, file and revision are written into
    download URLs and scripts, so each must have its grammar (llmc.names)."""

    format: str                 # weight format id from formats.yaml (q4_k_m, awq, fp8, bf16 ...)
    repo: RepoId                # HF repo id
    file: RepoFile | None = None  # GGUF file name (first shard for split files)
    revision: Revision | None = None
    size_bytes: Bytes | None = None
    mtp: bool = False             # keeps the model's MTP heads (the original repo always does): verify per file


class Quality(Sourced):
    """Per-task quality score (0-100) used to rank models; each with its source and the benchmark behind it."""

    scores: dict[str, Score]
    # the benchmark and version of each score, as its source names it ("LiveCodeBench v5"); "<suite> (derived)"
    # marks a score mapped onto the suite from another benchmark by a stated regression
    suites: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_score_names_its_suite(self) -> "Quality":
        if missing := sorted(set(self.scores) - set(self.suites)):
            raise ValueError(f"scores without a suite (the benchmark behind them): {', '.join(missing)}")
        return self


class Model(Sourced):
    id: str                       # the original HF repo id
    name: str
    family: str
    architecture: str             # GGUF/llama.cpp architecture name (llama, qwen3, qwen3moe, gemma3, deepseek2 ...)
    n_layers: Layers
    hidden_size: Width
    n_heads: Width
    n_kv_heads: Width
    head_dim: Width
    vocab_size: Width
    intermediate_size: Count      # dense MLP width (0: every layer is MoE)
    attention: Attention = Attention()
    moe: Moe | None = None
    tie_word_embeddings: bool = False
    max_context: Tokens
    published_total_b: ParamsB | None = None
    published_active_b: ParamsB | None = None
    native_format: str = "bf16"   # bf16 | fp8 | mxfp4 | int4
    license: License
    modalities: tuple[str, ...] = ("text",)
    chat_template: str | None = None
    parsers: dict[str, Parsers] = Field(default_factory=dict)  # runtime -> parser names
    thinking: Thinking | None = None  # None: the model does not think
    mtp_layers: LayerCount = 0
    quality: Quality | None = None
    variants: tuple[Variant, ...] = ()
    release_date: str | None = None
    aliases: tuple[str, ...] = ()
    vision_params_b: ParamsB | None = None  # vision tower + projector, in the checkpoint but not in the text layers

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    @property
    def has_vision(self) -> bool:
        return "vision" in self.modalities or "image" in self.modalities

    def layer_kinds(self) -> tuple[LayerKind, ...]:
        return self.attention.layer_kinds(self.n_layers)

    def kv_shape(self, kind: LayerKind) -> tuple[int, int, int]:
        """(KV heads, K head size, V head size) of one attention layer of this kind (not MLA)."""
        a = self.attention
        heads, dim = (a.full_kv_heads or self.n_kv_heads, a.full_head_dim or self.head_dim) if kind == "full" \
            else (self.n_kv_heads, self.head_dim)
        return heads, dim, a.v_head_dim or dim


# ---------------------------------------------------------------- hardware

class VisibleMemory(Sourced):
    """The total the runtime sees (CUDA/HIP totalGlobalMem, Metal's recommendedMaxWorkingSetSize): the
    nominal size less what the driver reserves, and less 1/16 where ECC is on GDDR6."""

    bytes: Bytes


# The GPU programming stacks a runtime may be built on. A card lists, per runtime, those that serve it, best
# first: vLLM serves MI300X through ROCm, an RX 9070 XT through ROCm (gfx1201), not at all on Apple GPUs.
Backend = Literal[GPU_BACKENDS]


class Gpu(Sourced):
    name: str
    aliases: tuple[str, ...] = ()
    vendor: str = "nvidia"
    kind: Literal["gpu", "cpu"] = "gpu"
    # the runtimes' efficiency fits are per class: GeForce/workstation boards and datacenter parts differ in
    # clocks, power limits and kernels tuned for them (llmc.runtimes: RuntimeProfile.efficiency)
    device_class: Literal["consumer", "datacenter", "cpu"] | None = None
    memory_bytes: Bytes                   # nominal ("24GB" = 24 GiB), for display
    visible_memory: VisibleMemory | None = None   # what capacity is planned against; None: the nominal size
    display_capable: bool = False         # has display outputs: GPU 0 may hold a desktop (hardware.headless)
    # the GPU and the CPU share one memory (Apple, Strix Halo, GB10): the runtime sees the share the OS or the
    # BIOS gives the GPU, and the OS lives in the same pool
    unified_memory: bool = False
    bandwidth_gbps: Bandwidth             # GB/s (decimal)
    # bandwidth_gbps is a sustained read as measured (a host as the spec states it, from `llmc detect`), not a
    # datasheet peak: the runtime's bandwidth efficiency, a share of the peak, does not discount it again
    sustained_bandwidth: bool = False
    bf16_tflops: Tflops | None = None     # dense
    fp8_tflops: Tflops | None = None
    fp4_tflops: Tflops | None = None
    arch: str                             # Ampere, Ada, Hopper, Blackwell, ...
    compute_capability: ComputeCapability | None = None   # 8.9; None for CPU hosts
    nvlink: bool = False
    nvlink_gbps: Bandwidth | None = None  # per GPU, per direction
    p2p: bool = True                      # peer-to-peer over PCIe allowed by the driver
    pcie_gbps: Bandwidth | None = None    # per direction
    tdp_w: Watts | None = None
    # runtime -> backends, written as a mapping; kept as pairs so that the record stays hashable
    backends: tuple[tuple[RuntimeName, tuple[Backend, ...]], ...] = ()

    @field_validator("backends", mode="before")
    @classmethod
    def _pairs(cls, v):
        return tuple(sorted(v.items())) if isinstance(v, dict) else v

    @model_validator(mode="before")
    @classmethod
    def _cuda_by_default(cls, data):
        """An NVIDIA card whose record names no backends is served by every runtime through CUDA."""
        if isinstance(data, dict) and not data.get("backends") and data.get("vendor", "nvidia") == "nvidia" \
                and data.get("kind", "gpu") == "gpu":
            return {**data, "backends": {name: ("cuda",) for name in runtime_names()}}
        return data

    def backends_for(self, runtime: str) -> tuple[str, ...]:
        return dict(self.backends).get(runtime, ())

    @property
    def visible_memory_bytes(self) -> int:
        """The capacity every estimate and bound plans against."""
        return self.visible_memory.bytes if self.visible_memory else self.memory_bytes

    @model_validator(mode="after")
    def _class_stated(self):
        if self.kind == "cpu" and self.device_class not in (None, "cpu"):
            raise ValueError("a CPU host's device_class is cpu")
        if self.kind == "gpu" and self.device_class not in ("consumer", "datacenter"):
            raise ValueError("device_class: say consumer or datacenter (the runtimes' efficiency fits differ)")
        if self.kind == "gpu" and not any(b for _, b in self.backends):
            raise ValueError("backends: say which runtimes serve the card and through what (cuda, rocm, vulkan, "
                             "metal, sycl, xpu), e.g. {llama.cpp: [cuda, vulkan], vllm: [cuda]}")
        return self

    @model_validator(mode="after")
    def _visible_within_nominal(self):
        if self.visible_memory_bytes > self.memory_bytes:
            raise ValueError(f"visible_memory.bytes ({self.visible_memory_bytes}) exceeds "
                             f"memory_bytes ({self.memory_bytes})")
        return self


# ---------------------------------------------------------------- formats

class TensorRule(Record):
    """In a mixed format (Q4_K_M), a tensor group stored at another type."""

    group: str            # embed | output | attn_qkv | attn_v | attn_o | ffn_up_gate | ffn_down | experts ...
    type: str             # ggml/other type id
    fraction: Fraction = 1.0  # of the layers in that group (Q4_K_M: attn_v and ffn_down on half the layers)


class GgmlType(Sourced):
    """One GGUF tensor storage type: `type_size` bytes hold `block_size` weights (scales included)."""

    id: str                          # q4_k, q6_k, q8_0, f16 ...
    block_size: Block
    type_size: Block

    @property
    def bits_per_weight(self) -> float:
        return self.type_size * 8 / self.block_size


class Format(Sourced):
    id: str                          # q4_k_m, q8_0, bf16, fp8, awq, gptq, nvfp4, mxfp4 ...
    family: Literal["float", "gguf", "awq", "gptq", "fp8", "nvfp4", "mxfp4", "int8", "int4"]
    bits_per_weight: Bits            # effective, block scales included, for the bulk of the weights
    rules: tuple[TensorRule, ...] = ()
    runtimes: tuple[str, ...]        # which runtimes load it
    min_compute_capability: ComputeCapability | None = None   # FP8 from 8.9, NVFP4 on Blackwell 10.0
    # runtimes that run it weight-only below that (dequantized into 16-bit matmuls), from this capability
    weight_only: dict[RuntimeName, ComputeCapability] = Field(default_factory=dict)
    ppl_increase_pct: PplIncrease | None = None    # quality loss vs 16-bit, with the source
    quality_source: str | None = None
    ppl_family: str | None = None    # the model family the loss was measured on (Model.family)


class KvType(Sourced):
    id: str                          # f16, fp8, q8_0, q4_0
    bits: Bits                       # effective bits per element (q8_0 8.5, q4_0 4.5)
    block_size: Block = 1            # head_dim must be a multiple of this
    runtimes: dict[str, str]         # runtime -> its own spelling (vllm: fp8, llama.cpp: q8_0)
    needs_flash_attention: bool = False  # llama.cpp: a quantized V cache
    min_compute_capability: ComputeCapability | None = None
    ppl_increase_pct: PplIncrease | None = None


# ---------------------------------------------------------------- runtimes

class Runtime(Sourced):
    name: RuntimeName                 # a registered runtime profile (llmc.runtimes)
    formats: tuple[str, ...]          # format families it loads
    kv_types: tuple[str, ...]
    parallelism: tuple[str, ...]      # tp, pp, dp, ep, layer-split, row-split
    multi_node: bool
    cpu_offload: bool
    cpu_only: bool                    # can serve on a host without a GPU
    speculative: tuple[str, ...]      # ngram, draft, mtp
    tool_calling: bool
    vision: bool
    health_path: UrlPath
    default_port: Port
    max_devices: Width | None = None  # GPUs one server can drive (llama.cpp: GGML_CUDA_MAX_DEVICES)
    min_compute_capability: ComputeCapability | None = None
