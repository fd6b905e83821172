"""`llmc smoke` end to end on this CPU host with the real llama-server: `llmc build` of a spec for the real
gemma-3-270m file and of one for a generated tiny GGUF, then `llmc smoke` passes, and the buffers
llama-server reports match the plan."""

from __future__ import annotations

import functools
import json
import os
import signal
import time

import httpx
import pytest

from llmc.estimate.llama_log import MIB, parse_llama_log
from llmc.plan import Plan
from tests.support import smoke_plans as sp
from tests.support.smoke_run import alive, group_members, run_smoke, smoke_env, smoke_json
from tests.support.tiny_gguf import write_tiny_gguf


TINY_SHAPE = dict(n_layer=4, n_embd=128, n_head=4, n_head_kv=2, n_ff=256, weight_type="q8_0")


def figure(report: dict, part: str) -> dict:
    return next(f for f in report["memory"] if f["device"] == "cpu" and f["part"] == part)


def plan_of(build_dir) -> Plan:
    return Plan.from_json((build_dir / "plan.json").read_text())


def log_compute(build_dir) -> float:
    log = parse_llama_log((build_dir / "smoke.log").read_text())
    return (log.mib("compute") + log.mib("output")) * MIB


def assert_passed_and_matching(build_dir, rc, proc, plan):
    report = smoke_json(build_dir)
    assert rc == 0, proc.stdout + proc.stderr
    assert report["passed"] is True
    assert {c["name"]: c["status"] for c in report["checks"]}.items() >= {
        "started": "pass", "healthy": "pass", "answered": "pass", "memory cpu weights": "pass",
        "memory cpu kv_cache": "pass", "memory cpu buffers": "pass", "memory cpu compute": "info"}.items()
    assert abs(figure(report, "compute")["measured"] - log_compute(build_dir)) <= 2
    # the model and KV buffers llama-server printed are the plan's figures, to its print resolution
    cpu = plan.memory.devices[0]
    log = parse_llama_log((build_dir / "smoke.log").read_text())
    assert abs(log.mib("KV") * MIB - cpu.kv_cache_bytes) <= 0.005 * MIB
    assert abs(log.mib("model", "CPU_Mapped") * MIB - cpu.weights_bytes) <= cpu.weights_bytes * plan.memory.error_band
    assert figure(report, "kv_cache")["measured"] == round(log.mib("KV") * MIB)
    assert figure(report, "kv_cache")["within"] and figure(report, "weights")["within"]
    # the workload really ran: every request answered, at the plan's prompt length (chat template included)
    load = report["load"]
    assert load["errors"] == 0 and load["requests"] == 4 and load["concurrency"] == plan.workload.concurrency
    assert abs(load["prompt_tokens_measured"] - plan.workload.prompt_tokens) <= 0.1 * plan.workload.prompt_tokens
    assert load["completion_tokens"] == 4 * plan.workload.output_tokens
    assert report["latency"]["ttft_s"]["p50"] > 0 and report["latency"]["tpot_s"]["p50"] > 0
    assert report["gpu"] == {"available": False, "reason": report["gpu"]["reason"]}   # this host has no GPU
    assert report["runtime_metrics"]["llamacpp:tokens_predicted_total"] >= 4 * plan.workload.output_tokens
    pid = report["launch"]["pid"]
    assert not alive(pid) and group_members(pid) == []
    return report


def test_tiny_gguf_built_by_llmc_passes_with_buffers_matching_the_plan(tmp_path):
    model = write_tiny_gguf(tmp_path / "tiny.gguf", **TINY_SHAPE)
    build_dir = sp.llmc_build(tmp_path, model, name="tiny-cpu", port=sp.free_port(), prompt=128, output=16)
    rc, proc = run_smoke(build_dir, "--requests", "4")
    assert_passed_and_matching(build_dir, rc, proc, plan_of(build_dir))
    assert "PASSED" in proc.stdout and "memory cpu kv_cache" in proc.stdout


def test_two_slots_from_the_estimator_pass(tmp_path):
    """Concurrency 2 (two llama.cpp slots): a plan whose memory is llmc.estimate's for -c 2048 -np 2."""
    model = write_tiny_gguf(tmp_path / "tiny.gguf", **TINY_SHAPE)
    plan = sp.cpu_llama_plan(model, port=sp.free_port(), context=1024, slots=2, prompt_tokens=128, output_tokens=16)
    build_dir = sp.write_build_dir(tmp_path / "build", plan)
    rc, proc = run_smoke(build_dir, "--requests", "4")
    report = assert_passed_and_matching(build_dir, rc, proc, plan)
    assert report["load"]["concurrency"] == 2


