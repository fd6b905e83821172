"""Memory as the runtime reports it, and per GPU through NVML, set beside the plan's prediction.

Sources:
  - llama-server: the buffer lines it prints at load with `-lv 4` (parsed by llmc.estimate.llama_log):
    model buffers are weights, KV (and RS) buffers the KV cache, compute and output buffers the
    compute scratch; a buffer named CUDA0/ROCm1/... belongs to that GPU, CPU* and *_Host buffers to
    host memory. When the file is memory-mapped, a CPU_REPACK model buffer holds re-laid-out copies
    of tensors whose bytes are already inside the CPU_Mapped range, so it is not added to weights
    (it is listed in smoke.json's runtime buffers).
  - vLLM: the startup lines "Model loading took X GiB", "Available KV cache memory: X GiB" and
    "GPU KV cache size: N tokens" (per rank), and /metrics `vllm:cache_config_info` (blocks x block size).
  - NVML (pynvml): used memory per GPU, sampled while the server runs, minus what was used before it started.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from ..estimate.llama_log import MIB, parse_llama_log
from ..plan import DeviceMemory, Plan
from ..runtimes import profile

GIB = 1024**3
LLAMA_RESOLUTION = 0.005 * MIB   # llama.cpp prints MiB with two decimals
VLLM_RESOLUTION = 0.005 * GIB    # vLLM prints GiB with two decimals
NVML_SAMPLE_S = 0.5
LLAMA_SOURCE = "llama-server log (-lv 4 buffer lines)"
# Weights and KV are exact arithmetic and each must be within the band; the compute buffer is a model
# of ggml-alloc's peak, judged inside the device's buffer total (and shown beside its prediction).
EXACT_PARTS = ("weights", "kv_cache")
# The output buffer (logits) is counted with compute, as llmc.estimate.memory plans it.
LLAMA_PARTS = {"model": "weights", "KV": "kv_cache", "RS": "kv_cache", "compute": "compute", "output": "compute"}

_VLLM_WEIGHTS = re.compile(r"Model loading took ([0-9.]+) GiB")
_VLLM_KV = re.compile(r"Available KV cache memory: ([0-9.]+) GiB")
_VLLM_TOKENS = re.compile(r"GPU KV cache size: ([0-9,]+) tokens")
_VLLM_CACHE_INFO = re.compile(r"^vllm:cache_config_info\{([^}]*)\}", re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class MemoryFigure:
    """One measured quantity beside the plan's prediction for it."""

    device: str            # "cpu" | "gpu0" ...
    part: str              # weights | kv_cache | compute | total | kv_tokens
    predicted: float
    measured: float | None
    tolerance: float       # allowed |measured - predicted|
    unit: str              # bytes | tokens
    source: str
    gating: bool = True    # False: shown beside its prediction, judged only inside its device's total

    @property
    def low(self) -> float:
        return self.predicted - self.tolerance

    @property
    def high(self) -> float:
        return self.predicted + self.tolerance

    @property
    def within(self) -> bool:
        return self.measured is not None and self.low <= self.measured <= self.high


def device_key(buffer_device: str) -> str:
    """'CUDA0' -> 'gpu0'; 'CPU', 'CPU_Mapped', 'CUDA_Host' -> 'cpu'."""
    if buffer_device.upper().startswith("CPU") or buffer_device.endswith("_Host"):
        return "cpu"
    digits = re.search(r"(\d+)$", buffer_device)
    return f"gpu{digits.group(1)}" if digits else "cpu"


def plan_devices(plan: Plan) -> dict[str, DeviceMemory]:
    """The plan's devices under the keys the measurements use: gpu0, gpu1, ... in order, and cpu."""
    out: dict[str, DeviceMemory] = {}
    gpus = 0
    for dev in plan.memory.devices:
        if dev.kind == "gpu":
            out[f"gpu{gpus}"] = dev
            gpus += 1
        else:
            out["cpu"] = dev
    return out


