"""Weight bytes per tensor group for a format.

Each group is parameters x bits-per-weight / 8 at the effective bpw of the type it is stored in
(block scales included). Mixed GGUF formats (Q4_K_M) keep some groups at a higher type through
Format.rules; a rule's `fraction` is the share of that group's layers it covers. A GGUF with tied
embeddings stores token_embd at the output tensor's type (llama-quant.cpp). Norms stay F32 in
a GGUF and 16-bit elsewhere. Native low-precision checkpoints store only what they quantize:
FP8 / AWQ / GPTQ / NVFP4 keep embeddings and the LM head in 16 bits, MXFP4 (gpt-oss) and INT4
(Kimi K2 Thinking) quantize only the routed experts.
For a local GGUF the exact bytes come from the file itself (llmc.catalog.local), not from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog.params import TensorGroup, tensor_groups
from ..catalog.schema import Format, Model
from .ggml_types import TYPES

SOURCE = "params x effective bits per weight (ggml block sizes; Format.rules for mixes)"

# Which share of our tensor groups a rule's group name addresses.
RULE_TARGETS: dict[str, tuple[tuple[str, float], ...]] = {
    "embed": (("embed", 1.0),),
    "output": (("output", 1.0),),
    "attn_qkv": (("attn_q", 1.0), ("attn_kv", 1.0)),
    "attn_q": (("attn_q", 1.0),),
    "attn_k": (("attn_kv", 0.5),),
    "attn_v": (("attn_kv", 0.5),),
    "attn_kv": (("attn_kv", 1.0),),
    "attn_o": (("attn_o", 1.0),),
    "attn_output": (("attn_o", 1.0),),
    "mla": (("mla", 1.0),),
    "linear": (("linear", 1.0),),
    "ffn_up_gate": (("ffn", 2 / 3), ("experts", 2 / 3), ("shared_experts", 2 / 3)),
    "ffn_down": (("ffn", 1 / 3), ("experts", 1 / 3), ("shared_experts", 1 / 3)),
    "ffn": (("ffn", 1.0), ("shared_experts", 1.0)),
    "experts": (("experts", 1.0),),
    "shared_experts": (("shared_experts", 1.0),),
}
SIXTEEN_BIT_EDGES = ("fp8", "awq", "gptq", "nvfp4", "int8")
EXPERTS_ONLY = ("mxfp4", "int4")


@dataclass(frozen=True)
class GroupBytes:
    name: str
    kind: str
    n_params: int
    bytes: int
    bits: float           # effective bits per weight of the group after the rules
    per_layer: bool
    layers: int
    # the storage types of its parameters, (type id, share of them): ggml types for a GGUF file, the
    # format's id and its rules' types for a catalog format (q4_k_m; its output in q6_k)
    types: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class WeightBytes:
    groups: tuple[GroupBytes, ...]
    format: str
    source: str
    family: str = "float"     # the format family (gguf, awq, fp8 ...): decides which kernels run

    @property
    def total_bytes(self) -> int:
        return sum(g.bytes for g in self.groups)

    def bytes_of(self, *kinds: str) -> int:
        return sum(g.bytes for g in self.groups if g.kind in kinds)

    @property
    def per_layer_bytes(self) -> int:
        return sum(g.bytes for g in self.groups if g.per_layer)

    @property
    def bits_per_weight(self) -> float:
        params = sum(g.n_params for g in self.groups)
        return self.total_bytes * 8 / params if params else 0.0

    def layer_type_mix(self) -> dict[str, float]:
        """Parameters per storage type of the matrices a token's layers multiply by (not the norms, the
        embedding lookup or the head)."""
        mix: dict[str, float] = {}
        for g in self.groups:
            if g.kind not in ("norm", "embed", "output"):
                for kind, share in g.types:
                    mix[kind] = mix.get(kind, 0.0) + share * g.n_params
        return mix


def type_bits(type_id: str, formats: dict[str, Format] | None = None) -> float:
    """Effective bits of a type id: a catalog format if one has that id, else a ggml type."""
    key = type_id.lower()
    if formats and key in formats:
        return formats[key].bits_per_weight
    if key in TYPES:
        return TYPES[key].bits
    if key in ("bf16", "fp16", "float16", "bfloat16"):
        return 16.0
    if key in ("fp8", "int8"):
        return 8.0
    raise KeyError(f"unknown tensor type {type_id!r} in a format rule")


def _base_type(group: TensorGroup, fmt: Format) -> tuple[str, float]:
    """(type id, bits) a group is stored in before the format's rules."""
    if group.kind == "norm":
        return ("f32", 32.0) if fmt.family == "gguf" else ("bf16", 16.0)
    if (fmt.family in SIXTEEN_BIT_EDGES and group.kind in ("embed", "output")) or \
            (fmt.family in EXPERTS_ONLY and group.kind != "experts"):
        return "bf16", 16.0
    return fmt.id, fmt.bits_per_weight


def _group_types(group: TensorGroup, fmt: Format, formats: dict[str, Format] | None,
                 tied: bool = False) -> tuple[float, tuple[tuple[str, float], ...]]:
    """(effective bits, (type id, share of the parameters) ...) of a group after the format's rules."""
    base, base_bits = _base_type(group, fmt)
    bits, shares = base_bits, {base: 1.0}
    if group.kind == "norm":
        return bits, tuple(shares.items())
    # llama-quantize stores a tied token_embd with the output tensor's type (src/llama-quant.cpp)
    kind_for_rules = "output" if (tied and fmt.family == "gguf" and group.kind == "embed") else group.kind
    for rule in fmt.rules:
        for kind, share in RULE_TARGETS.get(rule.group, ()):
            if kind == kind_for_rules:
                covered = share * rule.fraction
                bits += covered * (type_bits(rule.type, formats) - base_bits)
                shares[base] -= covered
                shares[rule.type.lower()] = shares.get(rule.type.lower(), 0.0) + covered
    return bits, tuple((kind, share) for kind, share in shares.items() if share > 0)


def weight_bytes(model: Model, fmt: Format, formats: dict[str, Format] | None = None) -> WeightBytes:
    """Bytes of every tensor group of `model` stored in `fmt`."""
    groups = []
    for g in tensor_groups(model):
        bits, types = _group_types(g, fmt, formats, tied=model.tie_word_embeddings)
        groups.append(GroupBytes(g.name, g.kind, g.n_params, round(g.n_params * bits / 8), bits,
                                 g.per_layer, g.layers, types))
    return WeightBytes(tuple(groups), fmt.id, SOURCE, fmt.family)

