"""Generate tiny llama-architecture GGUF files of any shape, for real llama-server runs.

The file is a valid model: a byte-level `gpt2` tokenizer (256 byte tokens, a few merges, bos/eos
control tokens, padded to `n_vocab`) and small random weights, so llama-server loads it, prints its
buffer sizes and answers requests (with nonsense). Deterministic: the same arguments give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, TokenType
from gguf.quants import quantize

WEIGHT_TYPES = {"f32": GGMLQuantizationType.F32, "f16": GGMLQuantizationType.F16,
                "q8_0": GGMLQuantizationType.Q8_0}
MERGES = ("Ġ t", "Ġ a", "h e", "i n")


def _byte_tokens() -> list[str]:
    """GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest above U+0100."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def _vocab(n_vocab: int) -> tuple[list[str], list[int]]:
    tokens = _byte_tokens() + [m.replace(" ", "") for m in MERGES]
    types = [TokenType.NORMAL] * len(tokens)
    tokens += ["<|bos|>", "<|eos|>"]
    types += [TokenType.CONTROL, TokenType.CONTROL]
    if n_vocab < len(tokens):
        raise ValueError(f"n_vocab must be at least {len(tokens)}")
    for i in range(n_vocab - len(tokens)):
        tokens.append(f"<|unused_{i}|>")
        types.append(TokenType.UNUSED)
    return tokens, [int(t) for t in types]


def _tensor(writer: GGUFWriter, name: str, shape: tuple[int, ...], wtype: str, rng) -> None:
    data = (rng.standard_normal(shape) * 0.02).astype(np.float32)
    if name.endswith("norm.weight"):
        writer.add_tensor(name, np.ones(shape, dtype=np.float32))
        return
    qtype = WEIGHT_TYPES[wtype]
    if qtype == GGMLQuantizationType.F32:
        writer.add_tensor(name, data)
    elif qtype == GGMLQuantizationType.F16:
        writer.add_tensor(name, data.astype(np.float16))
    else:
        writer.add_tensor(name, quantize(data, qtype), raw_dtype=qtype)


def write_tiny_gguf(path, *, n_layer: int = 2, n_embd: int = 64, n_head: int = 4, n_head_kv: int = 2,
                    head_dim: int | None = None, head_dim_v: int | None = None, n_ff: int = 128,
                    n_vocab: int = 320, n_ctx_train: int = 4096, weight_type: str = "f32",
                    tie_embeddings: bool = False, n_expert: int = 0, n_expert_used: int = 0,
                    seed: int = 0, name: str = "tiny-llama") -> Path:
    """Write a llama-architecture GGUF; `head_dim` defaults to n_embd / n_head (key_length/value_length).

    `weight_type` (f32, f16, q8_0) applies to the 2-D matrices; norms stay F32.
    With `n_expert` > 0 every layer's MLP is a mixture of experts (llama's ffn_*_exps tensors).
    """
    path = Path(path)
    head_dim = head_dim or n_embd // n_head
    head_dim_v = head_dim_v or head_dim
    rng = np.random.default_rng(seed)
    w = GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_context_length(n_ctx_train)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim_v)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(n_vocab)
    if n_expert:
        w.add_expert_count(n_expert)
        w.add_expert_used_count(n_expert_used or 1)
    tokens, types = _vocab(n_vocab)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(list(MERGES))
    w.add_bos_token_id(tokens.index("<|bos|>"))
    w.add_eos_token_id(tokens.index("<|eos|>"))
    w.add_add_bos_token(False)

    _tensor(w, "token_embd.weight", (n_vocab, n_embd), weight_type, rng)
    _tensor(w, "output_norm.weight", (n_embd,), "f32", rng)
    if not tie_embeddings:
        _tensor(w, "output.weight", (n_vocab, n_embd), weight_type, rng)
    for i in range(n_layer):
        b = f"blk.{i}."
        _tensor(w, b + "attn_norm.weight", (n_embd,), "f32", rng)
        _tensor(w, b + "attn_q.weight", (n_head * head_dim, n_embd), weight_type, rng)
        _tensor(w, b + "attn_k.weight", (n_head_kv * head_dim, n_embd), weight_type, rng)
        _tensor(w, b + "attn_v.weight", (n_head_kv * head_dim_v, n_embd), weight_type, rng)
        _tensor(w, b + "attn_output.weight", (n_embd, n_head * head_dim_v), weight_type, rng)
        _tensor(w, b + "ffn_norm.weight", (n_embd,), "f32", rng)
        if n_expert:
            _tensor(w, b + "ffn_gate_inp.weight", (n_expert, n_embd), "f32", rng)
            _tensor(w, b + "ffn_gate_exps.weight", (n_expert, n_ff, n_embd), weight_type, rng)
            _tensor(w, b + "ffn_up_exps.weight", (n_expert, n_ff, n_embd), weight_type, rng)
            _tensor(w, b + "ffn_down_exps.weight", (n_expert, n_embd, n_ff), weight_type, rng)
        else:
            _tensor(w, b + "ffn_gate.weight", (n_ff, n_embd), weight_type, rng)
            _tensor(w, b + "ffn_up.weight", (n_ff, n_embd), weight_type, rng)
            _tensor(w, b + "ffn_down.weight", (n_embd, n_ff), weight_type, rng)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