def _tolerance(plan: Plan, predicted: float, resolution: float) -> float:
    return max(plan.memory.error_band * predicted, resolution)


def llama_figures(plan: Plan, log_text: str) -> list[MemoryFigure]:
    """Weights, KV cache and compute per device from llama-server's buffer lines."""
    log = parse_llama_log(log_text)
    mapped = any(b.kind == "model" and b.device.endswith("_Mapped") for b in log.buffers)
    measured: dict[tuple[str, str], int] = {}
    for buf in log.buffers:
        part = LLAMA_PARTS.get(buf.kind)
        if part is None or (mapped and part == "weights" and buf.device.endswith("_REPACK")):
            continue
        key = (device_key(buf.device), part)
        measured[key] = measured.get(key, 0) + buf.bytes
    figures = []
    for key, dev in plan_devices(plan).items():
        parts = [(p, pred, measured.get((key, p))) for p, pred in (("weights", dev.weights_bytes),
                 ("kv_cache", dev.kv_cache_bytes), ("compute", dev.compute_bytes))]
        parts = [(p, pred, value) for p, pred, value in parts if pred or value is not None]
        for part, predicted, value in parts:
            figures.append(MemoryFigure(key, part, predicted, value, _tolerance(plan, predicted, LLAMA_RESOLUTION),
                                        "bytes", LLAMA_SOURCE, gating=part in EXACT_PARTS))
        if parts:
            predicted = sum(pred for _, pred, _ in parts)
            values = [value for _, _, value in parts]
            value = None if None in values else sum(values)
            figures.append(MemoryFigure(key, "buffers", predicted, value,
                                        _tolerance(plan, predicted, LLAMA_RESOLUTION * len(parts)), "bytes",
                                        LLAMA_SOURCE + ": weights + KV + compute"))
    return figures


def _last_float(pattern: re.Pattern, text: str) -> float | None:
    found = pattern.findall(text)
    return float(found[-1].replace(",", "")) if found else None


def vllm_figures(plan: Plan, log_text: str, metrics_text: str) -> list[MemoryFigure]:
    """Weights and KV cache of GPU 0 from vLLM's startup lines, KV tokens from the log or /metrics."""
    figures = []
    gpu0 = plan_devices(plan).get("gpu0")
    if gpu0 is not None:
        for part, pattern, predicted in (("weights", _VLLM_WEIGHTS, gpu0.weights_bytes),
                                         ("kv_cache", _VLLM_KV, gpu0.kv_cache_bytes)):
            gib = _last_float(pattern, log_text)
            figures.append(MemoryFigure("gpu0", part, predicted, None if gib is None else gib * GIB,
                                        _tolerance(plan, predicted, VLLM_RESOLUTION), "bytes", "vLLM startup log"))
    if plan.memory.kv_tokens_capacity:
        tokens = _last_float(_VLLM_TOKENS, log_text)
        source = "vLLM startup log"
        if tokens is None:
            tokens, source = vllm_metrics_tokens(metrics_text), "vLLM /metrics cache_config_info"
        predicted = plan.memory.kv_tokens_capacity
        figures.append(MemoryFigure("all", "kv_tokens", predicted, tokens, _tolerance(plan, predicted, 16),
                                    "tokens", source))
    return figures


def vllm_metrics_tokens(metrics_text: str) -> float | None:
    m = _VLLM_CACHE_INFO.search(metrics_text or "")
    if not m:
        return None
    labels = dict(_LABEL.findall(m.group(1)))
    try:
        return float(int(labels["num_gpu_blocks"]) * int(labels["block_size"]))
    except (KeyError, ValueError):
        return None


def runtime_figures(plan: Plan, log_text: str, metrics_text: str = "") -> list[MemoryFigure]:
    how = profile(plan.runtime.name).memory_log
    if how == "llama-buffers":
        return llama_figures(plan, log_text)
    if how == "vllm-lines":
        return vllm_figures(plan, log_text, metrics_text)
    return []


