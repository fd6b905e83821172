"""`settings { ... }`: runtime settings pinned under the runtime's own names are constraints the solver
keeps and the artifacts emit; a name, value or version the runtime would reject is a diagnostic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from llmc.driver import load_source, open_catalog
from llmc.runtimes import PROFILES
from llmc.solve import solve
from llmc.source import SourceFile
from llmc.targets import emit_all

REPO = Path(__file__).resolve().parents[1]
CATALOG = open_catalog()[0]


def _spec(runtime: str, settings: str, gpu: str = '2 x "RTX 4090"') -> str:
    return (f'deployment "pinned" {{\n  runtime = {runtime}\n  model = "Qwen/Qwen3-8B"\n  context = 8k\n'
            f"  settings {{\n{settings}\n  }}\n  hardware {{\n    gpu = {gpu}\n  }}\n}}\n")


def _load(text: str):
    spec, diagnostics, malformed = load_source(SourceFile(path="pinned.llmspec", text=text))
    return spec, diagnostics, malformed


def _plan(text: str):
    spec, diagnostics, malformed = _load(text)
    assert not malformed, [d.summary for d in diagnostics]
    plan, diagnostics = solve(spec.deployments[0], CATALOG)
    assert plan is not None, [d.summary + d.detail for d in diagnostics]
    return plan


def _codes(text: str) -> list[str]:
    return [d.code for d in _load(text)[1]]


def test_pinned_vllm_settings_are_the_plan_and_the_command_line():
    plan = _plan(_spec("vllm", "    tensor_parallel_size = 2\n    gpu_memory_utilization = 0.85\n"
                               "    max_num_seqs = 48\n    enforce_eager = true\n    dtype = bfloat16"))
    assert (plan.parallelism.tensor, plan.slots, plan.settings.gpu_memory_utilization) == (2, 48, 0.85)
    assert plan.settings.enforce_eager and plan.settings.dtype == "bfloat16"
    script = {a.path: a.content for a in emit_all(plan)[0]}["vllm/serve.sh"]
    for flag in ("--tensor-parallel-size 2", "--gpu-memory-utilization 0.85", "--max-num-seqs 48",
                 "--enforce-eager", "--dtype bfloat16"):
        assert flag in script


@pytest.mark.parametrize("runtime,tp,flag", [("vllm", "tensor_parallel_size", "enforce_eager"),
                                             ("sglang", "tp_size", "disable_cuda_graph")])
def test_eager_mode_pays_its_kernel_launches_in_every_decode_step(runtime, tp, flag):
    """Without CUDA graphs each decode step launches every layer's kernels from the host (~0.34 ms a layer,
    vllm-project/vllm-omni#7960): Qwen3-8B's 36 layers add ~12 ms a token, and the plan says why."""
    graphs = _plan(_spec(runtime, f"    {tp} = 2"))
    eager = _plan(_spec(runtime, f"    {tp} = 2\n    {flag} = true"))
    added = eager.performance.unloaded_tpot_s - graphs.performance.unloaded_tpot_s
    assert added == pytest.approx(36 * 0.34e-3, rel=0.05)
    assert any("enforce-eager" in s for s in eager.performance.sources)
    assert not any("enforce-eager" in s for s in graphs.performance.sources)


def test_pinned_llama_cpp_settings_keep_the_layout():
    text = ('deployment "pinned" {\n  runtime = llama.cpp\n  model = "Qwen/Qwen3-8B"\n  quantization = q4_k_m\n'
            '  context = 8k\n  settings {\n    n_gpu_layers = 20\n    parallel = 3\n    ubatch_size = 256\n'
            '    flash_attn = off\n  }\n  hardware {\n    gpu = 1 x "RTX 4060 Ti 16GB"\n    memory = 32 GiB\n  }\n}\n')
    plan = _plan(text)
    assert (plan.parallelism.gpu_layers, plan.slots, plan.settings.ubatch_size) == (20, 3, 256)
    assert plan.settings.flash_attention == "off"
    script = {a.path: a.content for a in emit_all(plan)[0]}["llama.cpp/llama-server.sh"]
    assert "-ngl 20" in script and "-np 3" in script and "-ub 256" in script and "-fa off" in script


