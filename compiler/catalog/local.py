"""`model = local("path")`: a GGUF file's header or a Hugging Face folder, read into a catalog `Model`.

GGUF: (gguf_header.py, with gguf-py's type table) the metadata keys llama.cpp itself reads (`<arch>.block_count`, `.attention.head_count_kv`,
`.attention.sliding_window` ...) and the tensor table, whose byte sizes give the exact weight bytes.
HF: config.json (text_config for multimodal checkpoints) plus, when present, the safetensors headers
(8-byte length + JSON), which give every tensor's dtype and byte range without reading the weights.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from ..diagnostics import DiagnosticsError, define_code, error
from .gguf_header import read_header
from .schema import Attention, License, LinearAttention, Mla, Model, Moe

E305 = define_code("E305", "Local model not found", "catalog.local")
E306 = define_code("E306", "Unreadable GGUF file", "catalog.local")
E307 = define_code("E307", "Unusable Hugging Face model folder", "catalog.local")

LOCAL_LICENSE = License(id="unknown", commercial=True, permissive=False,
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
    if not path.exists():
        raise DiagnosticsError([error(E305, f"local model '{path}' does not exist",
                                      help="give the path of a .gguf file or of a folder with config.json",
                                      path=str(path))])
    if path.is_dir():
        if not (path / "config.json").exists() and len(ggufs := sorted(path.glob("*.gguf"))) >= 1:
            return import_gguf(ggufs[0])
        return import_hf(path)
    return import_gguf(path)


# ---------------------------------------------------------------- GGUF

def import_gguf(path: Path) -> LocalModel:
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
    except (KeyError, TypeError, ValueError) as exc:
        raise DiagnosticsError([error(E306, f"GGUF file '{path}' lacks the metadata llmc needs",
                                      detail=f"{type(exc).__name__}: {exc}", path=str(path))]) from None
    return LocalModel(model=model, format=_gguf_format(meta, tensors), tensors=tensors,
                      weight_bytes=sum(t.n_bytes for t in tensors), kind="gguf", path=path)


def _first(value: Any) -> Any:
    """Per-layer arrays (head_count_kv on some models) -> the most common value's representative: the max."""
    if isinstance(value, list):
        return max(value) if value else None
    return value


