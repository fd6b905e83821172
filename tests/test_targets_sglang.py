"""SGLang target: every emitted command is accepted by SGLang 0.5.23's own parser, --config key file included."""

from __future__ import annotations

import json
import subprocess

import pytest
from ruamel.yaml import YAML

from llmc import targets
from llmc.artifacts import write_atomically
from llmc.catalog import load_catalog
from llmc.plan import Parallelism, Speculative
from llmc.targets.sglang import SglangTarget
from tests.support import plans
from tests.support.example_plans import all_example_plans
from tests.support.sglang_check import launch_argv, parse_with_sglang, sglang_python
from tests.support.tools import REPO

# Quotes, YAML indicators and a space: the key must survive launch.sh's printf and SGLang's YAML merge.
SAMPLE_KEY = "s3cr'et \"#: x"
RUN_ENV = {"QWEN_KEY": SAMPLE_KEY, "DIST_INIT_ADDR": "10.0.0.1:5000"}
# What the container commands set differently from launch.sh on purpose.
CONTAINER_ONLY = ("host", "port", "model_path", "api_key")


def sglang_plans() -> dict[str, object]:
    """sglang_qwen, variants of it that reach every flag SglangTarget can emit, and the SGLang examples."""
    base = plans.sglang_qwen()
    agent = base.model_copy(update={
        "workload": base.workload.model_copy(update={"task": "agent"}),
        "model": base.model.model_copy(update={"tool_call_parser": "qwen25", "revision": "0123abc",
                                               "quantization_flag": "fp8", "chat_template": "templates/qwen3.jinja"}),
        "serving": base.serving.model_copy(update={"api_key_env": "QWEN_KEY"}),
    })
    draft = base.model_copy(update={
        "speculative": Speculative(method="draft", num_tokens=4, draft_repo="Qwen/Qwen3-0.6B", acceptance=0.6,
                                   speedup=1.5, source="test builder"),
        "parallelism": Parallelism(tensor=4, pipeline=2, replicas=2, expert=4, nodes=2),
        "hardware": base.hardware.model_copy(update={"nodes": 2}),
        "settings": base.settings.model_copy(update={"enable_prefix_caching": False}),
    })
    ngram = base.model_copy(update={
        "speculative": base.speculative.model_copy(update={"method": "ngram", "num_tokens": 8}),
        "model": base.model.model_copy(update={"source": "local", "path": "models/qwen3-next"}),
        "spec_dir": "specs", "kv_cache": {"type": "f16"},
    })
    examples = {n: p for n, p in sorted(all_example_plans().items()) if p.runtime.name == "sglang"}
    return {"sglang_qwen": base, "agent_with_api_key": agent, "draft_two_nodes": draft, "ngram_local_model": ngram,
            **examples}


PLANS = sglang_plans()


def emitted(plan, directory) -> dict[str, str]:
    artifacts, diagnostics = targets.emit_all(plan.model_copy(update={"emit": ("compose", "kubernetes")}))
    assert not [d for d in diagnostics if d.is_error], diagnostics
    write_atomically(directory, artifacts)
    return {a.path: a.content for a in artifacts}


def container_argvs(files: dict[str, str]) -> list[list[str]]:
    """The sglang.launch_server argv of the Compose service and of the Kubernetes pod, where emitted."""
    yaml = YAML(typ="safe")
    found = []
    if "compose.yaml" in files:
        service = yaml.load(files["compose.yaml"])["services"]["sglang"]
        found.append((service["entrypoint"], service["command"]))
    if "kubernetes/deployment.yaml" in files:
        pod = yaml.load(files["kubernetes/deployment.yaml"])["spec"]["template"]["spec"]["containers"][0]
        found.append((pod["command"], pod["args"]))
    assert all(entry == ["python3", "-m", "sglang.launch_server"] for entry, _ in found)
    return [[str(t) for t in args] for _, args in found]


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    """Every emitted command of every plan, parsed in one run of SGLang: {plan: [launch.sh, containers...]}."""
    commands = {}
    for name, plan in PLANS.items():
        out = tmp_path_factory.mktemp(name.replace("/", "_"))
        files = emitted(plan, out)
        script = launch_argv(out / "sglang" / "launch.sh", out / "record", RUN_ENV)
        commands[name] = [script, *container_argvs(files)]
    cases = [argv for argvs in commands.values() for argv in argvs]
    results = iter(parse_with_sglang(cases))
    return {name: [(argv, next(results)) for argv in argvs] for name, argvs in commands.items()}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_real_parser_accepts_every_launch_script(parsed, name):
    (argv, result), *_ = parsed[name]
    assert result["ok"], (argv, result["problems"])


