"""Activation / compute buffers and fixed runtime overheads, each constant with its source.

llama.cpp reserves one compute buffer per backend from its worst-case graph: a prompt ubatch of
min(n_ctx, n_batch, n_ubatch) tokens (src/llama-context.cpp sched_reserve) that computes logits for
n_outputs_max tokens: llama-server sets that to -np (one per slot), other tools to n_batch.
ggml-alloc reuses memory between graph nodes, so the buffer is the attention masks (alive for the
whole graph) plus the largest set of tensors alive at one stage: the MLP, the attention (its score
matrix when flash attention is off) or the output logits. The coefficients were fitted to the real
llama-server on the CPU backend (tests/test_llama_real.py); a GPU backend reserves the same graph,
so the same model is used there (not measured here).

vLLM profiles a dummy forward pass of max_num_batched_tokens tokens and a sampler pass over
max_num_seqs rows, then subtracts the peak (gpu_worker.determine_available_memory).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog.schema import Model

MIB = 1024 * 1024
GIB = 1024 * MIB

LLAMA_COMPUTE_SOURCE = ("model of ggml-alloc's peak over the reserve graph (llama-context.cpp sched_reserve), "
                        "fitted to llama-server -lv 4 on the CPU backend")
VLLM_ACT_SOURCE = ("model of vLLM's profile_run peak at max_num_batched_tokens (activations) and max_num_seqs (sampler: "
                   "8 fp32 copies of the logits, fitted to the llm-d rows k1-k4 of docs/accuracy.md)")
# vLLM's sampler warm-up (v1/worker/gpu/model_runner.py profile_run: the sampler runs on max_num_seqs rows, twice)
# holds logits, probabilities, log-probabilities and a top-k/top-p sort's values and int64 indices: about 8
# fp32 copies of max_num_seqs x vocab at its peak. Fitted to published "peak activation" figures (llm-d
# config_explorer, vLLM 0.11: Llama-3.1-8B 4.76 GiB, Llama-3.3-70B FP8 TP 2 4.84 GiB, gpt-oss-20b/120b 7.38 GiB
# at 8192 tokens and 1024 sequences); the old 2 copies left 3-6 GiB out.
SAMPLER_COPIES = 8

# Fixed overheads. Where no measurement was possible here, the figure says so.
CUDA_CONTEXT_BYTES = 512 * MIB
CUDA_CONTEXT_SOURCE = ("CUDA context + cuBLAS/cuDNN workspaces, ~0.3-0.6 GiB per GPU process "
                       "(pytorch.org docs notes/cuda.html, memory management; assumed, not yet checked on a GPU run)")
VLLM_CUDA_GRAPH_BYTES = 1 * GIB
VLLM_CUDA_GRAPH_SOURCE = ("vLLM 0.33 captures its CUDA graphs into a throwaway pool before sizing the KV cache and "
                          "subtracts them (v1/worker/gpu_worker.py determine_available_memory; "
                          "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS on by default since 0.21); published captures "
                          "take 0.4-1.0 GiB per GPU, 1 GiB is taken (0 with --enforce-eager)")
# What vLLM's profiler counts besides weights and the torch peak: memory other libraries took since its first
# snapshot (the CUDA context is older, and sits in 1 - gpu_memory_utilization). llm-d's config_explorer
# (vLLM 0.11, H100): "Non-torch 0.13 GiB" at TP 1, 0.55 GiB per GPU at TP 2 (NCCL's buffers).
VLLM_NON_TORCH_BYTES = 150 * MIB
VLLM_NON_TORCH_SOURCE = "non-torch memory vLLM's profiler counts, 0.13 GiB at TP 1 (llm-d config_explorer, vLLM 0.11)"
NCCL_BYTES = 420 * MIB
NCCL_SOURCE = "NCCL communicator buffers per rank under TP/PP: non-torch 0.55 GiB at TP 2 vs 0.13 at TP 1 (llm-d)"
LLAMA_CPU_OVERHEAD_BYTES = 64 * MIB
LLAMA_CPU_OVERHEAD_SOURCE = "llama-server process (binary, tokenizer, slots, sampler state); measured RSS minus buffers"


@dataclass(frozen=True)
class ComputeBytes:
    bytes: int
    stage: str           # which stage of the graph sets the peak
    detail: str
    source: str


def llama_ubatch(n_ctx: int, n_batch: int = 2048, n_ubatch: int = 512) -> int:
    return min(n_ctx, n_batch, n_ubatch)


def llama_compute_bytes(model: Model, *, n_ctx: int, n_kv_cells: int, n_batch: int = 2048,
                        n_ubatch: int = 512, flash_attention: bool = True, n_seq: int = 1,
                        n_outputs: int | None = None, layers_here: int | None = None,
                        output_here: bool = True, swa_cells: int = 0) -> ComputeBytes:
    """Compute buffer of one llama.cpp backend (what `sched_reserve: X compute buffer size` prints).

    `n_kv_cells` is the attention span of the reserve graph: n_ctx_seq per stream, or the whole n_ctx
    with --kv-unified; `swa_cells` the sliding-window cache's span (its own mask) for iSWA models. llama-server asks for logits of one token per slot (n_outputs_max = -np,
    tools/server/server-context.cpp), other llama.cpp tools for every token of the batch.
    Terms, f32 unless said (ub = ubatch tokens; d hidden, q = heads x head_dim, kv = kv_heads x head_dim):
      mask:       n_kv x ub (f16 with flash attention, f32 without), one per cache, alive for the whole graph;
      MLP:        3 x n_ff x ub + 3.5 x d x ub;
      attention:  flash: 2 q ub + kv ub + 1.5 d ub; without: n_kv x ub x heads (scores) + 2 q ub + 2 kv ub + 2 d ub;
      output:     n_vocab x n_outputs + 2 d ub.
    Fitted on 28 random tiny llama shapes and gemma-3-270m: median error 2%, worst 11-12% (flash
    attention with a wide hidden state relative to n_ff; see docs/estimation.md).
    """
    ub = llama_ubatch(n_ctx, min(n_ctx, n_batch), n_ubatch)
    f32 = 4
    d, vocab = model.hidden_size, model.vocab_size
    q = model.n_heads * model.head_dim
    kvw = model.n_kv_heads * model.head_dim
    outputs = n_seq if n_outputs is None else n_outputs
    stages = {"inputs": 2 * d * ub * f32}
    if output_here:
        stages["output logits"] = vocab * min(outputs, ub) * f32 + 2 * d * ub * f32
    mask = 0
    if layers_here is None or layers_here > 0:
        mask = (n_kv_cells + swa_cells) * ub * (2 if flash_attention else 4)
        stages["mlp"] = round((3 * _widest_ffn(model) + 3.5 * d) * ub * f32)
        if flash_attention:
            stages["attention"] = round((2 * q + kvw + 1.5 * d) * ub * f32)
        else:
            stages["attention"] = n_kv_cells * ub * model.n_heads * f32 + (2 * q + 2 * kvw + 2 * d) * ub * f32
    stage = max(stages, key=stages.get)
    total = mask + stages[stage]
    detail = f"ubatch {ub} tokens, mask {mask} B + peak at {stage}"
    return ComputeBytes(total, stage, detail, LLAMA_COMPUTE_SOURCE)


def _widest_ffn(model: Model) -> int:
    widths = [model.intermediate_size]
    if model.moe is not None:
        widths.append(model.moe.expert_intermediate_size * model.moe.experts_per_token)
    return max(widths)


def vllm_activation_bytes(model: Model, *, tp: int, max_num_batched_tokens: int,
                          max_num_seqs: int) -> ComputeBytes:
    """Peak activation memory vLLM's profiling run leaves reserved on one rank (bf16 activations)."""
    bf16 = 2
    tokens = max_num_batched_tokens
    ffn = _widest_ffn(model) // tp
    d = model.hidden_size
    act = tokens * (3 * ffn + 4 * d) * bf16
    sampler = max_num_seqs * model.vocab_size * 4 * SAMPLER_COPIES
    total = act + sampler
    detail = (f"{tokens} tokens x (3 x ffn/tp + 4 x hidden) x 2 B + {max_num_seqs} seqs x vocab x 4 B x "
              f"{SAMPLER_COPIES} (sampler)")
    return ComputeBytes(total, "profile run", detail, VLLM_ACT_SOURCE)
