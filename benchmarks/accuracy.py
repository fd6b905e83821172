"""Our memory and speed predictions beside published measurements: regenerates docs/accuracy.md.

    python benchmarks/accuracy.py                      # print the table, then median and worst error
    python benchmarks/accuracy.py --write              # also rewrite docs/accuracy.md
    python benchmarks/accuracy.py calib.jsonl ...      # fold in `llmc smoke --record FILE` records as extra rows

Every row names where its figure was published. Model shapes are copied from each model's
config.json, GPU figures from the vendor datasheets. Where exact arithmetic disagrees with a quoted
figure the row says so; nothing here is tuned toward a quote. The efficiency factors in
llmc.estimate.speed were fitted on the speed rows marked "fit" (so those errors are in-sample).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from llmc.catalog import load_catalog
from llmc.catalog.schema import Attention, Format, Gpu, KvType, License, Model, Moe, TensorRule
from llmc.estimate.kv import kv_bytes
from llmc.estimate.memory import HardwareView, MemorySettings, ParallelView, grouped_pool, plan_memory, vllm_reserve
from llmc.estimate.serving import Budget, Load, simulate
from llmc.estimate.speed import step_model, unloaded_speed
from llmc.estimate.weights import weight_bytes
from llmc.runtimes import profile

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "accuracy.md"
RECORDS_DIR = ROOT / "benchmarks" / "calibration"
GIB = 1024 ** 3
MIB = 1024 ** 2
LIC = License(id="other")


def _model(name, layers, d, heads, kv, hd, ff, vocab, tied=False, moe=None, attention=None):
    return Model(source=(f"{name} config.json",), id=name, name=name, family="ref", architecture="llama",
                 n_layers=layers, hidden_size=d, n_heads=heads, n_kv_heads=kv, head_dim=hd, vocab_size=vocab,
                 intermediate_size=ff, tie_word_embeddings=tied, moe=moe, attention=attention or Attention(),
                 max_context=131072, license=LIC)


MODELS = {
    "Llama-2-7B": _model("meta-llama/Llama-2-7b-hf", 32, 4096, 32, 32, 128, 11008, 32000),
    "TinyLlama-1.1B": _model("TinyLlama/TinyLlama-1.1B", 22, 2048, 32, 4, 64, 5632, 32000),
    "Llama-3.2-3B": _model("meta-llama/Llama-3.2-3B-Instruct", 28, 3072, 24, 8, 128, 8192, 128256, tied=True),
    "Llama-3.1-8B": _model("meta-llama/Llama-3.1-8B-Instruct", 32, 4096, 32, 8, 128, 14336, 128256),
    "Llama-3.1-70B": _model("meta-llama/Llama-3.1-70B-Instruct", 80, 8192, 64, 8, 128, 28672, 128256),
    "Llama-3.1-405B": _model("meta-llama/Llama-3.1-405B-Instruct", 126, 16384, 128, 8, 128, 53248, 128256),
    "Qwen2.5-0.5B": _model("Qwen/Qwen2.5-0.5B-Instruct", 24, 896, 14, 2, 64, 4864, 151936, tied=True),
    "Qwen2.5-1.5B": _model("Qwen/Qwen2.5-1.5B-Instruct", 28, 1536, 12, 2, 128, 8960, 151936, tied=True),
    "Qwen2.5-Coder-3B": _model("Qwen/Qwen2.5-Coder-3B-Instruct", 36, 2048, 16, 2, 128, 11008, 151936, tied=True),
    "Qwen2.5-14B": _model("Qwen/Qwen2.5-14B-Instruct", 48, 5120, 40, 8, 128, 13824, 152064),
    "Qwen2.5-32B": _model("Qwen/Qwen2.5-32B-Instruct", 64, 5120, 40, 8, 128, 27648, 152064),
    "Qwen2.5-72B": _model("Qwen/Qwen2.5-72B-Instruct", 80, 8192, 64, 8, 128, 29568, 152064),
    "Qwen3-8B": _model("Qwen/Qwen3-8B", 36, 4096, 32, 8, 128, 12288, 151936),
    "Qwen3-235B-A22B": _model("Qwen/Qwen3-235B-A22B", 94, 4096, 64, 4, 128, 12288, 151936,
                              moe=Moe(num_experts=128, experts_per_token=8, expert_intermediate_size=1536)),
    "Qwen3-14B": _model("Qwen/Qwen3-14B", 40, 5120, 40, 8, 128, 17408, 151936),
    "Qwen3-30B-A3B": _model("Qwen/Qwen3-30B-A3B", 48, 2048, 32, 4, 128, 6144, 151936,
                            moe=Moe(num_experts=128, experts_per_token=8, expert_intermediate_size=768)),
    "gpt-oss-20b": _model("openai/gpt-oss-20b", 24, 2880, 64, 8, 64, 2880, 201088,
                          moe=Moe(num_experts=32, experts_per_token=4, expert_intermediate_size=2880),
                          attention=Attention(pattern=("sliding", "full"), sliding_window=128)),
    "gpt-oss-120b": _model("openai/gpt-oss-120b", 36, 2880, 64, 8, 64, 2880, 201088,
                           moe=Moe(num_experts=128, experts_per_token=4, expert_intermediate_size=2880),
                           attention=Attention(pattern=("sliding", "full"), sliding_window=128)),
    "gemma-3-27b": _model("google/gemma-3-27b-it", 62, 5376, 32, 16, 128, 21504, 262208,
                          attention=Attention(pattern=("sliding",) * 5 + ("full",), sliding_window=1024)),
    "gemma-3-1b": _model("google/gemma-3-1b-it", 26, 1152, 4, 1, 256, 6912, 262144,
                         attention=Attention(pattern=("sliding",) * 5 + ("full",), sliding_window=512)),
    "gemma-2-2b": _model("google/gemma-2-2b-it", 26, 2304, 8, 4, 256, 9216, 256000, tied=True,
                         attention=Attention(pattern=("sliding", "full"), sliding_window=4096)),
    "Mistral-7B-v0.3": _model("mistralai/Mistral-7B-Instruct-v0.3", 32, 4096, 32, 8, 128, 14336, 32768),
}


def _gpu(name, gib, gbps, tflops, src, kind="gpu", nvlink=False, fp8=None, cc=None, device_class="datacenter"):
    return Gpu(source=(src,), name=name, kind=kind, memory_bytes=int(gib * GIB), bandwidth_gbps=gbps,
               bf16_tflops=tflops, fp8_tflops=fp8, arch="x", nvlink=nvlink, compute_capability=cc,
               device_class=device_class)


# llama.cpp discussion #4167's summary table: LLaMA 7B Q4_0 tg128 and pp512 tok/s per chip
CATALOG = load_catalog()[0]
APPLE_ROWS = {"Apple M4": (24.11, 221.29), "Apple M4 Pro": (50.74, 439.78), "Apple M4 Max": (83.06, 885.68),
              "Apple M3 Max": (66.31, 759.70), "Apple M3 Ultra": (92.14, 1471.24)}
APPLE_SOURCE = ("github.com/ggml-org/llama.cpp/discussions/4167 (summary table, LLaMA 7B; build 8e672ef for the "
                "first chips, newer builds for later ones)")

GPUS = {
    "RTX 4090": _gpu("RTX 4090", 24, 1008, 165, "NVIDIA Ada GPU architecture whitepaper (1008 GB/s, 165 TFLOPS FP16 tensor, FP32 acc.)", device_class="consumer"),
    "RTX 3080": _gpu("RTX 3080", 10, 760, 59.5, "NVIDIA Ampere GA102 whitepaper (760 GB/s, 59.5 TFLOPS FP16 tensor, FP32 acc.)", device_class="consumer"),
    "RTX 3090": _gpu("RTX 3090", 24, 936, 71, "NVIDIA Ampere GA102 whitepaper (936 GB/s, 71 TFLOPS FP16 tensor, FP32 acc.)", device_class="consumer"),
    "RTX 5090": _gpu("RTX 5090", 32, 1792, 209, "NVIDIA RTX Blackwell whitepaper (1792 GB/s, 209 TFLOPS FP16 tensor, FP32 acc.)", device_class="consumer"),
    "Tesla P40": _gpu("Tesla P40", 24, 347, 12, "NVIDIA Tesla P40 datasheet (346 GB/s, 12 TFLOPS FP32)"),
    "A100 80GB": _gpu("A100 80GB", 80, 2039, 312, "NVIDIA A100 datasheet (SXM4 80GB: 2039 GB/s, 312 TFLOPS BF16)",
                      nvlink=True),
    "H100 80GB": _gpu("H100 80GB", 79.65, 3350, 989, "NVIDIA H100 datasheet (SXM5: 3.35 TB/s, 989 TFLOPS BF16, "
                      "1979 TFLOPS FP8)", nvlink=True, fp8=1979, cc=9.0),
    # Apple: the catalog's own records, so the rows check its bandwidth and FP16 figures
    **{name: CATALOG.gpus[name] for name in APPLE_ROWS},
}


def _fmt(id_, family, bits, rules=()):
    return Format(source=("ggml block sizes / checkpoint layout",), id=id_, family=family, bits_per_weight=bits,
                  rules=rules, runtimes=("llama.cpp", "vllm"))


FORMATS = {
    "F16": _fmt("f16", "gguf", 16.0),
    "BF16": _fmt("bf16", "float", 16.0),
    "Q4_0": _fmt("q4_0", "gguf", 4.5, (TensorRule(group="output", type="q6_k"),)),
    "Q4_K_M": _fmt("q4_k_m", "gguf", 4.5, (TensorRule(group="output", type="q6_k"),
                                           TensorRule(group="attn_v", type="q6_k", fraction=0.5),
                                           TensorRule(group="ffn_down", type="q6_k", fraction=0.5))),
    "FP8": _fmt("fp8", "fp8", 8.0),
    # Meta's FP8 405B quantizes the MLPs only (Llama 3 paper, section 6.2: no FP8 in self-attention)
    "FP8-MLP": _fmt("fp8-mlp", "fp8", 8.0, (TensorRule(group="attn_qkv", type="bf16"),
                                            TensorRule(group="attn_o", type="bf16"))),
    "W8A8": _fmt("w8a8", "int8", 8.0),
    "AWQ": _fmt("awq", "awq", 4.156),
    "MXFP4": CATALOG.formats["mxfp4"],   # gpt-oss's own checkpoint: MXFP4 experts, the rest BF16
    "MXFP4_MOE": _fmt("mxfp4_moe", "gguf", 8.5, (TensorRule(group="experts", type="mxfp4"),)),   # int4 + fp16 scale + 4-bit zero per group of 128
}
LLMD = "github.com/llm-d/llm-d-benchmark config_explorer/empirical-vllm-memory-results.md"
F16 = KvType(source=("-",), id="f16", bits=16, runtimes={"llama.cpp": "f16", "vllm": "auto", "sglang": "auto"})
KV_TYPES = {"F16": F16, "FP8": CATALOG.kv_types["fp8"]}


@dataclass
class Row:
    id: str
    what: str              # what is compared: weights, KV tokens, decode tok/s ...
    model: str
    fmt: str
    hardware: str
    runtime: str
    measured: float
    unit: str
    source: str
    kind: str = "memory"   # memory | speed
    gpu: bool = True
    tp: int = 1
    prompt: int = 1
    output: int = 128
    note: str = ""
    mode: str = "weights"  # weights | kv_tokens | kv_bytes | decode | prefill | generate
    util: float = 0.9
    context: int = 2048
    predicted: float | None = None
    # a vLLM start-up log's own figures, where a row checks one step of the KV sizing against them
    available_gib: float = 0.0   # "Available KV cache memory"
    weights_gib: float = 0.0     # "Model loading took"
    total_gib: float = 0.0       # the card's total memory as vLLM saw it
    batched: int = 0             # max_num_batched_tokens, max_num_seqs of the run
    seqs: int = 0
    graphs_out: bool = True      # the version subtracts CUDA graphs before sizing the pool (>= 0.21)
    eager: bool = False
    in_flight: int = 2           # batches scheduled ahead: 2 with 0.33's async scheduling, 1 before


ROWS = [
    # ---------------- memory: what sits on the GPU
    Row("m1", "model buffer (llama-bench size)", "Llama-2-7B", "F16", "CUDA GPU", "llama.cpp", 12.55, "GiB",
        "github.com/ggml-org/llama.cpp/pull/3776 (llama 7B F16 12.55 GiB)"),
    Row("m2", "model buffer (llama-bench size)", "Qwen2.5-Coder-3B", "Q4_0", "RTX 4090", "llama.cpp", 1.86, "GiB",
        "github.com/ggml-org/llama.cpp/pull/12183 (qwen2 3B Q4_0 1.86 GiB)",
        note="tied embeddings: llama-quantize stores token_embd at q6_K here; we keep it at q4_0"),
    Row("m3", "model buffer (llama-bench size)", "TinyLlama-1.1B", "Q4_K_M", "RTX 4090", "llama.cpp", 636.18, "MiB",
        "github.com/geerlingguy/ai-benchmarks/issues/43 (llama 1B Q4_K - Medium 636.18 MiB)"),
    Row("m4", "model buffer (llama-bench size)", "Llama-3.2-3B", "Q4_K_M", "RTX 4090", "llama.cpp", 1.87, "GiB",
        "github.com/geerlingguy/ai-benchmarks/issues/43 (llama 3B Q4_K - Medium 1.87 GiB)"),
    Row("m5", "weights per rank (TP 8)", "Llama-3.1-405B", "FP8-MLP", "8x H100 80GB", "vllm", 57.7520, "GiB",
        "github.com/vllm-project/vllm/issues/6746 ('Loading model weights took 57.7520 GB')", tp=8,
        note="vLLM's 'GB' here is GiB; Meta also leaves the first and last layers in BF16 (not modelled)"),
    Row("m6", "weights", "Llama-3.1-70B", "W8A8", "H100 80GB", "vllm", 67.7229, "GiB",
        "github.com/vllm-project/vllm/pull/12569 ('Loading model weights took 67.7229 GB')"),
    Row("m7", "GPU KV cache (tokens) at util 0.98", "Llama-3.1-70B", "W8A8", "H100 80GB", "vllm", 22096, "tokens",
        "github.com/vllm-project/vllm/pull/12569 ('# GPU blocks: 1381' x 16)", mode="kv_tokens", util=0.98,
        batched=2048, seqs=256, note="GPU not named in the post; an 80 GB card assumed; max_model_len 2048; "
        "vLLM 0.7's V0 defaults (2048 tokens, 256 sequences)"),
    Row("m8", "GPU KV cache (tokens), TP 4", "Qwen3-235B-A22B", "FP8", "4x H100 80GB", "vllm", 178880, "tokens",
        "github.com/vllm-project/vllm/issues/21348 ('GPU KV cache size: 178,880 tokens')", mode="kv_tokens", tp=4,
        note="run with an LMCache connector; vLLM 0.9 defaults (util 0.9)"),
    Row("m9", "KV tokens in 8.11 GiB (exact arithmetic)", "Qwen3-235B-A22B", "FP8", "4x H100 80GB", "vllm", 178880,
        "tokens", "github.com/vllm-project/vllm/issues/21348 ('Available KV cache memory: 8.11 GiB')",
        mode="kv_in_budget", tp=4, available_gib=8.11, note="8.11 is rounded; one KV head per rank (4 heads / TP 4)"),
    # ---------------- vLLM's profiling reserve: util x total - weights - activations - non-torch (- graphs)
    Row("k1", "available KV memory, util 0.9", "Llama-3.1-8B", "BF16", "H100 80GB", "vllm", 51.38, "GiB",
        f"{LLMD} ('Available KV cache memory: 51.38 GiB')", mode="kv_available", weights_gib=14.99, total_gib=79.18,
        batched=8192, seqs=1024, graphs_out=False, note="fit (sampler copies); vLLM 0.11"),
    Row("k2", "available KV memory, util 0.9, TP 2", "Llama-3.1-70B", "FP8", "2x H100 80GB", "vllm", 32.0, "GiB",
        f"{LLMD} (Llama-3.3-70B FP8: 'Available KV cache memory: 32.0 GiB')", mode="kv_available", tp=2,
        weights_gib=33.88, total_gib=79.18, batched=8192, seqs=1024, graphs_out=False, note="fit; vLLM 0.11"),
    Row("k3", "available KV memory, util 0.9", "gpt-oss-20b", "BF16", "H100 80GB", "vllm", 50.28, "GiB",
        f"{LLMD} ('Available KV cache memory: 50.28 GiB')", mode="kv_available", weights_gib=13.47,
        total_gib=79.18, batched=8192, seqs=1024, graphs_out=False, note="fit; MXFP4 weights as logged; vLLM 0.11"),
    Row("k5", "available KV memory, util 0.65 (a low-utilization start)", "gpt-oss-20b", "BF16", "A100 80GB", "vllm",
        36.56, "GiB", "myoceane.fr/index.php/ai-vllm-a100-gemma-4/ ('Available KV cache memory: 36.56 GiB')",
        mode="kv_available", util=0.65, weights_gib=13.72, total_gib=79.15, batched=2048, seqs=256,
        note="vLLM 0.19 (graphs subtracted); the A100 budget tier"),
    Row("k6", "available KV memory, util 0.9, eager", "Llama-3.1-8B", "BF16", "A100 40GB", "vllm", 19.28, "GiB",
        "github.com/ilseokoh/vllm-gce README.md ('Available KV cache memory: 19.28 GiB')", mode="kv_available",
        weights_gib=14.99, total_gib=39.49, batched=8192, seqs=256, eager=True, note="vLLM 0.15.1"),
    Row("k7", "available KV memory, util 0.96, 6 sequences", "gpt-oss-120b", "BF16", "H100 80GB", "vllm", 8.99,
        "GiB", "github.com/tonghuikang/blog _posts/2025-12-28-vllm-logs.md ('Available KV cache memory: 8.99 GiB')",
        mode="kv_available", util=0.96, weights_gib=65.97, total_gib=79.18, batched=8192, seqs=6,
        graphs_out=False, note="vLLM 0.11.2; GPU type inferred from the totals"),
    # ---------------- the pool's blocks as vLLM counts them (from its own "Available KV cache memory")
    Row("k8", "max concurrency at 98,304 tokens", "gpt-oss-120b", "BF16", "H100 80GB", "vllm", 2.46, "x",
        "github.com/tonghuikang/blog _posts/2025-12-28-vllm-logs.md ('Maximum concurrency ... 2.46x')",
        mode="kv_concurrency", available_gib=8.99, context=98304, batched=8192, in_flight=1,
        note="2 groups of 18 layers; a sliding group holds 127 + 8192 tokens (vLLM 0.11)"),
    Row("k9", "max concurrency at 4,096 tokens", "gemma-3-27b", "BF16", "GPU", "vllm", 50.05, "x",
        "github.com/TaintsAndTokenizersInc/vllm_multimodal_rocm_examples example_logs.md ('50.05x')",
        mode="kv_concurrency", available_gib=109.86, context=4096, batched=8192, in_flight=1,
        note="ROCm build (MI300X); 7 groups of 10 layers, 8 padding layers"),
    Row("k10", "max concurrency at 2,048 tokens", "gemma-3-1b", "BF16", "GPU", "vllm", 461.21, "x",
        "github.com/eole-nlp/eole benchmarks/genai/results.md ('461.21x')", mode="kv_concurrency",
        available_gib=25.39, context=2048, batched=8192, in_flight=1, note="7 groups of 4 layers; vLLM 0.13"),
    Row("k11", "GPU KV cache size (tokens)", "gpt-oss-120b", "BF16", "GPU", "vllm", 78384, "tokens",
        "github.com/alvarobartt/hf-mem/issues/60 ('GPU KV cache size: 78,384 tokens')", mode="kv_group_tokens",
        available_gib=5.38, note="the pre-0.21 print: blocks / groups x 16"),
    Row("k12", "GPU KV cache size (tokens)", "Llama-3.1-8B", "BF16", "A100 40GB", "vllm", 157936, "tokens",
        "github.com/ilseokoh/vllm-gce README.md ('GPU KV cache size: 157,936 tokens')", mode="kv_in_budget",
        available_gib=19.28),
    Row("k13", "GPU KV cache size (tokens)", "Qwen3-14B", "BF16", "A100 40GB", "vllm", 42656, "tokens",
        "github.com/LMCache/LMCache/issues/1739 ('GPU KV cache size: 42,656 tokens')", mode="kv_in_budget",
        available_gib=6.51),
    Row("m15", "model size (llama-server load)", "gpt-oss-20b", "MXFP4_MOE", "RTX 3070", "llama.cpp", 11.27, "GiB",
        "github.com/ikawrakow/ik_llama.cpp/issues/822 (mainline log: 'file size = 11.27 GiB'; mxfp4 72, q8_0 98, "
        "f32 289 tensors)", note="the ggml-org GGUF: experts MXFP4, every other matrix Q8_0"),
    Row("m16", "model size (LM Studio load)", "gpt-oss-120b", "MXFP4_MOE", "GPU", "llama.cpp", 59.02, "GiB",
        "github.com/ggml-org/llama.cpp/issues/15253 ('file size = 59.02 GiB'; mxfp4 108, q8_0 146, f32 433)"),
    Row("m10", "SGLang K cache size for 367,404 tokens", "Qwen3-235B-A22B", "FP8", "4x H100 80GB", "sglang", 8.23,
        "GiB", "github.com/vllm-project/vllm/issues/21348 (SGLang: '#tokens: 367404, K size: 8.23 GB')",
        mode="k_bytes", tp=4, context=367404),
    Row("m11", "weights (seed: ~40 GB)", "Llama-3.1-70B", "Q4_K_M", "GPU", "llama.cpp", 40.0, "GB",
        "seed local-llms-2026-guide.txt ch. 19", note="exact: the real Q4_K_M file is 42.5 GB; the seed rounds down"),
    Row("m12", "KV at 4K (seed: ~2 GB)", "Llama-3.1-70B", "Q4_K_M", "GPU", "llama.cpp", 2.0, "GB",
        "seed local-llms-2026-guide.txt ch. 19", mode="kv_bytes", context=4096,
        note="exact GQA arithmetic: 80 x 2 x 8 x 128 x 2 B x 4096 = 1.34 GB; the seed's figure is high"),
    Row("m13", "FP16 KV at 32K (seed: ~32 GB)", "Llama-3.1-70B", "Q4_K_M", "GPU", "llama.cpp", 32.0, "GB",
        "seed local-llms-2026-guide.txt ch. 10", mode="kv_bytes", context=32768,
        note="exact: 10.7 GB with 8 KV heads; the seed's 32 GB matches no head count (64 heads give 86 GB)"),
    Row("m14", "KV bytes per token (Ollama, RSS slope)", "Qwen2.5-0.5B", "Q4_K_M", "CPU host", "ollama", 12264.0,
        "B/token", "raw.githubusercontent.com/baeseokjae/baeseokjae.github.io (kv-budget-2026-11-01.csv, 32768 ctx)",
        mode="kv_per_token", gpu=False, note="measured from process RSS, so not byte exact"),
    # ---------------- speed: llama.cpp (llama-bench tg128 = decode at batch 1; pp512 = prefill)
    Row("s1", "decode tg128", "Qwen2.5-Coder-3B", "Q4_0", "RTX 4090", "llama.cpp", 236.06, "tok/s",
        "github.com/ggml-org/llama.cpp/pull/12183 (fa 0, tg128)", kind="speed", mode="decode", note="fit"),
    Row("s2", "prefill pp512", "Qwen2.5-Coder-3B", "Q4_0", "RTX 4090", "llama.cpp", 18155.22, "tok/s",
        "github.com/ggml-org/llama.cpp/pull/12183 (fa 0, pp512)", kind="speed", mode="prefill", prompt=512, note="fit"),
    Row("s3", "decode tg128", "Llama-2-7B", "Q4_0", "Tesla P40", "llama.cpp", 56.79, "tok/s",
        "github.com/ggml-org/llama.cpp/pull/4766 (P40, llama 7B Q4_0 tg128)", kind="speed", mode="decode",
        note="fit (datacenter bandwidth share)"),
    Row("s4", "decode (token generation)", "Llama-3.1-8B", "Q4_K_M", "RTX 3080", "llama.cpp", 111.95, "tok/s",
        "github.com/dmatora/LLM-inference-speed-benchmarks/issues/12", kind="speed", mode="decode", note="fit"),
    Row("s5", "prefill (prompt evaluation)", "Llama-3.1-8B", "Q4_K_M", "RTX 3080", "llama.cpp", 3806.89, "tok/s",
        "github.com/dmatora/LLM-inference-speed-benchmarks/issues/12", kind="speed", mode="prefill", prompt=512),
    Row("s6", "decode", "Qwen3-8B", "Q4_K_M", "RTX 5090", "llama.cpp", 221.7, "tok/s",
        "github.com/CambrianTech/continuum/pull/1627 (Docker Model Runner llama.cpp CUDA, WSL2)", kind="speed",
        mode="decode"),
    Row("s7", "decode tg128 (Vulkan)", "TinyLlama-1.1B", "Q4_K_M", "RTX 4090", "llama.cpp", 762.37, "tok/s",
        "github.com/geerlingguy/ai-benchmarks/issues/43", kind="speed", mode="decode",
        note="Vulkan backend, not CUDA"),
    # ---------------- speed: vLLM (Qwen2.5 speed benchmark: A100 80GB, vLLM 0.6.3, batch 1, 2048 new tokens)
    Row("s8", "generate 2048 tokens", "Qwen2.5-14B", "BF16", "A100 80GB", "vllm", 46.30, "tok/s",
        "github.com/QwenLM/Qwen2.5 docs/source/benchmark/speed_benchmark.rst", kind="speed", mode="generate",
        output=2048, note="fit (bandwidth share; vLLM 0.6.3's V0 engine spent ~3 ms a step on the host, V1 1.25)"),
    Row("s9", "generate 2048 tokens", "Qwen2.5-14B", "AWQ", "A100 80GB", "vllm", 92.66, "tok/s",
        "github.com/QwenLM/Qwen2.5 docs/source/benchmark/speed_benchmark.rst", kind="speed", mode="generate",
        output=2048, note="fit (int4 kernel factor, under V0's ~3 ms a step)"),
    Row("s10", "generate 2048 tokens", "Qwen2.5-32B", "AWQ", "A100 80GB", "vllm", 51.92, "tok/s",
        "github.com/QwenLM/Qwen2.5 docs/source/benchmark/speed_benchmark.rst", kind="speed", mode="generate",
        output=2048),
    Row("s11", "generate 2048 tokens, TP 4", "Qwen2.5-72B", "BF16", "4x A100 80GB", "vllm", 31.37, "tok/s",
        "github.com/QwenLM/Qwen2.5 docs/source/benchmark/speed_benchmark.rst", kind="speed", mode="generate",
        output=2048, tp=4),
    Row("s12", "generate 2048 tokens, TP 2", "Qwen2.5-72B", "AWQ", "2x A100 80GB", "vllm", 44.30, "tok/s",
        "github.com/QwenLM/Qwen2.5 docs/source/benchmark/speed_benchmark.rst", kind="speed", mode="generate",
        output=2048, tp=2),
    Row("s13", "generate 2048 after a 30720-token prompt", "Qwen2.5-14B", "BF16", "A100 80GB", "vllm", 37.18, "tok/s",
        "github.com/QwenLM/Qwen2.5 docs/source/benchmark/speed_benchmark.rst", kind="speed", mode="generate",
        output=2048, prompt=30720),
    Row("s15", "prefill pp512 (MoE, experts in MXFP4)", "gpt-oss-20b", "MXFP4_MOE", "RTX 3090", "llama.cpp", 4739.20,
        "tok/s", "github.com/ggml-org/llama.cpp/pull/20586 (master column, pp512)", kind="speed", mode="prefill",
        prompt=512, note="expert GEMMs in 64-row tiles"),
    Row("s16", "prefill pp512 (dense, same card and build)", "gemma-2-2b", "Q4_0", "RTX 3090", "llama.cpp", 15292.65,
        "tok/s", "github.com/ggml-org/llama.cpp/pull/20586 (master column, pp512)", kind="speed", mode="prefill",
        prompt=512),
    *(row for i, (chip, (tg, pp)) in enumerate(APPLE_ROWS.items()) for row in (
        Row(f"s{17 + 2 * i}", "decode tg128 (Metal)", "Llama-2-7B", "Q4_0", chip, "llama.cpp", tg, "tok/s",
            APPLE_SOURCE, kind="speed", mode="decode"),
        Row(f"s{18 + 2 * i}", "prefill pp512 (Metal)", "Llama-2-7B", "Q4_0", chip, "llama.cpp", pp, "tok/s",
            APPLE_SOURCE, kind="speed", mode="prefill", prompt=512))),
    Row("s14", "generate 2048 tokens", "Qwen2.5-1.5B", "BF16", "A100 80GB", "vllm", 183.33, "tok/s",
        "github.com/QwenLM/Qwen2.5 docs/source/benchmark/speed_benchmark.rst", kind="speed", mode="generate",
        output=2048, note="V0's ~3 ms of host time a step dominates a small model; V1 spends 1.25 (l29)"),
]

UNIT = {"GiB": GIB, "MiB": MIB, "GB": 1e9, "tokens": 1, "tok/s": 1, "B/token": 1, "x": 1}


def _gpu_of(row: Row) -> Gpu:
    name = row.hardware.split("x ", 1)[-1]
    return GPUS.get(name) or GPUS["RTX 4090"]


def _hardware(row: Row) -> HardwareView:
    if not row.gpu:
        return HardwareView(host_ram_bytes=64 * GIB)
    gpu = _gpu_of(row)
    return HardwareView(gpus=(gpu,) * row.tp, host_ram_bytes=512 * GIB, link="nvlink" if gpu.nvlink else "pcie")


# llama-bench's test names: its rows time the model alone (b11312 tools/llama-bench/llama-bench.cpp test_gen:
# the next token is std::rand() % n_vocab, nothing is sampled)
LLAMA_BENCH_TESTS = ("tg128", "pp512")


def predict(row: Row) -> float:
    m, fmt = MODELS[row.model], FORMATS[row.fmt]
    w = weight_bytes(m, fmt)
    scale = UNIT[row.unit]
    if row.mode == "weights":
        return w.total_bytes / row.tp / scale
    if row.mode == "kv_bytes":
        return kv_bytes(m, F16, n_ctx=row.context).total_bytes / scale
    if row.mode == "kv_per_token":
        return kv_bytes(m, F16, n_ctx=32768).total_bytes / 32768
    if row.mode == "kv_in_budget":
        per_token = kv_bytes(m, F16, n_ctx=16, runtime="vllm", tp=row.tp).total_bytes / 16
        return int(row.available_gib * GIB / per_token) // 16 * 16
    if row.mode in ("kv_concurrency", "kv_group_tokens"):
        return _grouped(row, m)
    if row.mode == "kv_available":
        return _available(row, m) / GIB
    if row.mode == "k_bytes":
        return kv_bytes(m, F16, n_ctx=row.context, runtime="sglang", tp=row.tp).total_bytes / 2 / scale
    hw = _hardware(row)
    if row.mode == "kv_tokens":
        est = plan_memory(m, w, fmt, F16, row.runtime, hw, ParallelView(tp=row.tp), row.context, 1,
                          MemorySettings(gpu_memory_utilization=row.util, max_num_batched_tokens=row.batched or None,
                                         max_num_seqs=row.seqs or None))
        return est.kv_tokens_capacity
    step = step_model(m, w, F16, row.runtime, hw, ParallelView(tp=row.tp))
    if any(test in row.what for test in LLAMA_BENCH_TESTS):
        step = replace(step, sample_s=0.0)   # llama-bench decodes without sampling (a random next token)
    s = unloaded_speed(step, row.runtime, prompt_tokens=row.prompt, output_tokens=row.output, concurrency=1)
    if row.mode == "decode":
        return s.decode_tok_s
    if row.mode == "prefill":
        return s.prefill_tok_s
    return row.output / (s.ttft_s.value + row.output * s.tpot_s.value)


def _grouped(row: Row, m: Model) -> float:
    """vLLM's grouped pool (llmc.estimate.memory.grouped_pool) from the log's own pool size, at the version's
    tokens in flight."""
    runtime = replace(profile("vllm"), in_flight_batches=row.in_flight)
    pool = grouped_pool(m, F16, ParallelView(), int(row.available_gib * GIB), row.batched, runtime)
    if row.mode == "kv_group_tokens":   # the pre-0.21 print: blocks / groups x 16
        return pool.num_blocks // (pool.full_groups + pool.window_groups) * pool.block
    return pool.requests(row.context)


def _available(row: Row, m: Model) -> float:
    """What vLLM's profiler leaves for the KV cache, from the log's own weights: util x total less llmc's
    reserve (llmc.estimate.memory.vllm_reserve), CUDA graphs only where the version subtracts them."""
    act, fixed = vllm_reserve(m, ParallelView(tp=row.tp), row.batched, row.seqs,
                              cuda_graphs=row.graphs_out and not row.eager)
    return row.util * row.total_gib * GIB - row.weights_gib * GIB - act.bytes - fixed


def error(row: Row) -> float:
    return row.predicted / row.measured - 1


# ---------------------------------------------------------------- under load

@dataclass
class LoadRow:
    """A published serving benchmark (`vllm bench serve`, SGLang `bench_serving`, NVIDIA's AIPerf): its load
    as the benchmark drove it, one metric it printed, and what the serving simulation predicts for it."""

    id: str
    metric: str            # ttft_mean, ttft_p50, tpot_mean, tpot_p50, itl_mean, itl_p50, out_tok_s
    model: str
    fmt: str
    gpu: str
    runtime: str
    load: Load
    measured: float        # ms for latencies, tok/s for throughput
    source: str
    tp: int = 1
    context: int = 4096
    note: str = ""
    fit: bool = False      # used to set a factor (l29: vLLM V1's per-step host time); left out of the summary
    predicted: float | None = None
    eager: bool = False    # run with --enforce-eager (no CUDA graphs)
    kv: str = "F16"        # the KV cache type it ran with (KV_TYPES)

    @property
    def unit(self) -> str:
        return "tok/s" if self.metric == "out_tok_s" else "ms"


SHAREGPT = (222, 182)      # mean prompt / output tokens of the ShareGPT runs that print them (row l6's file)


def _closed(users, prompt, output, requests=None, spread=(0.0, 0.0), whole_run=True, sharegpt=False):
    """A benchmark client's closed loop: its users start together (estimate/serving.py), and its figures are
    over every request it sent, the first burst included (`vllm bench serve`), or over windows once the rate
    is stable (genai-perf: whole_run False). `spread`: how far its prompts' and answers' lengths range about
    their means (ShareGPT's, and answers that end at EOS, vary; fixed-length runs do not)."""
    return Load("closed", prompt, output, users=users, requests=requests, prompt_spread=spread[0],
                output_spread=spread[1], whole_run=whole_run, **(SHAREGPT_LENGTHS if sharegpt else {}))


def _open(rate, prompt, output, requests=None, spread=(0.0, 0.0), sharegpt=False):
    return Load("open", prompt, output, rate=rate, requests=requests, prompt_spread=spread[0],
                output_spread=spread[1], whole_run=True, **(SHAREGPT_LENGTHS if sharegpt else {}))


# ShareGPT's lengths range from a few tokens to thousands about their means (most short, a long tail): taken as
# exponential, cut where vLLM's sampler drops longer conversations (benchmarks/datasets.py is_valid_sequence:
# prompt + answer at most 2048 tokens)
SHAREGPT_LENGTHS = {"exponential": True, "longest": 2048}
# random lengths drawn from 1 up to the stated maximum (kvcached's bench script): uniform on [0, 2 x mean]
UNIFORM_TO_MAX = (1.0, 1.0)
# 256-token prompts, answers capped at 128 that end at EOS: 100 tokens on average (output tok/s / req/s at every
# concurrency of the source), taken as uniform on [72, 128]
MUSHFIQ_LENGTHS = (256, 100)
MUSHFIQ_SPREAD = (0.0, 0.28)


def _sharegpt(rate, requests):
    return _open(rate, *SHAREGPT, requests, sharegpt=True)


def _sharegpt_users(users, requests):
    return _closed(users, *SHAREGPT, requests, sharegpt=True)


def _gpustack_users(users):
    """gpustack's Qwen3-8B runs: 100 ShareGPT prompts (23,260 prompt and 22,061 answer tokens in all)."""
    return _closed(users, 233, 221, 100, sharegpt=True)


def _gpustack_burst(prompt, output):
    """1000 ShareGPT prompts sent at once: a closed loop of 1000 users sending one request each."""
    return _closed(1000, prompt, output, 1000, sharegpt=True)


def _gpustack_bursts(first, model, fmt, page, lengths, context, runs):
    """Rows l{first}...: one page's 1000 ShareGPT prompts sent at once (`lengths`: its mean prompt and answer),
    each engine's figures in turn."""
    figures = [(runtime, version, metric, value) for runtime, version, pairs in runs for metric, value in pairs]
    for i, (runtime, version, metric, value) in enumerate(figures):
        note = f"{version}; 1000 ShareGPT prompts at once ({lengths[0]} / {lengths[1]} tokens on average)"
        yield LoadRow(f"l{first + i}", metric, model, fmt, "H100 80GB", runtime, _gpustack_burst(*lengths), value,
                      GPUSTACK.format(page), context=context, note=note)


def _kvcached(rate, requests):
    return _open(rate, 960, 82, requests, UNIFORM_TO_MAX)


def _mushfiq(users):
    return _closed(users, *MUSHFIQ_LENGTHS, 300, MUSHFIQ_SPREAD)


def _nim(users, requests):
    """genai-perf's figures are over its stable measurement windows, not the ramp."""
    return _closed(users, 5000, 500, requests, whole_run=False)


SGLANG_060 = "github.com/sgl-project/sglang benchmark/benchmark_vllm_060/README.md"
LAMBDA = "github.com/LambdaLabsML/vllm-benchmark results/prompt_1280/1xH100-80GB-SXM/Meta-Llama-3-8B-Instruct_tp1_len2048.json"
KVCACHED = "github.com/ovg-project/kvcached benchmarks/bench_kvcached_overhead/README.md (SGLang baseline)"
GPUSTACK = "github.com/gpustack/gpustack docs/performance-lab/{} (each engine with its defaults)"
MUSHFIQ = "mushfiqrahman.dev/?p=1668 (vLLM on one RTX 4090, random 256/128)"
NIM = "docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance.md (Llama-3.3-70B FP8, 2x H100, 5000/500)"
# NIM's FP8 profile keeps its KV cache in FP8 as well: past 100 users its throughput stays at 920 tok/s with an
# ITL of 93 ms (the same page, 150-250 users), so about 85 sequences of 5,500 tokens run at once, 470k tokens:
# in BF16 (320 KiB a token) that is 154 GB, more than two 80 GB cards hold beside 70 GB of weights; in FP8, 77 GB
NIM_KV = "FP8"
TT = "github.com/tenstorrent/tt-inference-server/issues/{} (vLLM GPU reference run)"
LOAD_ROWS = [
    LoadRow("l1", "ttft_p50", "Llama-3.1-8B", "BF16", "A100 80GB", "vllm", _sharegpt(4, 1200), 100.48,
            SGLANG_060, note="vLLM 0.6.0 with --num-scheduler-steps 10 (a new prompt waits for the 10-step batch)"),
    LoadRow("l2", "tpot_p50", "Llama-3.1-8B", "BF16", "A100 80GB", "vllm", _sharegpt(4, 1200), 14.14,
            SGLANG_060, note="as l1"),
    LoadRow("l3", "ttft_p50", "Llama-3.1-8B", "BF16", "A100 80GB", "sglang", _sharegpt(8, 2400), 35.68,
            SGLANG_060, note="SGLang 0.3.0, torch.compile on"),
    LoadRow("l4", "itl_p50", "Llama-3.1-8B", "BF16", "A100 80GB", "sglang", _sharegpt(8, 2400), 14.41,
            SGLANG_060, note="as l3"),
    LoadRow("l5", "tpot_p50", "Llama-3.1-70B", "BF16", "H100 80GB", "vllm", _sharegpt(8, 2400), 29.15,
            SGLANG_060, tp=4, note="vLLM 0.6.0, multi-step 10"),
    LoadRow("l6", "ttft_p50", "Llama-3.1-70B", "BF16", "H100 80GB", "sglang", _sharegpt(4, 1200), 53.94,
            SGLANG_060, tp=4, note="SGLang 0.3.0"),
    LoadRow("l7", "itl_p50", "Llama-3.1-70B", "BF16", "H100 80GB", "sglang", _sharegpt(4, 1200), 21.67,
            SGLANG_060, tp=4, note="SGLang 0.3.0"),
    LoadRow("l8", "out_tok_s", "Llama-3.1-8B", "BF16", "A100 80GB", "vllm", _sharegpt_users(256, 1024),
            4132.37, SGLANG_060, note="rate inf, 5000 prompts: saturated at max_num_seqs 256 (vLLM 0.6.0)"),
    LoadRow("l9", "out_tok_s", "Llama-3.1-8B", "BF16", "H100 80GB", "vllm", _sharegpt_users(256, 1024),
            7626.59, LAMBDA, context=2048, note="rate inf, 1280 ShareGPT prompts (mean 221.5 / 182.4) at "
            "--max-num-seqs 256; vLLM ~0.5.4"),
    LoadRow("l10", "ttft_mean", "Qwen3-14B", "AWQ", "A100 80GB", "vllm", _closed(1, 16000, 200, 30), 3345.37,
            "github.com/vllm-project/vllm/issues/20469", context=16384, eager=True,
            note="vLLM 0.9.1, --enforce-eager, max concurrency 1"),
    LoadRow("l11", "tpot_mean", "Qwen3-14B", "AWQ", "A100 80GB", "vllm", _closed(1, 16000, 200, 30), 20.63,
            "github.com/vllm-project/vllm/issues/20469", context=16384, eager=True, note="as l10"),
    LoadRow("l12", "ttft_mean", "Llama-3.2-3B", "BF16", "A100 80GB", "sglang", _kvcached(8, 480), 65.48,
            KVCACHED, note="SGLang 0.4.6; random lengths up to 1913/162 (means used)"),
    LoadRow("l13", "itl_mean", "Llama-3.2-3B", "BF16", "A100 80GB", "sglang", _kvcached(8, 480), 9.76,
            KVCACHED, note="as l12"),
    LoadRow("l14", "out_tok_s", "Llama-3.2-3B", "BF16", "A100 80GB", "sglang", _kvcached(32, 1920), 2192.53,
            KVCACHED, note="rate 32 req/s outpaces the server (26.8 req/s served)"),
    LoadRow("l15", "out_tok_s", "Mistral-7B-v0.3", "BF16", "RTX 4090", "vllm", _mushfiq(4), 210,
            MUSHFIQ, note="vLLM version not given"),
    LoadRow("l16", "ttft_mean", "Mistral-7B-v0.3", "BF16", "RTX 4090", "vllm", _mushfiq(4), 63,
            MUSHFIQ),
    LoadRow("l17", "out_tok_s", "Mistral-7B-v0.3", "BF16", "RTX 4090", "vllm", _mushfiq(16), 644,
            MUSHFIQ),
    LoadRow("l18", "ttft_mean", "Mistral-7B-v0.3", "BF16", "RTX 4090", "vllm", _mushfiq(16), 155,
            MUSHFIQ),
    LoadRow("l19", "out_tok_s", "Mistral-7B-v0.3", "BF16", "RTX 4090", "vllm", _mushfiq(48), 1190,
            MUSHFIQ),
    LoadRow("l20", "ttft_mean", "Mistral-7B-v0.3", "BF16", "RTX 4090", "vllm", _mushfiq(48), 667,
            MUSHFIQ),
    LoadRow("l21", "ttft_mean", "Llama-3.1-70B", "FP8", "H100 80GB", "vllm", _nim(1, 8), 406.77, NIM,
            tp=2, context=8192, kv=NIM_KV, note="NIM 1.8 (TensorRT-LLM engine, not vLLM): a different runtime; FP8 KV"),
    LoadRow("l22", "itl_mean", "Llama-3.1-70B", "FP8", "H100 80GB", "vllm", _nim(1, 8), 18.58, NIM,
            tp=2, context=8192, kv=NIM_KV, note="as l21"),
    LoadRow("l23", "itl_mean", "Llama-3.1-70B", "FP8", "H100 80GB", "vllm", _nim(25, 100), 38.75,
            NIM, tp=2, context=8192, kv=NIM_KV, note="as l21"),
    LoadRow("l24", "out_tok_s", "Llama-3.1-70B", "FP8", "H100 80GB", "vllm", _nim(100, 300), 917.26,
            NIM, tp=2, context=8192, kv=NIM_KV, note="as l21; concurrency 100"),
    LoadRow("l25", "ttft_mean", "Llama-3.1-70B", "FP8", "H100 80GB", "vllm", _nim(100, 300), 7996.25,
            NIM, tp=2, context=8192, kv=NIM_KV, note="as l24"),
    LoadRow("l26", "tpot_mean", "Qwen3-30B-A3B", "BF16", "A100 80GB", "vllm", _closed(1, 128, 128, 8), 9.6,
            TT.format(340), note="GPU count not given: one A100 80GB assumed"),
    LoadRow("l27", "tpot_mean", "Qwen2.5-72B", "BF16", "H100 80GB", "vllm", _closed(1, 1024, 128, 8), 31.0,
            TT.format(143), tp=2, note="TP 2 implied, dtype not given (BF16 assumed)"),
    # gpustack's performance lab (vllm bench serve, ShareGPT, one H100 SXM, each engine with its defaults)
    *(LoadRow(f"l{28 + i}", metric, "Qwen3-8B", "BF16", "H100 80GB", "vllm", _gpustack_users(users), value,
              GPUSTACK.format("qwen3-8b/h100-latency.md"), context=40960, note=note, fit=note.startswith("fit"))
      for i, (metric, users, value, note) in enumerate((
          ("ttft_mean", 1, 59.01, "vLLM 0.11.0, /v1/chat/completions; 100 prompts (233 / 221 tokens on average)"),
          ("tpot_mean", 1, 7.28, "fit: vLLM V1's per-step host time (runtimes/vllm.py EFFICIENCY); as l28"),
          ("ttft_mean", 4, 64.00, "as l28"), ("tpot_mean", 4, 7.38, "as l28"), ("out_tok_s", 4, 496.88, "as l28"),
          ("ttft_mean", 8, 74.57, "as l28"), ("tpot_mean", 8, 7.71, "as l28"), ("out_tok_s", 8, 917.28, "as l28")))),
    *(LoadRow(f"l{36 + i}", metric, "Qwen3-8B", "BF16", "H100 80GB", "sglang", _gpustack_users(4), value,
              GPUSTACK.format("qwen3-8b/h100-latency.md"), context=40960, note="SGLang 0.5.3.post3" if not i else "as l36")
      for i, (metric, value) in enumerate((("ttft_mean", 27.70), ("tpot_mean", 7.19), ("out_tok_s", 525.59)))),
    # every prompt at once (no --max-concurrency): the pool and the queue decide
    *_gpustack_bursts(39, "gpt-oss-20b", "MXFP4", "gpt-oss-20b/h100.md", (215, 194), 131072, (
        ("vllm", "vLLM 0.11.0", (("out_tok_s", 7817.03), ("ttft_mean", 4881.62), ("tpot_mean", 91.00))),
        ("sglang", "SGLang 0.5.4.post2", (("out_tok_s", 2679.49), ("ttft_mean", 10412.75))))),
    *_gpustack_bursts(44, "Qwen3-14B", "BF16", "qwen3-14b/h100.md", (217, 202), 40960, (
        ("vllm", "vLLM 0.11.0", (("out_tok_s", 3173.92), ("ttft_mean", 22141.21))),
        ("sglang", "SGLang 0.5.5.post1", (("out_tok_s", 4043.89), ("ttft_mean", 9230.85))))),
]


def predict_load(row: LoadRow) -> float:
    m, fmt = MODELS[row.model], FORMATS[row.fmt]
    w = weight_bytes(m, fmt)
    gpu = GPUS[row.gpu]
    hw = HardwareView(gpus=(gpu,) * row.tp, host_ram_bytes=512 * GIB, link="nvlink" if gpu.nvlink else "pcie")
    par = ParallelView(tp=row.tp)
    kv = KV_TYPES[row.kv]
    mem = plan_memory(m, w, fmt, kv, row.runtime, hw, par, row.context, 1, MemorySettings(enforce_eager=row.eager))
    runtime = profile(row.runtime)
    tokens, seqs = runtime.budgets(gpu.visible_memory_bytes / GIB, gpu.name)
    # a grouped pool in tokens of this load's requests, as the plan's simulation counts it (solve.serving_budget)
    pool = mem.pool.tokens(row.load.prompt + row.load.output) if mem.pool else mem.kv_tokens_capacity
    figures = simulate(step_model(m, w, kv, row.runtime, hw, par, mem, eager=row.eager), runtime.scheduler,
                       Budget(tokens, seqs, pool), row.load)
    if row.metric == "out_tok_s":
        return figures.throughput_tok_s
    name, stat = row.metric.rsplit("_", 1)
    return getattr(getattr(figures, f"{name}_s"), stat) * 1000


# ---------------------------------------------------------------- calibration records

def calibration_rows(path: Path) -> list[Row]:
    """Rows from `llmc smoke --record FILE`: every numeric figure both predicted and measured."""
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        hw = rec.get("hardware") or {}
        gpu = hw.get("gpu")
        hw_text = f"{hw.get('gpus_per_node', 1)}x {gpu}" if gpu else "CPU host"
        predicted, measured = rec.get("predicted") or {}, rec.get("measured") or {}
        for key in sorted(set(predicted) & set(measured)):
            p, m = predicted[key], measured[key]
            if not isinstance(p, (int, float)) or not isinstance(m, (int, float)) or isinstance(p, bool) or not m:
                continue
            memory = key.endswith("_bytes") or key == "kv_tokens_capacity"
            rows.append(Row(f"c{i}.{key}", key, rec.get("plan_choice", "?"), "-", hw_text, rec.get("runtime", "?"),
                            float(m), "B" if key.endswith("_bytes") else "", f"{path.name} line {i}",
                            kind="memory" if memory else "speed", gpu=bool(gpu), mode="record", predicted=float(p)))
    return rows


# ---------------------------------------------------------------- output

def _num(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) < 1:
        return f"{v:.3g}"
    return f"{v:.2f}" if abs(v) < 100 else f"{v:.1f}"


def table(rows: list[Row]) -> str:
    out = ["| # | what | model / format | hardware | runtime | measured | ours | error | source | note |",
           "|---|---|---|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        unit = f" {r.unit}" if r.unit else ""
        out.append(f"| {r.id} | {r.what} | {r.model} {r.fmt} | {r.hardware} | {r.runtime} | {_num(r.measured)}{unit} | "
                   f"{_num(r.predicted)}{unit} | {error(r) * 100:+.1f}% | {r.source} | {r.note} |")
    return "\n".join(out)


def summary(rows: list[Row]) -> list[str]:
    lines = []
    for label, sel in (("GPU memory", lambda r: r.gpu and r.kind == "memory"),
                       ("vLLM KV sizing, out of sample (k rows not used to fit)",
                        lambda r: r.id.startswith("k") and not r.note.startswith("fit")),
                       ("GPU speed", lambda r: r.gpu and r.kind == "speed"),
                       ("GPU speed, out of sample (rows not used to fit)",
                        lambda r: r.gpu and r.kind == "speed" and not r.note.startswith("fit")),
                       ("all rows", lambda r: True)):
        errs = [abs(error(r)) for r in rows if sel(r)]
        if errs:
            worst = max((r for r in rows if sel(r)), key=lambda r: abs(error(r)))
            lines.append(f"{label}: {len(errs)} rows, median error {statistics.median(errs) * 100:.1f}%, "
                         f"worst {abs(error(worst)) * 100:.1f}% ({worst.id})")
    return lines


HEADER = """# Accuracy: our estimates beside published measurements

Generated by `python benchmarks/accuracy.py --write`; do not edit by hand. Each row is a figure someone
published (link in the source column) and what llmc's estimator predicts for the same model, format,
hardware and runtime settings. Error = ours / measured - 1.

Reading the table:
- Memory rows compare bytes that exact arithmetic can produce (weights, KV) and, for vLLM, the KV
  token capacity left after weights, activations, CUDA graphs and overheads (the least certain part).
- Where exact arithmetic disagrees with a quoted figure (the seed's rounded 70B numbers) the row keeps
  the quote and says so in the note; the estimator is not tuned toward it.
- Speed rows marked "fit" were used to set the efficiency factors in each runtime profile's `efficiency` (`llmc.runtimes`)
  (in-sample); the others are out-of-sample checks.
- The CPU-side exactness (KV to the byte, model buffer within 1%, compute buffer within 10%) is checked
  by `tests/test_llama_real.py` against the real llama-server, not here.
- Rows `c1.*` are real runs recorded by `llmc smoke --record` into `benchmarks/calibration/*.jsonl`
  (predicted as planned at the time of the run). `cpu-2core-vm.jsonl` is gemma-3-270m Q4_K_M served by
  llama-server on this project's 2-core CI machine. Line 1 (c1, llmc 0.1): memory exact, the CPU speed
  estimate about 4x optimistic (the default CPU host then was a dual-channel DDR5 desktop with ~1 TFLOPS
  assumed; this machine has 2 cores). Line 2 (c2, 2026-12-03): the host as `llmc detect` states it (2 cores,
  `isa = [avx2]` for the test build, 18.8 GB/s measured), no calibration applied: TTFT 15% and TPOT 13% fast.

"""


LOAD_HEADER = """## Under load

Published serving benchmarks beside the serving simulation (`llmc.estimate.serving`) for the same model,
card, tensor parallelism and load. Their clients drove either a closed loop (`--max-concurrency N`: N users)
or Poisson arrivals (`--request-rate`); the simulation runs the same, with the pinned runtime's scheduler and
budgets. Requests' lengths vary as the source's did (the load column: ShareGPT's as exponential about their
means, cut at 2048 tokens as vLLM's sampler cuts them; random lengths up to a maximum as uniform on [0, 2 x
mean]; answers that end at EOS as uniform within their cap), and the figures are
over the requests the client reported on (`vllm bench serve`: all of them, the first burst included;
genai-perf: its stable windows). Many benchmarks ran older releases than the pinned ones (noted per row). Every
row is out of sample but l29, which sets vLLM V1's per-step host time (its note says "fit"); the summary below leaves it out.
Latencies in ms, throughput in output tokens/s.

"""


def load_table(rows: list[LoadRow]) -> str:
    out = ["| # | metric | model / format | hardware | runtime | load | measured | ours | error | source | note |",
           "|---|---|---|---|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        hw = f"{r.tp}x {r.gpu}" if r.tp > 1 else r.gpu
        out.append(f"| {r.id} | {r.metric} | {r.model} {r.fmt} | {hw} | {r.runtime} | {r.load.describe()} | "
                   f"{_num(r.measured)} | {_num(r.predicted)} | {(r.predicted / r.measured - 1) * 100:+.1f}% | "
                   f"{r.source} | {r.note} |")
    return "\n".join(out)


def load_summary(rows: list[LoadRow]) -> list[str]:
    """Medians over the rows not used to fit anything."""
    lines = []
    rows = [r for r in rows if not r.fit]
    for label, sel in (("TTFT", lambda r: r.metric.startswith("ttft")),
                       ("TPOT and inter-token latency", lambda r: r.metric.startswith(("tpot", "itl"))),
                       ("throughput", lambda r: r.metric == "out_tok_s"), ("all rows under load", lambda r: True)):
        chosen = [r for r in rows if sel(r)]
        errs = sorted(abs(r.predicted / r.measured - 1) for r in chosen)
        worst = max(chosen, key=lambda r: abs(r.predicted / r.measured - 1))
        lines.append(f"{label}: {len(chosen)} rows, median error {statistics.median(errs) * 100:.1f}%, "
                     f"worst {abs(worst.predicted / worst.measured - 1) * 100:.1f}% ({worst.id})")
    return lines


def evaluate_load() -> list[LoadRow]:
    out = []
    for r in LOAD_ROWS:
        r = LoadRow(**{**r.__dict__})
        r.predicted = predict_load(r)
        out.append(r)
    return out


def render(rows: list[Row], load_rows: list[LoadRow] | None = None) -> str:
    load_rows = evaluate_load() if load_rows is None else load_rows
    return (HEADER + table(rows) + "\n\n## Summary\n\n" + "\n".join(f"- {s}" for s in summary(rows)) + "\n\n"
            + LOAD_HEADER + load_table(load_rows) + "\n\n" + "\n".join(f"- {s}" for s in load_summary(load_rows))
            + "\n")


def evaluate(extra: list[Path] = ()) -> list[Row]:
    """Published rows (predicted now), then the committed smoke records, then any `extra` record files."""
    rows = []
    for r in ROWS:
        r = Row(**{**r.__dict__})
        r.predicted = predict(r)
        rows.append(r)
    for path in [*sorted(RECORDS_DIR.glob("*.jsonl")), *extra]:
        rows += calibration_rows(Path(path))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="*", type=Path, help="calibration files from `llmc smoke --record FILE`")
    ap.add_argument("--write", action="store_true", help=f"rewrite {DOC.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    rows, load_rows = evaluate(args.records), evaluate_load()
    text = render(rows, load_rows)
    if args.write:
        DOC.write_text(text, encoding="utf-8")
    sys.stdout.write(table(rows) + "\n\n" + "\n".join(summary(rows)) + "\n\n" + load_table(load_rows) + "\n\n"
                     + "\n".join(load_summary(load_rows)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
