"""`llmc tune BUILD_DIR`: a short, bounded search of the runtime's settings on the target machine.

The runtime profile names what is worth searching (`RuntimeProfile.tunables`: llama.cpp -t, -ub, -ngl;
vLLM and SGLang their sequence cap and step token budget) and how far from the plan's value. Each trial is
the build with one setting changed, emitted by the targets into a scratch directory beside the build and
run by `llmc smoke` (the same launch, probe, load and teardown); the first trial is the build as planned,
and its run is recorded in the calibration store. The search is coordinate-wise: each setting in the
profile's order, its neighbours around the best so far. A trial counts when every request was answered and
the spec's latency targets hold; it wins when its mean request time (TTFT + (output - 1) x TPOT) beats the
best by more than the run-to-run noise (MARGIN). The settings the spec pinned are never searched.

The winner is written back into the build: its settings, the runtime's artifacts, and the measured figures
in plan.json and PLAN.md (`performance.measured`). The memory figures stay the plan's (a larger -ub grows
the compute buffer: smoke's memory checks say by how much).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..artifacts import write_atomically
from ..diagnostics import DiagnosticsError, error
from ..machine import usable_cores
from ..plan import Measured, Plan
from ..runtimes import profile
from ..runtimes.knobs import Tunable
from ..targets import emit_all, plan_artifacts
from . import codes
from .build_dir import load_plan
from .report import SmokeReport
from .run import SmokeOptions, run_smoke

MARGIN = 0.03          # a trial must beat the best by 3%: smoke's medians move about that much between runs
MAX_TRIALS = 8
GATING = ("started", "healthy", "answered", "ttft", "tpot", "throughput")


@dataclass
class Trial:
    settings: dict[str, int]
    report: SmokeReport | None = None
    why: str = ""               # why it does not count

    @property
    def request_s(self) -> float | None:
        if self.report is None or self.why:
            return None
        lat = self.report.latency
        ttft, tpot = lat.get("ttft_s", {}).get("mean"), lat.get("tpot_s", {}).get("mean")
        if ttft is None or tpot is None:
            return None
        return ttft + max(0, self.report.load.get("max_tokens", 1) - 1) * tpot


@dataclass
class TuneOptions:
    build_dir: Path
    timeout_s: float = 120.0        # per trial
    requests: int | None = None     # per trial
    max_trials: int = MAX_TRIALS
    record: bool = True
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    say: Callable[[str], None] = lambda text: None


@dataclass
class TuneResult:
    plan: Plan
    trials: list[Trial]
    best: Trial
    skipped: dict[str, str]         # setting -> why it was not searched
    written: bool = False


# ---------------------------------------------------------------------------- settings on a plan

def setting_value(plan: Plan, setting: str) -> int | None:
    """A tuned setting's value in the plan: a field of its settings, its parallelism or the plan itself."""
    for node in (plan.settings, plan.parallelism, plan):
        if setting in type(node).model_fields:
            return getattr(node, setting)
    raise KeyError(setting)


def with_settings(plan: Plan, values: Mapping[str, int]) -> Plan:
    update: dict = {}
    for setting, value in values.items():
        for name in ("settings", "parallelism"):
            node = update.get(name, getattr(plan, name))
            if setting in type(node).model_fields:
                update[name] = node.model_copy(update={setting: value})
                break
        else:
            update[setting] = value
    return plan.model_copy(update=update)


