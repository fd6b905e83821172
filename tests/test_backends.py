"""Non-CUDA hardware: each GPU record says which runtimes serve it and through what (ROCm, Vulkan, Metal ...);
plans pick a runtime that has a backend for the card, its image for that backend, and the device access the
backend needs. Compose files are checked with the real `docker compose config`, manifests with
kubernetes-validate."""

from __future__ import annotations

import subprocess

import pytest
from ruamel.yaml import YAML

from llmc import targets
from llmc.artifacts import write_atomically
from llmc.catalog import load_catalog
from llmc.driver import compile_file
from llmc.solve import solve
from tests.support.specs import deployment, spec_text
from tests.support.tools import compose_binary

from .test_targets_packaging import core_manifests, kubernetes_validate

CATALOG, _ = load_catalog()


def plan_for(gpu: str, body: str = ""):
    plan, diagnostics = solve(deployment(spec_text(f'    gpu = 1 x "{gpu}"', body=body)), CATALOG)
    return plan, diagnostics


def emitted(plan, tmp_path):
    artifacts, diagnostics = targets.emit_all(plan)
    assert not [d for d in diagnostics if d.is_error]
    write_atomically(tmp_path / "out", artifacts)
    return tmp_path / "out"


def test_every_gpu_names_a_backend_for_at_least_one_runtime():
    for gpu in CATALOG.gpus.values():
        assert any(backends for _, backends in gpu.backends), gpu.name
        if gpu.vendor != "nvidia":
            assert all("cuda" not in backends for _, backends in gpu.backends), gpu.name


def test_an_amd_card_is_served_through_rocm_with_the_rocm_image_and_its_devices(tmp_path):
    plan, _ = plan_for("Radeon RX 7900 XTX", "  runtime = vllm\n  emit = [compose, kubernetes]")
    assert plan.runtime.backend == "rocm" and plan.runtime.image == "vllm/vllm-openai-rocm:v0.33.0"
    out = emitted(plan, tmp_path)
    compose = YAML(typ="safe").load((out / "compose.yaml").read_text())
    [service] = [s for s in compose["services"].values() if "devices" in s]
    assert service["devices"] == ["/dev/kfd", "/dev/dri"] and service["group_add"] == ["video"]
    assert "deploy" not in service                       # no NVIDIA device reservation
    result = subprocess.run([str(compose_binary()), "-f", str(out / "compose.yaml"), "config", "-q"],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, cwd=out)
    assert result.returncode == 0, result.stderr
    deployment_yaml = (out / "kubernetes" / "deployment.yaml").read_text()
    assert "amd.com/gpu: 1" in deployment_yaml and "nvidia.com/gpu" not in deployment_yaml
    result = kubernetes_validate(core_manifests(out))
    assert result.returncode == 0, result.stdout + result.stderr


def test_llama_cpp_on_an_amd_card_uses_its_rocm_build():
    plan, _ = plan_for("Radeon RX 9070 XT", "  runtime = llama.cpp")
    assert plan.runtime.backend == "rocm" and plan.runtime.image.endswith(":server-rocm-b11312")


def test_a_runtime_without_a_backend_for_the_card_is_ruled_out_and_says_what_serves_it():
    plan, diagnostics = plan_for("Apple M4 Pro", "  runtime = vllm")
    assert plan is None
    [infeasible] = diagnostics
    text = infeasible.detail + (infeasible.help or "")
    assert "vllm has no backend for Apple M4 Pro" in text and "llama.cpp through metal" in text


def test_apple_silicon_runs_llama_cpp_natively_and_containers_are_not_offered():
    plan, _ = plan_for("Apple M4 Max")
    assert plan.runtime.name in ("llama.cpp", "ollama") and plan.runtime.backend == "metal"
    assert plan.runtime.image is None
    plan, diagnostics = plan_for("Apple M4 Max", "  emit = [compose]")
    assert plan is None and "drop `emit = [compose]`" in diagnostics[0].help


@pytest.mark.parametrize("gpu", ["MI300X", "Radeon RX 7900 XTX"])
def test_cuda_only_formats_are_not_planned_on_rocm(gpu):
    plan, diagnostics = plan_for(gpu, "  model = \"Qwen/Qwen3-8B\"\n  runtime = vllm\n  quantization = fp8")
    assert plan is None and "fp8 needs compute capability" in diagnostics[0].detail


def test_nvidia_plans_still_run_on_cuda():
    plan, _ = plan_for("RTX 4090", "  runtime = vllm")
    assert plan.runtime.backend == "cuda" and plan.runtime.image == "vllm/vllm-openai:v0.33.0"