def runtime_memory(plan: Plan, log_text: str) -> dict:
    """What the runtime itself printed about memory, line by line (for smoke.json)."""
    if profile(plan.runtime.name).memory_log == "llama-buffers":
        log = parse_llama_log(log_text)
        return {"buffers": [{"kind": b.kind, "buffer": b.device, "mib": b.mib} for b in log.buffers],
                "kv_caches": [{"mib": k.mib, "cells": k.cells, "layers": k.layers, "seqs": k.seqs,
                               "k_type": k.k_type, "v_type": k.v_type} for k in log.kv_caches],
                "params": dict(sorted(log.params.items()))}
    found = {name: pattern.findall(log_text) for name, pattern in
             (("model_loading_gib", _VLLM_WEIGHTS), ("available_kv_gib", _VLLM_KV), ("kv_cache_tokens", _VLLM_TOKENS))}
    return {name: [float(v.replace(",", "")) for v in values] for name, values in found.items()}


def prometheus_values(text: str, names: tuple[str, ...]) -> dict[str, float]:
    """The unlabelled samples of the named metrics from a Prometheus text page."""
    out: dict[str, float] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return out


# --- NVML ------------------------------------------------------------------------------------------


class GpuSampler:
    """Peak used memory per GPU while the server runs, over a baseline taken before it started.

    Without an NVIDIA driver (or GPU) `available` is False and `reason` says why; nothing fails.
    """

    def __init__(self) -> None:
        self.available = False
        self.reason = ""
        self.names: list[str] = []
        self.baseline: list[int] = []
        self.peak: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._nvml = None
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
        except Exception as exc:  # pynvml raises NVMLError_* subclasses, or ImportError without the package
            self.reason = f"no NVIDIA GPU/driver found ({type(exc).__name__})"
            return
        if count == 0:
            self.reason = "NVML found no GPUs"
            return
        self._nvml = pynvml
        self.available = True
        self.names = [self._name(i) for i in range(count)]
        self.baseline = self._used()
        self.peak = list(self.baseline)

    def _name(self, index: int) -> str:
        name = self._nvml.nvmlDeviceGetName(self._nvml.nvmlDeviceGetHandleByIndex(index))
        return name.decode() if isinstance(name, bytes) else str(name)

    def _used(self) -> list[int]:
        nv = self._nvml
        return [int(nv.nvmlDeviceGetMemoryInfo(nv.nvmlDeviceGetHandleByIndex(i)).used) for i in range(len(self.names))]

    def start(self) -> None:
        if self.available:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(NVML_SAMPLE_S):
            self.sample()

    def sample(self) -> None:
        if self.available:
            self.peak = [max(p, u) for p, u in zip(self.peak, self._used())]

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        if self.available:
            self.sample()
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass

    def used_by_run(self) -> list[int]:
        return [max(0, p - b) for p, b in zip(self.peak, self.baseline)]

    def figures(self, plan: Plan) -> list[MemoryFigure]:
        """Per-GPU total used by the run against each planned GPU's total."""
        if not self.available:
            return []
        used = self.used_by_run()
        figures = []
        for key, dev in plan_devices(plan).items():
            if not key.startswith("gpu"):
                continue
            index = int(key[3:])
            value = used[index] if index < len(used) else None
            figures.append(MemoryFigure(key, "total", dev.total_bytes, value, _tolerance(plan, dev.total_bytes, MIB),
                                        "bytes", "NVML used memory (peak - baseline)"))
        return figures

    def describe(self) -> dict:
        if not self.available:
            return {"available": False, "reason": self.reason}
        return {"available": True, "gpus": [
            {"index": i, "name": n, "baseline_bytes": b, "peak_bytes": p}
            for i, (n, b, p) in enumerate(zip(self.names, self.baseline, self.peak))]}
