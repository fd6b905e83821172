"""Memory and speed estimates: exact arithmetic on real model shapes, runtime rules, parts and sources."""

from __future__ import annotations

import pytest

from llmc.catalog.schema import Format, Gpu, KvType, TensorRule
from llmc.estimate import speculative
from llmc.estimate.kv import kv_bytes, kv_heads_per_device, llama_context_sizes
from llmc.estimate.llama_log import parse_llama_log
from llmc.estimate.memory import (HardwareView, MemorySettings, ParallelView, llama_layer_devices,
                                  plan_memory)
from llmc.estimate.report import memory_bar, render_estimate
from llmc.estimate.speed import bandwidth_limit_tok_s, decode_weight_bytes, estimate_speed
from llmc.estimate.weights import weight_bytes
from tests.test_params import deepseek_v3, gemma3_270m, llama_8b, llama_70b, qwen3_30b_a3b, qwen3_next_80b

GIB = 1024 ** 3
F16 = KvType(source=("ggml",), id="f16", bits=16, runtimes={"llama.cpp": "f16", "vllm": "auto", "sglang": "auto"})
FP8 = KvType(source=("vllm",), id="fp8", bits=8, runtimes={"vllm": "fp8", "sglang": "fp8_e4m3"})
Q8_0 = KvType(source=("ggml",), id="q8_0", bits=8.5, block_size=32, runtimes={"llama.cpp": "q8_0"},
              needs_flash_attention=True)
BF16 = Format(source=("hf",), id="bf16", family="float", bits_per_weight=16, runtimes=("vllm", "sglang"))
FP8W = Format(source=("hf",), id="fp8", family="fp8", bits_per_weight=8, runtimes=("vllm",))
Q4_K_M = Format(source=("llama.cpp src/llama-quant.cpp",), id="q4_k_m", family="gguf", bits_per_weight=4.5,
                runtimes=("llama.cpp", "ollama"),
                rules=(TensorRule(group="output", type="q6_k"), TensorRule(group="attn_v", type="q6_k", fraction=0.5),
                       TensorRule(group="ffn_down", type="q6_k", fraction=0.5)))
RTX4090 = Gpu(source=("nvidia spec",), name="RTX 4090", memory_bytes=24 * GIB, bandwidth_gbps=1008,
              bf16_tflops=165, arch="Ada", compute_capability=8.9, p2p=False, pcie_gbps=25,
              device_class="consumer")
H100 = Gpu(source=("nvidia spec",), name="H100 SXM", memory_bytes=80 * GIB, bandwidth_gbps=3350, bf16_tflops=989,
           fp8_tflops=1979, arch="Hopper", compute_capability=9.0, nvlink=True, nvlink_gbps=450,
           device_class="datacenter")
EPYC = Gpu(source=("amd spec",), name="EPYC 12ch DDR5", kind="cpu", memory_bytes=384 * GIB, bandwidth_gbps=460,
           bf16_tflops=10, arch="Zen4")


# ---------------------------------------------------------------- KV

def test_llama_8b_kv_is_128_kib_per_token():
    kv = kv_bytes(llama_8b(), F16, n_ctx=8192)
    assert kv.total_bytes == 8192 * 32 * 2 * 8 * 128 * 2 == 1 * GIB


def test_seed_70b_kv_at_4k_is_1_25_gib_not_2_gb():
    """The seed says ~2 GB of KV at 4K for a 70B; exact GQA arithmetic gives 1.34 GB (1.25 GiB)."""
    assert kv_bytes(llama_70b(), F16, n_ctx=4096).total_bytes == int(1.25 * GIB)


def test_slots_share_context_unless_unified():
    m = llama_8b()
    split = kv_bytes(m, F16, n_ctx=8192, n_seq=4)
    assert split.n_ctx_seq == 2048 and split.streams == 4 and split.total_bytes == GIB
    assert llama_context_sizes(8000, 3, False) == (8448, 2816, 3)


def test_sliding_window_rule_gemma3():
    m = gemma3_270m()
    kv = kv_bytes(m, F16, n_ctx=32768, n_seq=1)
    assert kv.part("sliding").cells == 1024          # pad256(min(32768, 512 + 512))
    unified = kv_bytes(m, F16, n_ctx=32768, n_seq=4, unified=True)
    assert unified.part("sliding").cells == 2560     # pad256(512 x 4 + 512)
    split = kv_bytes(m, F16, n_ctx=32768, n_seq=4)
    assert split.part("sliding").cells == 4 * 1024


