"""Emitted packaging starts: no Service link variables reach the runtime, the multi-node download Job
fetches what vLLM loads, and HF_TOKEN comes from the environment or a Secret, with hostile values kept as data.

The pod's environment is built the way the kubelet builds it (pkg/kubelet/kubelet_pods.go
getServiceEnvVarMap, pkg/kubelet/envvars/envvars.go FromServices; Kubernetes docs, Service,
"Environment variables") and handed to vLLM 0.33's own code in its venv (tests/support/vllm_check.py).
The download Job's script runs with the real huggingface_hub of that venv, its network calls replaced.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from llmc import targets
from llmc.artifacts import write_atomically
from tests.support import plans, stubs
from tests.support.example_plans import all_example_plans
from tests.support.tools import compose_binary
from tests.support.vllm_check import vllm_python
from tests.test_targets_hostile import PAYLOAD, hostile, kubelet_expand

venv_python = functools.cache(vllm_python)  # the venv's path; locating it imports vLLM once
CLUSTER_IP = "10.96.0.10"
# The API server's Service in `default`, which the kubelet always links, whatever enableServiceLinks says.
MASTER = {"metadata": {"name": "kubernetes"}, "spec": {"ports": [{"name": "https", "port": 443}]}}


def build(plan, directory: Path) -> Path:
    artifacts, diagnostics = targets.emit_all(plan)
    assert artifacts and not [d for d in diagnostics if d.is_error], diagnostics
    write_atomically(directory, artifacts)
    return directory / "kubernetes"


def load(path: Path):
    return YAML(typ="safe").load(path.read_text())


def link_variables(service: dict, cluster_ip: str) -> dict[str, str]:
    """envvars.FromServices for one Service: NAME_SERVICE_HOST, NAME_SERVICE_PORT[_PORTNAME], and the Docker
    link variables NAME_PORT=tcp://ip:port and NAME_PORT_<port>_TCP[_PROTO|_PORT|_ADDR]."""
    prefix = service["metadata"]["name"].upper().replace("-", "_")
    ports = service["spec"]["ports"]
    env = {f"{prefix}_SERVICE_HOST": cluster_ip, f"{prefix}_SERVICE_PORT": str(ports[0]["port"])}
    for port in ports:
        if port.get("name"):
            env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
    for i, port in enumerate(ports):
        protocol = port.get("protocol", "TCP")
        url = f"{protocol.lower()}://{cluster_ip}:{port['port']}"
        if i == 0:
            env[f"{prefix}_PORT"] = url
        base = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
        env |= {base: url, f"{base}_PROTO": protocol.lower(), f"{base}_PORT": str(port["port"]),
                f"{base}_ADDR": cluster_ip}
    return env