def test_gemma_270m_built_by_llmc_passes_records_calibration_and_the_next_build_learns_from_it(tmp_path, gemma_path):
    build = functools.partial(sp.llmc_build, tmp_path, gemma_path, name="gemma-cpu", port=sp.free_port(),
                              concurrency=1, prompt=256, output=16, context="2k")
    build_dir = build()
    plan = plan_of(build_dir)
    record = tmp_path / "calibration.jsonl"
    record.write_text('{"earlier": "line"}\n')
    rc, proc = run_smoke(build_dir, "--requests", "4", "--format", "json", "--record", str(record))
    report = assert_passed_and_matching(build_dir, rc, proc, plan)
    assert json.loads(proc.stdout) == report          # --format json prints smoke.json
    assert report["recorded"] == str(record)
    lines = record.read_text().splitlines()
    assert lines[0] == '{"earlier": "line"}'          # appended, never rewritten
    entry = json.loads(lines[1])
    assert entry["plan_choice"] == f"{plan.model.name} {plan.model.format} on llama.cpp, CPU only (host RAM)"
    assert entry["hardware"]["gpus_per_node"] == 0 and entry["key"] == plan.performance.calibration.key
    assert entry["predicted"]["kv_cache_bytes"] == plan.memory.devices[0].kv_cache_bytes
    assert entry["measured"]["kv_cache_bytes"] == figure(report, "kv_cache")["measured"]
    assert entry["measured"]["ttft_s"] == report["latency"]["ttft_s"]["p50"]

    # the next build of the same spec moves both figures toward what was measured, and says so
    before = plan.performance
    after = plan_of(build(extra=("--calibration", str(record)))).performance
    for name in ("ttft_s", "tpot_s"):
        measured = entry["measured"][name]
        was, now = getattr(before, name).value, getattr(after, name).value
        assert abs(now - measured) < abs(was - measured) and abs(now / measured - 1) < 0.15, (name, was, now, measured)
    assert after.calibration.runs == 1 and after.calibration.level == "this setup"
    assert after.calibration.band < before.calibration.band
    assert "calibrated from 1 measured run (this setup" in (build_dir / "PLAN.md").read_text()


@pytest.mark.parametrize("target, expect", [(60.0, "pass"), (1e-6, "fail")])
def test_latency_target_gates_the_exit_code_and_keep_running(tmp_path, target, expect):
    from llmc.plan import Targets

    model = write_tiny_gguf(tmp_path / "tiny.gguf", **TINY_SHAPE)
    plan = sp.cpu_llama_plan(model, port=sp.free_port(), context=1024, slots=2, prompt_tokens=32, output_tokens=8,
                             targets=Targets(ttft_s=target, tpot_s=60.0))
    build_dir = sp.write_build_dir(tmp_path / "build", plan)
    rc, proc = run_smoke(build_dir, "--requests", "2", "--keep-running")
    report = smoke_json(build_dir)
    ttft = next(c for c in report["checks"] if c["name"] == "ttft")
    assert ttft["status"] == expect
    assert next(c for c in report["checks"] if c["name"] == "tpot")["status"] == "pass"
    pid = report["launch"]["pid"]
    if expect == "fail":   # --keep-running keeps only a server that passed
        assert rc == 1 and ttft["code"] == "E608" and "E608" in proc.stdout
        assert report["kept_running"] is None and not alive(pid)
        return
    assert rc == 0 and report["kept_running"]["pgid"] == pid
    assert f"kill -TERM -- -{pid}" in proc.stdout
    try:
        assert alive(pid)
        with httpx.Client(trust_env=False) as client:
            assert client.get(report["kept_running"]["url"] + "/health").status_code == 200
    finally:
        os.killpg(pid, signal.SIGTERM)   # the test stops the server it asked to keep
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid)


def test_api_key_plan_is_answered_with_the_key_and_its_wrapper_group_torn_down(tmp_path):
    """With an API key the emitted script stays a bash parent of llama-server (it removes the key file on exit):
    requests carry the key from the same variable, and teardown ends both."""
    from llmc.plan import Serving

    model = write_tiny_gguf(tmp_path / "tiny.gguf", **TINY_SHAPE)
    plan = sp.cpu_llama_plan(model, port=sp.free_port(), context=1024, slots=2, prompt_tokens=64, output_tokens=8)
    plan = plan.model_copy(update={"serving": Serving(host="127.0.0.1", port=plan.serving.port,
                                                      served_name="tiny", api_key_env="SMOKE_TEST_KEY")})
    build_dir = sp.write_build_dir(tmp_path / "build", plan)
    env = smoke_env()
    env["SMOKE_TEST_KEY"] = "k-" + "x" * 16
    rc, proc = run_smoke(build_dir, "--requests", "2", env=env)
    report = smoke_json(build_dir)
    assert rc == 0, proc.stdout
    assert report["load"]["errors"] == 0 and report["runtime_metrics"]   # /metrics answered with the key
    pid = report["launch"]["pid"]
    assert not alive(pid) and group_members(pid) == []

    env.pop("SMOKE_TEST_KEY")   # without the key the script refuses to start, and says why
    rc, proc = run_smoke(build_dir, "--requests", "2", env=env)
    assert rc == 1 and "E604" in proc.stdout and "set SMOKE_TEST_KEY" in proc.stdout


def test_a_workload_of_varied_lengths_is_sent_as_the_estimate_drew_it(tmp_path):
    """With `spread`, smoke sends each request the prompt and answer lengths the plan's load estimate drew
    (the same seeded draws), so what it measures is the load that was predicted."""
    from llmc.smoke.run import fit_prompt, request_lengths_for

    model = write_tiny_gguf(tmp_path / "tiny.gguf", **TINY_SHAPE)
    plan = sp.cpu_llama_plan(model, port=sp.free_port(), context=1024, slots=2, prompt_tokens=128, output_tokens=16)
    plan = plan.model_copy(update={"workload": plan.workload.model_copy(update={"spread": 0.5})})
    build_dir = sp.write_build_dir(tmp_path / "build", plan)
    rc, proc = run_smoke(build_dir, "--requests", "6")
    assert rc == 0, proc.stdout + proc.stderr
    lengths = request_lengths_for(plan, fit_prompt(plan)[0], 6)
    assert len({o for _, o in lengths}) > 1
    load = smoke_json(build_dir)["load"]
    assert load["errors"] == 0 and load["completion_tokens"] == sum(o for _, o in lengths)