def test_mla_keeps_one_latent_per_token_and_no_v():
    m = deepseek_v3()
    kv = kv_bytes(m, F16, n_ctx=4096)
    assert kv.total_bytes == 4096 * 61 * (512 + 64) * 2
    vllm = kv_bytes(m, F16, n_ctx=4096, runtime="vllm", tp=8)
    assert vllm.total_bytes == 4096 * 61 * 576 * 2     # not split by TP


def test_linear_attention_state_is_independent_of_context():
    m = qwen3_next_80b()
    short = kv_bytes(m, F16, n_ctx=4096).part("linear")
    long = kv_bytes(m, F16, n_ctx=262144).part("linear")
    assert short.bytes == long.bytes > 0
    # conv (4-1) x (2 x 2048 + 4096) + state 128 x 4096, f32, 36 layers
    assert short.bytes == 36 * 4 * (3 * (2 * 2048 + 4096) + 128 * 4096)


def test_kv_heads_replicate_beyond_their_count():
    assert kv_heads_per_device(8, 2) == 4
    assert kv_heads_per_device(8, 16) == 1
    m = llama_70b()
    tp8 = kv_bytes(m, FP8, n_ctx=1024, runtime="vllm", tp=8).total_bytes
    tp16 = kv_bytes(m, FP8, n_ctx=1024, runtime="vllm", tp=16).total_bytes
    assert tp8 == tp16 == 1024 * 80 * 2 * 1 * 128


def test_quantized_kv_carries_block_scales():
    m = llama_8b()
    assert kv_bytes(m, Q8_0, n_ctx=4096).total_bytes * 16 == kv_bytes(m, F16, n_ctx=4096).total_bytes * 8.5


# ---------------------------------------------------------------- weights

def test_q4_k_m_70b_is_about_42_gb():
    """bartowski's Llama-3.1-70B-Instruct-Q4_K_M.gguf is 42.5 GB; the seed rounds to ~40 GB."""
    w = weight_bytes(llama_70b(), Q4_K_M)
    assert w.total_bytes / 1e9 == pytest.approx(42.5, rel=0.02)
    assert 4.7 < w.bits_per_weight < 5.0


def test_fp8_checkpoint_keeps_embeddings_in_16_bits():
    w = weight_bytes(llama_8b(), FP8W)
    assert w.bytes_of("embed") == 128256 * 4096 * 2
    assert w.bytes_of("ffn") == 32 * 3 * 4096 * 14336


# ---------------------------------------------------------------- memory per device

def test_llama_cpp_full_offload_two_gpus_by_free_memory():
    m, w = llama_70b(), weight_bytes(llama_70b(), Q4_K_M)
    hw = HardwareView(gpus=(RTX4090, RTX4090), host_ram_bytes=64 * GIB)
    est = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(), 8192, 1)
    gpu0, gpu1, host = est.devices
    assert abs(gpu0.weights_bytes - gpu1.weights_bytes) < 0.05 * gpu0.weights_bytes
    assert host.weights_bytes == w.bytes_of("embed")             # token embeddings stay on the CPU
    assert gpu0.kv_cache_bytes + gpu1.kv_cache_bytes == est.kv.total_bytes
    assert all(p.source for d in est.devices for p in d.parts)


def test_partial_offload_moves_layers_to_host():
    units = llama_layer_devices(32, 10, [24 * GIB])
    assert units.count(0) == 10 and units[-1] == 0 and units[:23] == [-1] * 23
    m, w = llama_70b(), weight_bytes(llama_70b(), Q4_K_M)
    hw = HardwareView(gpus=(RTX4090,), host_ram_bytes=128 * GIB)
    est = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(gpu_layers=40), 4096, 1)
    gpu, host = est.devices
    assert gpu.weights_bytes + host.weights_bytes == pytest.approx(w.total_bytes, rel=1e-6)
    assert host.weights_bytes > gpu.weights_bytes > 0


