"""Properties of the solver over generated specs (hypothesis)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmc.catalog import Catalog, load_catalog
from llmc.solve import solve
from tests.support.specs import deployment

CATALOG, _ = load_catalog()
GPUS = ["RTX 4090", "RTX 4060 Ti 16GB", "RTX 3060 12GB", "L4", "A100 PCIe 80GB", "H100 SXM", "RTX 5090"]
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def specs(draw):
    task = draw(st.sampled_from(["chat", "code", "reasoning", "agent", "long-context"]))
    concurrency = draw(st.integers(1, 32))
    context = draw(st.sampled_from(["2k", "4k", "8k", "16k", "32k"]))
    gpu = draw(st.sampled_from(GPUS + ["none"]))
    count = draw(st.integers(1, 4))
    memory = draw(st.sampled_from([0, 32, 64, 128]))
    tpot = draw(st.one_of(st.none(), st.sampled_from([20, 40, 80, 150, 300])))
    license = draw(st.sampled_from(["any", "permissive", "commercial", "[apache-2.0, mit]"]))
    prefer = draw(st.sampled_from(["quality", "latency", "throughput", "memory"]))
    hardware = "    gpu = none" if gpu == "none" else f'    gpu = {count} x "{gpu}"'
    if memory or gpu == "none":
        hardware += f"\n    memory = {memory or 64} GiB"
    latency = f"  latency {{\n    tpot <= {tpot}ms\n  }}\n" if tpot else ""
    return (f'deployment "p" {{\n  workload {{\n    task = {task}\n    concurrency = {concurrency}\n  }}\n'
            f"  context = {context}\n{latency}  license = {license}\n  prefer = {prefer}\n"
            f"  hardware {{\n{hardware}\n  }}\n}}\n")


def _plan(text: str, catalog: Catalog = CATALOG):
    plan, _ = solve(deployment(text), catalog)
    return plan


@SETTINGS
@given(specs())
def test_every_plan_meets_every_constraint_by_its_own_estimates(text):
    plan = _plan(text)
    if plan is None:
        return
    for device in plan.memory.devices:
        if device.kind == "gpu" or plan.hardware.gpu is None or plan.parallelism.gpu_layers is not None:
            assert device.total_bytes <= device.capacity_bytes, device
    t, perf = plan.targets, plan.performance
    if t.tpot_s:
        assert perf.tpot_s.value <= t.tpot_s
    if t.ttft_s:
        assert perf.ttft_s.value <= t.ttft_s
    assert plan.context <= plan.model.max_context


@SETTINGS
@given(specs())
def test_more_gpus_or_a_looser_latency_never_make_a_feasible_spec_infeasible(text):
    if _plan(text) is None:
        return
    if 'x "' in text:
        count = int(text.split("gpu = ")[1].split(" x")[0])
        assert _plan(text.replace(f"gpu = {count} x", f"gpu = {count + 1} x")) is not None
    if "tpot <= " in text:
        ms = int(text.split("tpot <= ")[1].split("ms")[0])
        assert _plan(text.replace(f"tpot <= {ms}ms", f"tpot <= {ms * 2}ms")) is not None


@SETTINGS
@given(specs(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_catalog_order(text, rnd: random.Random):
    def shuffled(d: dict) -> dict:
        items = list(d.items())
        rnd.shuffle(items)
        return dict(items)

    models = {k: m.model_copy(update={"variants": tuple(rnd.sample(m.variants, len(m.variants)))})
              for k, m in CATALOG.models.items()}
    other = Catalog(models=shuffled(models), gpus=shuffled(CATALOG.gpus), formats=shuffled(CATALOG.formats),
                    kv_types=shuffled(CATALOG.kv_types), runtimes=shuffled(CATALOG.runtimes),
                    cpu_host=CATALOG.cpu_host, cpu_hosts=CATALOG.cpu_hosts, ggml_types=CATALOG.ggml_types)
    a, b = _plan(text), _plan(text, other)
    assert (a.to_json() if a else None) == (b.to_json() if b else None)