def pod_environment(pod: dict, container: dict, services: list[dict]) -> dict[str, str]:
    """The kubelet's environment for `container`: the master Service always, the namespace's Services unless
    the pod says enableServiceLinks: false (the API's default is true), then the container's own values."""
    env = link_variables(MASTER, "10.96.0.1")
    if pod.get("enableServiceLinks", True):
        for service in services:
            env |= link_variables(service, CLUSTER_IP)
    env |= {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return env


def named_vllm(plan):
    """The deployment (so the Service) named like vLLM's variables: VLLM_PORT, VLLM_SERVICE_HOST, ..."""
    return plan.model_copy(update={"deployment": "vllm"})


def vllm_pods(directory: Path) -> list[tuple[dict, dict]]:
    """(pod spec, server container) of every vLLM pod the manifests in `directory` describe."""
    if (directory / "deployment.yaml").exists():
        pod = load(directory / "deployment.yaml")["spec"]["template"]["spec"]
        return [(pod, pod["containers"][0])]
    template = load(directory / "leaderworkerset.yaml")["spec"]["leaderWorkerTemplate"]
    return [(template[role]["spec"], template[role]["spec"]["containers"][0])
            for role in ("leaderTemplate", "workerTemplate")]


PROBE = r'''
import json, os, sys
from vllm.utils.network_utils import get_open_port  # what the engine calls for its distributed init port
results = []
for env in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(env)
    try:
        results.append({"port": get_open_port()})
    except ValueError as exc:
        results.append({"error": str(exc)})
print("@@RESULT@@" + json.dumps(results))
'''


def run_vllm(environments: list[dict[str, str]]) -> list[dict]:
    base = {"VLLM_TARGET_DEVICE": "cpu", "VLLM_LOGGING_LEVEL": "ERROR", "VLLM_NO_USAGE_STATS": "1",
            "HOME": os.environ.get("HOME", "/tmp")}
    proc = subprocess.run([venv_python(), "-c", PROBE], input=json.dumps([base | e for e in environments]),
                          capture_output=True, text=True, timeout=600)
    marker = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@")]
    assert proc.returncode == 0 and marker, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(marker[0][len("@@RESULT@@"):])


@pytest.mark.parametrize("name", ["vllm_tp2_speculative", "vllm_deepseek_two_nodes"])
def test_a_service_named_vllm_crashes_vllm_unless_service_links_are_off(name, tmp_path):
    """vllm#15613, #34199: a Service `vllm` makes the kubelet set VLLM_PORT=tcp://ip:port, which vLLM reads
    as its port and refuses. The emitted pods turn the links off, so vLLM never sees it."""
    out = build(named_vllm(plans.ALL[name]()), tmp_path / "build")
    service = load(out / "service.yaml")
    assert service["metadata"]["name"] == "vllm"
    environments = []
    for pod, container in vllm_pods(out):
        assert pod["enableServiceLinks"] is False
        linked = pod_environment({**pod, "enableServiceLinks": True}, container, [service])
        emitted = pod_environment(pod, container, [service])
        assert linked["VLLM_PORT"] == f"tcp://{CLUSTER_IP}:8000" and linked["VLLM_PORT_8000_TCP_ADDR"] == CLUSTER_IP
        assert not any(key.startswith("VLLM_PORT") or key.startswith("VLLM_SERVICE") for key in emitted)
        assert emitted["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"  # what the links setting cannot remove
        environments += [linked, emitted]
    results = run_vllm(environments)
    for crashed, started in zip(results[::2], results[1::2]):
        assert "appears to be a URI" in crashed["error"] and "Kubernetes service discovery" in crashed["error"]
        assert isinstance(started["port"], int)


def every_pod_spec(doc: dict) -> list[dict]:
    kind = doc["kind"]
    if kind in ("Deployment", "Job"):
        return [doc["spec"]["template"]["spec"]]
    if kind == "LeaderWorkerSet":
        template = doc["spec"]["leaderWorkerTemplate"]
        return [template["leaderTemplate"]["spec"], template["workerTemplate"]["spec"]]
    return []


EXAMPLE_PLANS = all_example_plans()


@pytest.mark.parametrize("name", sorted(plans.ALL) + sorted(EXAMPLE_PLANS))
def test_every_emitted_pod_turns_service_links_off(name, tmp_path):
    plan = plans.ALL[name]() if name in plans.ALL else EXAMPLE_PLANS[name]
    out = build(plan.model_copy(update={"emit": ("kubernetes",)}), tmp_path / "build")
    specs = [spec for path in sorted(out.glob("*.yaml")) for spec in every_pod_spec(load(path))]
    assert specs and all(spec["enableServiceLinks"] is False for spec in specs)


# ---------------------------------------------------------------- the download Job

FAKE_HUB = r'''
import json, os, pathlib, sys
import huggingface_hub
from huggingface_hub.utils import filter_repo_objects

hub = json.loads(os.environ["FAKE_HUB"])  # {repo: {"files": [...], "index": {...}}}
log = pathlib.Path(os.environ["FAKE_HUB_LOG"])


def record(**call):
    with log.open("a") as f:
        f.write(json.dumps(call) + "\n")


def list_repo_files(repo_id, *, revision=None, **kw):
    record(call="list", repo=repo_id, revision=revision)
    return hub[repo_id]["files"]


def hf_hub_download(repo_id, filename, *, revision=None, **kw):
    path = log.parent / "index.json"
    path.write_text(json.dumps(hub[repo_id]["index"]))
    return str(path)


def snapshot_download(repo_id, *, revision=None, allow_patterns=None, ignore_patterns=None, **kw):
    files = filter_repo_objects(hub[repo_id]["files"], allow_patterns=allow_patterns, ignore_patterns=ignore_patterns)
    record(call="snapshot", repo=repo_id, revision=revision, files=sorted(files))


huggingface_hub.list_repo_files = list_repo_files
huggingface_hub.hf_hub_download = hf_hub_download
huggingface_hub.snapshot_download = snapshot_download
script = sys.argv.pop(1)
exec(compile(script, "<download>", "exec"), {"__name__": "__main__"})
'''


def shards(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)]


REPOS = {
    # DeepSeek-V3.1: one safetensors index, the shards it names
    "deepseek-ai/DeepSeek-V3.1": {"files": ["config.json", "model.safetensors.index.json", "tokenizer.json",
                                            *shards("model", 3)],
                                  "index": {"weight_map": {"a": "model-00001-of-00003.safetensors",
                                                           "b": "model-00002-of-00003.safetensors",
                                                           "c": "model-00003-of-00003.safetensors"}}},
    # Mistral: the same checkpoint twice; vLLM 0.33 loads the consolidated one
    "mistralai/Mistral-Large": {"files": ["params.json", "tekken.json", "consolidated.safetensors.index.json",
                                          "model.safetensors.index.json", *shards("consolidated", 2),
                                          *shards("model", 2)], "index": {"weight_map": {}}},
    # Llama 3: the original/ checkpoint is not loaded
    "meta-llama/Llama-3.1-8B": {"files": ["config.json", "generation_config.json", "model.safetensors.index.json",
                                          *shards("model", 2), "original/consolidated.00.pth", "original/params.json"],
                                "index": {"weight_map": {"a": "model-00001-of-00002.safetensors",
                                                         "b": "model-00002-of-00002.safetensors"}}},
    # an old repo with .bin and .safetensors and no index: safetensors only
    "org/old": {"files": ["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5"], "index": {}},
}
EXPECTED = {
    "deepseek-ai/DeepSeek-V3.1": ["config.json", "model.safetensors.index.json", "tokenizer.json", *shards("model", 3)],
    "mistralai/Mistral-Large": ["consolidated.safetensors.index.json", *shards("consolidated", 2),
                                "model.safetensors.index.json", "params.json", "tekken.json"],
    "meta-llama/Llama-3.1-8B": ["config.json", "generation_config.json", "model.safetensors.index.json",
                                *shards("model", 2)],
    "org/old": ["config.json", "model.safetensors"],
}


def run_download_job(job: dict, hub: dict, tmp: Path, env: dict[str, str] | None = None,
                     stub_env: dict[str, str] | None = None):
    """The Job's container as the kubelet starts it (`python3 -c SCRIPT ARGS...`, `env` for its $(VAR)
    expansion), in the vLLM venv with a fake Hub, the stub programs first on PATH when given; the marker
    moves into `tmp`. Returns the hub calls and the marker."""
    [fetch] = job["spec"]["template"]["spec"]["containers"]
    script, *argv = (kubelet_expand(a, env or {}) for a in fetch["args"])
    marker = tmp / Path(argv[0]).name
    log = tmp / "hub.jsonl"
    environ = {"PATH": "/usr/bin:/bin", **(stub_env or {}), "FAKE_HUB": json.dumps(hub), "FAKE_HUB_LOG": str(log)}
    result = subprocess.run([venv_python(), "-c", FAKE_HUB, script, str(marker), *argv[1:]], env=environ,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()], marker


def deepseek_with(repo: str):
    plan = plans.vllm_deepseek_two_nodes()
    return plan.model_copy(update={"model": plan.model.model_copy(update={"repo": repo, "revision": "abc123"})})


@pytest.mark.parametrize("repo", sorted(REPOS))
def test_the_download_job_fetches_what_vllm_loads_once(repo, tmp_path):
    out = build(deepseek_with(repo), tmp_path / "build")
    calls, marker = run_download_job(load(out / "download-job.yaml"), REPOS, tmp_path)
    [snapshot] = [c for c in calls if c["call"] == "snapshot"]
    assert snapshot == {"call": "snapshot", "repo": repo, "revision": "abc123", "files": sorted(EXPECTED[repo])}
    assert marker.exists()


def test_the_group_waits_for_the_marker_the_job_writes(tmp_path):
    out = build(plans.vllm_deepseek_two_nodes(), tmp_path / "build")
    calls, marker = run_download_job(load(out / "download-job.yaml"), REPOS, tmp_path)
    template = load(out / "leaderworkerset.yaml")["spec"]["leaderWorkerTemplate"]
    for role in ("leaderTemplate", "workerTemplate"):
        [wait] = template[role]["spec"]["initContainers"]
        loop, path = (kubelet_expand(a, {}) for a in wait["args"])
        assert Path(path).name == marker.name
        done = subprocess.run(["sh", "-c", loop, str(marker)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0
        waiting = subprocess.run(["timeout", "2", "sh", "-c", loop, str(tmp_path / "absent")], capture_output=True,
                                 text=True)
        assert waiting.returncode == 124 and "waiting for the model-download Job" in waiting.stdout


def test_another_model_waits_for_its_own_download(tmp_path):
    a = load(build(deepseek_with("org/a"), tmp_path / "a") / "download-job.yaml")
    b = load(build(deepseek_with("org/b"), tmp_path / "b") / "download-job.yaml")
    assert a["spec"]["template"]["spec"]["containers"][0]["args"][1] != \
        b["spec"]["template"]["spec"]["containers"][0]["args"][1]


def test_a_long_deployment_name_still_names_a_valid_job(tmp_path):
    plan = plans.vllm_deepseek_two_nodes().model_copy(update={"deployment": "d" * 63})
    job = load(build(plan, tmp_path / "build") / "download-job.yaml")
    assert len(job["metadata"]["name"]) == 63 and job["metadata"]["name"].endswith("-download")


def test_hostile_repo_names_reach_the_hub_as_data(tmp_path):
    """The repo is argv of python3 (no shell) after the kubelet's $(VAR) expansion: `$(HF_TOKEN)` in a repo
    name stays literal, and nothing runs."""
    out = build(hostile(plans.vllm_deepseek_two_nodes()), tmp_path / "build")
    repo = "org/" + PAYLOAD.replace("/", "_").replace(".", "_")  # hostile()'s repo: no `/` or `..` to climb out
    hub = {repo: {"files": ["config.json", "model.safetensors"], "index": {}}}
    stub_env = stubs.install(tmp_path / "bin")
    calls, _ = run_download_job(load(out / "download-job.yaml"), hub, tmp_path, {"HF_TOKEN": "token"}, stub_env)
    assert [c["repo"] for c in calls if c["call"] == "snapshot"] == [repo]
    assert stubs.calls(stub_env) == []  # no `pwned` (nor anything else) ran


def test_compose_passes_hf_token_beside_hostile_values(tmp_path):
    """`${HF_TOKEN:-}` is the one value Compose interpolates; the plan's values stay literal beside it."""
    artifacts, _ = targets.emit_all(hostile(plans.vllm_tp2_speculative()))
    write_atomically(tmp_path / "build", artifacts)
    result = stubs.run([str(compose_binary()), "-f", str(tmp_path / "build" / "compose.yaml"), "config", "--format",
                        "json"], {}, tmp_path / "build", {"HF_TOKEN": "hf_token_value", "LLMC_KEY": "k"})
    assert result.returncode == 0, result.stderr
    environment = json.loads(result.stdout.replace("$$", "$"))["services"]["vllm"]["environment"]
    assert environment == {"HF_TOKEN": "hf_token_value", "LLMC_TEST": PAYLOAD}