def test_n_cpu_moe_keeps_experts_in_host_ram():
    m, w = qwen3_30b_a3b(), weight_bytes(qwen3_30b_a3b(), Q4_K_M)
    hw = HardwareView(gpus=(RTX4090,), host_ram_bytes=64 * GIB)
    all_gpu = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(), 8192, 1)
    half = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(n_cpu_moe=24), 8192, 1)
    moved = all_gpu.devices[0].weights_bytes - half.devices[0].weights_bytes
    assert moved == pytest.approx(w.bytes_of("experts") / 2, rel=0.01)
    assert half.devices[0].kv_cache_bytes == all_gpu.devices[0].kv_cache_bytes


def test_cpu_only_host_holds_everything():
    m, w = llama_8b(), weight_bytes(llama_8b(), Q4_K_M)
    est = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", HardwareView(host_ram_bytes=32 * GIB), ParallelView(), 4096, 2)
    (host,) = est.devices
    assert host.kind == "cpu" and host.weights_bytes == w.total_bytes and host.kv_cache_bytes == est.kv.total_bytes


def test_vllm_budget_and_kv_capacity():
    m, w = llama_8b(), weight_bytes(llama_8b(), BF16)
    hw = HardwareView(gpus=(H100,), host_ram_bytes=256 * GIB)
    est = plan_memory(m, w, BF16, F16, "vllm", hw, ParallelView(), 8192, 16,
                      MemorySettings(gpu_memory_utilization=0.9))
    (gpu,) = est.devices
    assert gpu.total_bytes == gpu.capacity_bytes                   # vLLM takes its whole budget
    kv_pool = gpu.kv_cache_bytes
    assert est.kv_tokens_capacity == kv_pool // (128 * 1024) // 16 * 16
    assert est.max_concurrency == pytest.approx(est.kv_tokens_capacity / 8192, abs=0.01)
    lower = plan_memory(m, w, BF16, F16, "vllm", hw, ParallelView(), 8192, 16, MemorySettings(gpu_memory_utilization=0.5))
    assert lower.kv_tokens_capacity < est.kv_tokens_capacity


def test_vllm_tensor_parallel_shards_weights():
    m, w = llama_70b(), weight_bytes(llama_70b(), BF16)
    hw = HardwareView(gpus=(H100,) * 4, host_ram_bytes=512 * GIB, link="nvlink")
    est = plan_memory(m, w, BF16, F16, "vllm", hw, ParallelView(tp=4), 8192, 8)
    assert len(est.devices) == 4
    assert est.devices[0].weights_bytes == pytest.approx(w.total_bytes / 4, rel=0.001)
    assert est.fits and est.kv_tokens_capacity > 8 * 8192


def test_sglang_static_fraction():
    m, w = llama_8b(), weight_bytes(llama_8b(), BF16)
    hw = HardwareView(gpus=(H100,), host_ram_bytes=256 * GIB)
    est = plan_memory(m, w, BF16, F16, "sglang", hw, ParallelView(), 8192, 8, MemorySettings(mem_fraction_static=0.8))
    (gpu,) = est.devices
    assert gpu.weights_bytes + gpu.kv_cache_bytes == round(0.8 * H100.memory_bytes)


@pytest.mark.parametrize("architecture, sliding_share", [("gemma3", 1.0), ("gpt-oss", 0.8)])
def test_sglang_pools_sliding_window_layers_by_architecture(architecture, sliding_share):
    """SGLang keeps the sliding-window layers of its hybrid-SWA architectures (gpt-oss, Llama 4, Gemma 4, ...)
    in a second pool of 0.8 x the full layers' tokens, so one token costs the full layers' bytes plus 0.8 of the
    sliding ones'; Gemma 2/3 are not among them, and their sliding layers hold the whole context like full
    ones (srt/configs/model_config.py is_hybrid_swa_model; model_executor/pool_configurator.py)."""
    m = gemma3_270m().model_copy(update={"architecture": architecture})
    w = weight_bytes(m, BF16)
    est = plan_memory(m, w, BF16, F16, "sglang", HardwareView(gpus=(RTX4090,)), ParallelView(), 32768, 1)
    kv_pool = next(p.bytes for p in est.devices[0].parts if p.name == "kv_cache")
    layer_token = 2 * 256 * 2                       # K and V of one 256-wide head, 16-bit
    per_token = 3 * layer_token + sliding_share * 15 * layer_token
    assert est.kv_tokens_capacity == pytest.approx(kv_pool / per_token, rel=0.002)
    assert est.kv.total_bytes == pytest.approx(32768 * per_token, rel=0.002)