def test_a_pinned_tensor_size_the_model_cannot_take_says_why():
    spec, _, _ = _load(_spec("vllm", "    tensor_parallel_size = 3", gpu='4 x "RTX 4090"'))
    plan, diagnostics = solve(spec.deployments[0], CATALOG)
    assert plan is None and "does not divide" in diagnostics[0].detail


def test_pins_more_memory_than_the_default_changes_the_kv_pool():
    low = _plan(_spec("vllm", "    tensor_parallel_size = 2\n    gpu_memory_utilization = 0.7"))
    high = _plan(_spec("vllm", "    tensor_parallel_size = 2\n    gpu_memory_utilization = 0.95"))
    assert high.memory.kv_tokens_capacity > low.memory.kv_tokens_capacity


@pytest.mark.parametrize("settings, code", [
    ("    max_running_requests = 4", "E234"),          # SGLang's name on vLLM
    ("    max_num_seq = 4", "E234"),                   # misspelt
    ("    gpu_memory_utilization = 1.5", "E236"),
    ("    max_num_seqs = 0", "E236"),
    ("    dtype = bf16", "E206"),                      # not one of vLLM's --dtype choices
    ('    version = "0.8.5"', "E235"),
    ("    enforce_eager = yes", "E206"),
])
def test_a_setting_the_runtime_would_reject_is_a_diagnostic(settings, code):
    assert code in _codes(_spec("vllm", settings))


def test_settings_need_one_runtime():
    text = _spec("vllm", "    max_num_seqs = 4").replace("  runtime = vllm\n", "")
    assert "E233" in _codes(text)


def test_another_runtimes_name_gets_the_right_one():
    _, diagnostics, _ = _load(_spec("vllm", "    max_running_requests = 4"))
    assert "vllm calls it `max_num_seqs`" in diagnostics[0].help


def test_the_language_reference_lists_every_setting():
    text = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| (vllm|llama\.cpp|ollama|sglang) \| `([a-z_]+)` \|", text, re.M))
    knobs = {(rt.name, k.name) for rt in PROFILES.values() for k in rt.knobs if k.pin}
    assert rows == knobs


def test_an_inverted_flag_pins_the_setting_it_negates():
    plan = _plan(_spec("sglang", "    tp_size = 2\n    disable_radix_cache = true"))
    assert plan.settings.enable_prefix_caching is False
    script = {a.path: a.content for a in emit_all(plan)[0]}["sglang/launch.sh"]
    assert "--disable-radix-cache" in script


def test_a_described_cpu_host_is_planned_as_it_is():
    text = ('deployment "cpu" {\n  model = "google/gemma-3-270m-it"\n  hardware {\n    gpu = none\n    memory = 16 GiB\n'
            '    cores = %d\n    memory_bandwidth = %s\n    isa = [avx2]\n  }\n}\n')
    slow, fast = _plan(text % (4, "20 GB/s")), _plan(text % (16, "80 GB/s"))
    # decode's reads follow the bandwidth, its dot products the cores, its per-layer thread barriers neither
    was, now = slow.performance.decode_parts, fast.performance.decode_parts
    assert now.memory_s == pytest.approx(was.memory_s / 4, rel=0.01)
    assert now.vector_s == pytest.approx(was.vector_s / 4, rel=0.01) and now.fixed_s == was.fixed_s
    assert fast.performance.tpot_s.value < slow.performance.tpot_s.value / 2
    assert fast.performance.ttft_s.value < slow.performance.ttft_s.value       # prefill follows the cores
    assert (slow.settings.threads, fast.settings.threads) == (4, 16)
    assert "E221" in _codes(text % (0, "20 GB/s"))
