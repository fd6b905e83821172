"""Committed build directory vs. what the spec compiles to now.

`llmc check --against DIR` reports every difference (drift); `llmc build --locked`
refuses a build whose plan changes a pinned choice of the committed plan.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .artifacts import MARKER, Artifact
from .artifacts import read_marker
from .diagnostics import Diagnostic, Label, define_code, error, warning
from .files import read_bounded
from .plan import MAX_PLAN_BYTES, Plan
from .units import format_bytes, format_duration

DRIFT = define_code("E701", "Committed artifacts differ from the spec")
LOCKED = define_code("E702", "Locked plan would change")
NO_BUILD = define_code("E703", "No committed build to compare with")
UNREADABLE = define_code("E704", "Committed plan.json unreadable")
ORPHAN = define_code("W705", "Committed build of no deployment checked")

# A plan.json is a few kilobytes, five levels deep; far beyond that it is not one llmc wrote.
MAX_PLAN_DEPTH = 64

# What `llmc smoke` writes into a build directory: results, not artifacts.
SMOKE_OUTPUTS = ("smoke.json", "smoke.log")

# The choices a lock pins: what a reviewer approved.
LOCKED_FIELDS = (
    ("model", "id"), ("model", "format"), ("model", "repo"), ("model", "file"), ("model", "revision"),
    ("runtime", "name"), ("runtime", "version"), ("runtime", "image"), ("kv_cache",), ("context",),
    ("slots",), ("parallelism",),
)


# Plan fields a spec line sets directly: (plan path, the Deployment attributes that hold the line).
SPEC_LINES = (
    (("workload", "task"), ("workload", "task")), (("workload", "concurrency"), ("workload", "concurrency")),
    (("workload", "rate"), ("workload", "rate")), (("workload", "prompt_tokens"), ("workload", "prompt")),
    (("workload", "output_tokens"), ("workload", "output")), (("context",), ("context",)),
    (("targets", "ttft_s"), ("latency", "ttft")), (("targets", "tpot_s"), ("latency", "tpot")),
    (("targets", "throughput_tok_s"), ("latency", "throughput")), (("hardware", "gpu"), ("hardware", "gpu_span")),
    (("hardware", "gpus_per_node"), ("hardware", "gpu_span")), (("hardware", "host_memory_bytes"), ("hardware", "memory")),
    (("serving", "port"), ("serve", "port")), (("serving", "host"), ("serve", "host")),
)
# The figures a reviewer weighs a drift by: (label, plan path, how to print it).
FIGURES = (("TTFT", ("performance", "ttft_s", "value"), format_duration),
           ("TPOT", ("performance", "tpot_s", "value"), format_duration),
           ("throughput", ("performance", "throughput_tok_s", "value"), lambda v: f"{v:,.1f} tok/s"))


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


def changed_lines(old: dict, new: dict, deployment) -> list[tuple[object, str]]:
    """(span, what changed) for each plan field a spec line sets whose value is not the committed one: the
    lines a review annotation points at."""
    out = []
    for path, attrs in SPEC_LINES:
        a, b = _get(old, path), _get(new, path)
        node = deployment
        for attr in attrs:
            node = getattr(node, attr, None)
        span = getattr(node, "span", node)
        if a != b and span is not None and hasattr(span, "line"):
            out.append((span, f"{'.'.join(path)}: {_short(a)} → {_short(b)}"))
    return out


def expected_change(old: dict, new: dict) -> list[str]:
    """'TTFT 980ms → 750ms' for each headline figure that moves, and the fullest device's memory."""
    out = []
    for name, path, fmt in FIGURES:
        a, b = _get(old, path), _get(new, path)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a != b:
            out.append(f"{name} {fmt(a)} → {fmt(b)} ({(b - a) / a:+.0%})" if a else f"{name} {fmt(a)} → {fmt(b)}")
    mem = [max((d.get("total_bytes", 0) for d in (p.get("memory") or {}).get("devices") or ()
                if isinstance(d, dict)), default=0) for p in (old, new)]
    if mem[0] and mem[1] and mem[0] != mem[1]:
        out.append(f"memory of the fullest device {format_bytes(mem[0])} → {format_bytes(mem[1])}")
    return out


def _short(value) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def read_committed_plan(directory: Path) -> dict | None:
    """The committed plan.json, None when there is none; OSError, TypeError or ValueError when it is unreadable."""
    path = directory / "plan.json"
    if not os.path.lexists(path):
        return None
    try:
        plan = json.loads(read_bounded(path, MAX_PLAN_BYTES).decode("utf-8"), parse_constant=_non_finite)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(plan, dict):
        raise TypeError(f"the top level is a JSON {'array' if isinstance(plan, list) else 'value'}, not an object")
    if _depth(plan) > MAX_PLAN_DEPTH:
        raise ValueError(f"JSON nested more than {MAX_PLAN_DEPTH} levels deep")
    for key in ("model", "runtime"):
        if not isinstance(plan.get(key), dict):
            raise TypeError(f"'{key}' is not an object: not a plan llmc wrote")
    return plan