def test_70b_bf16_does_not_fit_one_h100():
    m, w = llama_70b(), weight_bytes(llama_70b(), BF16)
    est = plan_memory(m, w, BF16, F16, "vllm", HardwareView(gpus=(H100,)), ParallelView(), 8192, 1)
    assert not est.fits and est.kv_tokens_capacity == 0


def test_ollama_starts_llama_server_with_context_times_parallel():
    m, w = llama_8b(), weight_bytes(llama_8b(), Q4_K_M)
    hw = HardwareView(gpus=(RTX4090,), host_ram_bytes=64 * GIB)
    est = plan_memory(m, w, Q4_K_M, F16, "ollama", hw, ParallelView(), 8192, 2)
    assert est.kv.n_ctx == 16384 and est.kv.total_bytes == 2 * GIB
    margin = next(p for p in est.devices[0].parts if p.name == "margin")
    assert margin.bytes == round(0.2 * RTX4090.memory_bytes) and "80%" in margin.source


# ---------------------------------------------------------------- speed

def test_decode_is_bandwidth_bound_at_batch_1():
    m, w = llama_8b(), weight_bytes(llama_8b(), Q4_K_M)
    hw = HardwareView(gpus=(RTX4090,))
    s = estimate_speed(m, w, F16, "llama.cpp", hw, ParallelView(), prompt_tokens=512, output_tokens=128, concurrency=1)
    assert s.bound == "memory bandwidth"
    assert s.decode_tok_s < bandwidth_limit_tok_s(m, w, hw)
    assert 80 < s.decode_tok_s < 200


def test_moe_reads_more_experts_with_a_bigger_batch():
    m, w = qwen3_30b_a3b(), weight_bytes(qwen3_30b_a3b(), BF16)
    one, many = decode_weight_bytes(m, w, 1), decode_weight_bytes(m, w, 64)
    assert one < many < w.total_bytes
    assert one < 0.2 * w.total_bytes


def test_tp_over_pcie_costs_more_than_nvlink():
    m, w = llama_70b(), weight_bytes(llama_70b(), FP8W)
    pcie = HardwareView(gpus=(H100,) * 4, link="pcie")
    nvl = HardwareView(gpus=(H100,) * 4, link="nvlink")
    a = estimate_speed(m, w, FP8, "vllm", pcie, ParallelView(tp=4), prompt_tokens=1000, output_tokens=200, concurrency=8)
    b = estimate_speed(m, w, FP8, "vllm", nvl, ParallelView(tp=4), prompt_tokens=1000, output_tokens=200, concurrency=8)
    assert a.parts["t_comm_s"] > b.parts["t_comm_s"] > 0
    assert a.tpot_s.value > b.tpot_s.value


def test_partial_offload_is_slowed_by_host_bandwidth():
    m, w = llama_70b(), weight_bytes(llama_70b(), Q4_K_M)
    hw = HardwareView(gpus=(RTX4090,), host_ram_bytes=128 * GIB)
    mem = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(gpu_layers=40), 4096, 1)
    s = estimate_speed(m, w, F16, "llama.cpp", hw, ParallelView(gpu_layers=40), prompt_tokens=256,
                       output_tokens=128, concurrency=1, memory=mem)
    assert s.bound == "host memory bandwidth" and s.decode_tok_s < 3


def test_cpu_host_speed_uses_its_memory_bandwidth():
    m, w = llama_8b(), weight_bytes(llama_8b(), Q4_K_M)
    hw = HardwareView(host_ram_bytes=384 * GIB, cpu=EPYC)
    s = estimate_speed(m, w, F16, "llama.cpp", hw, ParallelView(), prompt_tokens=256, output_tokens=128, concurrency=1)
    assert s.decode_tok_s < 460e9 / decode_weight_bytes(m, w, 1)
    assert EPYC.source[0] in s.sources


F16_GGUF = Format(source=("ggml",), id="f16_gguf", family="gguf", bits_per_weight=16, runtimes=("llama.cpp",))
CPU_HOST = HardwareView(host_ram_bytes=384 * GIB, cpu=EPYC)


