"""Prefix caching on hybrid (linear-attention) models follows what vLLM 0.33 does with it.

vLLM turns prefix caching on for hybrid models in "align" mode: states are kept at block boundaries only,
the block being raised until one layer's attention page holds a Mamba state page
(platforms/interface.py `_align_hybrid_block_size`). A prompt no longer than one block never hits, while
every running request holds more state pages, so the plan turns the cache off there (--disable-prefix-caching,
the 0.33 spelling) and on where prompts span blocks. Each emitted command is parsed by vLLM's own parser.
"""

from __future__ import annotations

import pytest
from llmc.estimate.kv import hybrid_block_tokens, paged_state_bytes
from llmc.solve import solve

from tests.support.emitted import files
from tests.support.specs import deployment, spec_text
from tests.support.vllm_check import parse_with_vllm, serve_argv


def test_the_block_is_vllms_for_the_published_case(catalog):
    """vllm#42317 logs a 1056-token block for Qwen3.6-35B-A3B (the Qwen3.5-35B-A3B shapes: 2 KV heads of 256,
    GDN 16 key / 32 value heads of 128, SSM state float32) at TP 2 in bf16. With FlashInfer's 64-token
    checkpoint grid (Hopper in 0.33) the block is the next multiple of 64 that holds the page."""
    model = catalog.models["Qwen/Qwen3.5-35B-A3B"]
    bf16 = catalog.kv_types["f16"]
    assert paged_state_bytes(model, tp=2) == 3 * (2 * 2048 + 4096) // 2 * 2 + 128 * 4096 // 2 * 4
    assert hybrid_block_tokens(model, bf16, tp=2, align=16) == 1056
    assert hybrid_block_tokens(model, bf16, tp=2, align=64) == 1088
    # an fp8 KV cache halves the attention page: 2096 tokens, the block vLLM logs for these shapes with fp8 KV
    assert hybrid_block_tokens(model, catalog.kv_types["fp8"], tp=2, align=16) == 2096


@pytest.mark.parametrize("prompt, cached", [("512", False), ("8k", True)])
def test_prefix_caching_on_a_hybrid_model_only_where_a_prompt_can_hit(catalog, prompt, cached):
    body = (f'  workload {{\n    task = chat\n    prompt = {prompt}\n  }}\n  model = "Qwen/Qwen3.5-27B"\n'
            '  runtime = vllm\n')
    plan, diagnostics = solve(deployment(spec_text('    gpu = 1 x "H100 SXM"', body=body)), catalog)
    assert plan is not None, [d.summary for d in diagnostics]
    assert plan.settings.enable_prefix_caching is cached
    script = files(plan)["vllm/serve.sh"]
    assert ("--enable-prefix-caching" if cached else "--disable-prefix-caching") in script
    [parsed] = parse_with_vllm([serve_argv(script)])
    assert parsed["ok"] and parsed["namespace"]["enable_prefix_caching"] is cached
    [note] = [n for n in plan.notes if n.startswith("hybrid model")]
    block = int(note.split("blocks of ")[1].split()[0])
    assert block % 64 == 0 and (int(prompt.replace("k", "000")) > block) is cached
