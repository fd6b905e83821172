"""Measured runs fed back into the speed model: corrections to a runtime's efficiency on a device.

A record (written by `llmc smoke --record` and `llmc tune`, one JSON line) carries what the plan predicted,
what the run measured, and the parts of the prediction: the decode step's and the prefill's seconds of
memory traffic, host traffic, FLOPs and fixed costs, as the prior (uncalibrated) model priced them. A
correction scales the device bandwidth the runtime achieves, the FLOPs it achieves, its fixed costs (per
step, per layer and per request), and the host bandwidth of layers left in host RAM; and, from the bytes the
runs' logs showed, the compute buffers of the same setup (compute_memory). FLOPs are two
factors where the device runs two kinds of kernel: GEMMs (prefill, large batches) and matrix-vector products
(a CPU's decode of a few sequences: ggml's vec_dot, estimate/speed.py), whose efficiencies differ and are
learnt apart, so a run's prompt does not move the prediction of its decode. Under a correction k a step's
parts become max(memory / k_bw + host / k_host, compute / k_fl) + vector / k_vec + fixed x k_ov (matrix-vector
kernels do not overlap the reads they follow: StepModel.time), so each record says what every k would have
predicted for it. The fit is the maximum a posteriori k: squared log
errors of TTFT and TPOT over the matching records, plus a log-normal prior centred on the published fit
(k = 1, PRIOR_SIGMA wide), so a factor the records cannot see (the fixed costs of a run whose steps are all
memory; the host bandwidth of a run with every layer on the GPU) stays where the published rows put it. The
minimum is found by a pattern search in log k (Hooke-Jeeves: a step along each factor, halved when none
helps): deterministic, a few hundred evaluations.

Records match a plan at the most specific level that has any: the same runtime release, device and model
shape; the same runtime (or one priced by the same fit: Ollama runs llama.cpp's kernels) and device; the
same runtime and device class. The error band comes from the residuals: the published band for no runs,
narrowing towards the residuals' size as agreeing runs add up (sqrt((prior^2 + n x rms^2) / (n + 1))). A
device-class match is weak evidence for another device: it counts as one run however many it has, and its
factors go half way (in log) from the published fit to the fit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

from ..runtimes import UnknownRuntime, profile

CALIBRATION_SCHEMA = "llmc.calibration/1"
# The published rows' relative band on a speed figure (docs/accuracy.md): the prior's width.
PRIOR_BAND = 0.25
# Prior on log k: one sigma is a factor e^0.7 ~ 2 from the published fit. The observation noise of one
# figure of one run is taken as 10% (run-to-run spread of smoke's medians on this machine's CPU).
PRIOR_SIGMA, NOISE_SIGMA = 0.7, 0.10
# A bandwidth measured on the host itself (`llmc detect`, Key.bandwidth_basis) is known better than a
# datasheet's: one sigma ~20%, the spread of detect's figure between runs on this machine's CPU (24-32 GB/s).
MEASURED_BANDWIDTH_SIGMA = 0.2
MAX_LOG_FACTOR = math.log(50.0)   # no correction beyond 50x either way: a record that far off is not this setup
FACTORS = ("bandwidth", "compute", "vector", "overhead", "host")
ONE = (1.0,) * len(FACTORS)
LEVELS = ("this setup", "this device", "this device class")
FIGURES = ("tpot_s", "ttft_s")
PREDICTED = (*FIGURES, "unloaded_tpot_s", "unloaded_ttft_s")


@dataclass(frozen=True)
class Key:
    """What a record was measured on, and what a plan would be: the matching levels compare these."""

    runtime: str
    version: str
    device: str          # "RTX 4090" or the CPU host as stated: "cpu: 2 cores, avx2 avx512, 18.9 GB/s"
    device_class: str    # the GPU's class (consumer, datacenter, ...) or "cpu"
    shape: str           # the model's architecture and kind: "gemma3 dense", "qwen3moe moe"
    bandwidth_basis: str = "peak"   # "measured": the device's bandwidth is a sustained read measured on it

    def matches(self, other: Key, level: str) -> bool:
        if level == "this setup":
            return (self.runtime, self.version, self.device, self.shape) == \
                (other.runtime, other.version, other.device, other.shape)
        same = same_kernels(self.runtime, other.runtime)
        if level == "this device":
            return same and self.device == other.device
        return same and self.device_class == other.device_class

    def to_dict(self) -> dict:
        return {"runtime": self.runtime, "version": self.version, "device": self.device,
                "device_class": self.device_class, "shape": self.shape, "bandwidth_basis": self.bandwidth_basis}

    @property
    def prior_sigmas(self) -> tuple[float, ...]:
        """The prior's width on each factor (FACTORS order)."""
        bandwidth = MEASURED_BANDWIDTH_SIGMA if self.bandwidth_basis == "measured" else PRIOR_SIGMA
        return (bandwidth,) + (PRIOR_SIGMA,) * (len(FACTORS) - 1)


