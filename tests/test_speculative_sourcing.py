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
            assert plan.model.repo == plan.model.id and plan.model.source != "gguf", name


def test_the_16gb_chat_example_meets_its_target_without_borrowed_mtp():
    plan = all_example_plans()["chat-16gb/home-chat"]
    assert plan.speculative is None or plan.speculative.method == "draft"
    assert plan.performance.tpot_s.value <= 0.080
