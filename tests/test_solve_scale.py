"""The solver scales with the kinds of GPU, not their count: thousands of GPUs and a thousand nodes plan in
seconds. The bounds are generous (a loaded 2-core CI machine); today each case takes well under 2 s."""

from __future__ import annotations

import time

import pytest

from llmc.catalog import load_catalog
from llmc.cli import main
from llmc.solve import solve
from llmc.solve.topology import build_topology
from tests.support.specs import deployment, spec_text

BOUND_S = 20.0


@pytest.fixture(autouse=True)
def no_env_catalog(monkeypatch):
    monkeypatch.delenv("LLMC_CATALOG", raising=False)
    monkeypatch.setenv("LLMC_TRACEBACK", "1")


def many(gpus: int, nodes: int, body: str = ""):
    """A deployment with `gpus` x H100 SXM per node, past the front end's range checks if need be."""
    d = deployment(spec_text('    gpu = 8 x "H100 SXM"\n    nodes = 2', body=body))
    hw = d.hardware
    grown = hw.model_copy(update={"gpu": (hw.gpu[0].model_copy(update={"count": gpus}),),
                                  "nodes": hw.nodes.model_copy(update={"value": nodes})})
    return d.model_copy(update={"hardware": grown})


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def test_identical_gpus_are_one_vertex_however_many():
    catalog, _ = load_catalog()
    h100 = catalog.find_gpu("H100 SXM")
    topology, elapsed = timed(build_topology, [h100] * 4096, 1024)
    assert topology.graph.number_of_nodes() == 1 and topology.graph.number_of_edges() == 1
    assert topology.gpus_per_node == 4096 and topology.memory_bytes == 4096 * 1024 * h100.visible_memory_bytes
    assert topology.link_kind == "nvlink" and topology.homogeneous and elapsed < BOUND_S


def test_mixed_cards_link_per_pair_of_kinds():
    catalog, _ = load_catalog()
    rtx4090, rtx3090 = catalog.find_gpu("RTX 4090"), catalog.find_gpu("RTX 3090")
    topology = build_topology([rtx4090, rtx4090, rtx3090], 1)
    assert topology.graph.number_of_nodes() == 2
    assert {frozenset(edge) for edge in topology.graph.edges} == {frozenset({"RTX 4090"}),
                                                                  frozenset({"RTX 4090", "RTX 3090"})}
    assert not topology.p2p and not topology.homogeneous and topology.distinct_cards == (rtx4090, rtx3090)
    assert [d.label for d in topology.node_devices(0)] == ["gpu0 (RTX 4090)", "gpu1 (RTX 4090)", "gpu2 (RTX 3090)"]


@pytest.mark.parametrize("gpus, nodes", [(4096, 1), (4096, 1024), (256, 1024)])
def test_thousands_of_gpus_and_nodes_solve_in_seconds(gpus, nodes):
    catalog, _ = load_catalog()
    (plan, diagnostics), elapsed = timed(solve, many(gpus, nodes), catalog)
    assert elapsed < BOUND_S, f"{gpus} GPUs x {nodes} nodes took {elapsed:.1f} s"
    assert plan is not None or [d.code for d in diagnostics] == ["E410"]


@pytest.mark.parametrize("hardware, code", [('    gpu = 256 x "H100 SXM"', 0),
                                            ('    gpu = 256 x "H100 SXM"\n    nodes = 1024', 1)],
                         ids=["256 GPUs", "256 GPUs x 1024 nodes"])
def test_llmc_build_at_the_front_ends_maxima(tmp_path, capsys, hardware, code):
    spec = tmp_path / "big.llmspec"
    spec.write_text(spec_text(hardware))
    done, elapsed = timed(main, ["build", str(spec), "-o", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert done == code, err
    assert elapsed < BOUND_S and "internal error" not in err


def test_more_pipeline_stages_than_layers_is_a_named_rejection():
    catalog, _ = load_catalog()
    d = many(8, 100, body='  model = "Qwen/Qwen3-8B"\n  runtime = vllm')
    plan, diagnostics = solve(d, catalog)
    assert plan is None and [x.code for x in diagnostics] == ["E410"]
    assert "100 nodes exceed the 36 layers" in diagnostics[0].detail


def test_a_pipeline_over_every_layer_still_plans():
    """TP 16 x PP 61 (DeepSeek-V3 has 61 layers): 976 ranks, one memory entry each."""
    catalog, _ = load_catalog()
    d = many(16, 61, body='  model = "deepseek-ai/DeepSeek-V3"\n  runtime = vllm')
    (plan, _), elapsed = timed(solve, d, catalog)
    assert plan is not None and (plan.parallelism.tensor, plan.parallelism.pipeline) == (16, 61)
    assert len(plan.memory.devices) == 16 * 61 and elapsed < BOUND_S
