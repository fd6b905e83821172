"""The smoke report: checks (pass / fail / skip), predicted beside measured, as a table and as smoke.json.

smoke.json has sorted keys and no timestamps; the measured figures differ from run to run, the
layout does not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..diagnostics import Diagnostic
from ..explain import parallelism_text
from ..plan import Plan
from ..units import format_bytes, format_duration

SMOKE_SCHEMA = "llmc.smoke/1"
PASS, FAIL, SKIP, INFO = "pass", "fail", "skip", "info"   # info: shown beside the plan, not gated


@dataclass
class Check:
    name: str                   # started | healthy | answered | memory <device> <part> | ttft | tpot | ...
    status: str                 # pass | fail | skip | info
    detail: str = ""
    predicted: str = ""         # human text, e.g. "219.1 MiB (218.0-220.3 MiB)"
    measured: str = ""
    code: str | None = None     # the diagnostic code when it failed

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass
class SmokeReport:
    build_dir: str
    plan_choice: str
    runtime: str
    launch: dict = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    memory: list[dict] = field(default_factory=list)
    latency: dict = field(default_factory=dict)
    load: dict = field(default_factory=dict)
    gpu: dict = field(default_factory=dict)
    runtime_metrics: dict = field(default_factory=dict)
    runtime_memory: dict = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    log_path: str = ""
    log_tail: list[str] = field(default_factory=list)
    kept_running: dict | None = None
    recorded: str = ""          # the calibration file this run was appended to

    @property
    def passed(self) -> bool:
        return bool(self.checks) and not any(c.failed for c in self.checks)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def to_dict(self) -> dict:
        return {
            "schema": SMOKE_SCHEMA,
            "passed": self.passed,
            "build_dir": self.build_dir,
            "plan_choice": self.plan_choice,
            "runtime": self.runtime,
            "launch": self.launch,
            "checks": [asdict(c) for c in self.checks],
            "memory": self.memory,
            "latency": self.latency,
            "load": self.load,
            "gpu": self.gpu,
            "runtime_metrics": self.runtime_metrics,
            "runtime_memory": self.runtime_memory,
            "diagnostics": [d.model_dump(mode="json", exclude_defaults=True) for d in self.diagnostics],
            "log": self.log_path,
            "log_tail": self.log_tail,
            "kept_running": self.kept_running,
            "recorded": self.recorded,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


def plan_choice(plan: Plan) -> str:
    """The plan's choice in the words `Alternative.choice` uses: 'NAME FORMAT on RUNTIME, TP n'."""
    return f"{plan.model.name} {plan.model.format} on {plan.runtime.name}, {parallelism_text(plan)}"


def bytes_band(predicted: float, low: float, high: float) -> str:
    return f"{format_bytes(predicted)} ({format_bytes(max(low, 0))} .. {format_bytes(high)})"


def seconds_text(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def render_table(report: SmokeReport) -> str:
    """The terminal report: one row per check, then failures' diagnostics and the log tail."""
    rows = [("check", "result", "predicted", "measured", "detail")]
    rows += [(c.name, c.status.upper(), c.predicted, c.measured, c.detail) for c in report.checks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"llmc smoke: {report.build_dir} ({report.plan_choice})", ""]
    for i, row in enumerate(rows):
        cells = [row[j].ljust(widths[j]) for j in range(4)] + [row[4]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ------")
    lines += ["", _summary_line(report)]
    for diag in report.diagnostics:
        lines += ["", f"{diag.severity.value}[{diag.code}]: {diag.summary}"]
        lines += [f"  {line}" for line in diag.detail.splitlines() if line]
        if diag.help:
            lines.append(f"  help: {diag.help}")
    if report.log_tail:
        lines += ["", f"last lines of the server log ({report.log_path}):"]
        lines += [f"  | {line}" for line in report.log_tail]
    if report.recorded:
        lines += ["", f"recorded in {report.recorded}: the next build for this device and runtime learns from it "
                      "(`llmc calibration show`)"]
    if report.kept_running:
        k = report.kept_running
        lines += ["", f"left running (--keep-running): {k['url']} (process group {k['pgid']}); "
                      f"stop it with: {k['stop']}"]
    return "\n".join(lines) + "\n"


def _summary_line(report: SmokeReport) -> str:
    failed = [c.name for c in report.checks if c.failed]
    passed = sum(1 for c in report.checks if c.status == PASS)
    if not failed:
        return f"PASSED: {passed} checks"
    return f"FAILED: {', '.join(failed)} ({passed} passed)"


def write_json(report: SmokeReport, path: Path) -> None:
    path.write_text(report.to_json(), encoding="utf-8")
