"""Layers of one model with different KV geometry (Gemma 4's global layers: 4 KV heads of 512 beside 16 of
256; MiMo-V2-Flash: 4 KV heads on global layers, 8 on sliding ones, V heads of 128 beside K of 192): each kind
is cached at its own size, and vLLM's grouped pool gives the full layers the larger block that evens out the
pages, as vLLM 0.33's own `unify_kv_cache_spec_page_size` (run here in its venv) does."""

from __future__ import annotations

import json
import subprocess

import pytest

from llmc.catalog import load_catalog
from llmc.estimate.kv import VLLM_BLOCK, llama_kv, paged_bytes_per_token
from llmc.estimate.memory import ParallelView, grouped_pool
from llmc.runtimes import profile
from tests.support.vllm_check import vllm_python

CATALOG, _ = load_catalog()
F16 = CATALOG.kv_types["f16"]

PROBE = r'''
import json, sys, torch
from vllm.v1.kv_cache_interface import FullAttentionSpec, SlidingWindowSpec
from vllm.v1.core.kv_cache_planning import unify_kv_cache_spec_page_size
out = []
for layers in json.load(sys.stdin):
    specs = {}
    for i, (kind, heads, k, v, window) in enumerate(layers):
        extra = {"sliding_window": window} if kind == "sliding" else {}
        cls = SlidingWindowSpec if kind == "sliding" else FullAttentionSpec
        specs[f"l{i}"] = cls(block_size=16, num_kv_heads=heads, head_size=k, head_size_v=v, dtype=torch.bfloat16,
                             **extra)
    unified = unify_kv_cache_spec_page_size(specs)
    out.append({kind: [unified[f"l{i}"].block_size, unified[f"l{i}"].page_size_bytes]
                for i, (kind, *_) in enumerate(layers)})
print(json.dumps(out))
'''
MODELS = ["google/gemma-4-31B-it", "google/gemma-4-26B-A4B-it", "XiaomiMiMo/MiMo-V2-Flash"]


def test_each_layer_kind_is_cached_at_its_own_geometry():
    gemma = CATALOG.models["google/gemma-4-31B-it"]
    per = paged_bytes_per_token(gemma, F16)
    assert per["full"] == 10 * 2 * 4 * 512 * 2 and per["sliding"] == 50 * 2 * 16 * 256 * 2
    cells = {p.kind: p.bytes_per_cell for p in llama_kv(gemma, F16, n_ctx=4096).parts}
    assert cells == {"full": 2 * 4 * 512 * 2, "sliding": 2 * 16 * 256 * 2}
    mimo = CATALOG.models["XiaomiMiMo/MiMo-V2-Flash"]
    assert mimo.kv_shape("full") == (4, 192, 128) and mimo.kv_shape("sliding") == (8, 192, 128)


def test_the_pool_blocks_are_vllms():
    cases = []
    for name in MODELS:
        m = CATALOG.models[name]
        cases.append([[kind, *m.kv_shape(kind), m.attention.sliding_window] for kind in ("sliding", "full")])
    proc = subprocess.run([vllm_python(), "-c", PROBE], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name, theirs in zip(MODELS, json.loads(proc.stdout.splitlines()[-1])):
        m = CATALOG.models[name]
        pool = grouped_pool(m, F16, ParallelView(), 40 * 2**30, 8192, profile("vllm"))
        assert (pool.full_block or pool.block) == theirs["full"][0] and pool.block == theirs["sliding"][0], name
        layers = {k: m.layer_kinds().count(k) for k in ("full", "sliding")}
        page = max(paged_bytes_per_token(m, F16)[k] // layers[k] for k in layers) * VLLM_BLOCK
        assert page == theirs["full"][1] == theirs["sliding"][1], name


@pytest.mark.parametrize("name", MODELS)
def test_a_smaller_full_layer_holds_more_tokens_per_block(name):
    """Two models alike but for the full layers' geometry: the one with the smaller full layers admits more
    long requests, which a uniform geometry (the sliding layers' for all) would hide."""
    m = CATALOG.models[name]
    uniform = m.model_copy(update={"attention": m.attention.model_copy(update={"full_kv_heads": None,
                                                                             "full_head_dim": None})})
    assert uniform.kv_shape("full") != m.kv_shape("full")
    pools = [grouped_pool(x, F16, ParallelView(), 40 * 2**30, 8192, profile("vllm")) for x in (m, uniform)]
    assert pools[0].requests(131072) > pools[1].requests(131072)