def _gguf_model(meta: dict[str, Any], tensors: tuple[TensorInfo, ...], path: Path) -> Model:
    arch = meta["general.architecture"]

    def key(name: str, default: Any = None) -> Any:
        return _first(meta.get(f"{arch}.{name}", default))

    n_layers = int(key("block_count"))
    hidden = int(key("embedding_length"))
    n_heads = int(key("attention.head_count"))
    n_kv = int(key("attention.head_count_kv", n_heads))
    head_dim = int(key("attention.key_length") or hidden // n_heads)
    names = {t.name: t for t in tensors}
    embd = names.get("token_embd.weight")
    vocab = int(embd.shape[1]) if embd else int(key("vocab_size", 0))
    return Model(
        id=str(path), name=str(meta.get("general.name") or path.stem), family=arch, architecture=arch,
        n_layers=n_layers, hidden_size=hidden, n_heads=n_heads, n_kv_heads=n_kv, head_dim=head_dim,
        vocab_size=vocab, intermediate_size=int(key("feed_forward_length") or 0),
        attention=_gguf_attention(meta, arch, n_layers), moe=_gguf_moe(meta, arch),
        tie_word_embeddings="output.weight" not in names, max_context=int(key("context_length") or 0),
        license=LOCAL_LICENSE, source=(str(path),), verified=True,
        notes=f"read from the GGUF header of {path.name}",
        mtp_layers=int(key("nextn_predict_layers") or 0),
    )


def _gguf_attention(meta: dict[str, Any], arch: str, n_layers: int) -> Attention:
    window = meta.get(f"{arch}.attention.sliding_window")
    mla = _gguf_mla(meta, arch)
    base = "mla" if mla else "full"
    interval = meta.get(f"{arch}.full_attention_interval")
    if interval:  # hybrid linear attention (qwen3next / qwen35): full attention at i % interval == interval-1
        n = int(interval)
        return Attention(pattern=("linear",) * (n - 1) + ("full",), linear=_gguf_linear(meta, arch))
    if not window:
        return Attention(pattern=(base,), mla=mla)
    pattern = meta.get(f"{arch}.attention.sliding_window_pattern")
    if isinstance(pattern, list):
        kinds = tuple("sliding" if bool(x) else "full" for x in pattern[:n_layers])
        return Attention(pattern=kinds, sliding_window=int(window))
    n, dense_first = SWA_PATTERN.get(arch, (0, False))
    if isinstance(pattern, int):
        n = pattern
    if n <= 0:  # llama.cpp: pattern 0 = every layer sliding
        return Attention(pattern=("sliding",), sliding_window=int(window))
    kinds = tuple(("sliding" if i % n != 0 else "full") if dense_first else ("sliding" if i % n < n - 1 else "full")
                  for i in range(n))
    return Attention(pattern=kinds, sliding_window=int(window))


def _gguf_mla(meta: dict[str, Any], arch: str) -> Mla | None:
    rank = meta.get(f"{arch}.attention.kv_lora_rank")
    if not rank:
        return None
    rope = int(meta.get(f"{arch}.rope.dimension_count") or 64)
    k_mla = int(meta.get(f"{arch}.attention.key_length_mla") or meta.get(f"{arch}.attention.key_length") or rope + 128)
    v_mla = int(meta.get(f"{arch}.attention.value_length_mla") or meta.get(f"{arch}.attention.value_length") or 128)
    q_rank = meta.get(f"{arch}.attention.q_lora_rank")
    return Mla(kv_lora_rank=int(rank), qk_rope_head_dim=rope, qk_nope_head_dim=k_mla - rope, v_head_dim=v_mla,
               q_lora_rank=int(q_rank) if q_rank else None)


def _gguf_linear(meta: dict[str, Any], arch: str) -> LinearAttention:
    k_heads = int(meta[f"{arch}.ssm.group_count"])
    v_heads = int(meta[f"{arch}.ssm.time_step_rank"])
    inner = int(meta[f"{arch}.ssm.inner_size"])
    return LinearAttention(num_k_heads=k_heads, num_v_heads=v_heads, head_k_dim=int(meta[f"{arch}.ssm.state_size"]),
                           head_v_dim=inner // v_heads, conv_kernel=int(meta.get(f"{arch}.ssm.conv_kernel") or 4))


def _gguf_moe(meta: dict[str, Any], arch: str) -> Moe | None:
    experts = meta.get(f"{arch}.expert_count")
    if not experts:
        return None
    shared = int(meta.get(f"{arch}.expert_shared_count") or 0)
    shared_ff = meta.get(f"{arch}.expert_shared_feed_forward_length")
    return Moe(num_experts=int(experts), experts_per_token=int(meta.get(f"{arch}.expert_used_count") or 1),
               expert_intermediate_size=int(_first(meta.get(f"{arch}.expert_feed_forward_length"))
                                            or _first(meta[f"{arch}.feed_forward_length"])),
               shared_experts=shared, shared_intermediate_size=int(shared_ff) if shared_ff else None,
               first_dense_layers=int(meta.get(f"{arch}.leading_dense_block_count") or 0),
               layer_step=int(meta.get(f"{arch}.interleave_moe_layer_step") or 1))


def _gguf_format(meta: dict[str, Any], tensors: tuple[TensorInfo, ...] = ()) -> str:
    """general.file_type (a llama_ftype) -> q4_k_m, q8_0, f16 ...; without it, the type holding most bytes."""
    import gguf

    ftype = meta.get("general.file_type")
    if ftype is None:
        return _dominant_type(tensors)
    try:
        name = gguf.LlamaFileType(int(ftype)).name
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
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DiagnosticsError([error(E307, f"'{folder}' has no config.json",
                                      help="give a Hugging Face model folder (config.json, *.safetensors) or a .gguf file",
                                      path=str(folder))]) from None
    except (OSError, ValueError) as exc:
        raise DiagnosticsError([error(E307, f"cannot read '{config_path}'", detail=str(exc), path=str(config_path))]) from None
    tensors = _safetensors_tensors(folder)
    try:
        model = _hf_model(config, folder)
    except (KeyError, TypeError, ValueError) as exc:
        raise DiagnosticsError([error(E307, f"'{config_path}' lacks the fields llmc needs",
                                      detail=f"{type(exc).__name__}: {exc}",
                                      help="needs num_hidden_layers, hidden_size, num_attention_heads, vocab_size",
                                      path=str(config_path))]) from None
    return LocalModel(model=model, format=_hf_format(config, tensors), tensors=tensors,
                      weight_bytes=sum(t.n_bytes for t in tensors), kind="hf", path=folder)


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    text = config.get("text_config")
    return {**config, **text} if isinstance(text, dict) else config


def _hf_model(config: dict[str, Any], folder: Path) -> Model:
    c = _text_config(config)
    model_type = str(c.get("model_type") or config.get("model_type") or "unknown")
    n_layers = int(c["num_hidden_layers"])
    hidden = int(c["hidden_size"])
    n_heads = int(c["num_attention_heads"])
    n_kv = int(c.get("num_key_value_heads") or c.get("num_attention_groups") or n_heads)
    mla = _hf_mla(c)
    head_dim = int(c.get("head_dim") or (mla.qk_nope_head_dim + mla.qk_rope_head_dim if mla else hidden // n_heads))
    moe = _hf_moe(c)
    intermediate = int(c.get("intermediate_size_mlp") or c.get("intermediate_size") or 0)
    return Model(
        id=str(folder), name=folder.name, family=model_type, architecture=HF_ARCH.get(model_type, model_type),
        n_layers=n_layers, hidden_size=hidden, n_heads=n_heads, n_kv_heads=n_kv, head_dim=head_dim,
        vocab_size=int(c["vocab_size"]), intermediate_size=intermediate,
        attention=_hf_attention(c, n_layers, mla), moe=moe,
        tie_word_embeddings=bool(c.get("tie_word_embeddings", config.get("tie_word_embeddings", False))),
        max_context=int(c.get("max_position_embeddings") or c.get("max_seq_len") or 0),
        native_format=_hf_native_format(config), license=LOCAL_LICENSE,
        modalities=("text", "vision") if config.get("vision_config") else ("text",),
        mtp_layers=int(c.get("num_nextn_predict_layers") or c.get("mtp_num_hidden_layers") or c.get("num_mtp_modules") or 0),
        source=(str(folder / "config.json"),), verified=True, notes=f"read from {folder / 'config.json'}",
    )


def _hf_mla(c: dict[str, Any]) -> Mla | None:
    if not c.get("kv_lora_rank"):
        return None
    return Mla(kv_lora_rank=int(c["kv_lora_rank"]), qk_rope_head_dim=int(c["qk_rope_head_dim"]),
               qk_nope_head_dim=int(c["qk_nope_head_dim"]), v_head_dim=int(c["v_head_dim"]),
               q_lora_rank=int(c["q_lora_rank"]) if c.get("q_lora_rank") else None)


def _hf_attention(c: dict[str, Any], n_layers: int, mla: Mla | None) -> Attention:
    linear = None
    if c.get("linear_num_value_heads"):
        linear = LinearAttention(num_k_heads=int(c["linear_num_key_heads"]), num_v_heads=int(c["linear_num_value_heads"]),
                                 head_k_dim=int(c["linear_key_head_dim"]), head_v_dim=int(c["linear_value_head_dim"]),
                                 conv_kernel=int(c.get("linear_conv_kernel_dim") or 4))
    gate = bool(c.get("attn_output_gate", False))
    window = c.get("sliding_window") if c.get("use_sliding_window", True) is not False else None
    dsa = int(c["index_topk"]) if c.get("index_topk") else None
    layer_types = c.get("layer_types")
    if isinstance(layer_types, list) and layer_types:
        kinds = tuple(HF_LAYER_KIND.get(t, "full") for t in layer_types[:n_layers])
        kinds = _shortest_period(kinds)
        return Attention(pattern=kinds, sliding_window=int(window) if "sliding" in kinds and window else None,
                         linear=linear, output_gate=gate, dsa_topk=dsa)
    if c.get("full_attention_interval") and linear:
        n = int(c["full_attention_interval"])
        return Attention(pattern=("linear",) * (n - 1) + ("full",), linear=linear, output_gate=gate)
    if mla:
        return Attention(pattern=("mla",), mla=mla, dsa_topk=dsa)
    if c.get("attention_chunk_size"):  # Llama 4: 3 chunked : 1 full (llama.cpp src/models/llama4.cpp)
        return Attention(pattern=("sliding", "sliding", "sliding", "full"), sliding_window=int(c["attention_chunk_size"]))
    pattern_n = c.get("sliding_window_pattern") or c.get("_sliding_window_pattern")
    if window and pattern_n:
        n = int(pattern_n)
        return Attention(pattern=("sliding",) * (n - 1) + ("full",), sliding_window=int(window))
    if window and int(window) < int(c.get("max_position_embeddings") or 0):
        return Attention(pattern=("sliding",), sliding_window=int(window))
    return Attention(output_gate=gate)


def _shortest_period(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """(s, f, s, f, ...) -> (s, f): the smallest prefix that repeats over all layers."""
    for size in range(1, len(kinds) + 1):
        if all(kinds[i] == kinds[i % size] for i in range(len(kinds))):
            return kinds[:size]
    return kinds


def _hf_moe(c: dict[str, Any]) -> Moe | None:
    experts = c.get("num_experts") or c.get("num_local_experts") or c.get("n_routed_experts") or c.get("moe_num_experts")
    if not experts:
        return None
    width = c.get("moe_intermediate_size") or c.get("intermediate_size")
    if c.get("intermediate_size_mlp"):  # Llama 4: intermediate_size is the expert width
        width = c["intermediate_size"]
    shared = int(c.get("n_shared_experts") or (1 if c.get("shared_expert_intermediate_size") else 0))
    return Moe(num_experts=int(experts), experts_per_token=int(c.get("num_experts_per_tok") or c.get("moe_top_k") or 1),
               expert_intermediate_size=int(width), shared_experts=shared,
               shared_intermediate_size=int(c["shared_expert_intermediate_size"]) if c.get("shared_expert_intermediate_size") else None,
               first_dense_layers=int(c.get("first_k_dense_replace") or 0),
               layer_step=int(c.get("interleave_moe_layer_step") or c.get("decoder_sparse_step") or 1))


def _hf_native_format(config: dict[str, Any]) -> str:
    quant = config.get("quantization_config") or _text_config(config).get("quantization_config")
    if isinstance(quant, dict):
        method = str(quant.get("quant_method", "")).lower()
        if method == "compressed-tensors":
            bits = {g.get("weights", {}).get("num_bits") for g in (quant.get("config_groups") or {}).values()
                    if isinstance(g, dict)}
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
            with file.open("rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                header = json.loads(handle.read(length))
        except (OSError, ValueError, struct.error) as exc:
            raise DiagnosticsError([error(E307, f"cannot read the safetensors header of '{file}'", detail=str(exc),
                                          path=str(file))]) from None
        for name, info in header.items():
            if name == "__metadata__":
                continue
            start, end = info["data_offsets"]
            tensors.append(TensorInfo(name, str(info["dtype"]).lower(), tuple(info["shape"]), int(end) - int(start)))
    return tuple(sorted(tensors))