def cpu_prefill_tok_s(weights, model=None) -> float:
    model = model or llama_8b()
    return estimate_speed(model, weights, F16, "llama.cpp", CPU_HOST, ParallelView(), prompt_tokens=512,
                          output_tokens=16, concurrency=1).prefill_tok_s


def test_a_cpu_prompt_runs_at_its_weight_types_measured_gemm_rate():
    """llama.cpp's CPU GEMMs differ by weight type (llama-bench pp512 here: k-quants ~1.5x F16 per FLOP),
    and a Q4_K_M file, mostly Q4_K with Q6_K parts, runs between the two."""
    from llmc.runtimes.llamacpp import CPU_GEMM_BY_TYPE
    rate = dict(CPU_GEMM_BY_TYPE)
    m = llama_8b()
    f16, q4km = cpu_prefill_tok_s(weight_bytes(m, F16_GGUF)), cpu_prefill_tok_s(weight_bytes(m, Q4_K_M))
    assert rate["q4_k"] / rate["f16"] * 0.95 < q4km / f16 < rate["q6_k"] / rate["f16"]


def test_a_gguf_is_priced_by_its_tensors_types_not_its_label():
    """gemma-3-270m's "Q4_K_M" file holds mostly Q5_0 (rows of 640 do not divide into k-quant blocks): read
    from the file, its prompt is priced at Q5_0's slower GEMMs, not at the label's."""
    from dataclasses import replace

    from llmc.catalog.local import TensorInfo
    from llmc.estimate.from_file import weights_from_tensors
    m = gemma3_270m()
    def tensors(kind: str) -> list[TensorInfo]:
        return [TensorInfo(f"blk.{i}.{name}.weight", kind, (640, 2048), 640 * 2048) for i in range(m.n_layers)
                for name in ("ffn_up", "ffn_gate", "ffn_down", "attn_q")]
    labelled = weights_from_tensors(m, tensors("q4_k"), "q4_k_m")
    q5_0 = weights_from_tensors(m, tensors("q5_0"), "q4_k_m")
    assert dict(next(g for g in q5_0.groups if g.kind == "ffn").types) == {"q5_0": 1.0}
    assert cpu_prefill_tok_s(q5_0, m) < 0.7 * cpu_prefill_tok_s(labelled, m)
    # the speed model reads the types, not the file's format id
    relabelled = replace(q5_0, format="q8_0")
    assert cpu_prefill_tok_s(relabelled, m) == cpu_prefill_tok_s(q5_0, m)


def test_llama_cpp_runs_the_last_layers_ffn_for_the_sampled_row_only():
    """A prompt skips the last layer's FFN in llama.cpp (inp_out_ids) but not in vLLM: for a 4-layer model
    that is about a fifth of its FLOPs, for a 32-layer one a few percent."""
    from dataclasses import replace

    from llmc.estimate.speed import step_model
    for layers, skipped in ((4, (0.15, 0.22)), (32, (0.015, 0.03))):
        m = llama_8b().model_copy(update={"n_layers": layers})
        step = step_model(m, weight_bytes(m, F16_GGUF), F16, "llama.cpp", CPU_HOST, ParallelView())
        every_row = replace(step, last_ffn_active=0.0, terms={})
        saved = 1 - step.prefill_s(2048) / every_row.prefill_s(2048)
        assert skipped[0] < saved < skipped[1]
        assert step.decode_s(4, 1000) == every_row.decode_s(4, 1000)   # decode samples every row


def test_throughput_grows_with_concurrency_and_ttft_with_prompt():
    m, w = llama_8b(), weight_bytes(llama_8b(), BF16)
    hw = HardwareView(gpus=(H100,))
    one = estimate_speed(m, w, F16, "vllm", hw, ParallelView(), prompt_tokens=1000, output_tokens=200, concurrency=1)
    many = estimate_speed(m, w, F16, "vllm", hw, ParallelView(), prompt_tokens=1000, output_tokens=200, concurrency=32)
    long = estimate_speed(m, w, F16, "vllm", hw, ParallelView(), prompt_tokens=8000, output_tokens=200, concurrency=1)
    assert many.throughput_tok_s.value > 10 * one.throughput_tok_s.value
    assert long.ttft_s.value > 5 * one.ttft_s.value
    assert one.tpot_s.low < one.tpot_s.value < one.tpot_s.high