def neighbours(t: Tunable, value: int, cores: int) -> list[int]:
    """The values a trial tries besides `value`, nearest first."""
    if t.rule == "threads":
        options = [cores, max(1, cores // 2), max(1, cores - 1)]
    elif t.rule == "scale":
        options = [value // 2, value * 2]
    else:
        options = [value + 2, value - 2]
    return [v for v in dict.fromkeys(options) if v >= t.minimum and v != value]


def start_values(plan: Plan) -> tuple[dict[str, int], dict[str, str]]:
    """The planned value of every setting the runtime tunes, and why the others are left alone."""
    values, skipped = {}, {}
    for t in profile(plan.runtime.name).tunables:
        if t.setting in plan.pinned:
            skipped[t.setting] = "pinned by the spec"
            continue
        if t.needs_gpu and not plan.hardware.gpu:
            continue
        value = setting_value(plan, t.setting)
        value = t.default if value is None and t.rule != "threads" else value
        if value is None and t.rule == "threads":
            value = usable_cores()
        if value is None:
            skipped[t.setting] = "the plan leaves it to the runtime"
            continue
        values[t.setting] = int(value)
    return values, skipped


# ---------------------------------------------------------------------------- the search

def build_files(plan: Plan) -> tuple[list, list]:
    """Every file of the plan's build directory (none when a target fails), as `llmc build` writes them."""
    emitted, diagnostics = emit_all(plan)
    return (plan_artifacts(plan) + emitted if emitted else []), diagnostics


def tune(opts: TuneOptions) -> TuneResult:
    """Raises DiagnosticsError for an unusable build directory, or when the build as planned does not run."""
    build_dir = opts.build_dir.resolve()
    plan = load_plan(build_dir)
    start, skipped = start_values(plan)
    trials = [_trial(plan, build_dir, start, opts, record=opts.record)]
    best = trials[0]
    if best.request_s is None:
        raise DiagnosticsError([error(codes.E612, f"the build as planned did not pass its run: {best.why}",
                                      detail="llmc tune compares settings against the planned ones",
                                      help=f"run `llmc smoke {opts.build_dir}` and fix what it reports first")])
    tunables = {t.setting: t for t in profile(plan.runtime.name).tunables}
    for setting in start:
        for value in neighbours(tunables[setting], best.settings[setting], usable_cores()):
            if len(trials) >= opts.max_trials:
                break
            trial = _trial(plan, build_dir, {**best.settings, setting: value}, opts)
            trials.append(trial)
            if trial.request_s is not None and trial.request_s < best.request_s * (1 - MARGIN):
                best = trial
    result = TuneResult(plan, trials, best, skipped)
    if best is not trials[0]:
        _write_back(result, build_dir)
    return result


def _trial(plan: Plan, build_dir: Path, values: dict[str, int], opts: TuneOptions, record: bool = False) -> Trial:
    """The build with these settings, emitted beside it and smoke-tested; the scratch directory is removed."""
    trial = Trial(dict(values))
    scratch = build_dir.parent / f".{build_dir.name}.tune"
    shutil.rmtree(scratch, ignore_errors=True)
    candidate = with_settings(plan, values)
    artifacts, diagnostics = build_files(candidate)
    if not artifacts:
        trial.why = "; ".join(d.summary for d in diagnostics) or "nothing to run"
        return trial
    opts.say(f"trial {', '.join(f'{k}={v}' for k, v in values.items()) or 'as planned'}")
    try:
        write_atomically(scratch, artifacts)
        trial.report = run_smoke(SmokeOptions(build_dir=scratch, timeout_s=opts.timeout_s, requests=opts.requests,
                                              no_record=not record, origin="tune", env=opts.env))
    except DiagnosticsError as exc:
        trial.why = "; ".join(d.summary for d in exc.diagnostics)
        return trial
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [c.name for c in trial.report.checks if c.failed and c.name in GATING]
    trial.why = f"failed {', '.join(failed)}" if failed else ""
    return trial


def _write_back(result: TuneResult, build_dir: Path) -> None:
    """The winner's settings, artifacts and measured figures into the build (atomically, as a build)."""
    best, planned = result.best, result.trials[0]
    lat = best.report.latency
    measured = Measured(ttft_s=lat["ttft_s"]["p50"], tpot_s=lat["tpot_s"]["p50"],
                        throughput_tok_s=lat.get("throughput_tok_s", {}).get("measured"),
                        requests=best.report.load.get("requests", 0), trials=len(result.trials),
                        planned=planned.settings, chosen=best.settings,
                        source=f"llmc tune on the target: {len(result.trials)} trials of {result.plan.runtime.name} "
                               f"{result.plan.runtime.version}, medians of each trial's requests")
    plan = with_settings(result.plan, best.settings)
    plan = plan.model_copy(update={"performance": plan.performance.model_copy(update={"measured": measured})})
    files, _ = build_files(plan)
    if files:   # the trial's files were emitted from the same settings, so only a bug lands here
        write_atomically(build_dir, files)
        result.plan, result.written = plan, True