def same_kernels(a: str, b: str) -> bool:
    """Runtimes priced by one efficiency fit run the same kernels (Ollama is llama.cpp underneath): a run of
    either corrects both on a device."""
    if a == b:
        return True
    try:
        return profile(a).efficiency == profile(b).efficiency
    except UnknownRuntime:
        return False


def step_seconds(reads: float, gemm: float, vector: float, rest: float) -> float:
    """A step from its parts: GEMM FLOPs overlap the memory reads (the larger of the two counts), the dot
    products of matrix-vector kernels follow the reads they need (a CPU core streams a row, then dots it), and
    communication and fixed costs add."""
    return max(reads, gemm) + vector + rest


@dataclass(frozen=True)
class Parts:
    """A step's seconds as the prior model priced them: memory traffic on the device, host traffic (layers
    left in host RAM), FLOPs in GEMMs and in matrix-vector kernels, and fixed costs (per step, per layer, per
    request); plan.StepParts in the plan."""

    memory_s: float
    host_s: float
    compute_s: float
    fixed_s: float
    comm_s: float = 0.0     # between GPUs: the link's, not the runtime's, so no factor scales it
    vector_s: float = 0.0   # FLOPs in matrix-vector kernels (older records count them in compute_s)

    def time(self, k: tuple[float, ...]) -> float:
        bandwidth, compute, vector, overhead, host = k
        return step_seconds(self.memory_s / bandwidth + self.host_s / host, self.compute_s / compute,
                            self.vector_s / vector, self.comm_s + self.fixed_s * overhead)


@dataclass(frozen=True)
class Record:
    key: Key
    parts: dict[str, Parts]                 # "decode", "prefill"
    applied: tuple[float, ...]              # the correction the plan was built with (FACTORS)
    predicted: dict[str, float]             # ttft_s, tpot_s (and unloaded_*) as the plan said (under `applied`)
    measured: dict[str, float]
    output_tokens: int = 1                  # per request, in the run's workload
    origin: str = ""                        # "smoke" or "tune", and the deployment
    # the compute buffers (llama.cpp's graph buffers, vLLM's activation peak) as the uncorrected model put
    # them and as the run's log showed them, summed over devices; None when the run did not read them
    compute_bytes: tuple[float, float] | None = None

    def predict(self, figure: str, k: tuple[float, ...] = ONE) -> float | None:
        """What a plan built under correction k would have said of this run's figure (k = 1: the prior).

        Under load a figure is more than its step. A TPOT is taken to scale as the decode step does: what the
        simulation adds for other requests' prompts joining the batch depends on how the users fall into step
        with each other, which real closed-loop runs do more than the simulation (estimate/serving.py), so
        it is not scaled as prefill. A TTFT also waits in the queue for whole requests, which scale as their
        prefill and decode together."""
        said = self.predicted.get(figure)
        decode, prefill = self.parts.get("decode"), self.parts.get("prefill")
        if not said or decode is None or prefill is None or min(decode.time(self.applied),
                                                                prefill.time(self.applied)) <= 0:
            return None
        rd = decode.time(k) / decode.time(self.applied)
        rp = prefill.time(k) / prefill.time(self.applied)
        tpot = self.predicted.get("unloaded_tpot_s") or self.predicted.get("tpot_s") or 0.0
        ttft = self.predicted.get("unloaded_ttft_s") or self.predicted.get("ttft_s") or 0.0
        if figure == "tpot_s":
            return said * rd
        decoding = max(0, self.output_tokens - 1) * tpot
        rm = (ttft * rp + decoding * rd) / max(ttft + decoding, 1e-12)
        return ttft * rp + max(0.0, said - ttft) * rm


@dataclass(frozen=True)
class Correction:
    """Scales of the runtime's bandwidth, GEMM and matrix-vector FLOPs, fixed costs and host bandwidth on a
    device, from `runs` matching records."""

    bandwidth: float = 1.0
    compute: float = 1.0
    vector: float = 1.0
    overhead: float = 1.0
    host: float = 1.0
    compute_memory: float = 1.0   # the compute buffers' scale (memory, not speed: not among FACTORS)
    band: float = PRIOR_BAND
    runs: int = 0
    level: str = ""
    residual: float = 0.0     # relative RMS error of the fitted figures

    @property
    def factors(self) -> tuple[float, ...]:
        return (self.bandwidth, self.compute, self.vector, self.overhead, self.host)

    @property
    def calibrated(self) -> bool:
        return self.runs > 0


PRIOR = Correction()


