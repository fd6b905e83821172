"""Solver speed: `llmc build` per example (interpreter start included), the solver over a catalog
scaled 10x and 100x with synthetic model variants, and the solver over thousands of GPUs and nodes.

    .venv/bin/python benchmarks/solve.py

Goals (issue 5): one single-node example under 0.5 s end to end; the 100x catalog under 5 s; any GPU
count and node count (up to 4096 x 1024, past the front end's maxima) in a few seconds.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from llmc.catalog import Catalog, load_catalog  # noqa: E402
from llmc.driver import load_one, load_source  # noqa: E402
from llmc.solve import solve  # noqa: E402
from llmc.source import SourceFile  # noqa: E402

RUNS = 3
# GPUs per node x nodes; the front end allows at most 256 x 1024, the rest is set past it.
SCALES = ((8, 1), (256, 1), (4096, 1), (8, 61), (256, 1024), (4096, 1024))


def time_build(example: Path) -> float:
    llmc = Path(sys.executable).with_name("llmc")
    best = float("inf")
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run([str(llmc), "build", str(example), "-o", out], capture_output=True, check=False)
            best = min(best, time.perf_counter() - start)
    return best


def scaled(catalog: Catalog, factor: int) -> Catalog:
    """`factor` copies of every model; copy i scores i·0.1 lower on every task, so ranks stay distinct."""
    models = {}
    for model in catalog.models.values():
        for i in range(factor):
            if i == 0:
                models[model.id] = model
                continue
            quality = model.quality.model_copy(update={"scores": {k: v - 0.1 * i for k, v in model.quality.scores.items()}}) \
                if model.quality else None
            copy = model.model_copy(update={"id": f"{model.id}-synthetic-{i}", "name": f"{model.name}-synthetic-{i}",
                                            "quality": quality})
            models[copy.id] = copy
    return Catalog(models=models, gpus=catalog.gpus, formats=catalog.formats, kv_types=catalog.kv_types,
                   runtimes=catalog.runtimes, cpu_host=catalog.cpu_host, cpu_hosts=catalog.cpu_hosts,
                   ggml_types=catalog.ggml_types)


def time_solver(catalog: Catalog, examples: list[Path]) -> float:
    start = time.perf_counter()
    for example in examples:
        for deployment in load_one(str(example)).spec.deployments:
            solve(deployment, catalog, example.parent)
    return time.perf_counter() - start


def many_gpus(gpus: int, nodes: int):
    """A deployment of `gpus` x H100 SXM per node over `nodes` nodes, past the front end's range checks."""
    text = 'deployment "scale" {\n  hardware {\n    gpu = 8 x "H100 SXM"\n    nodes = 2\n  }\n}\n'
    spec, _, _ = load_source(SourceFile(path="scale.llmspec", text=text))
    d = spec.deployments[0]
    hw = d.hardware
    grown = hw.model_copy(update={"gpu": (hw.gpu[0].model_copy(update={"count": gpus}),),
                                  "nodes": hw.nodes.model_copy(update={"value": nodes})})
    return d.model_copy(update={"hardware": grown})


def time_scale(catalog: Catalog, gpus: int, nodes: int) -> tuple[float, str]:
    start = time.perf_counter()
    plan, _ = solve(many_gpus(gpus, nodes), catalog)
    elapsed = time.perf_counter() - start
    if plan is None:
        return elapsed, "infeasible (E410)"
    p = plan.parallelism
    return elapsed, f"{plan.model.name} on {plan.runtime.name}, TP {p.tensor} x PP {p.pipeline} x {p.replicas} replicas"


def main() -> None:
    examples = sorted((REPO / "examples").glob("*.llmspec"))
    print("llmc build, end to end (best of 3, interpreter start included):")
    times = {}
    for example in examples:
        times[example.name] = time_build(example)
        print(f"  {example.name:<32} {times[example.name]:.3f} s")
    print(f"  median {statistics.median(times.values()):.3f} s, fastest {min(times.values()):.3f} s (goal < 0.5 s)")
    catalog, _ = load_catalog()
    single = [e for e in examples if "nodes" not in e.read_text()]
    print(f"\nsolver over {len(single)} single-node examples:")
    for factor in (1, 10, 100):
        cat = scaled(catalog, factor)
        elapsed = time_solver(cat, single)
        goal = " (goal < 5 s per spec)" if factor == 100 else ""
        print(f"  catalog x{factor:<4} {len(cat.models):>5} models  {elapsed:7.2f} s total, "
              f"{elapsed / len(single):.2f} s per spec{goal}")
    print("\nsolver over many H100 SXM (goal: a few seconds each):")
    for gpus, nodes in SCALES:
        elapsed, chosen = time_scale(catalog, gpus, nodes)
        print(f"  {gpus:>5} GPUs x {nodes:>4} nodes  {elapsed:6.2f} s  {chosen}")


if __name__ == "__main__":
    main()
