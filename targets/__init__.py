"""Targets: the Plan rendered as files a user runs as they are.

`for_plan(plan)` picks the runtime's native target plus the packaging the plan asks for
(Kubernetes always when the plan spans several nodes); `emit_all(plan)` runs them and
adds the build directory's README.md.
"""

from __future__ import annotations

from ..artifacts import Artifact
from ..diagnostics import Diagnostic, Severity, define_code, error
from ..explain import plan_markdown
from ..plan import Plan
from ..runtimes import UnknownRuntime, profile
from .base import E501, Target
from .compose import ComposeTarget
from .escape import UnsafeValue
from .kubernetes import KubernetesTarget
from .llamacpp import LlamaCppTarget
from .ollama import OllamaTarget
from .readme import ReadmeTarget
from .sglang import SglangTarget
from .vllm import VllmTarget

E502 = define_code("E502", "A target failed to render the plan", "llmc.targets")
E504 = define_code("E504", "A value cannot be written safely into an artifact", "llmc.targets")

# Keyed by each native target's `runtime`, which must name a registered profile (llmc.runtimes;
# tests/test_runtime_profiles.py checks it). A profile without a target here is reported as E501.
RUNTIME_TARGETS: dict[str, type[Target]] = {
    t.runtime: t for t in (VllmTarget, LlamaCppTarget, OllamaTarget, SglangTarget) if t.runtime
}
PACKAGING = {"compose": ComposeTarget, "kubernetes": KubernetesTarget}


def for_plan(plan: Plan) -> list[Target]:
    """The native runtime target first, then the packaging targets in a fixed order."""
    profile(plan.runtime.name)   # a runtime without a profile: UnknownRuntime, reported as E501
    native_cls = RUNTIME_TARGETS.get(plan.runtime.name)
    if native_cls is None:
        raise KeyError(plan.runtime.name)
    native = native_cls()
    wanted = set(plan.emit)
    if max(plan.parallelism.nodes, plan.hardware.nodes) > 1:
        wanted.add("kubernetes")
    unknown = sorted(wanted - set(PACKAGING))
    if unknown:
        raise KeyError(", ".join(unknown))
    return [native] + [PACKAGING[name](native) for name in PACKAGING if name in wanted]


def plan_artifacts(plan: Plan) -> list[Artifact]:
    """plan.json and PLAN.md: what every build directory holds beside the runtime's artifacts."""
    return [Artifact(path="plan.json", content=plan.to_json()), Artifact(path="PLAN.md", content=plan_markdown(plan))]


def emit_all(plan: Plan, strict: bool = False) -> tuple[list[Artifact], list[Diagnostic]]:
    """Every artifact of the plan (sorted by path) and what the targets could not express."""
    try:
        targets = for_plan(plan)
    except UnknownRuntime as exc:
        return [], [error(E501, f"no target for {exc.name!r}: it is not a registered runtime",
                          help=f"runtimes: {', '.join(exc.known)}")]
    except KeyError as exc:
        return [], [error(E501, f"no target for {exc.args[0]!r}",
                          help=f"runtimes: {', '.join(RUNTIME_TARGETS)}; emit: {', '.join(PACKAGING)}")]
    artifacts: list[Artifact] = []
    try:
        for target in targets:
            artifacts += target.emit(plan)
        diagnostics = _unique(d for t in targets for d in t.diagnostics)
        artifacts += ReadmeTarget().emit_readme(plan, [t.name for t in targets], artifacts, diagnostics)
    except UnsafeValue as exc:
        return [], [error(E504, f"{exc}; nothing was written",
                          help="fix the value where it comes from: the spec, the catalog record or the model file")]
    except Exception as exc:  # noqa: BLE001 - a user never sees a traceback, only E502
        return [], [error(E502, f"target failed to render the plan: {exc}",
                          help="this is a bug in llmc; please report it with plan.json")]
    if strict:
        diagnostics = [d.model_copy(update={"severity": Severity.ERROR}) for d in diagnostics]
    return sorted(artifacts, key=lambda a: a.path), diagnostics


def _unique(diagnostics) -> list[Diagnostic]:
    seen: dict[tuple[str, str], Diagnostic] = {}
    for d in diagnostics:
        seen.setdefault((d.code, d.summary), d)
    return list(seen.values())


__all__ = ["Target", "for_plan", "emit_all", "RUNTIME_TARGETS", "PACKAGING"]