def multi_node(plan) -> bool:
    return max(plan.parallelism.nodes, plan.hardware.nodes) > 1


@pytest.mark.parametrize("name", sorted(PLANS))
def test_real_parser_accepts_every_container_command(parsed, name):
    (_, on_host), *in_containers = parsed[name]
    # Compose and Kubernetes run no shell, so a multi-node launch ("${NODE_RANK:-0}") has no container form:
    # neither target writes one, and says so.
    assert bool(in_containers) != multi_node(PLANS[name])
    for argv, result in in_containers:
        assert result["ok"], (argv, result["problems"])
        differ = {k for k, v in result["namespace"].items() if on_host["namespace"][k] != v}
        assert differ <= set(CONTAINER_ONLY), differ


def test_api_key_reaches_sglang_through_the_config_file_only(parsed):
    (script, result), *_ = parsed["agent_with_api_key"]
    assert result["namespace"]["api_key"] == SAMPLE_KEY
    assert "--api-key" not in script and SAMPLE_KEY not in script
    assert script[-2] == "--config"


def test_the_parser_rejects_what_sglang_does_not_know(tmp_path):
    """Negative controls: each must fail, or the accepting test proves nothing."""
    unknown_key = tmp_path / "unknown.yaml"
    unknown_key.write_text("no-such-option: 1\n")
    cases = [["--model-path", "m", "--swap-space", "4"],            # a vLLM flag
             ["--model-path", "m", "--kv-cache-dtype", "fp8"],      # llmc's word, not SGLang's
             ["--model-path", "m", "--speculative-algorithm", "MTP"],  # the parser lets any name through
             ["--model-path", "m", "--config", str(unknown_key)]]
    results = parse_with_sglang(cases)
    assert [r["ok"] for r in results] == [False] * len(cases), results
    assert "Unknown speculative algorithm name: MTP" in results[2]["problems"]


def test_committed_flag_table_matches_the_real_parser(tmp_path):
    """The profile's flag table is regenerated from the pinned SGLang; a stale table fails here."""
    out = tmp_path / "flags.json"
    subprocess.run([sglang_python(), str(REPO / "scripts" / "gen_sglang_flags.py"), str(out)], check=True,
                   capture_output=True, env={"PATH": "/usr/bin:/bin"}, timeout=600)
    assert json.loads(out.read_text()) == SglangTarget.flag_table()


@pytest.mark.parametrize("name", sorted(PLANS))
def test_every_flag_and_choice_is_in_the_flag_table(name, tmp_path):
    table = SglangTarget.flag_table()["flags"]
    argvs = container_argvs(emitted(PLANS[name], tmp_path))
    for argv in argvs:
        for flag, value in zip(argv, [*argv[1:], None]):
            if not flag.startswith("--"):
                continue
            assert flag in table, flag
            assert table[flag]["choices"] is None or value in table[flag]["choices"], (flag, value)


def test_catalog_parser_names_are_sglangs():
    """The tool-call and reasoning parsers the catalog names for SGLang are in SGLang's registries."""
    enums = SglangTarget.flag_table()["enums"]
    catalog, _ = load_catalog()
    named = [(m.id, p) for m in catalog.models.values() if (p := m.parsers.get("sglang"))]
    assert named
    for model, parsers in named:
        assert parsers.tool_call in (None, *enums["tool_call_parser"]), (model, parsers.tool_call)
        assert parsers.reasoning in (None, *enums["reasoning_parser"]), (model, parsers.reasoning)
