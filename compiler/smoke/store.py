"""The calibration store: JSON-lines files of measured runs that the next build learns from.

Where builds read records, unless `--calibration PATH` names files or directories instead (or
`--no-calibration` none):
  - the project's store: `.llmc/calibration/` in the spec's directory or the nearest one above it that has
    one (commit it beside the specs, and every checkout builds the same plans);
  - the user's store: `$XDG_DATA_HOME/llmc/calibration/` (default `~/.local/share/llmc/calibration/`).
`llmc smoke` and `llmc tune` append to `runs.jsonl` in the project's store found from the build directory,
else in the user's store (create `.llmc/calibration/` in a project to keep its runs with it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..estimate.calibration import CALIBRATION_SCHEMA, FACTORS, Calibration, Record, parse_lines
from ..files import read_bounded
from ..plan import Plan

PROJECT_DIR = Path(".llmc") / "calibration"
RUNS_FILE = "runs.jsonl"
MAX_STORE_BYTES = 64 << 20   # a record is ~2 KB: tens of thousands of runs per file


@dataclass(frozen=True)
class Store:
    """Records read from some files, and what could not be read."""

    calibration: Calibration
    files: tuple[Path, ...]
    skipped: dict[str, int]       # file -> lines that are not records a fit can use


def project_dir(start: Path) -> Path | None:
    """The nearest `.llmc/calibration/` at or above `start`."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / PROJECT_DIR).is_dir():
            return folder / PROJECT_DIR
    return None


def user_dir(env=os.environ) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    return Path(base) / "llmc" / "calibration"


def default_paths(start: Path, env=os.environ) -> list[Path]:
    found = project_dir(start)
    return [p for p in (found, user_dir(env)) if p is not None and p.is_dir()]


def record_files(paths: list[Path]) -> list[Path]:
    """Every `*.jsonl` under the directories named (sorted), and the files named as they are."""
    out: list[Path] = []
    for path in paths:
        out += sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    return list(dict.fromkeys(p.resolve() for p in out))


def read_store(paths: list[Path], seen_from: Path | None = None) -> Store:
    """The records of these files or directories, each file named as seen from `seen_from` (the spec's
    directory: the plan names it the same in every checkout). A file that cannot be read is an OSError
    (or ValueError: not a regular file, too large) for the caller."""
    files = record_files(paths)
    records: list[Record] = []
    used: list[str] = []
    skipped: dict[str, int] = {}
    for path in files:
        found, bad = parse_lines(read_bounded(path, MAX_STORE_BYTES).decode("utf-8", errors="replace"))
        records += found
        if found:
            used.append(shown(path, seen_from))
        if bad:
            skipped[str(path)] = bad
    return Store(Calibration(tuple(records), tuple(used)), tuple(files), skipped)


def shown(path: Path, seen_from: Path | None) -> str:
    """A store file's name in a plan: relative to the spec's directory inside the project, `~/...` in the
    home directory, else absolute."""
    if seen_from is not None:
        root = project_dir(seen_from)
        if root is not None and path.is_relative_to(root):
            return Path(os.path.relpath(path, seen_from.resolve())).as_posix()
    home = Path.home()
    return "~/" + path.relative_to(home).as_posix() if path.is_relative_to(home) else path.as_posix()


def write_path(build_dir: Path, env=os.environ) -> Path:
    """Where smoke and tune append their records: the project store above the build, else the user's."""
    return (project_dir(build_dir) or user_dir(env)) / RUNS_FILE


def record_line(plan: Plan, choice: str, predicted: dict, measured: dict, origin: str, passed: bool) -> str | None:
    """One JSON line a fit can learn from: the plan's calibration key, the prior's parts of its steps, the
    correction it was built with, predicted beside measured. None for a plan without the parts (one built
    by an older llmc)."""
    perf = plan.performance
    if perf.calibration is None or perf.decode_parts is None or perf.prefill_parts is None:
        return None
    cal = perf.calibration
    record = {
        "schema": CALIBRATION_SCHEMA,
        "origin": origin,
        "deployment": plan.deployment,
        "plan_choice": choice,
        "runtime": plan.runtime.name,
        "runtime_version": plan.runtime.version,
        "key": cal.key,
        "applied": {f: getattr(cal, f) for f in (*FACTORS, "compute_memory")},
        "parts": {"decode": perf.decode_parts.model_dump(), "prefill": perf.prefill_parts.model_dump()},
        "hardware": plan.hardware.model_dump(mode="json"),
        "workload": plan.workload.model_dump(mode="json"),
        "settings": plan.settings.model_dump(mode="json", exclude_none=True),
        "predicted": {**predicted, "unloaded_ttft_s": perf.unloaded_ttft_s, "unloaded_tpot_s": perf.unloaded_tpot_s},
        "measured": measured,
        "passed": passed,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"


def append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
