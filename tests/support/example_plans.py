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

    result = driver.compile_file(str(path), out_dir=str(REPO / "build"))  # as `llmc build` from the checkout
    assert result.loaded.spec is not None, [d.summary for d in result.diagnostics]
    return tuple((c.deployment.name, c.plan) for c in result.deployments)


def built_example(name: str, out_dir: Path):
    """The plan of one example deployment ("example/deployment") compiled for the build directory `out_dir`."""
    from llmc import driver

    stem, deployment = name.split("/")
    result = driver.compile_file(str(REPO / "examples" / f"{stem}.llmspec"), out_dir=str(out_dir))
    return next(c.plan for c in result.deployments if c.deployment.name == deployment)


def all_example_plans() -> dict[str, object]:
    """{"example/deployment": Plan} for every deployment the solver can plan."""
    return {f"{p.stem}/{name}": plan for p in EXAMPLES for name, plan in example_plans(p) if plan is not None}
