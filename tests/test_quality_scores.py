"""Quality scores compare like with like: one benchmark and version per task, a marked derived score where a
stated regression maps another benchmark onto it, and a conservative prior for everything else."""

from __future__ import annotations

import statistics

import pytest
from llmc.solve.objective import TASK_SUITES, UNSCORED_CAP, model_quality


def _measured(catalog, task: str) -> list[float]:
    suite = TASK_SUITES[task]
    return [m.quality.scores[task] for m in catalog.models.values()
            if m.quality and m.quality.suites.get(task) in (suite, f"{suite} (derived)")]


@pytest.mark.parametrize("task", sorted(TASK_SUITES))
def test_the_prior_stays_below_most_measured_models(catalog, task):
    """The cap is at most the lower quartile of the catalog's scores on the task's suite."""
    scores = _measured(catalog, task)
    assert len(scores) >= 4, task
    assert UNSCORED_CAP[task] <= statistics.quantiles(scores, n=4)[0], task


def test_a_score_on_another_suite_is_not_compared(catalog):
    model = catalog.models["deepseek-ai/DeepSeek-V3.1"]
    assert model.quality.suites["code"] == "LiveCodeBench 2024.08-2025.05"
    score, source = model_quality(model, "code")
    assert score <= UNSCORED_CAP["code"] and "not LiveCodeBench v6" in source and "prior" in source


def test_a_derived_score_is_compared_and_marked(catalog):
    score, source = model_quality(catalog.models["Qwen/Qwen3-8B"], "chat")
    assert score == catalog.models["Qwen/Qwen3-8B"].quality.scores["chat"]
    assert source.startswith("MMLU-Pro, derived by a stated regression (not measured); ")


def test_a_measured_score_names_its_suite(catalog):
    score, source = model_quality(catalog.models["meta-llama/Llama-3.3-70B-Instruct"], "chat")
    assert score == 68.9 and source.startswith("MMLU-Pro; ")


def test_a_user_catalog_score_without_its_suite_is_e302(tmp_path):
    from llmc.catalog import load_catalog

    (tmp_path / "serving.yaml").write_text(
        "serving:\n  meta-llama/Llama-3.1-8B-Instruct:\n    quality:\n      scores: {chat: 50}\n"
        "      source: 'a test'\n", encoding="utf-8")
    _, diagnostics = load_catalog([tmp_path])
    assert any(d.code == "E302" and "suite" in (d.summary + (d.detail or "")) for d in diagnostics), diagnostics


def test_a_quantization_loss_measured_on_another_family_is_marked(catalog):
    """Q4_K_M's +2.7 % perplexity was measured on Llama-3-8B: a Qwen plan says it is carried over."""
    from tests.test_scenarios import solved
    from tests.test_solve import plan_for

    plan, _ = plan_for(catalog, '    gpu = 1 x "RTX 3090"\n    memory = 64 GiB',
                       '  workload {\n    task = code\n  }\n  license = permissive\n  quantization = q4_k_m\n')
    assert plan.model.format == "q4_k_m" and catalog.models[plan.model.id].family != "llama"
    assert any("measured on a llama model" in n and "assumed to carry over" in n for n in plan.notes), plan.notes
    llama, _ = solved("no-p2p-70b", catalog)
    assert not any("measured on a llama model" in n for n in llama.notes)
