"""Compose and Kubernetes targets, checked by the real tools: `docker compose config -q` and
`kubernetes-validate --strict` (core kinds; custom resources such as LeaderWorkerSet have no schema there)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from llmc import targets
from llmc.artifacts import write_atomically
from tests.support import plans
from tests.support.example_plans import all_example_plans
from tests.support.tools import compose_binary

WITH_COMPOSE = ["vllm_tp2_speculative", "llamacpp_70b_row_split", "ollama_gemma", "sglang_qwen"]
WITH_KUBERNETES = ["vllm_tp2_speculative", "ollama_gemma", "vllm_deepseek_two_nodes"]
CORE_KINDS = {"Deployment", "Service", "PersistentVolumeClaim"}


EXAMPLE_PLANS = all_example_plans()
EXAMPLES_WITH = {kind: sorted(n for n, p in EXAMPLE_PLANS.items()
                              if kind in p.emit or (kind == "kubernetes" and p.hardware.nodes > 1))
                 for kind in ("compose", "kubernetes")}


def build(name: str, directory: Path) -> Path:
    plan = plans.ALL[name]() if name in plans.ALL else EXAMPLE_PLANS[name]
    artifacts, diagnostics = targets.emit_all(plan)
    assert not [d for d in diagnostics if d.is_error]
    out = directory / name.replace("/", "_")
    write_atomically(out, artifacts)
    return out


def load(path: Path):
    return YAML(typ="safe").load(path.read_text())


@pytest.mark.parametrize("name", WITH_COMPOSE + EXAMPLES_WITH["compose"])
def test_docker_compose_accepts_the_file(name, tmp_path):
    out = build(name, tmp_path)
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(compose_binary()), "-f", str(out / "compose.yaml"), "config", "-q"],
                            capture_output=True, text=True, env=env, cwd=out)
    assert result.returncode == 0, result.stderr


def test_docker_compose_rejects_a_broken_file(tmp_path):
    """The validator is live: a GPU reservation without capabilities must fail."""
    out = build("vllm_tp2_speculative", tmp_path)
    text = (out / "compose.yaml").read_text().replace("capabilities: [gpu]", "capabilitiez: [gpu]")
    (out / "compose.yaml").write_text(text)
    result = subprocess.run([str(compose_binary()), "-f", str(out / "compose.yaml"), "config", "-q"],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, cwd=out)
    assert result.returncode != 0


@pytest.mark.parametrize("name", WITH_COMPOSE + EXAMPLES_WITH["compose"])
def test_compose_is_secure_and_pinned(name, tmp_path):
    doc = load(build(name, tmp_path) / "compose.yaml")
    (service,) = [svc for key, svc in doc["services"].items() if key != "model-download"]
    assert not service["image"].endswith(":latest") and ":" in service["image"]
    plan = plans.ALL[name]() if name in plans.ALL else EXAMPLE_PLANS[name]
    assert all(port.startswith(f"{plan.serving.host}:") for port in service["ports"])
    assert service["restart"] == "unless-stopped"
    assert service["healthcheck"]["start_period"] in ("600s", "120s")
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"] and devices[0]["count"] == plan.hardware.gpus_per_node
    text = (tmp_path / name.replace("/", "_") / "compose.yaml").read_text()
    assert "# " in text.split("services:", 1)[1]  # the non-obvious lines carry comments


def test_vllm_compose_uses_host_ipc_and_never_repeats_serve(tmp_path):
    doc = load(build("vllm_tp2_speculative", tmp_path) / "compose.yaml")
    service = doc["services"]["vllm"]
    assert service["ipc"] == "host"
    assert service["command"][0] == "Qwen/Qwen3-32B"
    assert service["secrets"] == ["api_key"] and doc["secrets"]["api_key"] == {"environment": "QWEN_API_KEY"}


def core_manifests(directory: Path) -> list[Path]:
    return [p for p in sorted((directory / "kubernetes").glob("*.yaml")) if load(p)["kind"] in CORE_KINDS]


@pytest.mark.parametrize("name", WITH_KUBERNETES + EXAMPLES_WITH["kubernetes"])
def test_kubernetes_validate_strict_accepts_core_manifests(name, tmp_path):
    manifests = core_manifests(build(name, tmp_path))
    assert manifests
    result = subprocess.run([str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "--quiet",
                             *map(str, manifests)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_rejects_an_unknown_field(tmp_path):
    out = build("vllm_tp2_speculative", tmp_path)
    path = out / "kubernetes" / "deployment.yaml"
    path.write_text(path.read_text().replace("  replicas: 1", "  replicas: 1\n  replicaz: 1"))
    result = subprocess.run([str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "--quiet",
                             str(path)], capture_output=True, text=True)
    assert result.returncode != 0


def test_single_node_kubernetes_has_probes_gpu_limits_and_a_cache_claim(tmp_path):
    out = build("vllm_tp2_speculative", tmp_path)
    deployment = load(out / "kubernetes" / "deployment.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 600
    claim = deployment["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert load(out / "kubernetes" / "pvc.yaml")["metadata"]["name"] == claim
    key = next(e for e in container["env"] if e["name"] == "VLLM_API_KEY")
    assert key["valueFrom"]["secretKeyRef"]["name"] == "qwen3-32b-agent-api-key"


def test_multi_node_vllm_is_a_leader_worker_set_with_ray(tmp_path):
    out = build("vllm_deepseek_two_nodes", tmp_path)
    assert sorted(p.name for p in (out / "kubernetes").iterdir()) == ["leaderworkerset.yaml", "service.yaml"]
    lws = load(out / "kubernetes" / "leaderworkerset.yaml")
    template = lws["spec"]["leaderWorkerTemplate"]
    assert lws["kind"] == "LeaderWorkerSet" and template["size"] == 2
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    worker = template["workerTemplate"]["spec"]["containers"][0]
    assert "leader --ray_cluster_size=$(LWS_GROUP_SIZE)" in leader["args"][0]
    assert "--distributed-executor-backend ray" in leader["args"][0]
    assert "--tensor-parallel-size 8 --pipeline-parallel-size 2" in leader["args"][0]
    assert "worker --ray_address=$(LWS_LEADER_ADDRESS)" in worker["args"][0]
    assert leader["resources"]["limits"]["nvidia.com/gpu"] == worker["resources"]["limits"]["nvidia.com/gpu"] == 8


def test_multi_node_plans_always_get_kubernetes():
    plan = plans.vllm_deepseek_two_nodes().model_copy(update={"emit": ()})
    paths = [a.path for a in targets.emit_all(plan)[0]]
    assert "kubernetes/leaderworkerset.yaml" in paths


def test_llama_cpp_packaging_downloads_the_pinned_gguf_before_the_server_starts(tmp_path):
    plan = plans.llamacpp_70b_row_split().model_copy(update={"emit": ("compose", "kubernetes")})
    plan = plan.model_copy(update={"model": plan.model.model_copy(update={"revision": "b6c5c9f1"})})
    artifacts, _ = targets.emit_all(plan)
    out = tmp_path / "b"
    write_atomically(out, artifacts)
    url = "https://huggingface.co/bartowski/Llama-3.3-70B-Instruct-GGUF/resolve/b6c5c9f1/Llama-3.3-70B-Instruct-Q4_K_M.gguf"
    compose = load(out / "compose.yaml")
    fetch = compose["services"]["model-download"]
    assert fetch["image"] == compose["services"]["llama-cpp"]["image"]  # the image's own curl, no extra image
    assert url in fetch["command"][0]
    assert compose["services"]["llama-cpp"]["depends_on"] == {
        "model-download": {"condition": "service_completed_successfully"}}
    init = load(out / "kubernetes" / "deployment.yaml")["spec"]["template"]["spec"]["initContainers"][0]
    script = init["args"][0]
    assert url in script
    (tmp_path / "fetch.sh").write_text(script)
    assert subprocess.run(["sh", "-n", str(tmp_path / "fetch.sh")]).returncode == 0
    model = "/models/bartowski/Llama-3.3-70B-Instruct-GGUF/Llama-3.3-70B-Instruct-Q4_K_M.gguf"
    assert model in compose["services"]["llama-cpp"]["command"]
