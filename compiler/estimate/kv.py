"""KV cache (and recurrent state) bytes per layer kind, under each runtime's allocation rules.

llama.cpp (src/llama-context.cpp, llama-kv-cache.cpp, llama-kv-cache-iswa.cpp, llama-memory-recurrent.cpp
at llama.cpp@0c1e57098, vendored in llama-cpp-python 0.3.36):
  - n_ctx is padded to 256; without --kv-unified every one of the n_seq streams gets
    n_ctx_seq = pad256(n_ctx / n_seq) cells, with it one stream of n_ctx cells;
  - a sliding-window layer's cache has pad256(min(n_ctx_seq, n_swa * (unified ? n_seq : 1) + n_ubatch)) cells
    per stream, n_ubatch = min(n_ctx, n_batch, n_ubatch);
  - a K or V row is a ggml row of n_kv_heads * head_dim elements (block types carry their scales);
  - MLA keeps one K row of kv_lora_rank + qk_rope_head_dim per cell and no V tensor (V is a view of K);
  - a recurrent (linear attention) layer keeps max(1, n_seq) F32 states: a conv state of
    (conv_kernel - 1) * (2 * key_dim + value_dim) and an SSM state of head_k_dim * value_dim.
vLLM / SGLang: tokens are allocated in pages of 16 (vLLM 0.33 --block-size default 16),
sliding-window layers hold at most the window (plus one page) per sequence, element bytes are bits / 8,
and under tensor parallelism KV heads split across ranks but replicate when n_kv_heads < TP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..catalog.schema import Gpu, KvType, Model
from ..runtimes import KV_LLAMA, profile
from .ggml_types import ggml_type

LLAMA_SOURCE = "llama.cpp@0c1e57098 src/llama-context.cpp, llama-kv-cache.cpp, llama-kv-cache-iswa.cpp"
RECURRENT_SOURCE = "llama.cpp@0c1e57098 src/llama-hparams.cpp n_embd_r/n_embd_s, llama-memory-recurrent.cpp"
VLLM_SOURCE = "vLLM 0.33.0 paged KV (block size 16), v1/core/kv_cache_utils.py"
PAD = 256
VLLM_BLOCK = 16


def llama_rule(runtime: str) -> bool:
    """Whether this runtime's cache follows llama.cpp's rule (its profile's kv_runtime), not the paged one."""
    return profile(runtime).kv_runtime == KV_LLAMA


@dataclass(frozen=True)
class KvPart:
    kind: str              # full | sliding | mla | linear
    layers: int
    cells: int             # tokens (or states) held per layer, all streams together
    bytes_per_cell: int    # per layer, K and V together
    bytes: int
    rule: str

    @property
    def bytes_per_layer(self) -> int:
        return self.bytes // max(self.layers, 1)


@dataclass(frozen=True)
class KvBytes:
    parts: tuple[KvPart, ...]
    n_ctx: int             # context the runtime really allocates (llama.cpp pads to 256)
    n_ctx_seq: int         # per-sequence context
    streams: int
    source: str

    @property
    def total_bytes(self) -> int:
        return sum(p.bytes for p in self.parts)

    def part(self, kind: str) -> KvPart | None:
        return next((p for p in self.parts if p.kind == kind), None)


def pad(n: int, to: int = PAD) -> int:
    return (n + to - 1) // to * to


def kv_heads_per_device(n_kv_heads: int, tp: int) -> int:
    """KV heads one TP rank holds: split evenly, replicated when there are fewer heads than ranks."""
    return max(1, math.ceil(n_kv_heads / tp))


def kv_constraints(model: Model, kv: KvType, runtime: str, flash_attention: bool = True) -> list[str]:
    """Why this KV type cannot run (empty when it can): block sizes and llama.cpp's flash-attention rule."""
    reasons = []
    if runtime not in kv.runtimes:
        reasons.append(f"KV type {kv.id} is not available on {runtime}")
    if kv.block_size > 1:
        dims = {d for kind in set(model.layer_kinds()) - {"mla", "linear"} for d in model.kv_shape(kind)[1:]}
        if model.attention.mla is not None:
            mla = model.attention.mla
            dims = {mla.kv_lora_rank + mla.qk_rope_head_dim}
        bad = sorted(d for d in dims if d % kv.block_size)
        if bad:
            reasons.append(f"KV type {kv.id} needs head_dim divisible by {kv.block_size}; this model has {bad[0]}")
    if llama_rule(runtime) and kv.needs_flash_attention and not flash_attention:
        reasons.append(f"a quantized V cache ({kv.id}) needs flash attention on llama.cpp")
    return reasons


def _ggml_name(kv: KvType, runtime: str) -> str:
    return kv.runtimes.get(runtime) or kv.runtimes.get(KV_LLAMA) or kv.id


def _llama_cell_bytes(model: Model, kind: str, k_type: str, v_type: str) -> int:
    if kind == "mla":
        mla = model.attention.mla
        return ggml_type(k_type).row_bytes(mla.kv_lora_rank + mla.qk_rope_head_dim)
    heads, k_dim, v_dim = model.kv_shape(kind)
    return ggml_type(k_type).row_bytes(heads * k_dim) + ggml_type(v_type).row_bytes(heads * v_dim)


def recurrent_state_parts(model: Model) -> tuple[int, int]:
    """(conv, SSM) elements of one sequence's state in one linear-attention layer."""
    lin = model.attention.linear
    key = lin.num_k_heads * lin.head_k_dim
    value = lin.num_v_heads * lin.head_v_dim
    return (lin.conv_kernel - 1) * (2 * key + value), lin.head_k_dim * value


def recurrent_state_elements(model: Model) -> int:
    """Elements of one sequence's state in one linear-attention layer (llama.cpp keeps them all F32)."""
    return sum(recurrent_state_parts(model))


def paged_state_bytes(model: Model, tp: int = 1) -> int:
    """One sequence's state in one linear layer on one TP rank, as vLLM 0.33 pages it (MambaSpec): the conv
    state at the model dtype, the SSM state at its own precision (mamba_utils.py gated_delta_net_state_*)."""
    conv, ssm = recurrent_state_parts(model)
    return math.ceil(conv / tp) * 2 + math.ceil(ssm / tp) * model.attention.linear.ssm_state_bits // 8


def flashinfer_gdn(model: Model, gpu: Gpu | None) -> bool:
    """vLLM runs Qwen's gated-delta-net prefill on FlashInfer (Hopper; Blackwell with 128-wide keys), which keeps
    its state checkpoints on a 64-token grid (gdn_attn.py FLASHINFER_GDN_CHECKPOINT_ALIGNMENT)."""
    major = int(gpu.compute_capability or 0) if gpu is not None else 0
    return major == 9 or (major in (10, 12) and model.attention.linear.head_k_dim == 128)


def hybrid_align(model: Model, gpu: Gpu | None) -> int:
    return 64 if flashinfer_gdn(model, gpu) else VLLM_BLOCK


def hybrid_block_tokens(model: Model, kv: KvType, *, tp: int, align: int) -> int:
    """vLLM 0.33's cache block for a hybrid model: the fewest tokens, a multiple of `align`, whose attention
    page (one layer) holds one Mamba state page (platforms/interface.py `_align_hybrid_block_size`, which logs
    "Setting attention block size to N tokens"). Prefixes are cached and hit in whole blocks of it."""
    heads, k_dim, v_dim = model.kv_shape("full")
    attn_page = kv_heads_per_device(heads, tp) * (k_dim + v_dim) * kv.bits // 8
    return align * math.ceil(paged_state_bytes(model, tp) / (align * attn_page))


def llama_context_sizes(n_ctx: int, n_seq: int, unified: bool) -> tuple[int, int, int]:
    """(n_ctx allocated, n_ctx_seq, streams) exactly as llama_context's constructor computes them."""
    n_ctx_pad = pad(n_ctx)
    if unified:
        return n_ctx_pad, n_ctx_pad, 1
    n_ctx_seq = pad(n_ctx_pad // n_seq)
    return n_ctx_seq * n_seq, n_ctx_seq, n_seq


def llama_kv(model: Model, kv: KvType, *, n_ctx: int, n_seq: int = 1, unified: bool = False,
             n_ubatch: int = 512, n_batch: int = 2048, swa_full: bool = False,
             kv_v: KvType | None = None, runtime: str = "llama.cpp") -> KvBytes:
    """Exact llama.cpp KV/state bytes (what `llama_kv_cache: size = ...` prints)."""
    k_type = _ggml_name(kv, KV_LLAMA)
    v_type = _ggml_name(kv_v or kv, KV_LLAMA)
    ctx, n_ctx_seq, streams = llama_context_sizes(n_ctx, n_seq, unified)
    ubatch = min(n_ctx, n_batch, n_ubatch)
    kinds = model.layer_kinds()
    parts = []
    for kind in ("full", "sliding", "mla"):
        layers = kinds.count(kind)
        if not layers:
            continue
        per_stream = n_ctx_seq
        rule = f"{streams} stream(s) x n_ctx_seq {n_ctx_seq}"
        if kind == "sliding" and not swa_full:
            window = model.attention.sliding_window or n_ctx_seq
            per_stream = pad(min(n_ctx_seq, window * (n_seq if unified else 1) + ubatch))
            rule = f"{streams} stream(s) x pad256(min({n_ctx_seq}, {window}x{n_seq if unified else 1} + {ubatch}))"
        cell = _llama_cell_bytes(model, kind, k_type, v_type)
        cells = per_stream * streams
        parts.append(KvPart(kind, layers, cells, cell, cell * cells * layers, rule))
    n_lin = kinds.count("linear")
    if n_lin:
        states = max(1, n_seq)
        cell = recurrent_state_elements(model) * 4
        parts.append(KvPart("linear", n_lin, states, cell, cell * states * n_lin,
                            f"{states} F32 state(s) per layer, independent of context"))
    return KvBytes(tuple(parts), ctx, n_ctx_seq, streams, LLAMA_SOURCE)


def token_bytes(model: Model, kv: KvType, tp: int = 1) -> dict[str, float]:
    """KV bytes one token adds per layer kind on one TP rank (all layers of that kind together), each kind
    at its own geometry (Model.kv_shape)."""
    elem = kv.bits / 8
    kinds = model.layer_kinds()
    out = {}
    for kind in ("full", "sliding"):
        if kinds.count(kind):
            heads, k_dim, v_dim = model.kv_shape(kind)
            out[kind] = kv_heads_per_device(heads, tp) * (k_dim + v_dim) * elem * kinds.count(kind)
    if kinds.count("mla"):
        mla = model.attention.mla
        out["mla"] = (mla.kv_lora_rank + mla.qk_rope_head_dim) * elem * kinds.count("mla")
    return out


def paged_bytes_per_token(model: Model, kv: KvType, tp: int = 1) -> dict[str, int]:
    """vLLM/SGLang bytes per token per layer kind on one TP rank (all layers of that kind together)."""
    return {kind: int(b) for kind, b in token_bytes(model, kv, tp).items()}


@dataclass(frozen=True)
class PagedPool:
    """vLLM's pool of a hybrid model, sliding-window (gpt-oss, Gemma 2/3) or linear-attention (Qwen3.5,
    Qwen3-Next): `num_blocks` blocks, each one page in every layer of a KV cache group, shared by all groups
    (vLLM 0.33 v1/core/kv_cache_planning.py _get_kv_cache_groups_uniform_page_size,
    get_kv_cache_config_from_groups). A request holds, per full group, a block per `block` tokens; per sliding
    group, the blocks of the window plus the tokens still in flight, and one more for a window that does not
    start on a block (v1/kv_cache_interface.py SlidingWindowSpec); per linear group, its state pages
    (MambaSpec.max_memory_usage_bytes: 1, or 2 + the prefill checkpoint in "align" mode)."""

    num_blocks: int
    full_groups: int
    window_groups: int = 0
    window_span: int = 0      # sliding_window - 1 + the tokens in flight (max_num_batched_tokens x batches)
    block: int = VLLM_BLOCK
    state_groups: int = 0     # linear-attention (Mamba-style) groups: a few state pages per request, any length
    state_pages: int = 1      # 1; with prefix caching ("align" mode) 2, plus 1 where FlashInfer checkpoints
    # tokens per block of the full groups where their page per token is smaller: vLLM raises their block size
    # until the pages match (v1/core/kv_cache_planning.py unify_kv_cache_spec_page_size); None: `block`
    full_block: int | None = None

    def blocks(self, tokens: int) -> int:
        full = self.full_groups * -(-tokens // (self.full_block or self.block))
        window = self.window_groups * (-(-min(self.window_span, tokens) // self.block) + 1)
        return full + (window if self.window_groups else 0) + self.state_groups * self.state_pages

    def requests(self, tokens: int) -> float:
        """How many requests of `tokens` the pool admits (vLLM's "Maximum concurrency")."""
        return self.num_blocks / self.blocks(tokens)

    def tokens(self, context: int) -> int:
        """vLLM's "GPU KV cache size: N tokens": concurrency at max_model_len x max_model_len
        (kv_cache_utils.get_kv_cache_capacity)."""
        return int(self.requests(context) * context)


def kv_groups(model: Model, pp: int = 1) -> tuple[int, int, int]:
    """(layers per group, full groups, sliding or linear groups) on one pipeline stage: vLLM buckets layers by
    kind and splits each into groups of the smallest bucket's size (of the largest when they are within 1.5x)."""
    kinds = model.layer_kinds()
    full = -(-(kinds.count("full") + kinds.count("mla")) // pp)
    sliding = -(-(kinds.count("sliding") + kinds.count("linear")) // pp)
    sizes = [n for n in (full, sliding) if n]
    size = max(sizes) if max(sizes) < 1.5 * min(sizes) else min(sizes)
    return size, -(-full // size), -(-sliding // size)


def paged_kv(model: Model, kv: KvType, *, n_ctx: int, n_seq: int = 1, tp: int = 1,
             block: int = VLLM_BLOCK, sliding_share: float | None = None) -> KvBytes:
    """vLLM/SGLang KV for n_seq sequences of n_ctx tokens on one TP rank. A sliding-window layer holds its
    window and a page, or, with `sliding_share` (runtimes.SwaPool), that share of the full layers' tokens."""
    per_token = paged_bytes_per_token(model, kv, tp)
    kinds = model.layer_kinds()
    tokens = pad(n_ctx, block)
    parts = []
    for kind, per in per_token.items():
        held = tokens
        rule = f"{n_seq} seq x {tokens} tokens (pages of {block})"
        if kind == "sliding" and sliding_share is not None:
            held = math.ceil(tokens * sliding_share)
            rule = f"{n_seq} seq x {sliding_share:g} x {tokens} tokens (the runtime's SWA pool ratio)"
        elif kind == "sliding":
            window = model.attention.sliding_window or n_ctx
            held = min(tokens, pad(window, block) + block)
            rule = f"{n_seq} seq x min(context, window {window} + one page)"
        layers = kinds.count(kind)
        parts.append(KvPart(kind, layers, held * n_seq, per // layers, per * held * n_seq, rule))
    n_lin = kinds.count("linear")
    if n_lin:
        cell = paged_state_bytes(model, tp)
        ssm_bits = model.attention.linear.ssm_state_bits
        parts.append(KvPart("linear", n_lin, n_seq, cell, cell * n_seq * n_lin,
                            f"{n_seq} state(s) per layer (conv 16-bit, SSM {ssm_bits}-bit), split by TP"))
    return KvBytes(tuple(parts), tokens * n_seq, tokens, n_seq, VLLM_SOURCE)


def kv_bytes(model: Model, kv: KvType, *, n_ctx: int, n_seq: int = 1, runtime: str = "llama.cpp",
             unified: bool = False, n_ubatch: int = 512, tp: int = 1, n_batch: int = 2048,
             swa_full: bool = False, kv_v: KvType | None = None, sliding_share: float | None = None) -> KvBytes:
    """KV bytes for `n_seq` sequences sharing `n_ctx` (llama.cpp) or each of `n_ctx` (vLLM/SGLang).

    For llama.cpp and Ollama `n_ctx` is the -c value (total over slots); for vLLM/SGLang it is
    the per-request length. Under llama.cpp the cache lives on the devices holding each layer, so
    TP does not divide it here (split-mode layer); memory.py spreads it over devices.
    """
    if llama_rule(runtime):
        return llama_kv(model, kv, n_ctx=n_ctx, n_seq=n_seq, unified=unified, n_ubatch=n_ubatch,
                        n_batch=n_batch, swa_full=swa_full, kv_v=kv_v, runtime=runtime)
    return paged_kv(model, kv, n_ctx=n_ctx, n_seq=n_seq, tp=tp, sliding_share=sliding_share)
