"""`model = local(...)`: GGUF headers (generated tiny files and the real gemma-3-270m Q4_K_M) and HF folders."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import gguf
import numpy as np
import pytest

from llmc.catalog import load_catalog
from llmc.catalog.local import import_local
from llmc.diagnostics import DiagnosticsError
from tests.support.tiny_gguf import write_tiny_gguf
from tests.test_catalog import RAW_CONFIGS, RAW_TO_MODEL


def reader_bytes(path: Path) -> dict[str, int]:
    """gguf-py's own view of the tensor table (slow on big vocabularies, fine on tiny files)."""
    return {t.name: int(t.n_bytes) for t in gguf.GGUFReader(str(path)).tensors}


def write_tiny_gemma3(path: Path, *, n_layer: int = 7, window: int = 64, pattern=None) -> Path:
    """A gemma3-architecture header with a sliding window (weights are not needed to read the header)."""
    w = gguf.GGUFWriter(str(path), "gemma3")
    w.add_name("tiny-gemma3")
    w.add_context_length(2048)
    w.add_embedding_length(32)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(64)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_key_length(16)
    w.add_value_length(16)
    w.add_sliding_window(window)
    if pattern is not None:
        if isinstance(pattern, int):
            w.add_uint32("gemma3.attention.sliding_window_pattern", pattern)
        else:
            w.add_array("gemma3.attention.sliding_window_pattern", list(pattern))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_tensor("token_embd.weight", np.zeros((100, 32), dtype=np.float16))
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_q.weight", np.zeros((32, 32), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


# ---------------------------------------------------------------- generated GGUFs

@pytest.mark.parametrize("weight_type", ["f32", "f16", "q8_0"])
def test_tiny_llama_gguf(tmp_path, weight_type):
    path = write_tiny_gguf(tmp_path / "tiny.gguf", n_layer=3, n_embd=64, n_head=4, n_head_kv=2, n_ff=96,
                           n_vocab=320, n_ctx_train=2048, weight_type=weight_type)
    local = import_local(path)
    m = local.model
    assert local.kind == "gguf" and m.architecture == "llama"
    assert (m.n_layers, m.hidden_size, m.n_heads, m.n_kv_heads, m.head_dim, m.intermediate_size, m.vocab_size,
            m.max_context) == (3, 64, 4, 2, 16, 96, 320, 2048)
    assert m.layer_kinds() == ("full",) * 3 and not m.tie_word_embeddings
    expected = reader_bytes(path)
    assert {t.name: t.n_bytes for t in local.tensors} == expected
    assert local.weight_bytes == sum(expected.values())
    assert m.license.id == "other" and not m.license.verified and m.source == (str(path),)


def test_tiny_moe_and_tied_gguf(tmp_path):
    path = write_tiny_gguf(tmp_path / "moe.gguf", n_layer=2, n_expert=4, n_expert_used=2, tie_embeddings=True)
    local = import_local(path)
    assert local.model.moe.num_experts == 4 and local.model.moe.experts_per_token == 2
    assert local.model.tie_word_embeddings
    assert local.weight_bytes == sum(reader_bytes(path).values())


@pytest.mark.parametrize("pattern,full_layers", [(None, [5]), (3, [2, 5]), ([True, False] * 3 + [True], [1, 3, 5])])
def test_sliding_window_layout(tmp_path, pattern, full_layers):
    local = import_local(write_tiny_gemma3(tmp_path / "g.gguf", pattern=pattern))
    kinds = local.model.layer_kinds()
    assert [i for i, k in enumerate(kinds) if k == "full"] == full_layers
    assert local.model.attention.sliding_window == 64
    assert local.format == "f16_gguf"


def test_gguf_without_window_has_no_sliding_layers(tmp_path):
    local = import_local(write_tiny_gemma3(tmp_path / "g.gguf", window=0))
    assert set(local.model.layer_kinds()) == {"full"}


# ---------------------------------------------------------------- the real gemma-3-270m Q4_K_M

@pytest.fixture(scope="module")
def gemma(gemma_path):
    return import_local(gemma_path)


def test_gemma_architecture_and_format(gemma):
    m = gemma.model
    assert m.architecture == "gemma3" and gemma.format == "q4_k_m"
    assert (m.n_layers, m.hidden_size, m.n_heads, m.n_kv_heads, m.head_dim, m.max_context) == (18, 640, 4, 1, 256, 32768)
    assert m.tie_word_embeddings and m.vocab_size == 262144


