"""`llmc smoke` failure paths: each gives a clear report, exit 1, and leaves no process behind (checked by pid)."""

from __future__ import annotations

import signal
import socket
import subprocess

import pytest

from tests.support import smoke_plans as sp
from tests.support.smoke_run import (alive, group_members, plain_env, processes_running, run_smoke, smoke_json,
                                     start_smoke)
from tests.support.tiny_gguf import write_tiny_gguf


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_gguf(tmp_path / "tiny.gguf", n_ctx_train=16384)


def build(tmp_path, plan, script=None):
    return sp.write_build_dir(tmp_path / "build", plan, script=script)


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def assert_gone(pgid: int) -> None:
    assert not alive(pgid), f"server pid {pgid} is still running"
    assert group_members(pgid) == [], f"processes left in group {pgid}"


def test_port_already_taken_starts_nothing(tmp_path, tiny):
    port = sp.free_port()
    plan = sp.cpu_llama_plan(tiny, port=port, context=1024, slots=1)
    build_dir = build(tmp_path, plan)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        rc, proc = run_smoke(build_dir, env=plain_env())   # nothing starts: no llama-server needed
        holder.getsockname()  # the holder's socket is untouched: still open and bound to the port
        assert holder.getsockname()[1] == port
    assert rc == 1
    assert "E603" in proc.stdout and f"port {port}" in proc.stdout
    report = smoke_json(build_dir)
    assert check(report, "started")["status"] == "fail"
    assert report["launch"] == {} and report["log_tail"] == []
    assert processes_running(str(build_dir)) == []


def test_server_that_exits_at_start_is_reported_with_its_log(tmp_path, tiny):
    plan = sp.cpu_llama_plan(tiny, port=sp.free_port(), context=1024, slots=1)
    build_dir = build(tmp_path, plan, script=sp.bad_flag_script(plan))
    rc, proc = run_smoke(build_dir, "--timeout", "60")
    pid = proc.server_pid()
    assert rc == 1
    report = smoke_json(build_dir)
    started = check(report, "started")
    assert started["status"] == "fail" and started["code"] == "E604"
    assert "exited with code 1" in started["detail"]
    assert check(report, "healthy")["status"] == "skip"
    assert any("--no-such-flag" in line for line in report["log_tail"])   # llama-server's own complaint
    assert "E604" in proc.stdout and "--no-such-flag" in proc.stdout
    assert_gone(pid)


def test_server_never_healthy_hits_the_deadline_and_its_whole_group_is_killed(tmp_path):
    port = sp.free_port()
    plan = sp.cpu_llama_plan(write_tiny_gguf(tmp_path / "t.gguf"), port=port, context=1024, slots=1)
    build_dir = build(tmp_path, plan, script=sp.fake_server_script(port, stubborn_child=True))
    bystander = subprocess.Popen(["sleep", "120"])   # not started by llmc smoke: it must survive
    try:
        rc, proc = run_smoke(build_dir, "--timeout", "6", env=plain_env())   # the fake server: no llama-server
        pid = proc.server_pid()
        assert rc == 1
        report = smoke_json(build_dir)
        healthy = check(report, "healthy")
        assert healthy["status"] == "fail" and healthy["code"] == "E605"
        assert check(report, "started")["status"] == "pass"
        # progress while waiting: elapsed time, the URL and its answer, the last log line
        assert f"waiting for http://127.0.0.1:{port}/health (503 Loading model)" in proc.stderr
        assert "log: fake-server: loading model tensors (" in proc.stderr
        child = next(int(line.split()[-1]) for line in (build_dir / "smoke.log").read_text().splitlines()
                     if line.startswith("fake-server: child pid"))
        assert_gone(pid)
        assert not alive(child), "the child that ignored SIGTERM was not killed with its group"
        assert alive(bystander.pid)
    finally:
        bystander.kill()
        bystander.wait()


def long_run_plan(tiny, port):
    """Requests that take seconds on the tiny model, so a signal can land in the middle of them."""
    return sp.cpu_llama_plan(tiny, port=port, context=8192, slots=1, prompt_tokens=64, output_tokens=4000)


def test_server_killed_mid_run_fails_answered(tmp_path, tiny):
    build_dir = build(tmp_path, long_run_plan(tiny, sp.free_port()))
    proc = start_smoke(build_dir, "--requests", "4", "--timeout", "120")
    pid = proc.server_pid()
    proc.wait_for(r"requests finished: 0/4")   # the requests are in flight (each takes seconds)
    subprocess.run(["kill", "-KILL", str(pid)], check=True)
    rc = proc.finish()
    assert rc == 1
    report = smoke_json(build_dir)
    answered = check(report, "answered")
    assert answered["status"] == "fail" and answered["code"] == "E606"
    assert "exited with code -9" in answered["detail"]
    assert report["load"]["errors"] >= 1
    assert "E606" in proc.stdout
    assert_gone(pid)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_to_smoke_tears_down_and_reports(tmp_path, tiny, sig):
    build_dir = build(tmp_path, long_run_plan(tiny, sp.free_port()))
    proc = start_smoke(build_dir, "--requests", "4", "--timeout", "120")
    pid = proc.server_pid()
    proc.wait_for(r"requests finished: 0/4")
    assert alive(pid)
    proc.popen.send_signal(sig)
    rc = proc.finish(timeout=60)
    assert rc == 1
    report = smoke_json(build_dir)
    interrupted = check(report, "interrupted")
    assert interrupted["status"] == "fail" and interrupted["code"] == "E609"
    assert signal.Signals(sig).name in interrupted["detail"]
    assert report["launch"]["exit_code"] is not None
    assert "E609" in proc.stdout
    assert_gone(pid)


def test_compose_without_docker_compose_is_reported_and_starts_nothing(tmp_path, tiny):
    plan = sp.cpu_llama_plan(tiny, port=sp.free_port(), context=1024, slots=1)
    build_dir = sp.write_build_dir(tmp_path / "build", plan, compose=True)
    assert (build_dir / "compose.yaml").is_file()
    env = plain_env(PATH=str(tmp_path / "no-docker-here"))      # no docker on PATH (and nothing starts)
    rc, proc = run_smoke(build_dir, "--compose", env=env)
    assert rc == 1
    report = smoke_json(build_dir)
    started = check(report, "started")
    assert started["status"] == "fail" and started["code"] == "E610"
    assert "docker is not installed" in started["detail"]
    assert "E610" in proc.stdout and report["log_tail"] == []


def test_launcher_that_lowers_log_verbosity_leaves_no_memory_figures(tmp_path, tiny):
    plan = sp.cpu_llama_plan(tiny, port=sp.free_port(), context=1024, slots=1)
    script = sp.LlamaCppTarget().emit(plan)[0].content.replace("--metrics", "--metrics -lv 3")
    build_dir = build(tmp_path, plan, script=script)
    rc, proc = run_smoke(build_dir, "--requests", "1")
    pid = proc.server_pid()
    assert rc == 1
    report = smoke_json(build_dir)
    assert check(report, "answered")["status"] == "pass"
    memory = check(report, "memory")
    assert memory["status"] == "fail" and memory["code"] == "E611"
    assert "E611" in proc.stdout and "LLAMA_ARG_LOG_VERBOSITY" in proc.stdout
    assert_gone(pid)
