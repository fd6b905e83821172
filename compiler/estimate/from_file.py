"""Exact weight bytes of a local GGUF, grouped like `tensor_groups` so memory rules apply unchanged."""

from __future__ import annotations

import re

from ..catalog.schema import Model
from .weights import GroupBytes, WeightBytes

SOURCE = "exact tensor sizes read from the GGUF header"

# GGUF tensor name (without the blk.N. prefix) → our group kind.
_KIND_BY_NAME = (
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
_BLOCK = re.compile(r"^blk\.(\d+)\.(.*)$")


def _kind(name: str) -> str:
    for pattern, kind in _KIND_BY_NAME:
        if pattern.search(name):
            return kind
    return "norm"  # small leftovers (rope factors, biases) travel with the norms


def weights_from_tensors(model: Model, tensors, format_id: str) -> WeightBytes:
    """`tensors`: objects with `name`, `n_bytes` and `shape` (llmc.catalog.local.TensorInfo)."""
    totals: dict[tuple[str, bool], list[int]] = {}
    layers: dict[tuple[str, bool], set[int]] = {}
    for t in tensors:
        block = _BLOCK.match(t.name)
        name = block.group(2) if block else t.name
        key = (_kind(name), bool(block))
        acc = totals.setdefault(key, [0, 0])
        acc[0] += t.n_bytes
        acc[1] += _elements(t.shape)
        if block:
            layers.setdefault(key, set()).add(int(block.group(1)))
    groups = []
    for (kind, per_layer), (n_bytes, n_params) in sorted(totals.items()):
        n_layers = len(layers.get((kind, per_layer), ())) or 1
        name = kind if per_layer else f"{kind} (global)"
        groups.append(GroupBytes(name, kind, n_params, n_bytes, n_bytes * 8 / max(n_params, 1),
                                 per_layer, n_layers))
    return WeightBytes(tuple(groups), format_id, SOURCE, "gguf")


def _elements(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n
