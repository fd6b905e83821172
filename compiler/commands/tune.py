"""`llmc tune BUILD_DIR`: search the runtime's settings near the plan's on this machine, keep the fastest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..catalog.tables import text_table
from ..diagnostics import DiagnosticsError
from ..driver import EXIT_FAILED, EXIT_INPUT, EXIT_OK
from ..runtimes import profile
from ..units import format_duration
from ._report import emit, out
from .smoke import _count, _seconds


def register(sub) -> None:
    p = sub.add_parser("tune", help="measure settings near the plan's with the real runtime; keep the fastest",
                       description="On the target machine: run the build as planned, then with each setting the "
                                   "runtime profile tunes moved one step (llama.cpp -t, -ub, -ngl; vLLM and SGLang "
                                   "their sequence cap and step token budget), each through `llmc smoke`. The "
                                   "fastest that meets the spec's targets is written back into BUILD_DIR with its "
                                   "measured figures; the planned run is recorded for calibration. Settings the "
                                   "spec pinned are left alone.")
    p.add_argument("build_dir", metavar="BUILD_DIR", type=Path, help="a directory written by `llmc build`")
    p.add_argument("--timeout", type=_seconds, default=120.0, metavar="S", help="seconds per trial (default 120)")
    p.add_argument("--requests", type=_count, default=None, metavar="N",
                   help="requests per trial (default: twice the workload's concurrency, at least 4)")
    p.add_argument("--max-trials", type=_trials, default=8, metavar="N", help="trials in all (default 8)")
    p.add_argument("--no-record", action="store_true", help="do not record the planned run for calibration")
    p.set_defaults(func=run)


def _trials(text: str) -> int:
    value = _count(text)
    if value > 64:
        raise argparse.ArgumentTypeError(f"{text!r}: at most 64 trials")
    return value


def run(args) -> int:
    from ..smoke.tune import TuneOptions, tune

    opts = TuneOptions(build_dir=args.build_dir, timeout_s=args.timeout, requests=args.requests,
                       max_trials=args.max_trials, record=not args.no_record,
                       say=lambda text: out(f"llmc tune: {text}\n", sys.stderr))
    try:
        result = tune(opts)
    except DiagnosticsError as exc:
        emit(exc.diagnostics, {})
        return EXIT_INPUT if any(d.code == "E601" for d in exc.diagnostics) else EXIT_FAILED
    out(report_text(result, args.build_dir))
    return EXIT_OK


def report_text(result, build_dir: Path) -> str:
    planned = result.trials[0]
    rows = []
    for t in result.trials:
        lat = t.report.latency if t.report else {}
        cell = lambda name: format_duration(lat[name]["mean"]) if lat.get(name, {}).get("mean") else "-"  # noqa: E731
        verdict = "best" if t is result.best else (t.why or "slower")
        rows.append((", ".join(f"{k}={v}" for k, v in t.settings.items()) or "as planned", cell("ttft_s"),
                     cell("tpot_s"), format_duration(t.request_s) if t.request_s else "-", verdict))
    lines = [f"llmc tune: {build_dir} ({len(result.trials)} trials; means over each trial's requests)", "",
             text_table(("settings", "TTFT", "TPOT", "request", "result"), rows).rstrip("\n")]
    lines += [f"not searched: {k} ({why})" for k, why in result.skipped.items()]
    if not result.written:
        lines += ["", "the planned settings are the fastest measured; the build is unchanged"]
        return "\n".join(lines) + "\n"
    gain = 1 - result.best.request_s / planned.request_s
    changed = {k: v for k, v in result.best.settings.items() if planned.settings.get(k) != v}
    names = {k.setting: k.name for k in profile(result.plan.runtime.name).knobs if k.pin}
    pins = " ".join(f"{names.get(k, k)} = {v}" for k, v in changed.items())
    lines += ["", f"{', '.join(f'{k} {planned.settings[k]} → {v}' for k, v in changed.items())}: requests "
                  f"{gain:.0%} faster; written into {build_dir} (plan.json `performance.measured`, PLAN.md, "
                  "the runtime's artifacts)",
              f"a rebuild plans again from the spec; to keep these, pin them: settings {{ {pins} }}"]
    return "\n".join(lines) + "\n"
