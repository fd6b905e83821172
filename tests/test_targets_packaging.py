"""Compose and Kubernetes targets, checked by the real tools: `docker compose config -q` and
`kubernetes-validate --strict` (core kinds; a LeaderWorkerSet has no schema there, so its pod templates are
validated as core PodTemplates and the rest of its shape is tested directly)."""

from __future__ import annotations

import json
import math
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
GIB = 2**30
CORE_KINDS = {"Deployment", "Service", "PersistentVolumeClaim", "Job"}


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


@pytest.mark.parametrize("name", ["vllm_tp2_speculative", "sglang_qwen"])
def test_hub_runtimes_get_hf_token_from_the_environment_in_compose(name, tmp_path):
    """vLLM and SGLang download from the Hub themselves: HF_TOKEN is interpolated when the stack starts."""
    out = build(name, tmp_path)
    service = next(svc for svc in load(out / "compose.yaml")["services"].values())
    assert service["environment"]["HF_TOKEN"] == "${HF_TOKEN:-}"
    for token in ("hf_secret", ""):
        result = subprocess.run([str(compose_binary()), "-f", str(out / "compose.yaml"), "config", "--format", "json"],
                                capture_output=True, text=True, cwd=out,
                                env={"PATH": "/usr/bin:/bin", "HF_TOKEN": token, "QWEN_API_KEY": "k"})
        assert result.returncode == 0, result.stderr
        [config] = json.loads(result.stdout)["services"].values()
        assert config["environment"]["HF_TOKEN"] == token
    assert "hf_secret" not in (out / "compose.yaml").read_text()


def core_manifests(directory: Path) -> list[Path]:
    return [p for p in sorted((directory / "kubernetes").glob("*.yaml")) if load(p)["kind"] in CORE_KINDS]


def kubernetes_validate(paths: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "--quiet",
                           *map(str, paths)], capture_output=True, text=True)


@pytest.mark.parametrize("name", WITH_KUBERNETES + EXAMPLES_WITH["kubernetes"])
def test_kubernetes_validate_strict_accepts_core_manifests(name, tmp_path):
    manifests = core_manifests(build(name, tmp_path))
    assert manifests
    result = kubernetes_validate(manifests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_strict_accepts_the_leader_worker_set_pod_templates(tmp_path):
    """Each LeaderWorkerSet template is a core PodTemplateSpec: wrapped in a v1 PodTemplate, the schema checks it."""
    lws = load(build("vllm_deepseek_two_nodes", tmp_path) / "kubernetes" / "leaderworkerset.yaml")
    paths = []
    for role in ("leaderTemplate", "workerTemplate"):
        doc = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": role.lower()},
               "template": lws["spec"]["leaderWorkerTemplate"][role]}
        paths.append(tmp_path / f"{role}.yaml")
        YAML().dump(doc, paths[-1])
    result = kubernetes_validate(paths)
    assert result.returncode == 0, result.stdout + result.stderr
    doc["template"]["spec"]["containerz"] = []  # the validator is live for these documents too
    YAML().dump(doc, paths[-1])
    assert kubernetes_validate(paths[-1:]).returncode != 0


def test_kubernetes_validate_rejects_an_unknown_field(tmp_path):
    out = build("vllm_tp2_speculative", tmp_path)
    path = out / "kubernetes" / "deployment.yaml"
    path.write_text(path.read_text().replace("  replicas: 1", "  replicas: 1\n  replicaz: 1"))
    result = subprocess.run([str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "--quiet",
                             str(path)], capture_output=True, text=True)
    assert result.returncode != 0


def startup_window(container) -> int:
    return container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"]


