"""benchmarks/accuracy.py: the published-measurement table, its goals, and calibration records."""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def accuracy():
    spec = importlib.util.spec_from_file_location("accuracy", ROOT / "benchmarks" / "accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod     # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


def test_docs_accuracy_is_regenerated_from_the_estimator(accuracy):
    assert (ROOT / "docs" / "accuracy.md").read_text(encoding="utf-8") == accuracy.render(accuracy.evaluate())


def test_at_least_15_gpu_rows_each_with_a_source(accuracy):
    rows = [r for r in accuracy.evaluate() if r.gpu]
    assert len(rows) >= 15
    assert all(r.source and r.measured > 0 and r.predicted > 0 for r in rows)


def test_gpu_goals_median_memory_10_and_speed_20_percent(accuracy):
    rows = accuracy.evaluate()
    mem = [abs(accuracy.error(r)) for r in rows if r.gpu and r.kind == "memory"]
    speed = [abs(accuracy.error(r)) for r in rows if r.gpu and r.kind == "speed"]
    assert statistics.median(mem) <= 0.10
    assert statistics.median(speed) <= 0.20


def test_quotes_that_disagree_with_arithmetic_stay_in_the_table(accuracy):
    rows = {r.id: r for r in accuracy.evaluate()}
    assert accuracy.error(rows["m12"]) < -0.3 and "exact" in rows["m12"].note
    assert rows["m13"].measured == 32.0


def test_calibration_records_become_rows(accuracy, tmp_path, capsys):
    record = {"plan_choice": "Qwen3-8B q4_k_m on llama.cpp", "runtime": "llama.cpp",
              "hardware": {"gpu": "RTX 4090", "gpus_per_node": 1},
              "predicted": {"ttft_s": 0.2, "tpot_s": 0.01, "kv_cache_bytes": 1000, "devices": {}, "error_band": 0.03},
              "measured": {"ttft_s": 0.25, "tpot_s": 0.0125, "kv_cache_bytes": 1000, "devices": {}, "requests": 8}}
    path = tmp_path / "calib.jsonl"
    path.write_text(json.dumps(record) + "\n\n", encoding="utf-8")
    assert accuracy.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "| c1.ttft_s | ttft_s |" in out and "-20.0%" in out
    assert "| c1.kv_cache_bytes |" in out and "c1.devices" not in out and "c1.requests" not in out
    assert "median error" in out and "worst" in out
    rows = accuracy.calibration_rows(path)
    assert {r.kind for r in rows} == {"memory", "speed"} and all(r.gpu for r in rows)


def test_at_least_12_serving_benchmarks_under_load_each_with_a_source(accuracy):
    rows = accuracy.evaluate_load()
    assert len([r for r in rows if not r.fit]) >= 12 and len({r.source for r in rows}) >= 6
    assert all(r.source and r.measured > 0 and r.predicted > 0 for r in rows)
    assert {r.load.kind for r in rows} == {"closed", "open"}


def test_vllm_kv_sizing_meets_its_goal_out_of_sample(accuracy):
    """Issue 13's goal: KV token capacity within 5% (median) on rows not used to fit; the reserve's sampler
    term was fitted on k1-k3 only."""
    rows = [r for r in accuracy.evaluate() if r.id.startswith("k") and not r.note.startswith("fit")]
    assert len(rows) >= 8
    assert statistics.median(abs(accuracy.error(r)) for r in rows) <= 0.05


def test_figures_under_load_stay_within_the_recorded_error(accuracy):
    """The goal is 15% median under load on rows not used to fit; docs/accuracy.md records where it stands, and
    this keeps it from getting worse unnoticed: the first 27 rows at 13% (15% before lengths varied as their
    sources' did), all 46 at 18% (the 20 added on 2026-12-03 include bursts of 1000 requests that run several
    times slower than predicted)."""
    rows = [r for r in accuracy.evaluate_load() if not r.fit]
    median = lambda chosen: statistics.median(abs(r.predicted / r.measured - 1) for r in chosen)  # noqa: E731
    assert median([r for r in rows if int(r.id[1:]) <= 27]) <= 0.15
    assert median(rows) <= 0.19
