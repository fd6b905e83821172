"""`llmc smoke` against hostile and broken input: servers that leave their process group, drip tokens, send
garbage streams, bad ports and IPv6 hosts in plan.json, API keys, and bad command-line values.

Every server here is tests/support/fake_server.py (no llama-server is needed); every process is
checked by pid and start time afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from llmc import cli
from llmc.smoke import proctree
from llmc.smoke.load import Endpoint, RequestResult, chat_body, stream_one
from tests.support import fake_server, smoke_plans as sp
from tests.support.smoke_run import alive, group_members, plain_env, run_smoke, smoke_json, start_smoke, start_time
from tests.support.tiny_gguf import write_tiny_gguf

KEY_ENV, KEY = "LLMC_FAKE_KEY", "sekrit-4f9a1c"
# A session of its own that ignores SIGTERM, and a double-forked daemon (its parent exits at once);
# each writes its pid to a file in the build directory (the launcher's working directory).
ESCAPES = ("""setsid bash -c 'trap "" TERM; echo $$ > setsid.pid; exec sleep 1000' &\n"""
           """( setsid bash -c 'echo $$ > daemon.pid; exec sleep 1000' & )\n""")


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_gguf(tmp_path / "tiny.gguf", n_ctx_train=16384)


def fake_build(tmp_path, tiny, *server_args, prelude="", host="127.0.0.1", port=None, output_tokens=16, **serving):
    port = port or free_port(host)
    plan = sp.cpu_llama_plan(tiny, port=port, context=1024, slots=1, output_tokens=output_tokens)
    plan = plan.model_copy(update={"serving": plan.serving.model_copy(update={"host": host, **serving})})
    script = fake_server.launcher_script(f"--port {port} --host {host}", *server_args, prelude=prelude)
    return sp.write_build_dir(tmp_path / "build", plan, script=script)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr


# --- 1. teardown reaches processes that left the group -------------------------------------------------

def escaped(build_dir, timeout: float = 10.0) -> dict[str, tuple[int, int]]:
    """The (pid, start time) of the two processes that left the launcher's group, once both have started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = [build_dir / f"{name}.pid" for name in ("setsid", "daemon")]
        if all(f.is_file() and f.read_text().strip() for f in files):
            pids = {f.stem: int(f.read_text()) for f in files}
            return {name: (pid, start_time(pid)) for name, pid in pids.items()}
        time.sleep(0.05)
    raise AssertionError("the launcher's setsid child and daemon did not start")


RUNS = {   # how the run ends: fake server arguments, smoke arguments, exit code, the check that decides it
    "pass": (("--ready", "--plan plan.json"), ("--requests", "1"), 0, ("answered", "pass")),
    "fail": (("--ready", "--garbage not-json"), ("--requests", "1"), 1, ("answered", "fail")),
    "timeout": ((), ("--timeout", "2"), 1, ("healthy", "fail")),
    "sigint": (("--ready", "--drip 1"), ("--requests", "1"), 1, ("interrupted", "fail")),
}


@pytest.mark.parametrize("end", sorted(RUNS))
def test_teardown_kills_setsid_children_and_daemons(tmp_path, tiny, end):
    server_args, smoke_args, expected_rc, (name, status) = RUNS[end]
    build_dir = fake_build(tmp_path, tiny, *server_args, prelude=ESCAPES)
    bystander = subprocess.Popen(["sleep", "120"], start_new_session=True)   # not smoke's: it must survive
    try:
        proc = start_smoke(build_dir, *smoke_args, env=plain_env())
        pid = proc.server_pid()
        others = escaped(build_dir)
        assert all(alive(*p) for p in others.values())
        if end == "sigint":
            proc.wait_for(r"requests finished: 0/1")
            proc.popen.send_signal(signal.SIGINT)
        rc = proc.finish(timeout=60)
        assert rc == expected_rc, proc.stdout + proc.stderr
        report = smoke_json(build_dir)
        assert check(report, name)["status"] == status and report["launch"]["subreaper"] is True
        assert not alive(pid) and group_members(pid) == []
        assert [n for n, p in others.items() if alive(*p)] == [], "a process that left the group survived"
        assert alive(bystander.pid)
        no_traceback(proc)
    finally:
        bystander.kill()
        bystander.wait()