def _non_finite(name: str):
    raise ValueError(f"{name} is not valid JSON (llmc writes plans with finite numbers only)")


def _depth(value) -> int:
    """Nesting depth, level by level (no recursion)."""
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [v for x in level if isinstance(x, (dict, list)) for v in (x.values() if isinstance(x, dict) else x)]
    return depth


def _committed_plan(directory: Path, span) -> tuple[dict | None, list[Diagnostic]]:
    try:
        return read_committed_plan(directory), []
    except (OSError, TypeError, ValueError) as exc:
        path = directory / "plan.json"
        return None, [error(UNREADABLE, f"cannot read the committed {path}", span=span, detail=str(exc),
                            help="restore it from version control, or run `llmc build` and commit the fresh plan",
                            path=str(path))]


def lock_violations(directory: Path, plan: Plan, span=None) -> list[Diagnostic]:
    committed, problems = _committed_plan(directory, span)
    if committed is None:
        return problems
    changes = changed_choices(committed, json.loads(plan.to_json()))
    if not changes:
        return []
    return [error(LOCKED, f"--locked: the plan for '{plan.deployment}' would change", span=span,
                  detail="The committed plan pins these choices, and the spec now compiles to others:\n"
                         + "\n".join(f"- {c}" for c in changes),
                  help="review the change and rebuild without --locked, or revert the spec/catalog change",
                  changes=changes)]


def drift(directory: Path, plan: Plan, artifacts: list[Artifact], span=None, deployment=None) -> list[Diagnostic]:
    """Differences between `directory` (committed) and the freshly compiled artifacts; with the spec's
    `deployment`, pointing at the line whose change caused them."""
    if not directory.is_dir():
        return [error(NO_BUILD, f"no committed build at {directory}", span=span,
                      detail="--against expects the directory `llmc build` wrote for this deployment.",
                      help=f"run `llmc build -o {directory.parent}` and commit the result")]
    fresh = {a.path: a.content for a in artifacts}
    committed = {p.relative_to(directory).as_posix(): p for p in sorted(directory.rglob("*"))
                 if p.is_file() and p.name not in SMOKE_OUTPUTS}
    committed.pop(MARKER, None)  # the build's own list of the files it wrote, not an artifact
    lines = [f"{path}: missing from the committed build" for path in sorted(set(fresh) - set(committed))]
    lines += [f"{path}: committed but no longer generated" for path in sorted(set(committed) - set(fresh))]
    for path in sorted(set(fresh) & set(committed)):
        if not _same_content(committed[path], fresh[path]):
            lines.append(f"{path}: content differs")
    if not lines:
        return []
    old, problems = _committed_plan(directory, span)
    new = json.loads(plan.to_json())
    choices = changed_choices(old, new) if old else []
    moved = expected_change(old, new) if old else []
    where = changed_lines(old, new, deployment) if old and deployment is not None else []
    detail = "Files:\n" + "\n".join(f"- {line}" for line in lines)   # the list's markup is the text's, not the data's
    if choices:
        detail += "\n\nChanged choices:\n" + "\n".join(f"- {c}" for c in choices)
    if moved:
        detail += "\n\nExpected change:\n" + "\n".join(f"- {m}" for m in moved)
    labels = tuple(Label(span=s_, message=f"changed: {what}") for s_, what in where[1:])
    if where:   # the annotation lands on the line whose change made the drift; the deployment is named too
        labels += (Label(span=span, message="in this deployment"),) if span is not None else ()
    return problems + [error(DRIFT, f"committed build for '{plan.deployment}' is out of date",
                             span=where[0][0] if where else span, labels=labels,
                             **({"label": f"changed: {where[0][1]}"} if where else {}), detail=detail, help=f"run `llmc build` and commit {directory}",
                             files=lines, changes=choices, expected=moved)]


def _same_content(path: Path, content: str) -> bool:
    """Sizes first, so that a huge committed file is never read."""
    expected = content.encode("utf-8")
    return path.stat().st_size == len(expected) and path.read_bytes() == expected


def orphaned_builds(against: Path, deployments: set[str]) -> list[Diagnostic]:
    """W705 for each build directory under `against` that llmc wrote (it has the marker) for a deployment
    none of the checked specs defines: a renamed or removed deployment leaves its old build behind, and
    whatever deploys `against` would still ship it."""
    try:
        found = sorted(p for p in against.iterdir() if p.is_dir() and read_marker(p) is not None)
    except OSError:
        return []
    return [warning(ORPHAN, f"{p.as_posix()} is a committed build of `{p.name}`, which no checked spec defines",
                    detail="A deployment that was renamed or removed leaves its build directory behind; "
                           "whatever deploys the directory still ships it.",
                    help=f"delete {p.as_posix()} if `{p.name}` is gone, or check the spec that defines it "
                         "together with these")
            for p in found if p.name not in deployments]

