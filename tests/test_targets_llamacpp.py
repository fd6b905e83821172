"""llama.cpp target: the emitted llama-server.sh starts the real llama-server and allocates the plan's KV."""

from __future__ import annotations

import re
import shlex
import socket
import subprocess

import pytest

from llmc import targets
from llmc.artifacts import write_atomically
from llmc.estimate.llama_log import parse_llama_log
from tests.support import plans
from tests.support.emitted import files
from tests.support.example_plans import all_example_plans, built_example
from tests.support.script_run import chat, running
from tests.support.tiny_gguf import write_tiny_gguf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(plan, directory):
    artifacts, diagnostics = targets.emit_all(plan)
    assert not [d for d in diagnostics if d.is_error], diagnostics
    out = directory / plan.deployment
    write_atomically(out, artifacts)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    # head_dim 32 so quantized KV types are allowed (their block is 32 elements)
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", n_embd=128, n_head=4, n_head_kv=2)


def kv_plan(plan, gguf, kv="f16"):
    unified = bool(plan.settings.kv_unified)
    return plans.with_kv_bytes(plan, plans.llama_kv_bytes(gguf, n_ctx=plan.total_context, n_seq=plan.slots,
                                                          unified=unified, k=kv, v=kv))


def assert_kv_matches(log_text: str, plan) -> None:
    log = parse_llama_log(log_text)
    assert plans.kv_printed_matches(log, plan.memory.devices[0].kv_cache_bytes), (log.buffers, log_text[-2000:])


@pytest.mark.parametrize("kv", ["f16", "q8_0"])
def test_tiny_gguf_script_serves_and_allocates_the_planned_kv(tmp_path, tiny, llama_server_bin, kv):
    port = free_port()
    plan = kv_plan(plans.llamacpp_tiny_cpu(tiny, kv=kv, port=port, context=1024, slots=2), tiny, kv)
    if kv != "f16":  # llama.cpp needs flash attention for a quantized V cache
        plan = plan.model_copy(update={"settings": plan.settings.model_copy(update={"flash_attention": "on"})})
    out = build(plan, tmp_path)
    script = out / "llama.cpp" / "llama-server.sh"
    with running(script, port, {"LLAMA_SERVER": str(llama_server_bin)}, "-lv", "4", "--no-warmup") as (url, log):
        reply = chat(url, "tiny")
        assert reply.status_code == 200, reply.text
        assert reply.json()["usage"]["completion_tokens"] > 0
        assert_kv_matches(log(), plan)


def test_api_key_is_required_and_read_from_the_named_variable(tmp_path, tiny, llama_server_bin):
    port = free_port()
    plan = plans.llamacpp_tiny_cpu(tiny, port=port, api_key_env="TINY_KEY")
    out = build(plan, tmp_path)
    script = out / "llama.cpp" / "llama-server.sh"
    assert "s3cret" not in script.read_text()
    env = {"LLAMA_SERVER": str(llama_server_bin), "TINY_KEY": "s3cret"}
    with running(script, port, env, "--no-warmup") as (url, _):
        assert chat(url, "tiny").status_code == 401
        assert chat(url, "tiny", key="wrong").status_code == 401
        assert chat(url, "tiny", key="s3cret").status_code == 200
    missing = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "LLAMA_SERVER": str(llama_server_bin)})
    assert missing.returncode != 0 and "TINY_KEY" in missing.stderr


def test_gemma_script_serves_the_real_model_with_the_planned_kv(tmp_path, gemma_path, llama_server_bin):
    port = free_port()
    plan = kv_plan(plans.llamacpp_gemma_cpu(port=port, context=4096, slots=1), gemma_path)
    out = build(plan, tmp_path)
    script = out / "llama.cpp" / "llama-server.sh"
    env = {"LLAMA_SERVER": str(llama_server_bin), "LLMC_MODEL": str(gemma_path)}
    with running(script, port, env, "-lv", "4", "--no-warmup") as (url, log):
        reply = chat(url, "gemma-3-270m-it", max_tokens=12)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["usage"]["completion_tokens"] > 0 and body["model"] == "gemma-3-270m-it"
        assert_kv_matches(log(), plan)