@dataclass
class Calibration:
    """The records a build may learn from, and the corrections fitted from them (each key fitted once)."""

    records: tuple[Record, ...] = ()
    sources: tuple[str, ...] = ()      # the files they came from
    _fits: dict[Key, Correction] = field(default_factory=dict, repr=False)

    def correction(self, key: Key) -> Correction:
        found = self._fits.get(key)
        if found is None:
            found = self._fits[key] = self._fit(key)
        return found

    def matching(self, key: Key) -> tuple[str, list[Record]]:
        for level in LEVELS:
            chosen = [r for r in self.records if r.key.matches(key, level)]
            if chosen:
                return level, chosen
        return "", []

    def _fit(self, key: Key) -> Correction:
        level, chosen = self.matching(key)
        if not chosen:
            return PRIOR
        fitted = replace(fit(chosen, key.prior_sigmas), compute_memory=compute_memory(chosen, level))
        runs = len(chosen)
        if level == "this device class":   # other devices of the class: weak evidence for this one
            runs = 1
            fitted = replace(fitted, **{f: round(math.sqrt(getattr(fitted, f)), 4) for f in FACTORS})
        return replace(fitted, runs=len(chosen), level=level,
                       band=round(math.sqrt((PRIOR_BAND ** 2 + runs * fitted.residual ** 2) / (runs + 1)), 4))


def compute_memory(records: list[Record], level: str) -> float:
    """The compute buffers' scale: the geometric mean of measured / modelled over runs of this setup (the
    same runtime release, device and model; the logs give the bytes exactly, but another model's graph is
    another graph), 1 without any."""
    ratios = [measured / modelled for modelled, measured in (r.compute_bytes for r in records if r.compute_bytes)
              if modelled > 0 and measured > 0] if level == "this setup" else []
    if not ratios:
        return 1.0
    return round(math.exp(sum(math.log(x) for x in ratios) / len(ratios)), 4)


def fit(records: list[Record], sigmas: tuple[float, ...] = (PRIOR_SIGMA,) * len(FACTORS)) -> Correction:
    """The MAP correction for these records (module docstring), under a prior `sigmas` wide on each factor."""
    observations = [(r, figure, math.log(r.measured[figure])) for r in records for figure in FIGURES
                    if r.measured.get(figure) and r.predict(figure)]
    if not observations:
        return PRIOR
    weights = [(NOISE_SIGMA / sigma) ** 2 for sigma in sigmas]

    def errors(theta: tuple[float, ...]) -> list[float]:
        k = tuple(math.exp(t) for t in theta)
        return [y - math.log(r.predict(figure, k)) for r, figure, y in observations]

    def cost(theta: tuple[float, ...]) -> float:
        return sum(e * e for e in errors(theta)) + sum(w * t * t for w, t in zip(weights, theta))

    best = (0.0,) * len(FACTORS)
    best_cost, step = cost(best), 0.5
    while step > 1e-3:
        moved = False
        for i in range(len(best)):
            for sign in (1, -1):
                trial = best[:i] + (best[i] + sign * step,) + best[i + 1:]
                trial_cost = cost(trial) if abs(trial[i]) <= MAX_LOG_FACTOR else math.inf
                if trial_cost < best_cost - 1e-12:
                    best, best_cost, moved = trial, trial_cost, True
        if not moved:
            step /= 2
    left = errors(best)
    residual = math.expm1(math.sqrt(sum(e * e for e in left) / len(left)))
    k = {f: round(math.exp(t), 4) for f, t in zip(FACTORS, best)}
    return Correction(**k, residual=round(residual, 4))


def parse_record(data: dict) -> Record | None:
    """A record as written (`record_line`); None for a line of another schema or an older smoke record
    without the parts a fit needs."""
    if data.get("schema") != CALIBRATION_SCHEMA:
        return None
    try:
        key = Key(**data["key"])
        parts = {name: Parts(**value) for name, value in data["parts"].items()}
        applied = tuple(float(data["applied"].get(f, 1.0)) for f in FACTORS)   # a factor added since: 1
        predicted = {f: float(data["predicted"][f]) for f in PREDICTED if data["predicted"].get(f)}
        measured = {f: float(data["measured"][f]) for f in FIGURES if data["measured"].get(f)}
        output = int(data.get("workload", {}).get("output_tokens", 1))
        compute = _compute_bytes(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    origin = " of ".join(str(data[f]) for f in ("origin", "deployment") if data.get(f))
    return Record(key, parts, applied, predicted, measured, output, origin, compute)


def _compute_bytes(data: dict) -> tuple[float, float] | None:
    """(modelled without the applied scale, measured) compute-buffer bytes of a record, if it has both."""
    modelled, seen = data["predicted"].get("compute_bytes"), data["measured"].get("compute_bytes")
    if not modelled or not seen:
        return None
    return float(modelled) / float(data["applied"].get("compute_memory", 1.0)), float(seen)


def parse_line(line: str) -> Record | None:
    """One line of a record file as a record, or None (not JSON, not an object, not a record a fit uses)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    return parse_record(data) if isinstance(data, dict) else None


def parse_lines(text: str) -> tuple[list[Record], int]:
    """The records of a JSON-lines file, and how many lines were not records llmc can fit from."""
    parsed = [parse_line(line) for line in text.splitlines() if line.strip()]
    records = [r for r in parsed if r is not None]
    return records, len(parsed) - len(records)
