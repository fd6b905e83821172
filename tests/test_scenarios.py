"""Scenarios: specs with the decision a serving engineer would make, written in each file's header, asserted
on the plan (tests/scenarios/*.llmspec). Each failure here is a decision llmc gets wrong, not a format change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from llmc.driver import load_source
from llmc.solve import solve
from llmc.source import SourceFile

from llmc.targets import emit_all

from tests.support.emitted import files

SCENARIOS = Path(__file__).parent / "scenarios"


def solved(name: str, catalog):
    path = SCENARIOS / f"{name}.llmspec"
    spec, diagnostics, _ = load_source(SourceFile(path=str(path), text=path.read_text()))
    assert spec is not None and not [d for d in diagnostics if d.is_error], diagnostics
    return solve(spec.deployments[0], catalog)


def test_the_simplest_code_spec_gets_a_gguf_on_the_card(catalog):
    plan, diagnostics = solved("code-3090-permissive", catalog)
    assert plan is not None, diagnostics
    if plan.model.source == "gguf" or plan.runtime.name in ("llama.cpp", "ollama"):
        assert plan.model.file and plan.model.file.endswith(".gguf")
        assert plan.parallelism.gpu_layers is None  # everything on the card
    assert plan.performance.tpot_s.value <= 0.1 and plan.targets.tpot_default


def test_a_cpu_host_must_say_its_memory(catalog):
    plan, diagnostics = solved("cpu-without-memory", catalog)
    assert plan is None and [d.code for d in diagnostics] == ["E403"]


def test_no_p2p_cards_split_by_layer(catalog):
    plan, diagnostics = solved("no-p2p-70b", catalog)
    assert plan is not None, diagnostics
    assert plan.parallelism.split_mode == "layer" and "-sm layer" in files(plan)["llama.cpp/llama-server.sh"]


def test_fp8_runs_weight_only_on_ampere(catalog):
    plan, diagnostics = solved("fp8-on-ampere", catalog)
    assert plan is not None, diagnostics
    assert (plan.runtime.name, plan.model.format) == ("vllm", "fp8")


def test_a_kv_cache_that_fits_stays_f16_on_the_calibrated_runtime(catalog):
    plan, diagnostics = solved("kv-f16-fits", catalog)
    assert plan is not None, diagnostics
    # one user on a consumer card: llama.cpp's Q4_K_M decodes faster than vLLM's AWQ Marlin kernels (the
    # 4090 rows s1/s4 beside s9), and Ollama only ties it
    assert plan.kv_cache["type"] == "f16" and plan.runtime.name == "llama.cpp"


def test_images_go_to_a_runtime_that_loads_the_vision_tower(catalog):
    plan, diagnostics = solved("multimodal-4090", catalog)
    assert plan is not None, diagnostics
    assert plan.model.source != "gguf" and not plan.model.language_only
    assert any(p.name == "vision_weights" for d in plan.memory.devices for p in d.parts)


def test_short_prompts_on_a_hybrid_model_turn_prefix_caching_off(catalog):
    plan, diagnostics = solved("hybrid-short-prompts", catalog)
    assert plan is not None, diagnostics
    assert plan.settings.enable_prefix_caching is False
    assert "--disable-prefix-caching" in files(plan)["vllm/serve.sh"]


@pytest.mark.parametrize("name, layout", [("replicas-throughput", (1, 2, 1)), ("moe-throughput-2xh100", (1, 2, 2)),
                                          ("latency-keeps-tp", (2, 1, 1))])
def test_replicas_before_tensor_parallel_where_throughput_counts(catalog, name, layout):
    """(tensor, replicas, expert): a model one GPU holds runs as replicas under throughput or load; a latency
    objective keeps TP, which halves the time per token."""
    plan, diagnostics = solved(name, catalog)
    assert plan is not None, diagnostics
    p = plan.parallelism
    assert (p.tensor, p.replicas, p.expert) == layout
    script = files(plan)["vllm/serve.sh"]
    assert ("--data-parallel-size 2" in script) == (p.replicas == 2)
    assert ("--enable-expert-parallel" in script) == (p.expert > 1)


def test_an_infeasible_spec_gets_specific_fixes_once(catalog):
    plan, diagnostics = solved("pinned-kv-too-big", catalog)
    assert plan is None and [d.code for d in diagnostics] == ["E410"]
    fixes = diagnostics[0].extra["relaxations"]
    assert fixes[0].startswith("kv_cache f16 → q8_0 fits") and diagnostics[0].help == fixes[0]
    assert any(f.startswith("context 128k → 64k") for f in fixes) and len(set(fixes)) == len(fixes)


def test_tight_bounds_say_what_they_cost(catalog):
    plan, diagnostics = solved("latency-costs-quality", catalog)
    assert plan is not None and [d.code for d in diagnostics] == ["W411"]
    [w] = diagnostics
    assert w.summary.startswith("`latency.tpot` costs") and f"scores {plan.quality:.1f}" in w.detail


def test_a_quality_floor_refuses_the_tiny_model(catalog):
    plan, diagnostics = solved("quality-floor", catalog)
    assert plan is None and [d.code for d in diagnostics] == ["E410"]
    assert diagnostics[0].extra["relaxations"] and all("min_quality" not in f for f in diagnostics[0].extra["relaxations"])


def test_two_nodes_run_tp_inside_and_pp_across(catalog):
    plan, diagnostics = solved("deepseek-two-nodes", catalog)
    assert plan is not None, diagnostics
    p = plan.parallelism
    assert (plan.model.format, plan.runtime.name, p.tensor, p.pipeline, p.nodes) == ("fp8", "vllm", 8, 2, 2)
    assert "kubernetes" in plan.emit


def test_a_cpu_host_gets_a_gguf_on_llama_cpp(catalog):
    plan, diagnostics = solved("cpu-host-small", catalog)
    assert plan is not None, diagnostics
    assert plan.runtime.name == "llama.cpp" and plan.model.file.endswith(".gguf") and not plan.hardware.gpu
    assert plan.performance.tpot_s.value <= 0.2


def test_an_agent_thinks_and_can_call_tools(catalog):
    plan, diagnostics = solved("agent-h100", catalog)
    assert plan is not None, diagnostics
    assert plan.model.thinking == "on"
    model = catalog.models[plan.model.id]
    assert plan.runtime.name in model.parsers or catalog.runtimes[plan.runtime.name].tool_calling


def test_permissive_means_no_llama_or_gemma_terms(catalog):
    plan, diagnostics = solved("permissive-4090", catalog)
    assert plan is not None, diagnostics
    assert plan.model.license in ("apache-2.0", "mit")


def test_the_long_context_pick_rests_on_a_long_context_score(catalog):
    plan, diagnostics = solved("long-context-h100", catalog)
    assert plan is not None, diagnostics
    assert plan.context >= 128 * 1024
    assert catalog.models[plan.model.id].quality.suites.get("long-context") == "LongBench v2"


@pytest.mark.parametrize("name, thinking, kwargs", [("reasoning-thinks", "on", {}),
                                                    ("chat-no-think", "off", {"enable_thinking": False})])
def test_thinking_follows_the_task(catalog, name, thinking, kwargs):
    plan, diagnostics = solved(name, catalog)
    assert plan is not None, diagnostics
    assert (plan.model.thinking, plan.model.chat_template_kwargs, plan.model.reasoning_parser) == (thinking, kwargs, "qwen3")


def test_uneven_cards_get_a_tensor_split_by_memory(catalog):
    plan, diagnostics = solved("mixed-cards", catalog)
    assert plan is not None, diagnostics
    p = plan.parallelism
    assert p.split_mode == "layer" and p.tensor_split[0] > p.tensor_split[1]
    assert f"-ts {','.join(f'{x:g}' for x in p.tensor_split)}" in files(plan)["llama.cpp/llama-server.sh"]


def test_pcie_cards_run_replicas(catalog):
    plan, diagnostics = solved("pcie-h100-replicas", catalog)
    assert plan is not None, diagnostics
    assert (plan.parallelism.tensor, plan.parallelism.replicas) == (1, 2)


def test_a_card_that_drives_a_display_keeps_room_for_it(catalog):
    plan, diagnostics = solved("desktop-card", catalog)
    assert plan is not None, diagnostics
    assert any(p.name == "desktop" and p.bytes == 2**30 for p in plan.memory.devices[0].parts)


def test_ollama_gets_a_gguf_and_the_thinking_warning(catalog):
    plan, diagnostics = solved("ollama-pinned", catalog)
    assert plan is not None, diagnostics
    emitted = files(plan)
    assert emitted["ollama/Modelfile"].startswith("FROM ") or "\nFROM ./" in emitted["ollama/Modelfile"]
    assert any("thinks by default" in d.summary for d in emit_all(plan)[1])


def test_deepseek_at_five_ms_rides_its_own_mtp_heads(catalog):
    plan, diagnostics = solved("mtp-deepseek-latency", catalog)
    assert plan is not None, diagnostics
    assert plan.speculative.method == "mtp" and plan.performance.tpot_s.value <= 0.005
    assert any(p.name == "mtp_weights" for d in plan.memory.devices for p in d.parts)


SCENARIO_NAMES = sorted(p.stem for p in SCENARIOS.glob("*.llmspec"))


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_every_reason_agrees_with_the_numbers_it_quotes(catalog, name):
    """'lower X: a vs b' has a < b; 'slower decode' and 'more memory' have a > b; no 'a vs a'."""
    plan, _ = solved(name, catalog)
    for alt in plan.alternatives if plan else ():
        match = re.search(r"(-?[\d.]+)\S* vs (-?[\d.]+)", alt.reason)
        if not match:
            continue
        a, b = float(match[1]), float(match[2])
        assert a != b, alt.reason
        assert (a < b) if alt.reason.startswith(("lower", "same")) or "below" in alt.reason else (a > b), alt.reason


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_throughput_counts_every_busy_replica(catalog, name):
    """Under load, each of a replica's users completes one request per end-to-end latency (Little's law), and
    the deployment's throughput sums the replicas the load keeps busy; no percentile of TTFT beats the
    shortest prompt the workload sends served alone (the typical one less its spread)."""
    plan, _ = solved(name, catalog)
    if plan is None:
        return
    perf, load = plan.performance, plan.performance.load
    assert perf.basis == "simulated" and load is not None, name
    replicas = plan.parallelism.replicas
    per_replica = max(1, min(plan.slots, -(-plan.workload.concurrency // replicas)))
    busy = min(replicas, -(-plan.workload.concurrency // per_replica))
    expected = busy * per_replica * plan.workload.output_tokens / load.e2e_s.mean
    assert perf.throughput_tok_s.value == pytest.approx(expected, rel=0.02), name
    for figure in (load.ttft_s, load.tpot_s, load.e2e_s, load.itl_s):
        assert figure.p50 <= figure.p90 <= figure.p99, name
    assert load.ttft_s.p50 >= perf.unloaded_ttft_s * (1 - (plan.workload.spread or 0)) * 0.999, name


INTERNAL = ("code-corpus", "code corpus", "find_string", "read_file id", "runtimes.md", "shared/reference",
            "not measurable on this")


def test_sources_a_user_reads_are_ones_they_can_follow():
    """PLAN.md and plan.json cite papers, repository paths and pages, never llmc's own research notes."""
    from tests.support.example_plans import all_example_plans

    for name, plan in all_example_plans().items():
        for path, text in files(plan).items():
            if path.endswith(("PLAN.md", "plan.json")):
                assert not [m for m in INTERNAL if m in text], (name, path, [m for m in INTERNAL if m in text])


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_every_plan_loads_a_file_its_runtime_reads_and_meets_its_floor(catalog, name):
    """The artifact names a checkpoint the runtime can load (a GGUF file for llama.cpp and Ollama, never for
    vLLM), and a plan held to the task's default TPOT target meets it."""
    from llmc.runtimes import profile

    plan, _ = solved(name, catalog)
    if plan is None:
        return
    if profile(plan.runtime.name).engine == "llama":
        assert (plan.model.file or plan.model.path or "").endswith(".gguf"), name
    else:
        assert plan.model.source != "gguf" or plan.runtime.name == "sglang", name
    assert plan.targets.tpot_s is not None and plan.performance.tpot_s.value <= plan.targets.tpot_s, name
