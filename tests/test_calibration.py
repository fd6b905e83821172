"""Calibration: measured runs correct the speed model (llmc.estimate.calibration), builds read them from the
store (llmc.smoke.store), and `llmc calibration show|fit|clear` shows and edits what was learned."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmc.driver import build, compile_file
from llmc.estimate.calibration import ONE, PRIOR_BAND, Calibration, Key, Parts, Record, fit, parse_lines
from llmc.plan import Plan
from llmc.smoke.store import project_dir, read_store, record_line
from llmc.smoke.verdict import predicted_figures

ROOT = Path(__file__).resolve().parents[1]
CPU = Key("llama.cpp", "b11312", "cpu: 2 cores, avx2, 20 GB/s", "cpu", "llama dense")
TRUE = (0.6, 2.0, 1.0, 1.5, 1.0)   # bandwidth, FLOPs, matrix-vector FLOPs, fixed costs, host bandwidth


def run_of(key: Key, decode: Parts, prefill: Parts, truth=TRUE, noise=1.0) -> Record:
    """A run whose figures are its parts under the `truth` correction (times `noise`)."""
    one = ONE
    return Record(key, {"decode": decode, "prefill": prefill}, one,
                  predicted={"tpot_s": decode.time(one), "ttft_s": prefill.time(one)},
                  measured={"tpot_s": decode.time(truth) * noise, "ttft_s": prefill.time(truth) * noise})


SHAPES = [  # memory-bound decodes, compute-bound prefills, and one where the fixed costs dominate
    (Parts(0.020, 0, 0.003, 0.0005), Parts(0.02, 0, 0.30, 0.0025)),
    (Parts(0.004, 0, 0.001, 0.0004), Parts(0.01, 0, 0.05, 0.0030)),
    (Parts(0.0005, 0, 0.0002, 0.002), Parts(0.001, 0, 0.004, 0.0040)),
]


def test_the_fit_recovers_the_factors_runs_of_several_shapes_reveal():
    fitted = fit([run_of(CPU, d, p) for d, p in SHAPES])
    for got, want in zip(fitted.factors, TRUE):
        assert got == pytest.approx(want, rel=0.06)
    assert fitted.residual < 0.02


def test_a_factor_no_run_can_see_stays_at_the_published_fit():
    """Memory-bound decodes and compute-bound prefills with negligible fixed costs say nothing of those costs."""
    runs = [run_of(CPU, Parts(0.02, 0, 0.001, 1e-6), Parts(0.001, 0, 0.3, 1e-6))]
    fitted = fit(runs)
    assert fitted.bandwidth == pytest.approx(0.6, rel=0.05) and fitted.compute == pytest.approx(2.0, rel=0.05)
    assert fitted.overhead == pytest.approx(1.0, abs=0.05)


def test_a_prompt_run_slower_in_its_gemms_does_not_slow_the_decodes_matrix_vector_kernels():
    """A CPU run: its prefill is GEMM-bound, its decode bound by the matrix-vector kernels. A prompt that ran
    at half the assumed GEMM rate says nothing of vec_dot's rate: a build at four users, whose decode step is
    four matrix-vector passes, keeps its prediction."""
    one_user = run_of(CPU, Parts(0.008, 0, 0.0, 0.001, vector_s=0.010), Parts(0.01, 0, 0.40, 0.004),
                      truth=(1.0, 0.5, 1.0, 1.0, 1.0))
    fitted = fit([one_user])
    assert fitted.compute == pytest.approx(0.5, rel=0.05) and fitted.vector == pytest.approx(1.0, rel=0.05)
    four_users = Parts(0.009, 0, 0.0, 0.001, vector_s=0.040)
    assert four_users.time(fitted.factors) == pytest.approx(four_users.time(ONE), rel=0.03)


def test_a_measured_bandwidth_is_trusted_more_than_a_datasheets():
    """A decode the model prices as memory traffic runs twice as slow: on a host whose bandwidth was measured
    (`llmc detect`), the fit puts most of the gap on the other costs, not on the bandwidth it was told."""
    run = [run_of(CPU, Parts(0.010, 0, 0.0, 0.004, vector_s=0.008), Parts(0.01, 0, 0.4, 0.004),
                  truth=(1.0, 1.0, 0.4, 2.0, 1.0))]
    measured = Key(CPU.runtime, CPU.version, CPU.device, CPU.device_class, CPU.shape, bandwidth_basis="measured")
    datasheet = fit(run, CPU.prior_sigmas)
    trusted = fit(run, measured.prior_sigmas)
    assert trusted.bandwidth > datasheet.bandwidth and trusted.bandwidth > 0.85
    assert trusted.residual < 0.05


def test_the_band_narrows_as_agreeing_runs_add_up_and_stays_wide_when_they_disagree():
    decode, prefill = SHAPES[0]
    agree = [run_of(CPU, decode, prefill, noise=n) for n in (1.0, 1.02, 0.98, 1.01, 0.99, 1.0)]
    bands = [Calibration(tuple(agree[:n])).correction(CPU).band for n in (1, 3, 6)]
    assert PRIOR_BAND > bands[0] > bands[1] > bands[2] > 0
    disagree = [run_of(CPU, decode, prefill, noise=n) for n in (0.6, 1.6, 0.7, 1.5, 0.65, 1.55)]
    assert Calibration(tuple(disagree)).correction(CPU).band > bands[2] * 2


def test_records_match_at_the_most_specific_level_that_has_any():
    decode, prefill = SHAPES[0]
    other_shape = Key(CPU.runtime, CPU.version, CPU.device, "cpu", "qwen3moe moe")
    other_host = Key(CPU.runtime, CPU.version, "cpu: 64 cores, avx512", "cpu", "llama dense")
    other_runtime = Key("vllm", "0.33.0", CPU.device, "cpu", "llama dense")
    cal = Calibration((run_of(other_shape, decode, prefill), run_of(other_host, decode, prefill, truth=(2, 2, 1, 2, 1))))
    assert cal.correction(CPU).level == "this device" and cal.correction(CPU).runs == 1
    assert cal.correction(CPU).bandwidth == pytest.approx(0.6, rel=0.1)   # the same host's run, not the other's
    by_class = Calibration(cal.records[1:]).correction(CPU)
    assert by_class.level == "this device class" and by_class.bandwidth == pytest.approx(2 ** 0.5, rel=0.1)
    assert not Calibration(cal.records).correction(other_runtime).calibrated


def test_a_llama_cpp_run_corrects_ollama_on_the_device_as_they_share_kernels():
    decode, prefill = SHAPES[0]
    cal = Calibration((run_of(CPU, decode, prefill),))
    ollama = Key("ollama", "0.33.0", CPU.device, "cpu", CPU.shape)
    assert cal.correction(ollama).level == "this device"
    assert cal.correction(ollama).bandwidth == pytest.approx(0.6, rel=0.1)
    on_vllm = Key("vllm", "0.33.0", "H100 80GB", "datacenter", "llama dense")
    vllm = Calibration((run_of(on_vllm, decode, prefill),))
    assert not vllm.correction(Key("sglang", "0.5.23", "H100 80GB", "datacenter", "llama dense")).calibrated


def test_old_smoke_records_and_garbage_are_skipped_not_fatal():
    old = (ROOT / "benchmarks" / "calibration" / "cpu-2core-vm.jsonl").read_text().splitlines()[0]
    records, skipped = parse_lines(old + "\nnot json\n[1, 2]\n\n")
    assert records == [] and skipped == 3


# ---------------------------------------------------------------------------- builds read the store

SPEC = ROOT / "examples" / "chat-16gb.llmspec"


def _record_for(plan: Plan, ttft: float = 1.0, tpot: float = 1.0, truth=None) -> str:
    """A run of this plan measuring `ttft` and `tpot` times the plan's figures, or what the plan's own parts
    give under the correction `truth` (a run consistent with some device)."""
    perf = plan.performance
    said = {"ttft_s": perf.ttft_s.value, "tpot_s": perf.tpot_s.value}
    line = record_line(plan, "test", said, {"ttft_s": said["ttft_s"] * ttft, "tpot_s": said["tpot_s"] * tpot},
                       "smoke", True)
    if truth is None:
        return line
    record = parse_lines(line)[0][0]
    data = json.loads(line)
    data["measured"] = {f: record.predict(f, truth) for f in ("ttft_s", "tpot_s")}
    return json.dumps(data) + "\n"


def _plan(spec: Path, calibration=None) -> Plan:
    result = compile_file(str(spec), calibration=calibration)
    assert result.exit_code == 0, [d.summary for d in result.diagnostics]
    return result.deployments[0].plan


def test_a_build_learns_from_a_run_of_its_setup_and_says_so_in_plan_md(tmp_path):
    prior = _plan(SPEC, calibration=[])
    store = tmp_path / "runs.jsonl"
    store.write_text(_record_for(prior, truth=(0.8, 1.3, 1.0, 1.2, 0.8)))   # host RAM slower than assumed
    measured = json.loads(store.read_text())["measured"]
    learned = _plan(SPEC, calibration=[str(store)])
    for figure in ("ttft_s", "tpot_s"):    # the next build predicts the run it learned from
        was, now = getattr(prior.performance, figure).value, getattr(learned.performance, figure).value
        assert abs(now / measured[figure] - 1) < 0.05 < abs(was / measured[figure] - 1), (figure, was, now)
    cal = learned.performance.calibration
    assert (cal.runs, cal.level, cal.files) == (1, "this setup", (str(store),))
    assert learned.performance.tpot_s.high / learned.performance.tpot_s.value - 1 == pytest.approx(cal.band, abs=1e-3)
    assert cal.band < prior.performance.calibration.band
    from llmc.explain import plan_markdown
    assert "calibrated from 1 measured run (this setup: llama.cpp" in plan_markdown(learned)
    assert "no measured run of llama.cpp" in plan_markdown(prior)


PIN = 'prefer = quality\n  runtime = llama.cpp\n  settings {\n    parallel = 3\n  }'


def test_a_calibration_never_overrides_a_bound_or_a_pin(tmp_path):
    """A run of the expert-offloaded plan 20x slower than predicted: its steps are host-RAM bound, so the fit
    puts the slowness on the host's bandwidth; the `tpot <= 80ms` bound still holds, so the build moves to a
    model that meets it without host layers; the pinned -np stays as pinned."""
    spec = tmp_path / "pinned.llmspec"
    spec.write_text(SPEC.read_text().replace("prefer = quality", PIN))
    prior = _plan(spec, calibration=[])
    assert prior.slots == 3
    store = tmp_path / "runs.jsonl"
    store.write_text(_record_for(prior, ttft=20, tpot=20))
    slow = _plan(spec, calibration=[str(store)])
    assert slow.performance.calibration.runs == 1 and slow.performance.calibration.host < 0.2
    assert slow.model.name != prior.model.name and slow.performance.tpot_s.value <= 0.080
    assert slow.slots == 3 and slow.pinned == ("slots",)


def test_the_project_store_above_the_spec_is_read_by_default_and_can_be_turned_off(tmp_path):
    project = tmp_path / "repo"
    (project / ".llmc" / "calibration").mkdir(parents=True)
    (project / "specs").mkdir()
    spec = project / "specs" / "chat.llmspec"
    spec.write_text(SPEC.read_text())
    assert project_dir(spec.parent) == project / ".llmc" / "calibration"
    prior = _plan(spec)
    (project / ".llmc" / "calibration" / "runs.jsonl").write_text(_record_for(prior, truth=(1, 1, 1, 1, 0.5)))
    assert _plan(spec).performance.calibration.files == ("../.llmc/calibration/runs.jsonl",)  # as the checkout names it
    assert _plan(spec).performance.tpot_s.value > prior.performance.tpot_s.value * 1.4
    assert _plan(spec, calibration=[]).performance == prior.performance


def test_an_unreadable_calibration_path_is_e001_and_nothing_is_written(tmp_path):
    result = build(str(SPEC), str(tmp_path / "out"), calibration=[str(tmp_path / "missing.jsonl")])
    assert [d.code for d in result.diagnostics] == ["E001"] and result.exit_code == 2
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- the command

def llmc(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmc.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_calibration_show_fit_and_clear(tmp_path):
    store = tmp_path / ".llmc" / "calibration"
    store.mkdir(parents=True)
    spec = tmp_path / "chat.llmspec"
    spec.write_text(SPEC.read_text())
    prior = _plan(spec)
    runs = store / "runs.jsonl"
    runs.write_text(_record_for(prior, truth=(0.9, 1, 1, 1, 0.7)) + _record_for(prior, truth=(0.88, 1, 1, 1, 0.72))
                    + "a line of notes\n")
    runs.chmod(0o644)

    shown = llmc("calibration", "show", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "RTX 4060 Ti 16GB" in shown.stdout and "1 line not a calibration record" in shown.stdout
    data = json.loads(llmc("calibration", "show", "--json", cwd=tmp_path).stdout)
    assert [g["runs"] for g in data["groups"]] == [2] and data["groups"][0]["bandwidth"] < 1

    fitted = llmc("calibration", "fit", "chat.llmspec", "--json", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    report = json.loads(fitted.stdout)[0]
    assert report["level"] == "this setup" and len(report["runs"]) == 2
    tpot = report["runs"][0]["figures"]["tpot_s"]
    assert tpot["prior_error"] < -0.2 and abs(tpot["calibrated_error"]) < 0.03
    assert "published fit" in llmc("calibration", "fit", "chat.llmspec", cwd=tmp_path).stdout

    assert llmc("calibration", "clear", "--runtime", "vllm", cwd=tmp_path).stdout == "removed 0 records\n"
    cleared = llmc("calibration", "clear", cwd=tmp_path)
    assert cleared.stdout == "removed 2 records\n"
    assert runs.read_text() == "a line of notes\n" and runs.stat().st_mode & 0o777 == 0o644
    assert read_store([store]).calibration.records == ()
    assert llmc("calibration", "clear", cwd=tmp_path / ".llmc").returncode == 0   # the store above is found
    nowhere = llmc("calibration", "clear", cwd=Path("/"))
    assert nowhere.returncode == 2 and "no .llmc/calibration/" in nowhere.stderr


def test_a_runs_measured_compute_buffers_size_the_next_build_of_its_setup(tmp_path):
    """The log showed the compute buffers half again as large as modelled: the next build of the same setup
    plans them at that size (and what is left for the KV cache shrinks with it), and PLAN.md says so."""
    prior = _plan(SPEC, calibration=[])
    said = predicted_figures(prior)
    line = json.loads(record_line(prior, "test", said, {"ttft_s": said["ttft_s"], "tpot_s": said["tpot_s"],
                                                        "compute_bytes": said["compute_bytes"] * 1.5}, "smoke", True))
    store = tmp_path / "runs.jsonl"
    store.write_text(json.dumps(line) + "\n")
    learned = _plan(SPEC, calibration=[str(store)])

    def compute(plan: Plan) -> int:
        return sum(p.bytes for d in plan.memory.devices for p in d.parts if p.name == "compute")

    assert learned.performance.calibration.compute_memory == pytest.approx(1.5, rel=1e-3)
    assert compute(learned) == pytest.approx(1.5 * compute(prior), rel=0.02)
    from llmc.explain import plan_markdown
    assert "compute buffers ×1.50" in plan_markdown(learned)
    other_shape = json.loads(json.dumps(line))
    other_shape["key"]["shape"] = "llama dense"    # another model's graph: its buffers say nothing of this one's
    store.write_text(json.dumps(other_shape) + "\n")
    assert _plan(SPEC, calibration=[str(store)]).performance.calibration.compute_memory == 1.0
