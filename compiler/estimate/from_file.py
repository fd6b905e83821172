"""Exact weight bytes of a local GGUF or safetensors checkpoint, grouped like `tensor_groups` so memory rules
apply unchanged."""

from __future__ import annotations

import re

from ..catalog.schema import Model
from .weights import GroupBytes, WeightBytes

SOURCES = {"gguf": "exact tensor sizes read from the GGUF header",
           "hf": "exact tensor sizes read from the safetensors headers"}

# GGUF tensor name (without the blk.N. prefix) → our group kind.
_GGUF_KINDS = (
    (re.compile(r"^token_embd\."), "embed"),
    (re.compile(r"^output\.weight$"), "output"),
    (re.compile(r"_norm\.|^output_norm\."), "norm"),
    (re.compile(r"^attn_q\."), "attn_q"),
    (re.compile(r"^attn_(k|v|qkv)\."), "attn_kv"),
    (re.compile(r"^attn_output\."), "attn_o"),
    (re.compile(r"^attn_(kv_a|kv_b|q_a|q_b|k_b|v_b)"), "mla"),
    (re.compile(r"^ssm_"), "linear"),
    (re.compile(r"_shexp\."), "shared_experts"),
    (re.compile(r"_exps\."), "experts"),
    (re.compile(r"^ffn_gate_inp\."), "ffn"),
    (re.compile(r"^ffn_"), "ffn"),
)
# transformers tensor name (without its `model.layers.N.` prefix) → our group kind (the first that matches)
_HF_KINDS = (
    (re.compile(r"embed_tokens\.|^(?:transformer\.)?wte\."), "embed"),
    (re.compile(r"^lm_head\."), "output"),
    (re.compile(r"norm"), "norm"),
    (re.compile(r"self_attn\.(q_a_proj|q_b_proj|kv_a_proj|kv_b_proj)"), "mla"),
    (re.compile(r"self_attn\.q_proj"), "attn_q"),
    (re.compile(r"self_attn\.(k_proj|v_proj|qkv_proj)"), "attn_kv"),
    (re.compile(r"self_attn\.o_proj"), "attn_o"),
    (re.compile(r"linear_attn\.|mamba\."), "linear"),
    (re.compile(r"shared_expert"), "shared_experts"),
    (re.compile(r"experts\."), "experts"),
    (re.compile(r"mlp\.|feed_forward\."), "ffn"),
)
BLOCKS = {"gguf": re.compile(r"^blk\.(\d+)\.(.*)$"), "hf": re.compile(r"^(?:[a-z_]+\.)*?layers\.(\d+)\.(.*)$")}
KINDS = {"gguf": _GGUF_KINDS, "hf": _HF_KINDS}


def _part(name: str, naming: str) -> tuple[int | None, str]:
    """(layer or None for a global tensor, group kind); small leftovers (rope factors, biases) travel with
    the norms."""
    block = BLOCKS[naming].match(name)
    rest = block.group(2) if block else name
    kind = next((kind for pattern, kind in KINDS[naming] if pattern.search(rest)), "norm")
    return (int(block.group(1)) if block else None), kind


def weights_from_tensors(model: Model, tensors, format_id: str, naming: str = "gguf",
                         family: str = "gguf") -> WeightBytes:
    """`tensors`: objects with `name`, `n_bytes`, `shape` and `ggml_type` (llmc.catalog.local.TensorInfo),
    named as a GGUF names them (`naming` gguf) or as transformers does (hf); `family` is the format's (its
    kernels)."""
    totals: dict[tuple[str, bool], list[int]] = {}
    layers: dict[tuple[str, bool], set[int]] = {}
    types: dict[tuple[str, bool], dict[str, int]] = {}
    for t in tensors:
        layer, kind = _part(t.name, naming)
        key, n = (kind, layer is not None), _elements(t.shape)
        acc = totals.setdefault(key, [0, 0])
        acc[0] += t.n_bytes
        acc[1] += n
        by_type = types.setdefault(key, {})
        by_type[t.ggml_type.lower()] = by_type.get(t.ggml_type.lower(), 0) + n
        if layer is not None:
            layers.setdefault(key, set()).add(layer)
    groups = []
    for key, (n_bytes, n_params) in sorted(totals.items()):
        kind, per_layer = key
        name = kind if per_layer else f"{kind} (global)"
        mix = tuple((t, n / max(n_params, 1)) for t, n in sorted(types[key].items()))
        groups.append(GroupBytes(name, kind, n_params, n_bytes, n_bytes * 8 / max(n_params, 1),
                                 per_layer, len(layers.get(key, ())) or 1, mix))
    return WeightBytes(tuple(groups), format_id, SOURCES[naming], family)


def _elements(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n