def test_a_pid_whose_start_time_differs_is_not_signalled():
    other = subprocess.Popen(["sleep", "60"])
    try:
        seen = proctree.read_proc(other.pid)
        reused = proctree.Proc(pid=seen.pid, ppid=seen.ppid, start=seen.start - 1, zombie=False)
        proctree.send_signal(reused, signal.SIGKILL)     # as if the pid now named another process
        time.sleep(0.1)
        assert other.poll() is None
        proctree.send_signal(seen, signal.SIGKILL)
        assert other.wait(timeout=5) == -signal.SIGKILL
    finally:
        other.kill()
        other.wait()


# --- 2. --timeout bounds the whole run -------------------------------------------------------------------

def test_timeout_bounds_a_server_that_drips_tokens(tmp_path, tiny):
    build_dir = fake_build(tmp_path, tiny, "--ready", "--plan plan.json", "--drip 3")
    start = time.monotonic()
    rc, proc = run_smoke(build_dir, "--timeout", "4", "--requests", "2", env=plain_env())
    wall = time.monotonic() - start
    assert rc == 1
    assert wall <= 4 + 3, f"smoke ran {wall:.1f}s under --timeout 4"   # 3: start-up and teardown
    report = smoke_json(build_dir)
    answered = check(report, "answered")
    assert answered["code"] == "E606" and "the --timeout deadline (4s) passed" in answered["detail"]
    assert report["launch"]["health"]["elapsed_s"] + report["load"]["wall_s"] <= 4 + 0.5
    no_traceback(proc)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "abc", "1e400", ""])
