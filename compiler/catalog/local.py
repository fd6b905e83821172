"""`model = local("path")`: a GGUF file's header or a Hugging Face folder, read into a catalog `Model`.

GGUF: (gguf_header.py, with gguf-py's type table) the metadata keys llama.cpp itself reads (`<arch>.block_count`, `.attention.head_count_kv`,
`.attention.sliding_window` ...) and the tensor table, whose byte sizes give the exact weight bytes.
HF: config.json (text_config for multimodal checkpoints) plus, when present, the safetensors headers
(8-byte length + JSON), which give every tensor's dtype and byte range without reading the weights.
"""

from __future__ import annotations

import functools
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from ..diagnostics import DiagnosticsError, define_code, error
from ..files import read_bounded
from .gguf_header import SkippedArray, SkippedString, read_header
from .schema import (
    MAX_CONTEXT,
    MAX_LAYERS,
    MAX_WIDTH,
    Attention,
    License,
    LinearAttention,
    Mla,
    Model,
    Moe,
)

E305 = define_code("E305", "Local model not found", "catalog.local")
E306 = define_code("E306", "Unreadable GGUF file", "catalog.local")
E307 = define_code("E307", "Unusable Hugging Face model folder", "catalog.local")

LOCAL_LICENSE = License(id="other", verified=False,
                        notes="local model: its license is not known to llmc; check it yourself")

# llama.cpp's default sliding-window patterns (src/models/<arch>.cpp load_swa_pattern(ml, N[, dense_first])
# at llama.cpp@0c1e57098), used when the GGUF has a window but no sliding_window_pattern key.
SWA_PATTERN = {"gemma3": (6, False), "gemma2": (2, False), "gpt-oss": (2, False), "cohere2": (4, False),
               "llama4": (4, False), "gemma-embedding": (6, False), "exaone4": (4, False), "olmo2": (4, False),
               "gemma3n": (5, False), "cohere2moe": (4, True), "smallthinker": (4, True)}

# HF model_type -> GGUF/llama.cpp architecture name
HF_ARCH = {"llama": "llama", "mistral": "llama", "mixtral": "llama", "qwen2": "qwen2", "qwen2_moe": "qwen2moe",
           "qwen3": "qwen3", "qwen3_moe": "qwen3moe", "qwen3_next": "qwen3next", "qwen3_5_text": "qwen35",
           "qwen3_5": "qwen35", "qwen3_5_moe_text": "qwen35moe", "qwen3_5_moe": "qwen35moe", "gemma3_text": "gemma3",
           "gemma3": "gemma3", "gemma2": "gemma2", "phi3": "phi3", "deepseek_v3": "deepseek2", "deepseek_v2": "deepseek2",
           "deepseek_v32": "deepseek32", "kimi_k2": "deepseek2", "glm4_moe": "glm4moe", "glm_moe_dsa": "glm-dsa",
           "minimax_m2": "minimax-m2", "gpt_oss": "gpt-oss", "llama4_text": "llama4", "llama4": "llama4",
           "mistral3": "mistral3", "step3p5": "step35"}

HF_LAYER_KIND = {"full_attention": "full", "sliding_attention": "sliding", "chunked_attention": "sliding",
                 "linear_attention": "linear"}

SAFETENSORS_DTYPE_FORMAT = {"BF16": "bf16", "F16": "f16", "F32": "f32", "F8_E4M3": "fp8", "F8_E5M2": "fp8"}

# The sizes a GGUF header or config.json may state (inclusive): the catalog schema's sane bounds
# (schema.py MAX_*), checked here already so that a message names the file's own key, and before any
# size is divided by or sets the length of a per-layer tuple. Sizes that may be absent (an MLP width,
# an expert count) are checked against _or_zero(...).
LAYERS = (1, MAX_LAYERS)
WIDTH = (1, MAX_WIDTH)        # hidden size, heads, head dims, vocabulary, experts, MLP widths, ranks
CONTEXT = (1, MAX_CONTEXT)    # trained context, sliding window, attention chunk, sparse top-k