def test_single_node_kubernetes_has_probes_gpu_limits_and_a_cache_claim(tmp_path):
    out = build("vllm_tp2_speculative", tmp_path)
    deployment = load(out / "kubernetes" / "deployment.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)
    weights = 2 * 31 * GIB  # the plan's two shards: downloaded, then read, at 125 MiB/s after 600 s to start
    assert startup_window(container) >= 600 + 2 * weights / (125 * 2**20)
    # cpu: 2 x (2 + N) vCPUs for N GPUs (vLLM's docs); memory: the weights through the page cache + 2 GiB a process
    assert container["resources"]["requests"] == {"cpu": 8, "memory": f"{62 + 2 * 4}Gi", "ephemeral-storage": "20Gi"}
    claim = deployment["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert load(out / "kubernetes" / "pvc.yaml")["metadata"]["name"] == claim
    key = next(e for e in container["env"] if e["name"] == "VLLM_API_KEY")
    assert key["valueFrom"]["secretKeyRef"]["name"] == "qwen3-32b-agent-api-key"


def test_multi_node_vllm_is_a_leader_worker_set_with_ray(tmp_path):
    out = build("vllm_deepseek_two_nodes", tmp_path)
    assert sorted(p.name for p in (out / "kubernetes").iterdir()) == [
        "download-job.yaml", "leaderworkerset.yaml", "pvc.yaml", "service.yaml"]
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


def test_multi_node_weights_are_downloaded_once_onto_a_shared_claim(tmp_path):
    """One Job fills a ReadWriteMany claim that every pod of the group mounts; the pods wait for it in an
    init container, so the leader's startupProbe (sized to read the weights) and RecreateGroupOnPodRestart
    never race a 672 GiB download."""
    out = build("vllm_deepseek_two_nodes", tmp_path) / "kubernetes"
    pvc, job = load(out / "pvc.yaml"), load(out / "download-job.yaml")
    template = load(out / "leaderworkerset.yaml")["spec"]["leaderWorkerTemplate"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == f"{math.ceil(672 * 1.25) + 5}Gi"
    job_pod = job["spec"]["template"]["spec"]
    [fetch] = job_pod["containers"]
    assert fetch["image"] == "vllm/vllm-openai:v0.33.0" and fetch["command"] == ["python3", "-c"]
    assert fetch["args"][2:] == ["deepseek-ai/DeepSeek-V3.1", ""]
    marker = fetch["args"][1]
    assert job_pod["volumes"] == [{"name": "model-cache", "persistentVolumeClaim": {"claimName": "deepseek-v31-cache"}}]
    for role in ("leaderTemplate", "workerTemplate"):
        pod = template[role]["spec"]
        assert pod["volumes"][0] == job_pod["volumes"][0]  # no emptyDir: one copy for every node
        [wait] = pod["initContainers"]
        assert wait["args"][1] == marker and pod["containers"][0]["resources"]["requests"] == {
            "cpu": 20, "memory": f"{336 + 2 * 10}Gi", "ephemeral-storage": "20Gi"}
        token = next(e for e in pod["containers"][0]["env"] if e["name"] == "HF_TOKEN")
        assert token["valueFrom"]["secretKeyRef"] == {"name": "deepseek-v31-hf-token", "key": "token", "optional": True}
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    assert startup_window(leader) >= 600 + 672 * GIB / (125 * 2**20)  # read once, after 600 s to start
    text = (out / "leaderworkerset.yaml").read_text()
    assert text.count("name one with hardware.interface") == 2  # a hint on the leader and the worker


def test_memory_requests_fit_the_node_the_spec_describes(tmp_path):
    plan = plans.vllm_deepseek_two_nodes()
    plan = plan.model_copy(update={"hardware": plan.hardware.model_copy(update={"host_memory_bytes": 256 * GIB})})
    artifacts, _ = targets.emit_all(plan)
    write_atomically(tmp_path / "b", artifacts)
    lws = load(tmp_path / "b" / "kubernetes" / "leaderworkerset.yaml")
    leader = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]
    assert leader["resources"]["requests"]["memory"] == f"{math.ceil(256 * 0.9)}Gi"  # what the kubelet can give


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
