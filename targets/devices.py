"""How a container reaches the plan's GPUs: per backend in Compose, per vendor's device plugin in Kubernetes."""

from __future__ import annotations

from ..plan import Plan

# Compose `devices:` per backend; CUDA goes through the NVIDIA runtime's device reservation instead.
# ROCm: the kernel driver (/dev/kfd) and the render nodes (/dev/dri), the process in the video group (vLLM 0.33
# docs/getting_started/installation/gpu.rocm.inc.md: --device /dev/kfd --device /dev/dri --group-add=video;
# ROCm/rocm-docs docs/install/docker-containers.rst: devices [/dev/kfd, /dev/dri]). Vulkan and Intel: the render
# nodes only (llama.cpp@0c1e57098 docs/build.md Vulkan in Docker, docs/docker.md Intel).
COMPOSE_DEVICES = {"rocm": ("/dev/kfd", "/dev/dri"), "vulkan": ("/dev/dri",), "sycl": ("/dev/dri",),
                   "xpu": ("/dev/dri",)}
COMPOSE_GROUPS = {"rocm": ("video",)}
# The resource each vendor's device plugin hands out (NVIDIA k8s-device-plugin; ROCm/k8s-device-plugin
# docs/index.md; intel/intel-device-plugins-for-kubernetes cmd/gpu_plugin/README.md, i915 driver).
K8S_GPU_RESOURCE = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu", "intel": "gpu.intel.com/i915"}


def no_image_reason(plan: Plan) -> str | None:
    """Why no container can run this plan (Metal: llama.cpp and Ollama run natively on macOS), or None."""
    if plan.runtime.image is not None:
        return None
    return (f"{plan.runtime.name} {plan.runtime.version} publishes no container image for {plan.runtime.backend}; "
            f"run the launch script on the host instead")


def k8s_gpu_resource(plan: Plan) -> str:
    return K8S_GPU_RESOURCE.get(plan.hardware.vendor or "nvidia", "nvidia.com/gpu")