MAX_CONFIG_BYTES = 16 << 20               # real config.json files are under 100 kB
MAX_SAFETENSORS_HEADER = 100_000_000      # the safetensors crate's MAX_HEADER_SIZE
MAX_TENSOR_NAME = 1024                    # real names are under 100 bytes

JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
              type(None): "null"}


class TensorInfo(NamedTuple):
    name: str
    ggml_type: str          # GGUF type (q4_k, f32 ...) or safetensors dtype (bf16, f8_e4m3 ...), lower case
    shape: tuple[int, ...]
    n_bytes: int


@dataclass(frozen=True)
class LocalModel:
    model: Model
    format: str                       # q4_k_m, q8_0 ... for GGUF (general.file_type); bf16, fp8, awq ... for HF
    tensors: tuple[TensorInfo, ...]
    weight_bytes: int                 # exact: the sum of the tensors' bytes (0 for an HF folder without weights)
    kind: Literal["gguf", "hf"]
    path: Path


def import_local(path: Path) -> LocalModel:
    """Read a GGUF file or an HF model folder; raises DiagnosticsError (E305-E307) on problems."""
    path = Path(path).expanduser()
    try:
        found, folder = path.exists(), path.is_dir()
    except OSError as exc:  # a name too long, a loop of symlinks
        raise DiagnosticsError([error(E305, f"local model path cannot be used: {(exc.strerror or str(exc)).lower()}",
                                      help="give the path of a .gguf file or of a folder with config.json",
                                      path=str(path)[:200])]) from None
    if not found:
        raise DiagnosticsError([error(E305, f"local model '{path}' does not exist",
                                      help="give the path of a .gguf file or of a folder with config.json",
                                      path=str(path))])
    if folder:
        if not (path / "config.json").exists() and len(ggufs := sorted(path.glob("*.gguf"))) >= 1:
            return import_gguf(ggufs[0])
        return import_hf(path)
    return import_gguf(path)


# ---------------------------------------------------------------- checked numbers

Range = tuple[int, int]


def _or_zero(limits: Range) -> Range:
    """For sizes that may be absent (0)."""
    return (0, limits[1])


def _show(value: Any) -> str:
    if isinstance(value, SkippedArray):
        return f"an array of {int(value)} values"
    if isinstance(value, SkippedString):
        return f"a string of {int(value)} bytes"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _int(value: Any, name: str, limits: Range) -> int:
    """A number from a header or config.json as an int within `limits`; else a ValueError naming it."""
    if value is None:
        raise ValueError(f"{name} is missing")
    if isinstance(value, (bool, SkippedArray, SkippedString)) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} is {_show(value)}, not a number")
    if isinstance(value, float) and not value.is_integer():  # NaN and infinities included
        raise ValueError(f"{name} = {value!r} is not a whole number")
    low, high = limits
    if not low <= value <= high:
        raise ValueError(f"{name} = {_show(value)} is outside the sane range {low:,}..{high:,}")
    return int(value)


def _largest(value: Any) -> Any:
    """Per-layer arrays (head_count_kv of hybrid models, 0 on their recurrent layers) -> the largest value."""
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        return max(value)
    return value


def _field(d: dict[str, Any], keys: str | tuple[str, ...], limits: Range, fallback: Any = None) -> int:
    """The first of `keys` that `d` states (absent or 0: not stated) within `limits`; else `fallback`.

    A fallback is checked like a stated value; without one, the first key must be stated.
    """
    keys = (keys,) if isinstance(keys, str) else keys
    for key in keys:
        if value := _largest(d.get(key)):
            return _int(value, key, limits)
    return _int(_largest(d.get(keys[0])) if fallback is None else fallback, keys[0], limits)


# ---------------------------------------------------------------- GGUF

def import_gguf(path: Path) -> LocalModel:
    """The file's model; read once per version of the file in a process (the solver resolves a spec again for
    each relaxation it tries and each bound it prices)."""
    try:
        stat = path.stat()
    except OSError:
        return _read_gguf(path)   # which reports the file as unreadable (E306)
    return _read_gguf_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _read_gguf_cached(path: Path, mtime_ns: int, size: int) -> LocalModel:
    return _read_gguf(path)


