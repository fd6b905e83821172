"""Parameter counts per tensor group, derived from a Model's architecture fields.

Pure arithmetic over the catalog record (no files): the weight-size estimate multiplies each
group by its bits per weight, and the speed estimate reads the groups a decode step touches.
Shapes follow the Hugging Face / GGUF layouts of each layer type:
  - full / sliding attention: q = d x (n_heads*head_dim), k and v = d x (n_kv*head_dim), o back to d;
  - MLA (DeepSeek-V2/V3): q (optionally through q_lora_rank), kv_a = d x (kv_lora_rank + rope),
    kv_b = kv_lora_rank x n_heads*(nope + v_head), o = n_heads*v_head x d;
  - linear attention (Gated DeltaNet, Qwen3-Next): in_proj_qkvz, in_proj_ba, a depthwise conv, out_proj;
  - dense MLP: gate, up and down (3 x d x ffn); MoE: the experts, the router, optional shared experts.
Biases and the tiny per-head q/k norms are ignored (well under 0.1% of any catalog model).
"""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Model

KINDS = ("embed", "output", "attn_q", "attn_kv", "attn_o", "mla", "linear",
         "ffn", "experts", "shared_experts", "norm")


@dataclass(frozen=True)
class TensorGroup:
    """`n_params` is the group's total over all its layers; `layers` says how many (1 if not per layer)."""

    name: str
    kind: str
    n_params: int
    per_layer: bool
    layers: int

    @property
    def per_layer_params(self) -> int:
        return self.n_params // max(self.layers, 1)


def moe_layer_indices(model: Model) -> tuple[int, ...]:
    """Layers whose MLP is a mixture of experts (Llama 4 style interleave: every `layer_step`-th)."""
    moe = model.moe
    if moe is None:
        return ()
    step = max(moe.layer_step, 1)
    first = moe.first_dense_layers
    return tuple(i for i in range(first, model.n_layers) if (i - first + 1) % step == 0)


def _attention_groups(model: Model) -> list[TensorGroup]:
    d = model.hidden_size
    kinds = model.layer_kinds()
    softmax = sum(1 for k in kinds if k in ("full", "sliding"))
    groups: list[TensorGroup] = []
    if softmax:
        q = d * model.n_heads * model.head_dim
        kv = 2 * d * model.n_kv_heads * model.head_dim
        groups += [
            TensorGroup("attn_q", "attn_q", q * softmax, True, softmax),
            TensorGroup("attn_kv", "attn_kv", kv * softmax, True, softmax),
            TensorGroup("attn_o", "attn_o", q * softmax, True, softmax),
        ]
    n_mla = kinds.count("mla")
    if n_mla:
        groups.append(TensorGroup("attn_mla", "mla", _mla_params(model) * n_mla, True, n_mla))
    n_lin = kinds.count("linear")
    if n_lin:
        groups.append(TensorGroup("attn_linear", "linear", _linear_params(model) * n_lin, True, n_lin))
    return groups


def _mla_params(model: Model) -> int:
    mla = model.attention.mla
    if mla is None:
        raise ValueError(f"{model.id}: layer kind 'mla' needs attention.mla")
    d, h = model.hidden_size, model.n_heads
    q_head = mla.qk_nope_head_dim + mla.qk_rope_head_dim
    if mla.q_lora_rank:
        q = d * mla.q_lora_rank + mla.q_lora_rank + mla.q_lora_rank * h * q_head
    else:
        q = d * h * q_head
    kv_a = d * (mla.kv_lora_rank + mla.qk_rope_head_dim) + mla.kv_lora_rank
    kv_b = mla.kv_lora_rank * h * (mla.qk_nope_head_dim + mla.v_head_dim)
    o = h * mla.v_head_dim * d
    return q + kv_a + kv_b + o


def _linear_params(model: Model) -> int:
    lin = model.attention.linear
    if lin is None:
        raise ValueError(f"{model.id}: layer kind 'linear' needs attention.linear")
    d = model.hidden_size
    key = lin.num_k_heads * lin.head_k_dim
    value = lin.num_v_heads * lin.head_v_dim
    qkvz = d * (2 * key + 2 * value)
    ba = d * 2 * lin.num_v_heads
    conv = (2 * key + value) * lin.conv_kernel
    per_head = 2 * lin.num_v_heads + lin.head_v_dim  # A_log, dt_bias, gated norm
    out = value * d
    return qkvz + ba + conv + per_head + out


def _ffn_groups(model: Model) -> list[TensorGroup]:
    d = model.hidden_size
    moe_layers = moe_layer_indices(model)
    dense = model.n_layers - len(moe_layers)
    groups: list[TensorGroup] = []
    if dense:
        groups.append(TensorGroup("ffn", "ffn", 3 * d * model.intermediate_size * dense, True, dense))
    moe = model.moe
    if moe is not None and moe_layers:
        n = len(moe_layers)
        experts = moe.num_experts * 3 * d * moe.expert_intermediate_size
        groups.append(TensorGroup("ffn_experts", "experts", experts * n, True, n))
        groups.append(TensorGroup("ffn_router", "ffn", d * moe.num_experts * n, True, n))
        if moe.shared_experts:
            width = moe.shared_intermediate_size or moe.expert_intermediate_size
            shared = moe.shared_experts * 3 * d * width
            groups.append(TensorGroup("ffn_shared_experts", "shared_experts", shared * n, True, n))
    return groups


def tensor_groups(model: Model) -> list[TensorGroup]:
    """Every weight of the model, grouped the way formats and offload rules address them."""
    d, vocab = model.hidden_size, model.vocab_size
    groups = [TensorGroup("token_embd", "embed", vocab * d, False, 1)]
    groups += _attention_groups(model)
    groups += _ffn_groups(model)
    groups.append(TensorGroup("norm", "norm", 2 * d * model.n_layers + d, True, model.n_layers))
    if not model.tie_word_embeddings:
        groups.append(TensorGroup("output", "output", vocab * d, False, 1))
    return groups


def active_fraction(model: Model) -> float:
    """Share of the routed experts one token uses."""
    if model.moe is None:
        return 1.0
    return model.moe.experts_per_token / model.moe.num_experts


def param_counts(model: Model) -> tuple[int, int]:
    """(total, active) parameters; active counts only the routed experts a token uses."""
    groups = tensor_groups(model)
    total = sum(g.n_params for g in groups)
    routed = sum(g.n_params for g in groups if g.kind == "experts")
    active = total - routed + round(routed * active_fraction(model))
    return total, active