def test_speculative_speedups_follow_the_seed_table():
    assert speculative.speedup("code", "draft", draft_params_b=1).speedup == 1.8
    assert speculative.speedup("chat", "draft", draft_params_b=7).acceptance == 0.62
    assert speculative.speedup("creative", "draft", draft_params_b=1).speedup == 1.1
    spec = speculative.speedup("code", "draft", draft_params_b=7)
    m, w = llama_70b(), weight_bytes(llama_70b(), Q4_K_M)
    hw = HardwareView(gpus=(H100,))
    base = estimate_speed(m, w, F16, "llama.cpp", hw, ParallelView(), prompt_tokens=500, output_tokens=200, concurrency=1)
    fast = estimate_speed(m, w, F16, "llama.cpp", hw, ParallelView(), prompt_tokens=500, output_tokens=200,
                          concurrency=1, speculative=spec)
    assert fast.tpot_s.value == pytest.approx(base.tpot_s.value / 2.4, rel=1e-3)
    assert "seed" in fast.sources[-1]
    assert speculative.expected_tokens(0.5, 4) == pytest.approx(1.9375)


# ---------------------------------------------------------------- log parser and report

CUDA_LOG = """\
load_tensors: offloaded 33/33 layers to GPU
load_tensors:        CUDA0 model buffer size =  3992.51 MiB
load_tensors:        CUDA1 model buffer size =  3608.00 MiB
load_tensors:   CPU_Mapped model buffer size =   281.81 MiB
llama_context: n_ctx         = 8192
llama_context: n_ctx_seq     = 8192
llama_kv_cache:      CUDA0 KV buffer size =   544.00 MiB
llama_kv_cache:      CUDA1 KV buffer size =   480.00 MiB
llama_kv_cache: size = 1024.00 MiB (  8192 cells,  32 layers,  1/1 seqs), K (f16):  512.00 MiB, V (f16):  512.00 MiB
llama_context:  CUDA_Host  output buffer size =     0.49 MiB
sched_reserve:      CUDA0 compute buffer size =   560.00 MiB
sched_reserve:      CUDA1 compute buffer size =   560.00 MiB
sched_reserve:  CUDA_Host compute buffer size =    24.01 MiB
"""


def test_log_parser_reads_every_device():
    log = parse_llama_log(CUDA_LOG)
    assert log.devices("model") == {"CUDA0": 3992.51, "CUDA1": 3608.0, "CPU_Mapped": 281.81}
    assert log.mib("KV") == 1024.0 and log.mib("compute", "CUDA1") == 560.0
    assert log.offloaded == (33, 33) and log.param("n_ctx") == 8192
    (cache,) = log.kv_caches
    assert (cache.cells, cache.layers, cache.k_type) == (8192, 32, "f16")
    # predicted: 8B f16 KV at 8192 is exactly 1 GiB
    assert kv_bytes(llama_8b(), F16, n_ctx=8192).total_bytes == cache.mib * 1024 * 1024


def test_memory_bar_and_report_are_deterministic():
    m, w = llama_8b(), weight_bytes(llama_8b(), Q4_K_M)
    hw = HardwareView(gpus=(RTX4090,), host_ram_bytes=64 * GIB)
    est = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(), 8192, 2)
    bar = memory_bar(est.devices[0], width=40)
    assert bar.startswith("[") and bar.index("]") == 41 and "W" in bar and "K" in bar and "." in bar
    speed = estimate_speed(m, w, F16, "llama.cpp", hw, ParallelView(), prompt_tokens=500, output_tokens=200,
                           concurrency=2)
    text = render_estimate(est, speed)
    assert text == render_estimate(est, speed)
    for word in ("weights", "KV cache", "compute", "overhead", "free", "TTFT", "TPOT"):
        assert word in text


def test_memory_bar_marks_an_over_full_device():
    m, w = llama_70b(), weight_bytes(llama_70b(), BF16)
    est = plan_memory(m, w, BF16, F16, "llama.cpp", HardwareView(gpus=(RTX4090,), host_ram_bytes=GIB),
                      ParallelView(), 4096, 1)
    bar = memory_bar(est.devices[0])
    assert "!]" in bar and "." not in bar.split("]")[0]