def test_gemma_sliding_window_layers(gemma):
    kinds = gemma.model.layer_kinds()
    assert [i for i, k in enumerate(kinds) if k == "full"] == [5, 11, 17]
    assert gemma.model.attention.sliding_window == 512


def test_gemma_exact_weight_bytes_match_the_file_layout(gemma, gemma_path):
    from llmc.catalog.gguf_header import read_header

    header = read_header(gemma_path)
    alignment = int(header.fields.get("general.alignment", 32))
    ordered = sorted(header.tensors, key=lambda t: t.offset)
    ends = [t.offset for t in ordered[1:]] + [header.file_size - header.data_start]
    for tensor, end in zip(ordered, ends):
        assert 0 <= end - tensor.offset - tensor.n_bytes < alignment, tensor.name
    assert gemma.weight_bytes == sum(t.n_bytes for t in gemma.tensors)
    assert {t.ggml_type for t in gemma.tensors} >= {"q4_k", "q6_k", "f32"}
    data_region = header.file_size - header.data_start
    assert data_region - len(ordered) * alignment < gemma.weight_bytes <= data_region


def test_gemma_file_agrees_with_the_catalog_record(gemma):
    record = load_catalog()[0].models["google/gemma-3-270m-it"]
    m = gemma.model
    for name in ("n_layers", "hidden_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size", "intermediate_size",
                 "max_context", "tie_word_embeddings"):
        assert getattr(m, name) == getattr(record, name), name
    assert m.layer_kinds() == record.layer_kinds()


# ---------------------------------------------------------------- Hugging Face folders

@pytest.mark.parametrize("raw_name", sorted(RAW_TO_MODEL))
def test_hf_config_import_matches_the_catalog(tmp_path, raw_name):
    shutil.copy(RAW_CONFIGS / raw_name, tmp_path / "config.json")
    local = import_local(tmp_path)
    record = load_catalog()[0].models[RAW_TO_MODEL[raw_name]]
    m = local.model
    assert local.kind == "hf" and local.weight_bytes == 0
    for name in ("n_layers", "hidden_size", "n_heads", "n_kv_heads", "vocab_size", "tie_word_embeddings"):
        assert getattr(m, name) == getattr(record, name), name
    assert m.layer_kinds() == record.layer_kinds()
    assert (m.moe is None) == (record.moe is None)
    if m.moe:
        assert (m.moe.num_experts, m.moe.experts_per_token, m.moe.expert_intermediate_size) == (
            record.moe.num_experts, record.moe.experts_per_token, record.moe.expert_intermediate_size)
    if raw_name != "nvidia--DeepSeek-V3.1-NVFP4.json":  # that mirror dropped the quantization block
        assert m.native_format == record.native_format


def write_safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...], int]]) -> int:
    header, offset = {}, 0
    for name, (dtype, shape, itemsize) in tensors.items():
        size = int(np.prod(shape)) * itemsize
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + bytes(offset))
    return offset


def test_hf_folder_with_safetensors_gives_exact_bytes(tmp_path):
    shutil.copy(RAW_CONFIGS / "Qwen--Qwen3-8B.json", tmp_path / "config.json")
    a = write_safetensors(tmp_path / "model-00001-of-00002.safetensors",
                          {"model.embed_tokens.weight": ("BF16", (151936, 16), 2)})
    b = write_safetensors(tmp_path / "model-00002-of-00002.safetensors",
                          {"lm_head.weight": ("BF16", (151936, 16), 2), "model.norm.weight": ("F32", (16,), 4)})
    local = import_local(tmp_path)
    assert local.weight_bytes == a + b
    assert local.format == "bf16" and len(local.tensors) == 3
    assert {t.ggml_type for t in local.tensors} == {"bf16", "f32"}


def test_directory_holding_a_gguf_imports_the_gguf(tmp_path):
    write_tiny_gguf(tmp_path / "model.gguf")
    assert import_local(tmp_path).kind == "gguf"


# ---------------------------------------------------------------- problems are diagnostics

def codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


def test_missing_path(tmp_path):
    with pytest.raises(DiagnosticsError) as exc:
        import_local(tmp_path / "nope.gguf")
    assert codes(exc) == ["E305"]


def test_not_a_gguf_file(tmp_path):
    (tmp_path / "x.gguf").write_bytes(b"PK\x03\x04 not a gguf at all")
    with pytest.raises(DiagnosticsError) as exc:
        import_local(tmp_path / "x.gguf")
    assert codes(exc) == ["E306"] and "not a GGUF file" in exc.value.diagnostics[0].detail


