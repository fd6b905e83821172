"""A container's GPU reservation and image: whether it reserves a GPU, runs on one, names a release (E823, W824,
W837, W840 read it)."""

from __future__ import annotations

from ..names import split_image

HELP = ("compose: `deploy.resources.reservations.devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]` "
        "(or `gpus: all`); Kubernetes: `resources.limits: {nvidia.com/gpu: 1}`; docker run: `--gpus all`")


def unreserved(server) -> bool:
    c = server.container
    return c is not None and c.gpus is None and not c.gpus_all and not c.device_ids


def gpu_image(server) -> bool:
    """Whether the image runs on a GPU: a runtime with one image for all (Ollama) always; else a tag of the
    pin's GPU images (llama.cpp's `server-cuda-*`, `server-rocm-*`; not its CPU `server-*`)."""
    pin = server.runtime.pin
    if pin.gpu_tag is None:
        return True
    image = server.container.image
    tag = (split_image(image.text)[1] or "") if image is not None and image.text else ""
    gpu_tags = [pin.gpu_tag, *(ref.rpartition(":")[2] for _, ref in pin.backend_images)]
    return any(tag.startswith(t.rpartition("-")[0]) for t in gpu_tags)


def moving(image: str) -> bool:
    """An image whose tag names no release (`latest`, `nightly`, `server-cuda`, none at all): it moves on every
    pull; a digest pins it."""
    return "@sha256:" not in image and not names_release(split_image(image)[1] or "")


def names_release(tag: str) -> bool:
    return any(ch.isdigit() for ch in tag)


__all__ = ["HELP", "gpu_image", "moving", "names_release", "unreserved"]
