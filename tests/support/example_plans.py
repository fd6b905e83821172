"""Plans for the examples/*.llmspec files, through the real pipeline (llmc.driver.compile_file)."""

from __future__ import annotations

import functools
from pathlib import Path

from tests.support.tools import REPO

EXAMPLES = sorted((REPO / "examples").glob("*.llmspec"))


@functools.cache
def example_plans(path: Path) -> tuple:
    """((deployment name, Plan or None), ...) for each deployment of one example."""
    from llmc import driver

    result = driver.compile_file(str(path))
    assert result.loaded.spec is not None, [d.summary for d in result.diagnostics]
    return tuple((c.deployment.name, c.plan) for c in result.deployments)


def all_example_plans() -> dict[str, object]:
    """{"example/deployment": Plan} for every deployment the solver can plan."""
    return {f"{p.stem}/{name}": plan for p in EXAMPLES for name, plan in example_plans(p) if plan is not None}