def test_models_are_downloaded_under_llmc_models_dir(tmp_path):
    script = files(plans.llamacpp_gemma_cpu())["llama.cpp/llama-server.sh"]
    # downloads land in the user's cache, never in the build directory users commit
    assert 'MODELS_DIR="${LLMC_MODELS_DIR:-${XDG_CACHE_HOME:-${HOME:-.}/.cache}/llmc/models}"' in script
    assert "https://huggingface.co/unsloth/gemma-3-270m-it-GGUF/resolve/main/gemma-3-270m-it-Q4_K_M.gguf" in script


def script_flags(script: str) -> list[str]:
    text = script.replace("\\\n", " ")
    line = next(line for line in text.splitlines() if '"${LLAMA_SERVER:-llama-server}"' in line)
    return [t for t in shlex.split(line, posix=True)[1:] if re.fullmatch(r"--?[a-z][a-z0-9-]*", t)]


EXAMPLE_PLANS = {n: p for n, p in all_example_plans().items() if p.runtime.name == "llama.cpp"}


@pytest.mark.parametrize("name", ["llamacpp_70b_row_split", "llamacpp_gemma_cpu", *sorted(EXAMPLE_PLANS)])
def test_every_flag_is_in_the_built_binarys_help(name, llama_server_bin):
    help_text = subprocess.run([str(llama_server_bin), "--help"], capture_output=True, text=True).stdout
    known = set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", help_text))
    plan = plans.ALL[name]() if name in plans.ALL else EXAMPLE_PLANS[name]
    script = files(plan)["llama.cpp/llama-server.sh"]
    flags = script_flags(script)
    assert {"-c", "-np", "-ngl", "--fit", "-fa", "-ctk", "-ctv", "--host", "--port", "--metrics"} <= set(flags)
    assert set(flags) <= known, set(flags) - known


def test_gpu_plan_flags_follow_the_plan():
    script = files(plans.llamacpp_70b_row_split())
    text = script["llama.cpp/llama-server.sh"]
    for expected in ("-c 32768", "-np 2", "-ngl 70", "--fit off", "-fa on", "-ctk q8_0", "-ctv q8_0", "-sm row",
                     "-ts 1,1", '--api-key-file "$KEY_FILE"', "export NCCL_P2P_DISABLE=1"):
        assert expected in text
    assert "--api-key " not in text


def test_fp8_kv_cannot_be_expressed_and_says_so():
    plan = plans.llamacpp_70b_row_split().model_copy(update={"kv_cache": {"type": "fp8"}})
    artifacts, diagnostics = targets.emit_all(plan)
    assert [d.code for d in diagnostics] == ["W501"]
    assert "-ctk f16" in {a.path: a.content for a in artifacts}["llama.cpp/llama-server.sh"]


CPU_EXAMPLES = sorted(n for n, p in EXAMPLE_PLANS.items() if p.hardware.gpus_per_node == 0)


@pytest.mark.parametrize("name", CPU_EXAMPLES)
def test_cpu_example_script_serves_with_the_kv_the_solver_planned(name, tmp_path, llama_server_bin):
    """The whole chain: spec → solver's plan → emitted script → real llama-server, KV as estimated."""
    plan = built_example(name, tmp_path)  # its local model is found from this build directory
    out = build(plan, tmp_path)
    port = free_port()
    script = out / "llama.cpp" / "llama-server.sh"
    with running(script, port, {"LLAMA_SERVER": str(llama_server_bin)}, "--port", str(port), "-lv", "4",
                 "--no-warmup", "-t", "2") as (url, log):
        reply = chat(url, plan.serving.served_name)
        assert reply.status_code == 200 and reply.json()["usage"]["completion_tokens"] > 0
        kv = sum(d.kv_cache_bytes for d in plan.memory.devices)
        assert plans.kv_printed_matches(parse_llama_log(log()), kv), (kv, parse_llama_log(log()).buffers)
