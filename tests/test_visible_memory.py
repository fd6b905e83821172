"""Hardware as the runtime sees it: plans use each card's CUDA-visible memory, and keep room for a desktop
on a card that may drive one unless the spec says `headless = true`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from llmc.catalog.schema import Gpu
from llmc.estimate.memory import DESKTOP_BYTES, HardwareView, MemorySettings, ParallelView, plan_memory
from llmc.estimate.weights import weight_bytes
from llmc.explain import plan_markdown
from llmc.solve import solve
from llmc.solve.topology import build_topology, tensor_split
from tests.support.specs import deployment, spec_text

MIB = 1024 ** 2
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"


def nominal_only(gpu: Gpu) -> Gpu:
    """The same card planned at its nominal size, as before visible memory was recorded."""
    return gpu.model_copy(update={"visible_memory": None})


def memory(catalog, runtime: str, gpus, *, context: int, fmt: str = "bf16", desktop: bool = False,
           settings: MemorySettings | None = None):
    model = catalog.models[LLAMA_8B]
    weights = weight_bytes(model, catalog.formats[fmt], catalog.formats)
    hardware = HardwareView(gpus=tuple(gpus), host_ram_bytes=64 * 1024 * MIB, desktop=desktop)
    return plan_memory(model, weights, catalog.formats[fmt], catalog.kv_types["f16"], runtime, hardware,
                       ParallelView(), context, 1, settings)


# ---------------------------------------------------------------- the catalog

def test_every_gpu_has_a_sourced_visible_size_at_most_its_nominal_one(catalog):
    for gpu in catalog.gpus.values():
        visible = gpu.visible_memory
        assert visible is not None and visible.source, gpu.name
        # every discrete card keeps more than 90%; a unified pool gives the GPU a share: Metal's working set is
        # 2/3 to 3/4 of a Mac's RAM, a Strix Halo's BIOS carve-out half of 128 GB
        floor = 0.45 if gpu.unified_memory else 0.9
        assert floor * gpu.memory_bytes <= visible.bytes <= gpu.memory_bytes, gpu.name


@pytest.mark.parametrize(("name", "mib"), [("RTX 4090", 24210), ("H100 SXM", 81090), ("A100 SXM 80GB", 81151),
                                           ("L40S", 45589), ("RTX 5090", 32113), ("DGX Spark", 124610)])
def test_visible_sizes_are_the_ones_cuda_reports(catalog, name, mib):
    assert catalog.find_gpu(name).visible_memory_bytes == mib * MIB


def test_a_visible_size_above_the_nominal_one_is_refused(catalog):
    record = catalog.find_gpu("RTX 4090").model_dump()
    record["visible_memory"]["bytes"] = record["memory_bytes"] + 1
    with pytest.raises(ValidationError, match="exceeds memory_bytes"):
        Gpu.model_validate(record)


def test_a_record_without_a_visible_size_is_planned_at_its_nominal_one(catalog):
    gpu = nominal_only(catalog.find_gpu("RTX 4090"))
    assert gpu.visible_memory_bytes == gpu.memory_bytes == 24 * 1024 * MIB


def test_only_cards_with_display_outputs_may_hold_a_desktop(catalog):
    assert catalog.find_gpu("RTX 4090").display_capable and catalog.find_gpu("RTX A6000").display_capable
    assert not any(catalog.find_gpu(n).display_capable for n in ("H100 SXM", "L40S", "A10G", "MI300X", "M4 Max"))


# ---------------------------------------------------------------- the estimates plan against visible memory

def test_llama_cpp_context_that_fits_24_gib_but_not_24210_mib_does_not_fit_a_4090(catalog):
    rtx4090 = catalog.find_gpu("RTX 4090")
    context = next(c for c in range(4096, 131072, 1024)
                   if not memory(catalog, "llama.cpp", [rtx4090], context=c).fits)
    est = memory(catalog, "llama.cpp", [rtx4090], context=context)
    assert est.devices[0].capacity_bytes == 24210 * MIB
    assert memory(catalog, "llama.cpp", [nominal_only(rtx4090)], context=context).fits


def test_vllm_kv_pool_is_visible_memory_times_utilization_less_the_rest(catalog):
    rtx4090 = catalog.find_gpu("RTX 4090")
    est = memory(catalog, "vllm", [rtx4090], context=8192)
    parts = {p.name: p.bytes for p in est.devices[0].parts}
    assert parts["kv_cache"] == round(0.92 * 24210 * MIB) - parts["weights"] - parts["compute"] - parts["overhead"]
    assert parts["margin"] == 24210 * MIB - round(0.92 * 24210 * MIB)
    nominal = memory(catalog, "vllm", [nominal_only(rtx4090)], context=8192)
    assert est.kv_tokens_capacity < nominal.kv_tokens_capacity


def test_the_solver_bound_and_tensor_split_use_visible_memory(catalog):
    rtx4090, rtx3090 = catalog.find_gpu("RTX 4090"), catalog.find_gpu("RTX 3090")
    topology = build_topology([rtx4090, rtx3090], 1)
    assert topology.memory_bytes == (24210 + 24259) * MIB
    assert tensor_split(topology.node) is None          # both "24 GB"; 49 MiB apart, equal at -ts precision


# ---------------------------------------------------------------- the desktop

def test_the_desktop_comes_off_gpu0_only_and_shifts_llama_cpp_layers_to_gpu1(catalog):
    rtx4090 = catalog.find_gpu("RTX 4090")
    est = memory(catalog, "llama.cpp", [rtx4090, rtx4090], context=8192, desktop=True)
    gpu0, gpu1 = est.device("gpu")
    assert [p.bytes for p in gpu0.parts if p.name == "desktop"] == [DESKTOP_BYTES]
    assert not any(p.name == "desktop" for p in gpu1.parts)
    assert gpu0.weights_bytes < gpu1.weights_bytes


def test_ollama_admits_against_the_memory_the_desktop_leaves(catalog):
    rtx4090 = catalog.find_gpu("RTX 4090")
    est = memory(catalog, "ollama", [rtx4090], context=8192, fmt="q4_k_m", desktop=True)
    margin = next(p for p in est.devices[0].parts if p.name == "margin")
    assert margin.bytes == round(0.20 * (24210 * MIB - DESKTOP_BYTES))


def test_vllm_keeps_the_desktop_in_its_margin_and_refuses_a_utilization_that_leaves_no_room(catalog):
    rtx4090 = catalog.find_gpu("RTX 4090")
    default = memory(catalog, "vllm", [rtx4090], context=8192, desktop=True)
    alone = memory(catalog, "vllm", [rtx4090], context=8192)
    assert default.fits and default.kv_tokens_capacity == alone.kv_tokens_capacity
    assert default.devices[0].total_bytes == alone.devices[0].total_bytes
    at_98 = MemorySettings(gpu_memory_utilization=0.98)
    assert memory(catalog, "vllm", [rtx4090], context=8192, settings=at_98).fits
    assert not memory(catalog, "vllm", [rtx4090], context=8192, settings=at_98, desktop=True).fits


def test_sglang_pool_shrinks_by_the_desktop(catalog):
    rtx4090 = catalog.find_gpu("RTX 4090")
    with_desktop = memory(catalog, "sglang", [rtx4090], context=8192, desktop=True).devices[0]
    alone = memory(catalog, "sglang", [rtx4090], context=8192).devices[0]
    assert alone.kv_cache_bytes - with_desktop.kv_cache_bytes == DESKTOP_BYTES
    assert with_desktop.total_bytes == alone.total_bytes == 24210 * MIB


def plan(catalog, hardware: str):
    body = f'  model = "{LLAMA_8B}"\n  runtime = llama.cpp\n  context = 8k\n'
    result, diags = solve(deployment(spec_text(hardware, body=body)), catalog)
    assert result is not None, diags
    return result


def desktop_parts(result) -> list[tuple[str, int]]:
    return [(d.device, p.bytes) for d in result.memory.devices for p in d.parts if p.name == "desktop"]


def test_a_consumer_card_without_headless_reserves_the_desktop_and_plan_md_says_so(catalog):
    result = plan(catalog, '    gpu = 2 x "RTX 4090"')
    assert desktop_parts(result) == [("gpu0 (RTX 4090)", DESKTOP_BYTES)]
    text = plan_markdown(result)
    assert "Assumed: gpu0 (RTX 4090) drives a desktop, 1.0 GiB kept for it" in text
    assert "headless = true" in text
    assert desktop_parts(plan(catalog, '    gpu = 1 x "RTX 4090"\n    headless = false'))


def test_headless_true_and_datacenter_cards_reserve_nothing(catalog):
    headless = plan(catalog, '    gpu = 2 x "RTX 4090"\n    headless = true')
    assert desktop_parts(headless) == [] and "drives a desktop" not in plan_markdown(headless)
    assert desktop_parts(plan(catalog, '    gpu = 1 x "L40S"')) == []