def test_truncated_gguf(tmp_path):
    data = write_tiny_gguf(tmp_path / "t.gguf").read_bytes()
    (tmp_path / "cut.gguf").write_bytes(data[:200])
    with pytest.raises(DiagnosticsError) as exc:
        import_local(tmp_path / "cut.gguf")
    assert codes(exc) == ["E306"]


def test_folder_without_config(tmp_path):
    with pytest.raises(DiagnosticsError) as exc:
        import_local(tmp_path)
    assert codes(exc) == ["E307"]


def test_config_missing_fields(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "llama", "hidden_size": 64}')
    with pytest.raises(DiagnosticsError) as exc:
        import_local(tmp_path)
    assert codes(exc) == ["E307"] and "num_hidden_layers" in exc.value.diagnostics[0].detail


def compile_config_only(tmp_path: Path, pin: str, gpu: str):
    """A spec on a folder that holds Qwen3-8B's config.json and no weights."""
    from llmc.driver import compile_file

    folder = tmp_path / "qwen3-8b"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "data" / "hf_configs" / "Qwen--Qwen3-8B.json", folder / "config.json")
    spec = tmp_path / "s.llmspec"
    spec.write_text(f'deployment "q" {{\n  model = local("qwen3-8b")\n  {pin}\n'
                    f'  hardware {{\n    gpu = 1 x "{gpu}"\n  }}\n}}\n')
    return compile_file(str(spec))


def test_an_hf_folder_with_only_config_json_is_estimated_from_its_architecture(tmp_path):
    """Without safetensors there are no tensors to add up: the weights come from the architecture, never 0."""
    result = compile_config_only(tmp_path, "runtime = vllm", "H100 SXM")
    [item] = result.deployments
    weights = sum(d.weights_bytes for d in item.plan.memory.devices)
    assert abs(weights - 8.19e9 * 2) / (8.19e9 * 2) < 0.05  # Qwen3-8B: 8.19B parameters in bf16
    assert item.plan.model.path == "qwen3-8b"
    weights_part = next(p for d in item.plan.memory.devices for p in d.parts if p.name == "weights")
    assert "read" not in weights_part.source          # computed from the architecture, and it says so
    # ... but no runtime could start on the folder: the build is an error (E404), naming the spec's path
    [missing] = [d for d in result.diagnostics if d.is_error]
    assert missing.code == "E404" and missing.span.line == 2 and result.exit_code != 0


def test_a_folder_without_weights_is_estimated_in_the_quantization_the_spec_pins(tmp_path):
    [item] = compile_config_only(tmp_path, "quantization = q4_k_m", "RTX 4090").deployments
    assert item.plan.model.format == "q4_k_m"
    weights = sum(d.weights_bytes for d in item.plan.memory.devices)
    assert 4.5e9 < weights < 5.5e9    # 8.19B parameters at Q4_K_M's ~4.9 bits (the 5.03 GB Qwen3-8B file)


def test_safetensors_tensors_are_grouped_by_their_transformers_names_and_labelled_as_such():
    """An HF checkpoint's tensors fall into the same groups as a GGUF's (per layer, experts apart), and the
    figure says it was read from the safetensors headers, not from a GGUF."""
    from llmc.catalog import load_catalog
    from llmc.catalog.local import TensorInfo
    from llmc.estimate.from_file import weights_from_tensors

    model = load_catalog()[0].models["Qwen/Qwen3-30B-A3B"]
    names = ["model.embed_tokens.weight", "lm_head.weight", "model.norm.weight"] + [
        f"model.layers.{i}.{part}" for i in range(2) for part in (
            "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
            "self_attn.v_proj.weight", "self_attn.o_proj.weight", "mlp.gate.weight",
            "mlp.experts.0.up_proj.weight", "mlp.experts.1.down_proj.weight")]
    tensors = [TensorInfo(n, "bf16", (4, 4), 32) for n in names]
    weights = weights_from_tensors(model, tensors, "bf16", "hf", "float")
    by_name = {g.name: g for g in weights.groups}
    assert set(by_name) == {"embed (global)", "output (global)", "norm (global)", "norm", "attn_q", "attn_kv",
                            "attn_o", "ffn", "experts"}
    assert by_name["attn_kv"].layers == 2 and by_name["experts"].bytes == 4 * 32
    assert weights.total_bytes == 32 * len(names)
    assert "safetensors" in weights.source and "GGUF" not in weights.source and weights.family == "float"
