"""Parameter counts from architecture fields, checked against the published totals of real models.

The builders here (shapes copied from each model's config.json) are reused by the estimate tests.
"""

from __future__ import annotations

import pytest

from llmc.catalog.params import moe_layer_indices, param_counts, tensor_groups
from llmc.catalog.schema import Attention, License, LinearAttention, Mla, Model, Moe

LICENSE = License(id="apache-2.0", commercial=True, permissive=True)


def model(**fields) -> Model:
    base = dict(source=("config.json",), id=fields.get("id", "test/model"), name=fields.get("id", "model"),
                family="test", architecture="llama", max_context=131072, license=LICENSE)
    base.update(fields)
    return Model(**base)


def llama_8b() -> Model:
    return model(id="meta-llama/Llama-3.1-8B-Instruct", n_layers=32, hidden_size=4096, n_heads=32, n_kv_heads=8,
                 head_dim=128, vocab_size=128256, intermediate_size=14336)


def llama_70b() -> Model:
    return model(id="meta-llama/Llama-3.1-70B-Instruct", n_layers=80, hidden_size=8192, n_heads=64, n_kv_heads=8,
                 head_dim=128, vocab_size=128256, intermediate_size=28672)


def qwen3_30b_a3b() -> Model:
    return model(id="Qwen/Qwen3-30B-A3B", architecture="qwen3moe", n_layers=48, hidden_size=2048, n_heads=32,
                 n_kv_heads=4, head_dim=128, vocab_size=151936, intermediate_size=6144,
                 moe=Moe(num_experts=128, experts_per_token=8, expert_intermediate_size=768))


def deepseek_v3() -> Model:
    return model(id="deepseek-ai/DeepSeek-V3", architecture="deepseek2", n_layers=61, hidden_size=7168,
                 n_heads=128, n_kv_heads=128, head_dim=192, vocab_size=129280, intermediate_size=18432,
                 attention=Attention(pattern=("mla",), mla=Mla(kv_lora_rank=512, qk_rope_head_dim=64,
                                                                qk_nope_head_dim=128, v_head_dim=128,
                                                                q_lora_rank=1536)),
                 moe=Moe(num_experts=256, experts_per_token=8, expert_intermediate_size=2048, shared_experts=1,
                         first_dense_layers=3))


def qwen3_next_80b() -> Model:
    return model(id="Qwen/Qwen3-Next-80B-A3B-Instruct", architecture="qwen3next", n_layers=48, hidden_size=2048,
                 n_heads=16, n_kv_heads=2, head_dim=256, vocab_size=151936, intermediate_size=5120,
                 attention=Attention(pattern=("linear", "linear", "linear", "full"),
                                     linear=LinearAttention(num_k_heads=16, num_v_heads=32, head_k_dim=128,
                                                            head_v_dim=128)),
                 moe=Moe(num_experts=512, experts_per_token=10, expert_intermediate_size=512, shared_experts=1,
                         shared_intermediate_size=512))


def gemma3_270m() -> Model:
    return model(id="google/gemma-3-270m-it", architecture="gemma3", n_layers=18, hidden_size=640, n_heads=4,
                 n_kv_heads=1, head_dim=256, vocab_size=262144, intermediate_size=2048, tie_word_embeddings=True,
                 attention=Attention(pattern=("sliding",) * 5 + ("full",), sliding_window=512), max_context=32768)


# (model, published total B, published active B or None, tolerance): model cards / config-derived counts.
PUBLISHED = [
    (llama_8b, 8.03, None, 0.005),          # Llama 3.1 model card: 8B (8.03B in the HF safetensors index)
    (llama_70b, 70.6, None, 0.01),          # HF safetensors metadata: 70.6B
    (qwen3_30b_a3b, 30.5, 3.3, 0.02),       # Qwen3-30B-A3B card: 30.5B total, 3.3B activated
    (deepseek_v3, 671, 37, 0.02),           # DeepSeek-V3 card: 671B total, 37B activated (MTP module excluded)
    (qwen3_next_80b, 80, 3.0, 0.03),        # Qwen3-Next card: 80B total, 3B activated (active checked loosely below)
    (gemma3_270m, 0.268, None, 0.01),       # Gemma 3 270M: 268M parameters (170M embedding + 100M transformer)
]


@pytest.mark.parametrize("build,total_b,active_b,tol", PUBLISHED, ids=lambda v: getattr(v, "__name__", ""))
def test_total_params_match_published_counts(build, total_b, active_b, tol):
    total, active = param_counts(build())
    assert total / 1e9 == pytest.approx(total_b, rel=tol)
    if active_b is not None and build is not qwen3_next_80b:
        assert active / 1e9 == pytest.approx(active_b, rel=0.05)


def test_qwen3_next_active_is_a_few_billion():
    total, active = param_counts(qwen3_next_80b())
    assert 2.5e9 < active < 4.5e9 < total


def test_dense_model_active_equals_total():
    total, active = param_counts(llama_8b())
    assert total == active


def test_groups_cover_each_layer_kind_once():
    groups = {g.kind: g for g in tensor_groups(qwen3_next_80b())}
    assert groups["linear"].layers == 36 and groups["attn_q"].layers == 12
    assert groups["experts"].layers == 48 and groups["shared_experts"].layers == 48
    mla = {g.kind: g for g in tensor_groups(deepseek_v3())}
    assert mla["mla"].layers == 61 and mla["experts"].layers == 58 and mla["ffn"].layers >= 3


def test_tied_embeddings_have_no_output_group():
    kinds = [g.kind for g in tensor_groups(gemma3_270m())]
    assert "output" not in kinds and "embed" in kinds
    assert "output" in [g.kind for g in tensor_groups(llama_8b())]


def test_interleaved_moe_layers():
    m = model(n_layers=48, hidden_size=5120, n_heads=40, n_kv_heads=8, head_dim=128, vocab_size=202048,
              intermediate_size=16384, moe=Moe(num_experts=128, experts_per_token=1, expert_intermediate_size=8192,
                                                 shared_experts=1, layer_step=2))
    layers = moe_layer_indices(m)
    assert len(layers) == 24 and layers[0] == 1 and layers[-1] == 47


def test_per_layer_params_times_layers_is_the_group_total():
    for g in tensor_groups(qwen3_30b_a3b()):
        if g.per_layer and g.kind != "norm":
            assert g.per_layer_params * g.layers == g.n_params