def test_bad_timeout_is_refused_by_the_parser(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["smoke", str(tmp_path), "--timeout", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --timeout:" in err and "Traceback" not in err


# --- 3. garbage in the stream ------------------------------------------------------------------------------

GARBAGE_MESSAGES = {
    "not-json": "a chunk is not JSON: '{this is not json'",
    "array": "a chunk is a JSON array, not a JSON object",
    "number": "a chunk is 42, not a JSON object",
    "deep": "a chunk is not JSON: '[[[[",
    "binary": "a chunk is not JSON",
    "huge-line": "a line longer than 1024 KiB",
    "choices-string": '`choices` is "abc", not an array',
    "choice-number": "a choice is 7, not an object",
    "delta-list": "a choice's `delta` is a JSON array, not an object",
    "usage-array": "`usage` is a JSON array, not an object",
    "usage-string": 'usage.completion_tokens is "abc", not a token count',
    "usage-null": "usage.prompt_tokens is null, not a token count",
    "usage-negative": "usage.completion_tokens is -5, not a token count",
    "usage-huge": "usage.completion_tokens is Infinity, not a token count",
}


@pytest.fixture(scope="module")
def ready_server():
    port = free_port("127.0.0.1")
    server = subprocess.Popen([sys.executable, fake_server.__file__, "--port", str(port), "--ready"],
                              stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url
    server.kill()
    server.wait()


def test_garbage_kinds_are_all_tested():
    assert sorted(GARBAGE_MESSAGES) == sorted(fake_server.GARBAGE)


@pytest.mark.parametrize("kind", sorted(GARBAGE_MESSAGES))
def test_garbage_chunk_fails_the_request_with_a_message(ready_server, kind):
    endpoint = Endpoint(f"{ready_server}/garbage/{kind}", "m", "llama.cpp")
    result = RequestResult(index=0)
    with httpx.Client(timeout=10, trust_env=False) as client:
        stream_one(client, endpoint, chat_body(endpoint, "hello there", 4), result)
    assert not result.ok
    assert result.error.startswith("bad stream: ") and GARBAGE_MESSAGES[kind] in result.error, result.error


def test_a_sound_stream_still_passes(ready_server):
    endpoint = Endpoint(ready_server, "m", "llama.cpp")
    result = RequestResult(index=0)
    with httpx.Client(timeout=10, trust_env=False) as client:
        stream_one(client, endpoint, chat_body(endpoint, "hello there", 4), result)
    assert result.ok and result.error == "" and result.completion_tokens == 4 and result.prompt_tokens == 7


def test_garbage_stream_is_a_failed_request_in_the_report(tmp_path, tiny):
    build_dir = fake_build(tmp_path, tiny, "--ready", "--plan plan.json", "--garbage usage-huge")
    rc, proc = run_smoke(build_dir, "--requests", "2", env=plain_env())
    assert rc == 1
    answered = check(smoke_json(build_dir), "answered")
    assert answered["code"] == "E606" and "2 of 2 requests failed" in answered["detail"]
    assert "usage.completion_tokens is Infinity, not a token count" in proc.stdout
    no_traceback(proc)


# --- 4. ports and IPv6 in plan.json --------------------------------------------------------------------

@pytest.mark.parametrize("port", [0, 70000, -1, "x"])
def test_port_out_of_range_is_E601_and_starts_nothing(tmp_path, tiny, port):
    build_dir = fake_build(tmp_path, tiny, "--ready")
    plan = json.loads((build_dir / "plan.json").read_text())
    plan["serving"]["port"] = port
    (build_dir / "plan.json").write_text(json.dumps(plan))
    rc, proc = run_smoke(build_dir, env=plain_env())
    assert rc == 2
    assert "E601" in proc.stdout + proc.stderr and "serving.port" in proc.stdout + proc.stderr
    assert not (build_dir / "smoke.log").exists()
    no_traceback(proc)


def test_plan_json_that_is_not_a_regular_file_is_E601(tmp_path):
    build_dir = tmp_path / "build"
    build_dir.mkdir()
    (build_dir / "plan.json").symlink_to("/dev/zero")
    rc, proc = run_smoke(build_dir, env=plain_env())
    assert rc == 2 and "E601" in proc.stdout + proc.stderr and "not a regular file" in proc.stdout + proc.stderr


def test_ipv6_loopback_host_is_served_and_bracketed(tmp_path, tiny):
    build_dir = fake_build(tmp_path, tiny, "--ready", "--plan plan.json", host="::1")
    port = json.loads((build_dir / "plan.json").read_text())["serving"]["port"]
    rc, proc = run_smoke(build_dir, "--requests", "1", env=plain_env())
    assert rc == 0, proc.stdout + proc.stderr
    assert smoke_json(build_dir)["launch"]["health"]["url"] == f"http://[::1]:{port}/health"


def test_ipv6_port_in_use_is_E603(tmp_path, tiny):
    build_dir = fake_build(tmp_path, tiny, "--ready", host="::1")
    port = json.loads((build_dir / "plan.json").read_text())["serving"]["port"]
    with socket.socket(socket.AF_INET6) as holder:
        holder.bind(("::1", port))
        holder.listen()
        rc, proc = run_smoke(build_dir, env=plain_env())
    assert rc == 1 and f"port {port} on ::1 is already in use" in proc.stdout
    assert check(smoke_json(build_dir), "started")["code"] == "E603"


def test_host_that_is_not_this_machines_is_E603(tmp_path, tiny):
    build_dir = fake_build(tmp_path, tiny, "--ready", host="192.0.2.1", port=8080)   # TEST-NET-1: never local
    rc, proc = run_smoke(build_dir, env=plain_env())
    assert rc == 1 and "cannot listen on 192.0.2.1 port 8080" in proc.stdout
    no_traceback(proc)


# --- 5. the API key stays off every command line --------------------------------------------------------

def command_lines_with(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:   # not a process, or gone
            continue
        if text in cmdline and entry.name != str(os.getpid()):
            found.append(cmdline)
    return found


def test_api_key_goes_through_the_environment_only(tmp_path, tiny):
    build_dir = fake_build(tmp_path, tiny, "--ready", "--plan plan.json", "--drip 0.3", f"--api-key-env {KEY_ENV}",
                           output_tokens=4, api_key_env=KEY_ENV)
    proc = start_smoke(build_dir, "--requests", "2", env=plain_env(**{KEY_ENV: KEY}))
    proc.wait_for(r"requests finished: 0/2")     # the server is up and the requests are under way
    assert command_lines_with(KEY) == []
    rc = proc.finish(timeout=60)
    assert rc == 0, proc.stdout + proc.stderr    # every request carried the key: the server answers 401 otherwise
    assert KEY not in proc.stdout + proc.stderr + (build_dir / "smoke.json").read_text()


def test_api_key_printed_by_the_server_is_redacted_from_the_report(tmp_path, tiny):
    build_dir = fake_build(tmp_path, tiny, f"--api-key-env {KEY_ENV}", "--log-key", api_key_env=KEY_ENV)
    rc, proc = run_smoke(build_dir, "--timeout", "2", env=plain_env(**{KEY_ENV: KEY}))
    assert rc == 1
    report = smoke_json(build_dir)
    assert "server_args=ServerArgs(api_key='<redacted>')" in report["log_tail"]
    assert KEY not in proc.stdout + json.dumps(report)
    assert stat.S_IMODE((build_dir / "smoke.log").stat().st_mode) == 0o600