def _read_gguf(path: Path) -> LocalModel:
    try:
        header = read_header(path)
    except (OSError, ValueError) as exc:
        raise DiagnosticsError([error(E306, f"cannot read GGUF file '{path}'", detail=str(exc),
                                      help="is it a complete .gguf file? split files: give the first shard",
                                      path=str(path))]) from None
    meta = header.fields
    tensors = tuple(TensorInfo(t.name, t.type_name, t.shape, t.n_bytes) for t in header.tensors)
    try:
        model = _gguf_model(meta, tensors, path)
    except (TypeError, ValueError) as exc:
        raise DiagnosticsError([error(E306, f"GGUF file '{path}' lacks the metadata llmc needs or states "
                                            "impossible sizes", detail=str(exc), path=str(path))]) from None
    return LocalModel(model=model, format=_gguf_format(meta, tensors), tensors=tensors,
                      weight_bytes=sum(t.n_bytes for t in tensors), kind="gguf", path=path)


class _Meta:
    """A GGUF header's `<arch>.*` keys, read as checked numbers."""

    def __init__(self, fields: dict[str, Any]):
        arch = fields.get("general.architecture")
        if not isinstance(arch, str) or not arch:
            raise ValueError(f"general.architecture is {_show(arch)}, not an architecture name")
        self.fields, self.arch = fields, arch

    def get(self, name: str) -> Any:
        return self.fields.get(f"{self.arch}.{name}")

    def size(self, names: str | tuple[str, ...], limits: Range, fallback: Any = None) -> int:
        names = (names,) if isinstance(names, str) else names
        return _field(self.fields, tuple(f"{self.arch}.{n}" for n in names), limits, fallback)