def test_llama_compute_buffer_grows_with_ubatch_vocabulary_and_context_without_fa():
    from llmc.estimate.compute import llama_compute_bytes

    m = llama_8b()
    base = llama_compute_bytes(m, n_ctx=8192, n_kv_cells=8192, n_ubatch=512).bytes
    assert llama_compute_bytes(m, n_ctx=8192, n_kv_cells=8192, n_ubatch=1024).bytes > base
    # llama-server asks for one logit row per slot; other tools (n_outputs = ubatch) pay n_vocab x ubatch
    all_rows = llama_compute_bytes(m, n_ctx=8192, n_kv_cells=8192, n_ubatch=512, n_outputs=512)
    assert all_rows.bytes > base and all_rows.stage == "output logits"
    no_fa = llama_compute_bytes(m, n_ctx=8192, n_kv_cells=8192, flash_attention=False)
    assert no_fa.stage == "attention" and no_fa.bytes > 4 * base      # the n_kv x ubatch x heads score matrix


def test_expert_parallel_shards_routed_experts_over_tp_times_dp():
    m = qwen3_30b_a3b()
    w = weight_bytes(m, BF16)
    hw = HardwareView(gpus=(H100,) * 4, link="nvlink")
    tp4 = plan_memory(m, w, BF16, F16, "vllm", hw, ParallelView(tp=4), 8192, 4)
    ep = plan_memory(m, w, BF16, F16, "vllm", hw, ParallelView(tp=2, dp=2, ep=4), 8192, 4)
    experts = w.bytes_of("experts")
    assert tp4.devices[0].weights_bytes == pytest.approx(w.total_bytes / 4, rel=1e-3)
    # TP 2 x DP 2 with EP: experts split 4 ways, the rest only 2 ways
    assert ep.devices[0].weights_bytes == pytest.approx((w.total_bytes - experts) / 2 + experts / 4, rel=1e-3)


# ---------------------------------------------------------------- vLLM's grouped pool (sliding-window hybrids)

def _gemma3_1b():
    # google/gemma-3-1b-it config.json: 26 layers, 1 KV head of 256, sliding_window 512, every 6th layer full
    return gemma3_270m().model_copy(update={"id": "google/gemma-3-1b-it", "n_layers": 26, "hidden_size": 1152})


@pytest.mark.parametrize("model, pool_gib, context, batched, in_flight, published", [
    # eole-nlp/eole benchmarks/genai/results.md, vLLM 0.13: "Available KV cache memory: 25.39 GiB",
    # "Maximum concurrency for 2,048 tokens per request: 461.21x" (7 groups of 4 layers, 2 padding layers)
    (_gemma3_1b, 25.39, 2048, 8192, 1, 461.21),
])
def test_a_sliding_window_pool_admits_what_vllm_logs(model, pool_gib, context, batched, in_flight, published):
    """vLLM groups full and sliding layers and charges a sliding group its window plus the tokens in flight
    (v1/kv_cache_interface.py), not window/context of a token: the logged concurrency is reproduced."""
    from llmc.estimate.kv import PagedPool, kv_groups, paged_bytes_per_token
    m = model()
    size, full, sliding = kv_groups(m)
    assert (size, full, sliding) == (4, 1, 6)
    per_layer = paged_bytes_per_token(m, F16)["sliding"] / m.layer_kinds().count("sliding")
    pool = PagedPool(int(pool_gib * GIB) // round(size * per_layer * 16), full, sliding,
                     m.attention.sliding_window - 1 + in_flight * batched)
    assert pool.requests(context) == pytest.approx(published, rel=0.002)


def test_vllm_counts_a_sliding_window_model_by_its_grouped_pool():
    """At the pinned vLLM the log's "GPU KV cache size" is concurrency x max_model_len. A sliding group keeps
    window - 1 + 2 x max_num_batched_tokens tokens (async scheduling): at a context inside that span the
    window saves nothing (the pool over all layers' bytes per token), past it the saving is partial, never
    the window/context share an unbatched cache would get."""
    m = gemma3_270m()
    w = weight_bytes(m, BF16)
    all_layers = 18 * 2 * 256 * 2
    capacity = {}
    for context in (4096, 32768):
        est = plan_memory(m, w, BF16, F16, "vllm", HardwareView(gpus=(RTX4090,)), ParallelView(), context, 4)
        assert est.pool is not None and (est.pool.full_groups, est.pool.window_groups) == (1, 5)
        kv_pool = next(p.bytes for p in est.devices[0].parts if p.name == "kv_cache")
        capacity[context] = est.kv_tokens_capacity / (kv_pool / all_layers)
    assert capacity[4096] == pytest.approx(1.0, abs=0.01)
    window_share = 3 / 18 + 15 / 18 * 512 / 32768
    assert 1.2 < capacity[32768] < 0.7 / window_share


