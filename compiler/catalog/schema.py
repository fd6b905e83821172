"""Catalog records: pydantic schemas, validated on load. Every record names its source.

This module is the contract between the catalog, the estimates and the solver:
field names here are relied on elsewhere; add fields freely, rename none.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

LayerKind = Literal["full", "sliding", "linear", "mla"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


# ---------------------------------------------------------------- models

class LinearAttention(Record):
    """Gated DeltaNet / Mamba-style layers: a constant state per sequence."""

    num_k_heads: int
    num_v_heads: int
    head_k_dim: int
    head_v_dim: int
    conv_kernel: int = 4


class Mla(Record):
    """Multi-head latent attention: one compressed latent per token per layer."""

    kv_lora_rank: int
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None


@functools.lru_cache(maxsize=1024)
def _repeat_pattern(pattern: tuple[str, ...], n_layers: int) -> tuple[str, ...]:
    """Cached: the solver asks for every candidate's layer layout many times."""
    return tuple(pattern[i % len(pattern)] for i in range(n_layers))


class Attention(Record):
    """Per-layer attention layout: `pattern` repeats over the layers (gemma3: 5 sliding, 1 full)."""

    pattern: tuple[LayerKind, ...] = ("full",)
    sliding_window: int | None = None
    linear: LinearAttention | None = None
    mla: Mla | None = None
    output_gate: bool = False        # gated attention (Qwen3-Next/3.5): q_proj also emits a per-head gate
    dsa_topk: int | None = None      # DeepSeek sparse attention: each query attends to its top-k tokens

    def layer_kinds(self, n_layers: int) -> tuple[LayerKind, ...]:
        return _repeat_pattern(self.pattern, n_layers)


class Moe(Record):
    num_experts: int
    experts_per_token: int
    expert_intermediate_size: int
    shared_experts: int = 0
    shared_intermediate_size: int | None = None  # per shared expert; defaults to expert size
    first_dense_layers: int = 0                  # leading layers with a dense MLP
    layer_step: int = 1                          # MoE every `layer_step` layers after those


class License(Record):
    id: str                    # SPDX-like: apache-2.0, mit, llama3.1, gemma, other
    commercial: bool           # commercial use allowed (possibly with conditions)
    permissive: bool           # apache/mit/bsd-style
    notes: str = ""


class Parsers(Record):
    tool_call: str | None = None
    reasoning: str | None = None


class Variant(Sourced):
    """A quantized (or native) checkpoint that really exists."""

    format: str                 # weight format id from formats.yaml (q4_k_m, awq, fp8, bf16 ...)
    repo: str                   # HF repo id
    file: str | None = None     # GGUF file name (first shard for split files)
    revision: str | None = None
    size_bytes: int | None = None


class Quality(Sourced):
    """Per-task quality score (0-100) used to rank models; each with its source."""

    scores: dict[str, float]


class Model(Sourced):
    id: str                       # the original HF repo id
    name: str
    family: str
    architecture: str             # GGUF/llama.cpp architecture name (llama, qwen3, qwen3moe, gemma3, deepseek2 ...)
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    vocab_size: int
    intermediate_size: int        # dense MLP width
    attention: Attention = Attention()
    moe: Moe | None = None
    tie_word_embeddings: bool = False
    max_context: int
    published_total_b: float | None = None
    published_active_b: float | None = None
    native_format: str = "bf16"   # bf16 | fp8 | mxfp4 | int4
    license: License
    modalities: tuple[str, ...] = ("text",)
    chat_template: str | None = None
    parsers: dict[str, Parsers] = Field(default_factory=dict)  # runtime -> parser names
    mtp_layers: int = 0
    quality: Quality | None = None
    variants: tuple[Variant, ...] = ()
    release_date: str | None = None
    aliases: tuple[str, ...] = ()
    vision_params_b: float | None = None   # vision tower + projector, in the checkpoint but not in the text layers

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    def layer_kinds(self) -> tuple[LayerKind, ...]:
        return self.attention.layer_kinds(self.n_layers)


# ---------------------------------------------------------------- hardware

class Gpu(Sourced):
    name: str
    aliases: tuple[str, ...] = ()
    vendor: str = "nvidia"
    kind: Literal["gpu", "cpu"] = "gpu"
    memory_bytes: int
    bandwidth_gbps: float                 # GB/s (decimal)
    bf16_tflops: float | None = None      # dense
    fp8_tflops: float | None = None
    fp4_tflops: float | None = None
    arch: str                             # Ampere, Ada, Hopper, Blackwell, ...
    compute_capability: float | None = None   # 8.9; None for CPU hosts
    nvlink: bool = False
    nvlink_gbps: float | None = None      # per GPU, per direction
    p2p: bool = True                      # peer-to-peer over PCIe allowed by the driver
    pcie_gbps: float | None = None        # per direction
    tdp_w: float | None = None


# ---------------------------------------------------------------- formats

class TensorRule(Record):
    """In a mixed format (Q4_K_M), a tensor group stored at another type."""

    group: str            # embed | output | attn_qkv | attn_v | attn_o | ffn_up_gate | ffn_down | experts ...
    type: str             # ggml/other type id
    fraction: float = 1.0  # of the layers in that group (Q4_K_M: attn_v and ffn_down on half the layers)


class GgmlType(Sourced):
    """One GGUF tensor storage type: `type_size` bytes hold `block_size` weights (scales included)."""

    id: str                          # q4_k, q6_k, q8_0, f16 ...
    block_size: int
    type_size: int

    @property
    def bits_per_weight(self) -> float:
        return self.type_size * 8 / self.block_size


class Format(Sourced):
    id: str                          # q4_k_m, q8_0, bf16, fp8, awq, gptq, nvfp4, mxfp4 ...
    family: Literal["float", "gguf", "awq", "gptq", "fp8", "nvfp4", "mxfp4", "int8", "int4"]
    bits_per_weight: float           # effective, block scales included, for the bulk of the weights
    rules: tuple[TensorRule, ...] = ()
    runtimes: tuple[str, ...]        # which runtimes load it
    min_compute_capability: float | None = None   # FP8 from 8.9, NVFP4 on Blackwell 10.0
    ppl_increase_pct: float | None = None          # quality loss vs 16-bit, with the source
    quality_source: str | None = None


class KvType(Sourced):
    id: str                          # f16, fp8, q8_0, q4_0
    bits: float                      # effective bits per element (q8_0 8.5, q4_0 4.5)
    block_size: int = 1              # head_dim must be a multiple of this
    runtimes: dict[str, str]         # runtime -> its own spelling (vllm: fp8, llama.cpp: q8_0)
    needs_flash_attention: bool = False  # llama.cpp: a quantized V cache
    min_compute_capability: float | None = None
    ppl_increase_pct: float | None = None


# ---------------------------------------------------------------- runtimes

class Runtime(Sourced):
    name: Literal["vllm", "llama.cpp", "ollama", "sglang"]
    version: str
    image: str                        # repository
    tag: str                          # pinned, never latest
    gpu_tag: str | None = None        # e.g. llama.cpp server-cuda variant
    formats: tuple[str, ...]          # format families it loads
    kv_types: tuple[str, ...]
    parallelism: tuple[str, ...]      # tp, pp, dp, ep, layer-split, row-split
    multi_node: bool
    cpu_offload: bool
    cpu_only: bool                    # can serve on a host without a GPU
    speculative: tuple[str, ...]      # ngram, draft, mtp
    tool_calling: bool
    vision: bool
    health_path: str
    default_port: int
    min_compute_capability: float | None = None
