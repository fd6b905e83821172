"""vLLM target: every emitted command and --config file is accepted by vLLM 0.33's own parser."""

from __future__ import annotations

import json
import subprocess

import pytest

from llmc import targets
from llmc.targets.vllm import VllmTarget
from tests.support import plans
from tests.support.example_plans import all_example_plans
from tests.support.tools import REPO
from tests.support.vllm_check import parse_with_vllm, serve_argv, vllm_python

VLLM_PLANS = ("vllm_tp2_speculative", "vllm_deepseek_two_nodes")
REMOVED_FLAGS = ("--swap-space", "--calculate-kv-scales", "--task", "--speculative-model", "--num-speculative-tokens",
                 "--cuda-graph-sizes", "--disable-mm-preprocessor-cache", "--num-redundant-experts")


def emitted(name: str) -> dict[str, str]:
    plan = plans.ALL[name]() if name in plans.ALL else all_example_plans()[name]
    artifacts, diagnostics = targets.emit_all(plan)
    assert not [d for d in diagnostics if d.is_error]
    return {a.path: a.content for a in artifacts}


def test_real_parser_accepts_every_command_and_config(tmp_path):
    """One run of vLLM's parser: each serve.sh command, each config.yaml, and both give the same settings."""
    cases = []
    names = [*VLLM_PLANS, *(n for n, p in sorted(all_example_plans().items()) if p.runtime.name == "vllm")]
    for name in names:
        files = emitted(name)
        config = tmp_path / f"{name.replace('/', '_')}.yaml"
        config.write_text(files["vllm/config.yaml"])
        cases += [serve_argv(files["vllm/serve.sh"]), ["serve", "--config", str(config)]]
    # Negative controls: the probe must fail on what 0.33 rejects (else it proves nothing).
    cases += [["serve", "m", "--swap-space", "4"], ["serve", "m", "--kv-cache-dtype", "q8_0"]]
    results = parse_with_vllm(cases)
    for case, result in zip(cases[:-2], results[:-2]):
        assert result["ok"], (case, result["problems"])
    assert not results[-2]["ok"] and not results[-1]["ok"]
    assert len(names) > len(VLLM_PLANS)  # the examples take part
    for i in range(0, len(names) * 2, 2):
        assert results[i]["namespace"] == results[i + 1]["namespace"], "serve.sh and config.yaml differ"


def test_committed_flag_table_matches_the_real_parser(tmp_path):
    """The profile's flag table is regenerated from the pinned vLLM; a stale table fails here."""
    out = tmp_path / "flags.json"
    subprocess.run([vllm_python(), str(REPO / "scripts" / "gen_vllm_flags.py"), str(out)], check=True,
                   capture_output=True, env={"VLLM_TARGET_DEVICE": "cpu", "PATH": "/usr/bin:/bin"}, timeout=600)
    assert json.loads(out.read_text()) == VllmTarget.flag_table()


@pytest.mark.parametrize("name", VLLM_PLANS)
def test_every_flag_exists_in_the_flag_table(name):
    table = VllmTarget.flag_table()["flags"]
    argv = serve_argv(emitted(name)["vllm/serve.sh"])
    flags = [t for t in argv if t.startswith("-")]
    assert flags
    for flag in flags:
        base = flag if flag in table else flag.replace("--no-", "--", 1)
        assert base in table, flag
    assert not set(flags) & set(REMOVED_FLAGS)


def test_flags_follow_the_plan():
    argv = serve_argv(emitted("vllm_tp2_speculative")["vllm/serve.sh"])
    pairs = dict(zip(argv, argv[1:]))
    assert argv[:2] == ["serve", "Qwen/Qwen3-32B"]
    assert pairs["--max-model-len"] == "32768" and pairs["--max-num-seqs"] == "32"
    assert pairs["--tensor-parallel-size"] == "2" and pairs["--kv-cache-dtype"] == "fp8"
    assert json.loads(pairs["--speculative-config"]) == {"method": "draft_model", "model": "Qwen/Qwen3-0.6B",
                                                         "num_speculative_tokens": 4}
    assert pairs["--tool-call-parser"] == "hermes" and "--enable-auto-tool-choice" in argv
    assert pairs["--host"] == "127.0.0.1"
    assert "--api-key" not in argv  # the key only reaches vLLM through VLLM_API_KEY


def test_api_key_comes_from_the_named_env_var_at_run_time():
    script = emitted("vllm_tp2_speculative")["vllm/serve.sh"]
    assert 'export VLLM_API_KEY="${QWEN_API_KEY}"' in script
    assert ': "${QWEN_API_KEY:?' in script


def test_multi_node_uses_ray_with_tp_per_node_and_pp_across_nodes():
    argv = serve_argv(emitted("vllm_deepseek_two_nodes")["vllm/serve.sh"])
    pairs = dict(zip(argv, argv[1:]))
    assert pairs["--distributed-executor-backend"] == "ray"
    assert pairs["--tensor-parallel-size"] == "8" and pairs["--pipeline-parallel-size"] == "2"
    assert "--enable-expert-parallel" in argv


def test_what_vllm_cannot_express_is_a_warning_not_a_silent_drop():
    plan = plans.vllm_tp2_speculative().model_copy(update={
        "kv_cache": {"type": "q8_0"},
        "settings": plans.vllm_tp2_speculative().settings.model_copy(update={"env": {"VLLM_USE_V1": "1"}}),
    })
    target = VllmTarget()
    files = {a.path: a.content for a in target.emit(plan)}
    codes = [d.code for d in target.diagnostics]
    assert codes.count("W501") == 2
    assert "--kv-cache-dtype" not in files["vllm/serve.sh"] and "VLLM_USE_V1" not in files["vllm/serve.sh"]
    _, strict = targets.emit_all(plan, strict=True)
    assert strict and all(d.is_error for d in strict)


def test_unknown_parser_names_are_reported_from_the_flag_table():
    plan = plans.vllm_tp2_speculative()
    plan = plan.model_copy(update={"model": plan.model.model_copy(update={"tool_call_parser": "hermes2"})})
    target = VllmTarget()
    script = target.emit(plan)[0].content
    assert "hermes2" not in script
    assert any("hermes2" in d.summary for d in target.diagnostics)