def _gguf_model(meta: dict[str, Any], tensors: tuple[TensorInfo, ...], path: Path) -> Model:
    m = _Meta(meta)
    n_layers = m.size("block_count", LAYERS)
    hidden = m.size("embedding_length", WIDTH)
    n_heads = m.size("attention.head_count", WIDTH)
    names = {t.name: t for t in tensors}
    embd = names.get("token_embd.weight")
    if embd is not None and len(embd.shape) >= 2:
        vocab = _int(embd.shape[1], "token_embd.weight's vocabulary dimension", WIDTH)
    else:
        vocab = m.size("vocab_size", WIDTH)
    name = meta.get("general.name")
    return Model(
        id=str(path), name=name if isinstance(name, str) and name else path.stem, family=m.arch,
        architecture=m.arch, n_layers=n_layers, hidden_size=hidden, n_heads=n_heads,
        n_kv_heads=m.size("attention.head_count_kv", WIDTH, n_heads),
        head_dim=m.size("attention.key_length", WIDTH, hidden // n_heads),
        vocab_size=vocab, intermediate_size=m.size("feed_forward_length", _or_zero(WIDTH), 0),
        attention=_gguf_attention(m, n_layers), moe=_gguf_moe(m),
        tie_word_embeddings="output.weight" not in names, max_context=m.size("context_length", CONTEXT),
        license=LOCAL_LICENSE, source=(str(path),), verified=True,
        notes=f"read from the GGUF header of {path.name}",
        mtp_layers=m.size("nextn_predict_layers", _or_zero(LAYERS), 0),
    )


def _gguf_attention(m: _Meta, n_layers: int) -> Attention:
    window = m.size("attention.sliding_window", _or_zero(CONTEXT), 0)
    mla = _gguf_mla(m)
    base = "mla" if mla else "full"
    # hybrid linear attention (qwen3next / qwen35): full attention at i % interval == interval-1
    if interval := m.size("full_attention_interval", _or_zero(LAYERS), 0):
        return Attention(pattern=("linear",) * (interval - 1) + ("full",), linear=_gguf_linear(m))
    if not window:
        return Attention(pattern=(base,), mla=mla)
    pattern = m.get("attention.sliding_window_pattern")
    if isinstance(pattern, list) and pattern:
        kinds = tuple("sliding" if bool(x) else "full" for x in pattern[:n_layers])
        return Attention(pattern=kinds, sliding_window=window)
    n, dense_first = SWA_PATTERN.get(m.arch, (0, False))
    if pattern is not None:
        n = m.size("attention.sliding_window_pattern", _or_zero(LAYERS), 0)
    if n == 0:  # llama.cpp: pattern 0 = every layer sliding
        return Attention(pattern=("sliding",), sliding_window=window)
    kinds = tuple(("sliding" if i % n != 0 else "full") if dense_first else ("sliding" if i % n < n - 1 else "full")
                  for i in range(n))
    return Attention(pattern=kinds, sliding_window=window)


def _gguf_mla(m: _Meta) -> Mla | None:
    rank = m.size("attention.kv_lora_rank", _or_zero(WIDTH), 0)
    if not rank:
        return None
    rope = m.size("rope.dimension_count", WIDTH, 64)
    k_mla = m.size(("attention.key_length_mla", "attention.key_length"), WIDTH, rope + 128)
    v_mla = m.size(("attention.value_length_mla", "attention.value_length"), WIDTH, 128)
    nope = _int(k_mla - rope, f"{m.arch}.attention.key_length_mla - rope.dimension_count", WIDTH)
    return Mla(kv_lora_rank=rank, qk_rope_head_dim=rope, qk_nope_head_dim=nope, v_head_dim=v_mla,
               q_lora_rank=m.size("attention.q_lora_rank", _or_zero(WIDTH), 0) or None)


def _gguf_linear(m: _Meta) -> LinearAttention:
    v_heads = m.size("ssm.time_step_rank", WIDTH)
    inner = m.size("ssm.inner_size", WIDTH)
    return LinearAttention(num_k_heads=m.size("ssm.group_count", WIDTH), num_v_heads=v_heads,
                           head_k_dim=m.size("ssm.state_size", WIDTH),
                           head_v_dim=_int(inner // v_heads, f"{m.arch}.ssm.inner_size / time_step_rank", WIDTH),
                           conv_kernel=m.size("ssm.conv_kernel", WIDTH, 4))


def _gguf_moe(m: _Meta) -> Moe | None:
    experts = m.size("expert_count", _or_zero(WIDTH), 0)
    if not experts:
        return None
    return Moe(num_experts=experts, experts_per_token=m.size("expert_used_count", (1, experts), 1),
               expert_intermediate_size=m.size(("expert_feed_forward_length", "feed_forward_length"), WIDTH),
               shared_experts=m.size("expert_shared_count", _or_zero(WIDTH), 0),
               shared_intermediate_size=m.size("expert_shared_feed_forward_length", _or_zero(WIDTH), 0) or None,
               first_dense_layers=m.size("leading_dense_block_count", _or_zero(LAYERS), 0),
               layer_step=m.size("interleave_moe_layer_step", LAYERS, 1))


def _gguf_format(meta: dict[str, Any], tensors: tuple[TensorInfo, ...] = ()) -> str:
    """general.file_type (a llama_ftype) -> q4_k_m, q8_0, f16 ...; without it, the type holding most bytes."""
    import gguf

    ftype = meta.get("general.file_type")
    if type(ftype) is not int:
        return _dominant_type(tensors)
    try:
        name = gguf.LlamaFileType(ftype).name
    except ValueError:
        return f"ftype{ftype}"
    name = name.removeprefix("MOSTLY_").lower()
    return {"all_f32": "f32_gguf", "f16": "f16_gguf", "bf16": "bf16_gguf"}.get(name, name)


def _dominant_type(tensors: tuple[TensorInfo, ...]) -> str:
    by_type: dict[str, int] = {}
    for t in tensors:
        by_type[t.ggml_type.lower()] = by_type.get(t.ggml_type.lower(), 0) + t.n_bytes
    if not by_type:
        return "unknown"
    name = max(sorted(by_type), key=by_type.get)
    return {"f32": "f32_gguf", "f16": "f16_gguf", "bf16": "bf16_gguf"}.get(name, name)


# ---------------------------------------------------------------- Hugging Face folder

def import_hf(folder: Path) -> LocalModel:
    config_path = folder / "config.json"
    if not config_path.exists():
        raise DiagnosticsError([error(E307, f"'{folder}' has no config.json",
                                      help="give a Hugging Face model folder (config.json, *.safetensors) or a .gguf file",
                                      path=str(folder))])
    try:
        config = _json_object(read_bounded(config_path, MAX_CONFIG_BYTES))
    except (OSError, TypeError, ValueError) as exc:
        raise DiagnosticsError([error(E307, f"cannot read '{config_path}'", detail=str(exc), path=str(config_path))]) from None
    tensors = _safetensors_tensors(folder)
    try:
        model = _hf_model(config, folder)
        weight_format = _hf_format(config, tensors)
    except (TypeError, ValueError) as exc:
        raise DiagnosticsError([error(E307, f"'{config_path}' lacks the fields llmc needs or states impossible sizes",
                                      detail=str(exc),
                                      help="needs num_hidden_layers, hidden_size, num_attention_heads, vocab_size, max_position_embeddings",
                                      path=str(config_path))]) from None
    return LocalModel(model=model, format=weight_format, tensors=tensors,
                      weight_bytes=sum(t.n_bytes for t in tensors), kind="hf", path=folder)


def _json_object(data: bytes) -> dict[str, Any]:
    """Strict UTF-8 JSON whose top level is an object; ValueError or TypeError otherwise."""
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise TypeError(f"the top level is {JSON_KINDS[type(value)]}, not an object")
    return value


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    text = config.get("text_config")
    return {**config, **text} if isinstance(text, dict) else config


def _hf_model(config: dict[str, Any], folder: Path) -> Model:
    c = _text_config(config)
    model_type = str(c.get("model_type") or config.get("model_type") or "unknown")
    n_layers = _field(c, "num_hidden_layers", LAYERS)
    hidden = _field(c, "hidden_size", WIDTH)
    n_heads = _field(c, "num_attention_heads", WIDTH)
    mla = _hf_mla(c)
    context = _field(c, ("max_position_embeddings", "max_seq_len"), CONTEXT)
    return Model(
        id=str(folder), name=folder.name, family=model_type, architecture=HF_ARCH.get(model_type, model_type),
        n_layers=n_layers, hidden_size=hidden, n_heads=n_heads,
        n_kv_heads=_field(c, ("num_key_value_heads", "num_attention_groups"), WIDTH, n_heads),
        head_dim=_field(c, "head_dim", WIDTH, mla.qk_nope_head_dim + mla.qk_rope_head_dim if mla else hidden // n_heads),
        vocab_size=_field(c, "vocab_size", WIDTH),
        intermediate_size=_field(c, ("intermediate_size_mlp", "intermediate_size"), _or_zero(WIDTH), 0),
        attention=_hf_geometry(c, _hf_attention(c, n_layers, mla, context), mla), moe=_hf_moe(c),
        tie_word_embeddings=bool(c.get("tie_word_embeddings", config.get("tie_word_embeddings", False))),
        max_context=context, native_format=_hf_native_format(config), license=LOCAL_LICENSE,
        modalities=("text", "vision") if config.get("vision_config") else ("text",),
        mtp_layers=_field(c, ("num_nextn_predict_layers", "mtp_num_hidden_layers", "num_mtp_modules"),
                          _or_zero(LAYERS), 0),
        # the folder, not its config.json: the plan serves the model from the record's first source
        source=(str(folder),), verified=True, notes=f"read from {folder / 'config.json'}",
    )


def _hf_mla(c: dict[str, Any]) -> Mla | None:
    rank = _field(c, "kv_lora_rank", _or_zero(WIDTH), 0)
    if not rank:
        return None
    return Mla(kv_lora_rank=rank, qk_rope_head_dim=_field(c, "qk_rope_head_dim", _or_zero(WIDTH)),
               qk_nope_head_dim=_field(c, "qk_nope_head_dim", WIDTH), v_head_dim=_field(c, "v_head_dim", WIDTH),
               q_lora_rank=_field(c, "q_lora_rank", _or_zero(WIDTH), 0) or None)


def _hf_linear(c: dict[str, Any]) -> LinearAttention | None:
    v_heads = _field(c, "linear_num_value_heads", _or_zero(WIDTH), 0)
    if not v_heads:
        return None
    return LinearAttention(num_k_heads=_field(c, "linear_num_key_heads", WIDTH), num_v_heads=v_heads,
                           head_k_dim=_field(c, "linear_key_head_dim", WIDTH),
                           head_v_dim=_field(c, "linear_value_head_dim", WIDTH),
                           conv_kernel=_field(c, "linear_conv_kernel_dim", WIDTH, 4),
                           ssm_state_bits=32 if c.get("mamba_ssm_dtype") == "float32" else 16)


def _hf_attention(c: dict[str, Any], n_layers: int, mla: Mla | None, context: int) -> Attention:
    linear = _hf_linear(c)
    gate = bool(c.get("attn_output_gate", False))
    window = _field(c, "sliding_window", _or_zero(CONTEXT), 0) if c.get("use_sliding_window", True) is not False else 0
    dsa = _field(c, "index_topk", _or_zero(CONTEXT), 0) or None
    layer_types = c.get("layer_types")
    if isinstance(layer_types, list) and layer_types:
        kinds = _shortest_period(tuple(_layer_kind(t) for t in layer_types[:n_layers]))
        if "linear" in kinds and linear is None:
            raise ValueError("layer_types has linear_attention layers, but linear_num_value_heads is missing")
        return Attention(pattern=kinds, sliding_window=window if "sliding" in kinds and window else None,
                         linear=linear, output_gate=gate, dsa_topk=dsa)
    interval = _field(c, "full_attention_interval", _or_zero(LAYERS), 0)
    if interval and linear:
        return Attention(pattern=("linear",) * (interval - 1) + ("full",), linear=linear, output_gate=gate)
    if mla:
        return Attention(pattern=("mla",), mla=mla, dsa_topk=dsa)
    if chunk := _field(c, "attention_chunk_size", _or_zero(CONTEXT), 0):
        # Llama 4: 3 chunked : 1 full (llama.cpp src/models/llama4.cpp)
        return Attention(pattern=("sliding", "sliding", "sliding", "full"), sliding_window=chunk)
    pattern_n = _field(c, ("sliding_window_pattern", "_sliding_window_pattern"), _or_zero(LAYERS), 0)
    if window and pattern_n:
        return Attention(pattern=("sliding",) * (pattern_n - 1) + ("full",), sliding_window=window)
    if window and window < context:
        return Attention(pattern=("sliding",), sliding_window=window)
    return Attention(output_gate=gate)


def _hf_geometry(c: dict[str, Any], attention: Attention, mla: Mla | None) -> Attention:
    """Full-attention layers with their own KV heads and head size (Gemma 4: num_global_key_value_heads,
    global_head_dim) and a V head size apart from K's (MiMo-V2-Flash: v_head_dim)."""
    if mla is not None:
        return attention
    return attention.model_copy(update={
        "full_kv_heads": _field(c, "num_global_key_value_heads", _or_zero(WIDTH), 0) or None,
        "full_head_dim": _field(c, "global_head_dim", _or_zero(WIDTH), 0) or None,
        "v_head_dim": _field(c, "v_head_dim", _or_zero(WIDTH), 0) or None})


def _layer_kind(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"layer_types holds {_show(name)}, not a layer type name")
    return HF_LAYER_KIND.get(name, "full")


def _shortest_period(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """(s, f, s, f, ...) -> (s, f): the smallest prefix that repeats over all layers.

    That is the length minus the longest border (a proper prefix that is also a suffix), found in
    linear time with the KMP failure function.
    """
    border = [0] * len(kinds)
    for i in range(1, len(kinds)):
        k = border[i - 1]
        while k and kinds[i] != kinds[k]:
            k = border[k - 1]
        border[i] = k + (kinds[i] == kinds[k])
    return kinds[:len(kinds) - border[-1]] if kinds else kinds


def _hf_moe(c: dict[str, Any]) -> Moe | None:
    experts = _field(c, ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"),
                     _or_zero(WIDTH), 0)
    if not experts:
        return None
    # Llama 4: intermediate_size is the expert width when intermediate_size_mlp is the dense one
    width = ("intermediate_size",) if c.get("intermediate_size_mlp") else ("moe_intermediate_size", "intermediate_size")
    shared_width = _field(c, "shared_expert_intermediate_size", _or_zero(WIDTH), 0)
    return Moe(num_experts=experts, experts_per_token=_field(c, ("num_experts_per_tok", "moe_top_k"), (1, experts), 1),
               expert_intermediate_size=_field(c, width, WIDTH),
               shared_experts=_field(c, "n_shared_experts", _or_zero(WIDTH), 1 if shared_width else 0),
               shared_intermediate_size=shared_width or None,
               first_dense_layers=_field(c, "first_k_dense_replace", _or_zero(LAYERS), 0),
               layer_step=_field(c, ("interleave_moe_layer_step", "decoder_sparse_step"), LAYERS, 1))


def _hf_native_format(config: dict[str, Any]) -> str:
    quant = config.get("quantization_config") or _text_config(config).get("quantization_config")
    if isinstance(quant, dict):
        method = str(quant.get("quant_method", "")).lower()
        if method == "compressed-tensors":
            groups = quant.get("config_groups")
            bits = [g["weights"].get("num_bits") for g in (groups.values() if isinstance(groups, dict) else ())
                    if isinstance(g, dict) and isinstance(g.get("weights"), dict)]
            return "int4" if 4 in bits else "int8" if 8 in bits else "bf16"
        if method in ("fp8", "mxfp4", "awq", "gptq"):
            return method
        if method in ("modelopt",) and "FP4" in str(quant).upper():
            return "nvfp4"
    dtype = str(config.get("torch_dtype") or config.get("dtype") or _text_config(config).get("dtype") or "bfloat16")
    return {"float16": "f16", "bfloat16": "bf16", "float32": "f32"}.get(dtype, "bf16")


def _hf_format(config: dict[str, Any], tensors: tuple[TensorInfo, ...]) -> str:
    native = _hf_native_format(config)
    if native not in ("bf16", "f16", "f32") or not tensors:
        return native
    big = max(tensors, key=lambda t: t.n_bytes)
    return SAFETENSORS_DTYPE_FORMAT.get(big.ggml_type.upper(), native)


def _safetensors_tensors(folder: Path) -> tuple[TensorInfo, ...]:
    tensors: list[TensorInfo] = []
    for file in sorted(folder.glob("*.safetensors")):
        try:
            tensors += _safetensors_header(file)
        except (OSError, TypeError, ValueError) as exc:
            raise DiagnosticsError([error(E307, f"cannot read the safetensors header of '{file}'", detail=str(exc),
                                          path=str(file))]) from None
    return tuple(sorted(tensors))


def _safetensors_header(file: Path) -> list[TensorInfo]:
    """8-byte little-endian length, that many bytes of JSON, then the data the offsets point into."""
    if not file.is_file():
        raise ValueError("not a regular file")
    size = file.stat().st_size
    with file.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ValueError(f"{size} bytes: too short for the 8-byte header length")
        (length,) = struct.unpack("<Q", prefix)
        if length > min(size - 8, MAX_SAFETENSORS_HEADER):
            raise ValueError(f"the header claims {length} bytes; the file has {size} "
                             f"(and headers stop at {MAX_SAFETENSORS_HEADER})")
        header = _json_object(handle.read(length))
    data_size = size - 8 - length
    return [_safetensor(name, info, data_size) for name, info in header.items() if name != "__metadata__"]


def _safetensor(name: str, info: Any, data_size: int) -> TensorInfo:
    if len(name) > MAX_TENSOR_NAME:
        raise ValueError(f"a tensor name of {len(name)} characters (at most {MAX_TENSOR_NAME})")
    if not isinstance(info, dict):
        raise TypeError(f"tensor {name}: {_show(info)} is not an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str):
        raise TypeError(f"tensor {name}: dtype {_show(dtype)} is not a string")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise ValueError(f"tensor {name}: shape {_show(shape)} is not a list of sizes")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_size):
        raise ValueError(f"tensor {name}: data_offsets {_show(offsets)} is not [start, end] within the "
                         f"{data_size} data bytes")
    return TensorInfo(name, dtype.lower(), tuple(shape), offsets[1] - offsets[0])