@pytest.mark.parametrize("cc, tp, padded", [(9.0, 1, 1.0), (9.0, 2, 1472 / 1440), (10.0, 1, 2944 * 3072 / 2880 ** 2),
                                            (10.0, 2, 1536 * 3072 / (1440 * 2880))])
def test_vllm_pads_gpt_oss_mxfp4_experts_for_its_kernels(cc, tp, padded):
    """vLLM 0.33 rounds gpt-oss's expert dimensions up for the MoE kernels (Hopper: the per-rank intermediate to
    64; Blackwell: intermediate to 128, hidden to 256), so those weights take more than the checkpoint."""
    from llmc.catalog.schema import Moe
    from llmc.estimate.memory import mxfp4_expert_padding
    gpt_oss = llama_8b().model_copy(update={"hidden_size": 2880, "moe": Moe(num_experts=32, experts_per_token=4,
                                                                             expert_intermediate_size=2880)})
    gpu = H100.model_copy(update={"compute_capability": cc})
    assert mxfp4_expert_padding(gpt_oss, gpu, tp) == pytest.approx(padded)


@pytest.mark.parametrize("cc, pages", [(9.0, 3), (8.0, 2)])
def test_a_linear_hybrid_pool_charges_each_request_its_state_pages(cc, pages):
    """vLLM 0.33 pages a gated-delta-net layer's state like a block: with prefix caching on (the default) each
    request keeps 2 state pages per linear group ("align" mode), 3 where FlashInfer writes prefill checkpoints
    (Hopper), besides its attention blocks; the pool therefore holds fewer tokens than attention alone would."""
    from llmc.estimate.kv import hybrid_block_tokens, paged_bytes_per_token
    m = qwen3_next_80b()
    gpu = H100.model_copy(update={"compute_capability": cc})
    w = weight_bytes(m, FP8W)
    est = plan_memory(m, w, FP8W, F16, "vllm", HardwareView(gpus=(gpu,) * 2, link="nvlink"), ParallelView(tp=2),
                      32768, 8)
    pool = est.pool
    assert pool is not None and pool.state_pages == pages and pool.full_groups == 1 and pool.state_groups == 3
    assert pool.block == hybrid_block_tokens(m, F16, tp=2, align=64 if cc == 9.0 else 16)
    per_request = -(-32768 // pool.block) + 3 * pages
    assert est.kv_tokens_capacity == int(pool.num_blocks / per_request * 32768)
    kv_pool = next(p.bytes for p in est.devices[0].parts if p.name == "kv_cache")
    attention_only = kv_pool // (sum(paged_bytes_per_token(m, F16, 2).values()))
    assert est.kv_tokens_capacity < 0.9 * attention_only


def test_llama_cpp_keeps_pipeline_copies_when_every_layer_is_on_a_gpu():
    """llama.cpp pipelines a batch over several GPUs only with every layer offloaded and no tensor overrides,
    and then keeps 4 copies of each split's inputs (the masks, the incoming hidden state)."""
    m = llama_8b()
    w = weight_bytes(m, Q4_K_M)
    hw = HardwareView(gpus=(RTX4090, RTX4090), host_ram_bytes=64 * GIB)
    settings = MemorySettings(flash_attention=True)
    both = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(), 8192, 1, settings)
    partial = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", hw, ParallelView(gpu_layers=20), 8192, 1, settings)
    one = plan_memory(m, w, Q4_K_M, F16, "llama.cpp", HardwareView(gpus=(RTX4090,), host_ram_bytes=64 * GIB),
                      ParallelView(), 8192, 1, settings)
    extra = 3 * (8192 * 512 * 2 + 512 * 4096 * 4)
    assert both.devices[0].compute_bytes - one.devices[0].compute_bytes == extra
    assert "pipeline" in next(p.detail for p in both.devices[1].parts if p.name == "compute")
    assert all("pipeline" not in p.detail for d in partial.devices for p in d.parts if p.name == "compute")
