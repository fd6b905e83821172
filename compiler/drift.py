"""Committed build directory vs. what the spec compiles to now.

`llmc check --against DIR` reports every difference (drift); `llmc build --locked`
refuses a build whose plan changes a pinned choice of the committed plan.
"""

from __future__ import annotations

import json
from pathlib import Path

from .artifacts import Artifact
from .diagnostics import Diagnostic, define_code, error
from .plan import Plan

DRIFT = define_code("E701", "Committed artifacts differ from the spec")
LOCKED = define_code("E702", "Locked plan would change")
NO_BUILD = define_code("E703", "No committed build to compare with")

# What `llmc smoke` writes into a build directory: results, not artifacts.
SMOKE_OUTPUTS = ("smoke.json", "smoke.log")

# The choices a lock pins: what a reviewer approved.
LOCKED_FIELDS = (
    ("model", "id"), ("model", "format"), ("model", "repo"), ("model", "file"), ("model", "revision"),
    ("runtime", "name"), ("runtime", "version"), ("runtime", "image"), ("kv_cache",), ("context",),
    ("slots",), ("parallelism",),
)


def _get(data: dict, path: tuple[str, ...]):
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def changed_choices(old: dict, new: dict) -> list[str]:
    """'model.format: q4_k_m → q5_k_m' for every locked field that differs."""
    out = []
    for path in LOCKED_FIELDS:
        a, b = _get(old, path), _get(new, path)
        if a != b:
            out.append(f"{'.'.join(path)}: {_short(a)} → {_short(b)}")
    return out


def _short(value) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def read_committed_plan(directory: Path) -> dict | None:
    path = directory / "plan.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def lock_violations(directory: Path, plan: Plan, span=None) -> list[Diagnostic]:
    committed = read_committed_plan(directory)
    if committed is None:
        return []
    changes = changed_choices(committed, json.loads(plan.to_json()))
    if not changes:
        return []
    return [error(LOCKED, f"--locked: the plan for '{plan.deployment}' would change", span=span,
                  detail="The committed plan pins these choices, and the spec now compiles to others:\n"
                         + "\n".join(f"- {c}" for c in changes),
                  help="review the change and rebuild without --locked, or revert the spec/catalog change",
                  changes=changes)]


def drift(directory: Path, plan: Plan, artifacts: list[Artifact], span=None) -> list[Diagnostic]:
    """Differences between `directory` (committed) and the freshly compiled artifacts."""
    if not directory.is_dir():
        return [error(NO_BUILD, f"no committed build at {directory}", span=span,
                      detail="--against expects the directory `llmc build` wrote for this deployment.",
                      help=f"run `llmc build -o {directory.parent}` and commit the result")]
    fresh = {a.path: a.content for a in artifacts}
    committed = {p.relative_to(directory).as_posix(): p for p in sorted(directory.rglob("*"))
                 if p.is_file() and p.name not in SMOKE_OUTPUTS}
    lines = [f"- {path}: missing from the committed build" for path in sorted(set(fresh) - set(committed))]
    lines += [f"- {path}: committed but no longer generated" for path in sorted(set(committed) - set(fresh))]
    for path in sorted(set(fresh) & set(committed)):
        if committed[path].read_text(encoding="utf-8", errors="replace") != fresh[path]:
            lines.append(f"- {path}: content differs")
    old = read_committed_plan(directory)
    choices = changed_choices(old, json.loads(plan.to_json())) if old else []
    if not lines:
        return []
    detail = "Files:\n" + "\n".join(lines)
    if choices:
        detail += "\n\nChanged choices:\n" + "\n".join(f"- {c}" for c in choices)
    return [error(DRIFT, f"committed build for '{plan.deployment}' is out of date", span=span, detail=detail,
                  help=f"run `llmc build` and commit {directory}", files=lines, changes=choices)]
