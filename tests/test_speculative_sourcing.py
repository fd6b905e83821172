"""Speculative decoding carries a plan past a latency target only on a measured speedup, and MTP only
where the checkpoint keeps the heads. Before: the chat-on-16GB example passed TPOT 80 ms only through
DeepSeek-V3's 1.8x applied to a dense Qwen3.5-27B GGUF (whose conversion has no MTP heads)."""

from __future__ import annotations

from llmc.estimate.speculative import speedup

from tests.support.example_plans import all_example_plans


def test_mtp_is_measured_for_deepseek_only_and_ngram_never():
    assert speedup("chat", "mtp", family="deepseek_v3").sourced
    assert not speedup("chat", "mtp", family="qwen3_5").sourced
    assert not speedup("code", "ngram").sourced
    assert speedup("code", "draft", draft_params_b=0.6).sourced


def test_no_example_plan_rests_on_an_assumed_speedup():
    for name, plan in all_example_plans().items():
        spec = plan.speculative
        if spec is None:
            continue
        assert spec.method != "ngram" and not spec.source.startswith("assumed"), name
        if spec.method == "mtp":
            assert plan.model.repo == plan.model.id or _variant(plan.model.id, plan.model.repo).mtp, name


def _variant(model_id: str, repo: str):
    from llmc.catalog import load_catalog

    return next(v for v in load_catalog()[0].models[model_id].variants if v.repo == repo)


def test_a_conversion_carries_mtp_heads_only_where_a_source_shows_them(catalog):
    """Every variant marked `mtp: true` says where the heads were seen, for a model that has them; no
    DeepSeek-V3-family GGUF has them (llama.cpp b11312 conversion/deepseek.py: skip_mtp = True for
    DeepseekV2/V3, so V3, V3.1 and R1 GGUFs lack them whatever the quantizer)."""
    marked = [(m, v) for m in catalog.models.values() for v in m.variants if v.mtp]
    assert marked
    for model, variant in marked:
        sources = variant.source if isinstance(variant.source, tuple) else (variant.source,)
        assert model.mtp_layers >= 1 and any("MTP heads kept" in s for s in sources), variant.repo
    deepseek_gguf = [v for m in catalog.models.values() if m.architecture == "deepseek2" for v in m.variants
                     if v.file]
    assert deepseek_gguf and not any(v.mtp for v in deepseek_gguf)


def test_the_16gb_chat_example_meets_its_target_without_borrowed_mtp():
    plan = all_example_plans()["chat-16gb/home-chat"]
    assert plan.speculative is None or plan.speculative.method == "draft"
    assert plan.performance.tpot_s.value <= 0.080


def test_measured_mtp_carries_deepseek_and_its_heads_are_in_the_budget():
    """DeepSeek-V3.1 at 5 ms per token on 8 x H200 needs its own MTP heads (measured 1.8x); the heads' layer
    is loaded then, sharded over TP, and a paged pool gives those bytes up from its KV cache."""
    from llmc.driver import open_catalog
    from llmc.solve import solve

    from tests.support.specs import deployment, spec_text

    body = '  model = "deepseek-ai/DeepSeek-V3.1"\n  runtime = vllm\n  context = 8k\n  latency {\n    tpot <= 5ms\n  }\n'
    plan, diagnostics = solve(deployment(spec_text('    gpu = 8 x "H200 SXM"', body=body)), open_catalog()[0])
    assert plan is not None, [d.summary for d in diagnostics]
    assert plan.speculative.method == "mtp" and plan.performance.tpot_s.value <= 0.005
    gpu = plan.memory.devices[-1]
    heads = next(p for p in gpu.parts if p.name == "mtp_weights")
    assert 0.5e9 < heads.bytes < 3e9  # one of 61 layers of 671B in fp8, over TP 8
    assert gpu.total_bytes <= gpu.capacity_bytes
