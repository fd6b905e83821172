"""Hostile and broken `local(...)` models: every one imports with sane values or fails with E306/E307, fast.

GGUF headers are built byte by byte here (lengths near 2^64, nested arrays, absurd counts) or mutated from a
real tiny GGUF (tests/support/tiny_gguf.py); config.json and safetensors headers are generated as JSON.
Each import runs under a time and memory bound.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from llmc.catalog import load_catalog
from llmc.catalog.local import MAX_CONFIG_BYTES, LocalModel, import_local
from llmc.catalog.params import param_counts
from llmc.catalog.schema import MAX_CONTEXT, MAX_LAYERS, MAX_WIDTH
from llmc.diagnostics import DiagnosticsError
from llmc.estimate.from_file import weights_from_tensors
from llmc.estimate.kv import kv_bytes
from llmc.estimate.speed import experts_touched_fraction

from tests.support.tiny_gguf import write_tiny_gguf
from tests.test_catalog import RAW_CONFIGS

SECONDS = 2.0               # per import, generous: a sane file takes milliseconds
PEAK_BYTES = 16 * 2**20     # Python allocations during one import of a file of a few kB
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

U8, I32, U32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = 0, 5, 4, 6, 7, 8, 9, 10, 11, 12
KV_TYPE = load_catalog()[0].kv_types["f16"]


# ---------------------------------------------------------------- bounded import and sanity

def bounded_import(path: Path) -> LocalModel | DiagnosticsError:
    """import_local under the time bound; the model, or the E306/E307 error it raised."""
    start = time.monotonic()
    try:
        return import_local(path)
    except DiagnosticsError as exc:
        assert [d.code for d in exc.diagnostics] in (["E306"], ["E307"]), exc.diagnostics
        assert str(path) in exc.diagnostics[0].summary, "the summary names the file"
        return exc
    finally:
        elapsed = time.monotonic() - start
        assert elapsed < SECONDS, f"import took {elapsed:.2f} s"


def peak_memory(path: Path) -> int:
    """Python's peak allocation during one import (traced apart: tracing slows the import tenfold)."""
    tracemalloc.start()
    try:
        import_local(path)
    except DiagnosticsError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def assert_sane(local: LocalModel) -> None:
    """The values are in range and the estimates' arithmetic runs on them."""
    m = local.model
    assert 1 <= m.n_layers <= MAX_LAYERS and 1 <= m.max_context <= MAX_CONTEXT
    for size in (m.hidden_size, m.n_heads, m.n_kv_heads, m.head_dim, m.vocab_size):
        assert 1 <= size <= MAX_WIDTH
    assert len(m.layer_kinds()) == m.n_layers
    assert 0 <= local.weight_bytes and all(t.n_bytes >= 0 for t in local.tensors)
    param_counts(m)
    weights_from_tensors(m, local.tensors, local.format)
    kv_bytes(m, KV_TYPE, n_ctx=4096, n_seq=2)
    kv_bytes(m, KV_TYPE, n_ctx=4096, n_seq=2, runtime="vllm", tp=2)
    assert 0 <= experts_touched_fraction(m, 4) <= 1


def outcome(path: Path) -> str:
    """'ok' (after the sanity checks) or the diagnostic's detail."""
    result = bounded_import(path)
    if isinstance(result, DiagnosticsError):
        return result.diagnostics[0].detail
    assert_sane(result)
    return "ok"


# ---------------------------------------------------------------- a byte-level GGUF writer

def s(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def kv(key: str, vtype: int, payload: bytes) -> bytes:
    return s(key) + struct.pack("<I", vtype) + payload


def num(key: str, value, vtype: int = U32) -> bytes:
    fmt = {U8: "<B", I32: "<i", U32: "<I", F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}[vtype]
    return kv(key, vtype, struct.pack(fmt, value))


def text(key: str, value: str) -> bytes:
    return kv(key, STRING, s(value))


def tensor(name: str, dims: tuple[int, ...], ttype: int = 0, offset: int = 0) -> bytes:
    return s(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, ttype, offset)


def minimal(arch: str) -> list[bytes]:
    """The keys llmc requires, for a 2-layer model."""
    return [text("general.architecture", arch), num(f"{arch}.block_count", 2), num(f"{arch}.embedding_length", 8),
            num(f"{arch}.attention.head_count", 2), num(f"{arch}.context_length", 64)]


EMBD = (tensor("token_embd.weight", (8, 16)), 8 * 16 * 4)   # f32, 16 tokens


def gguf(*items: bytes, arch: str = "llama", drop: tuple[str, ...] = (), tensors=(EMBD,), version: int = 3,
         n_kv: int | None = None, n_tensors: int | None = None, alignment: int = 32) -> bytes:
    """A minimal header with `items` added (a key given again replaces it), then the tensors' data."""
    fields = {}
    for item in minimal(arch) + list(items):
        (length,) = struct.unpack_from("<Q", item)
        fields[item[8:8 + length].decode(errors="replace")] = item
    fields = {k: v for k, v in fields.items() if k not in drop}
    infos = b"".join(t for t, _ in tensors)
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                                 len(fields) if n_kv is None else n_kv) + b"".join(fields.values()) + infos
    return head + bytes(-len(head) % alignment) + bytes(sum(size for _, size in tensors))


def write(tmp: Path, data: bytes, name: str = "m.gguf") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def nested_array(depth: int) -> bytes:
    return kv("deep", ARRAY, struct.pack("<IQ", ARRAY, 1) * depth + struct.pack("<IQ", U32, 0))


# ---------------------------------------------------------------- GGUF: explicit cases

GGUF_CASES = {
    "zero heads": (gguf(num("llama.attention.head_count", 0)), "head_count = 0 is outside"),
    "zero layers": (gguf(num("llama.block_count", 0)), "block_count = 0 is outside"),
    "negative layers": (gguf(num("llama.block_count", -3, I32)), "block_count = -3 is outside"),
    "1e9 layers": (gguf(num("llama.block_count", 10**9)), "block_count = 1000000000 is outside"),
    "layers as a string": (gguf(text("llama.block_count", "32")), "not a number"),
    "layers as an array": (gguf(kv("llama.block_count", ARRAY, struct.pack("<IQ", STRING, 1) + s("x"))),
                           "not a number"),
    "infinite hidden size": (gguf(num("llama.embedding_length", math.inf, F32)), "not a whole number"),
    "NaN hidden size": (gguf(num("llama.embedding_length", math.nan, F64)), "not a whole number"),
    "fractional heads": (gguf(num("llama.attention.head_count", 2.5, F32)), "not a whole number"),
    "boolean heads": (gguf(num("llama.attention.head_count", True, BOOL)), "not a number"),
    "hidden smaller than heads": (gguf(num("llama.embedding_length", 1)), "key_length = 0 is outside"),
    "2^40 sliding-window pattern": (gguf(num("llama.attention.sliding_window", 64),
                                         num("llama.attention.sliding_window_pattern", 2**40, U64)),
                                    "sliding_window_pattern = 1099511627776 is outside"),
    "negative sliding window": (gguf(num("llama.attention.sliding_window", -1, I32)), "sliding_window = -1"),
    "2^40 full-attention interval": (gguf(num("llama.full_attention_interval", 2**40, U64)), "interval"),
    "context over 2^30": (gguf(num("llama.context_length", 2**31)), "context_length = 2147483648"),
    "no context length": (gguf(drop=("llama.context_length",)), "context_length is missing"),
    "no architecture": (gguf(drop=("general.architecture",)), "general.architecture is None"),
    "architecture a number": (gguf(num("general.architecture", 7)), "general.architecture is 7"),
    "more experts used than exist": (gguf(num("llama.expert_count", 4), num("llama.expert_used_count", 9),
                                          num("llama.feed_forward_length", 16)), "expert_used_count = 9"),
    "zero alignment": (gguf(num("general.alignment", 0)), "general.alignment = 0 is not a power of two"),
    "alignment not a power of two": (gguf(num("general.alignment", 24)), "not a power of two"),
    "alignment a float": (gguf(num("general.alignment", 32.0, F32)), "not a power of two"),
    "nested arrays 5000 deep": (gguf(nested_array(5000)), "no nested arrays"),
    "nested arrays 2 deep": (gguf(nested_array(1)), "no nested arrays"),
    "key length 2^64-1": (gguf(struct.pack("<Q", 2**64 - 1) + b"key"), "runs past the end of the file"),
    "string length 2^64-1": (gguf(kv("general.name", STRING, struct.pack("<Q", 2**64 - 1))), "runs past the end"),
    "string length 2^63": (gguf(kv("general.name", STRING, struct.pack("<Q", 2**63))), "runs past the end"),
    "u8 array of 2^64-1": (gguf(kv("a", ARRAY, struct.pack("<IQ", U8, 2**64 - 1))), "runs past the end"),
    "u64 array of 2^61": (gguf(kv("a", ARRAY, struct.pack("<IQ", U64, 2**61))), "runs past the end"),
    "string array of 2^64-1": (gguf(kv("a", ARRAY, struct.pack("<IQ", STRING, 2**64 - 1))), "strings in arrays"),
    "string array past the end": (gguf(kv("a", ARRAY, struct.pack("<IQ", STRING, 5000))), "runs past the end"),
    "array of unknown type": (gguf(kv("a", ARRAY, struct.pack("<IQ", 13, 1))), "GGUF type 13"),
    "unknown value type": (gguf(kv("a", 99, b"")), "unknown GGUF value type 99"),
    "invalid UTF-8 key": (gguf(s(b"\xff\xfe") + struct.pack("<I", U8) + b"\0"), "corrupt GGUF header"),
    "2^64-1 keys": (gguf(n_kv=2**64 - 1), "metadata keys"),
    "2^64-1 tensors": (gguf(n_tensors=2**64 - 1), "tensors"),
    "more tensors than written": (gguf(n_tensors=3), "tensor '' appears twice"),
    "tensor with 2^32-1 dimensions": (gguf(tensors=[(s("t") + struct.pack("<I", 2**32 - 1), 0)]), "dimensions"),
    "tensor of 2^64 elements": (gguf(tensors=[(tensor("t", (2**32, 2**32)), 0)]), "more than 2^63 elements"),
    "tensor past the end of the file": (gguf(tensors=[(tensor("t", (2**20, 2**20)), 0)]), "truncated?"),
    "tensor of an unknown type": (gguf(tensors=[(tensor("t", (4,), ttype=9999), 16)]), "unknown ggml type 9999"),
    "tensor at an unaligned offset": (gguf(tensors=[(tensor("t", (4,), offset=3), 64)]), "not a multiple"),
    "tensor elements not a block multiple": (gguf(tensors=[(tensor("t", (5,), ttype=8), 64)]), "block"),
    "tensor name of 100 bytes": (gguf(tensors=[(tensor("t" * 100, (4,)), 16)]), "longer than 63 bytes"),
    "version 1": (gguf(version=1), "version 1 is not supported"),
    "big-endian version": (gguf(version=3 << 24), "is not supported"),
    "not a GGUF": (b"PK\x03\x04" + bytes(100), "not a GGUF file"),
    "empty": (b"", "empty file"),
    "only the magic": (b"GGUF", "corrupt GGUF header"),
}


@pytest.mark.parametrize("case", sorted(GGUF_CASES))
def test_hostile_gguf_is_e306(tmp_path, case):
    data, expected = GGUF_CASES[case]
    path = write(tmp_path, data)
    detail = outcome(path)
    assert expected in detail, detail
    assert peak_memory(path) < PEAK_BYTES


GGUF_OK = {
    "the base header": gguf(),
    "per-layer kv heads with zeros": gguf(kv("llama.attention.head_count_kv", ARRAY,
                                             struct.pack("<IQ2I", I32, 2, 0, 2))),
    "file type a float": gguf(num("general.file_type", 7.0, F32)),
    "name not a string": gguf(num("general.name", 3)),
    "a skipped 262k vocabulary": gguf(kv("tokenizer.ggml.tokens", ARRAY,
                                         struct.pack("<IQ", STRING, 262144) + s("") * 262144)),
    "a skipped 4 MiB string": gguf(text("tokenizer.chat_template", "x" * (4 << 20))),
    "empty sliding-window pattern": gguf(num("llama.attention.sliding_window", 8),
                                         kv("llama.attention.sliding_window_pattern", ARRAY,
                                            struct.pack("<IQ", BOOL, 0))),
    "1-D token_embd with a vocab_size": gguf(num("llama.vocab_size", 16),
                                             tensors=[(tensor("token_embd.weight", (128,)), 512)]),
    "largest sane sizes": gguf(num("llama.block_count", MAX_LAYERS), num("llama.embedding_length", MAX_WIDTH),
                               num("llama.attention.head_count", MAX_WIDTH),
                               num("llama.context_length", MAX_CONTEXT),
                               num("llama.attention.sliding_window", MAX_CONTEXT),
                               num("llama.attention.sliding_window_pattern", MAX_LAYERS)),
}


@pytest.mark.parametrize("case", sorted(GGUF_OK))
def test_odd_but_valid_gguf_imports_sanely(tmp_path, case):
    assert outcome(write(tmp_path, GGUF_OK[case])) == "ok"


def test_a_vocabulary_of_two_million_empty_strings_is_read_within_the_bound(tmp_path):
    data = gguf(kv("tokenizer.ggml.tokens", ARRAY, struct.pack("<IQ", STRING, 2**21) + s("") * 2**21))
    assert outcome(write(tmp_path, data)) == "ok"


def test_a_header_of_zeros_claiming_65536_keys_fails_fast(tmp_path):
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 2**16) + bytes(2**16 * 13)
    assert "general.architecture" in outcome(write(tmp_path, data))


def test_truncated_download_is_e306(tmp_path):
    whole = write_tiny_gguf(tmp_path / "whole.gguf").read_bytes()
    assert "truncated?" in outcome(write(tmp_path, whole[:-100], "part.gguf"))


def test_a_fifo_is_not_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.gguf")
    assert outcome(tmp_path / "pipe.gguf") == "not a regular file"


# ---------------------------------------------------------------- GGUF: fuzzing

@pytest.fixture(scope="module")
def tiny_gguf_bytes(tmp_path_factory) -> bytes:
    return write_tiny_gguf(tmp_path_factory.mktemp("tiny") / "t.gguf", n_vocab=300).read_bytes()


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 6000), st.binary(min_size=1, max_size=8)), min_size=1, max_size=4),
       cut=st.none() | st.integers(0, 7000))
def test_mutated_gguf_imports_sanely_or_is_e306(tiny_gguf_bytes, edits, cut):
    data = bytearray(tiny_gguf_bytes)
    for at, chunk in edits:
        data[at:at + len(chunk)] = chunk
    with tempfile.TemporaryDirectory() as tmp:
        outcome(write(Path(tmp), bytes(data[:cut] if cut is not None else data)))


EDGES = [0, 1, 2, 2**20, 2**20 + 1, 2**30, 2**30 + 1, 2**31, 2**40, 2**63, 2**64 - 1]
METADATA_VALUE = st.one_of(
    (st.integers(0, 2**64 - 1) | st.sampled_from(EDGES)).map(lambda n: (n, U64)),
    st.integers(-2**31, 2**31 - 1).map(lambda n: (n, I32)),
    st.lists(st.integers(-2**31, 2**31 - 1), max_size=6).map(lambda v: (v, ARRAY)),   # per-layer values
    st.floats(width=32).map(lambda x: (x, F32)),
    st.floats().map(lambda x: (x, F64)),
    st.booleans().map(lambda b: (b, BOOL)),
    st.text(max_size=8).map(lambda t: (t, STRING)),
)
KEYS = ["block_count", "embedding_length", "attention.head_count", "attention.head_count_kv",
        "attention.key_length", "context_length", "feed_forward_length", "vocab_size", "attention.sliding_window",
        "attention.sliding_window_pattern", "full_attention_interval", "expert_count", "expert_used_count",
        "expert_feed_forward_length", "expert_shared_count", "leading_dense_block_count", "interleave_moe_layer_step",
        "attention.kv_lora_rank", "rope.dimension_count", "attention.key_length_mla", "attention.q_lora_rank",
        "ssm.group_count", "ssm.time_step_rank", "ssm.inner_size", "ssm.state_size", "ssm.conv_kernel",
        "nextn_predict_layers"]


def metadata_item(key: str, value: tuple) -> bytes:
    v, vtype = value
    if vtype == STRING:
        return text(key, v)
    if vtype == ARRAY:
        return kv(key, ARRAY, struct.pack(f"<IQ{len(v)}i", I32, len(v), *v))
    return num(key, v, vtype)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(KEYS), METADATA_VALUE, max_size=8),
       arch=st.sampled_from(["llama", "gemma3", "qwen3next", "deepseek2"]))
@example(fields={"block_count": (2**32 - 1, U64)}, arch="llama")
@example(fields={"attention.head_count": (0, U64), "attention.key_length": (4, U64)}, arch="llama")
@example(fields={"full_attention_interval": (3, U64), "ssm.time_step_rank": (0, U64)}, arch="qwen3next")
@example(fields={"attention.kv_lora_rank": (16, U64), "rope.dimension_count": (900, U64)}, arch="deepseek2")
def test_generated_gguf_metadata_imports_sanely_or_is_e306(fields, arch):
    items = [metadata_item(f"{arch}.{key}", value) for key, value in fields.items()]
    with tempfile.TemporaryDirectory() as tmp:
        outcome(write(Path(tmp), gguf(*items, arch=arch)))


# ---------------------------------------------------------------- Hugging Face folders

BASE_CONFIG = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
               "vocab_size": 128, "max_position_embeddings": 2048, "intermediate_size": 128}


def hf_folder(tmp: Path, config: bytes | str | object, *safetensors: bytes) -> Path:
    folder = tmp / "model"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    if isinstance(config, str):
        config = config.encode()
    (folder / "config.json").write_bytes(config if isinstance(config, bytes) else json.dumps(config).encode())
    for i, header in enumerate(safetensors):
        (folder / f"model-{i}.safetensors").write_bytes(header)
    return folder


def with_config(**changes) -> dict:
    return {k: v for k, v in {**BASE_CONFIG, **changes}.items() if v is not ...}


CONFIG_CASES = {
    "a list": ("[1, 2]", "an array, not an object"),
    "a string": ('"llama"', "a string, not an object"),
    "null": ("null", "null, not an object"),
    "not JSON": ("{model_type: llama", "Expecting property name"),
    "invalid UTF-8": (b'{"model_type": "\xff"}', "utf-8"),
    "UTF-16": ('{"hidden_size": 1}'.encode("utf-16"), "utf-8"),
    "100k brackets": ("[" * 100_000, "nested too deeply"),
    "a 5000-digit number": ('{"hidden_size": 1' + "0" * 5000 + "}", "digits"),
    "negative hidden size": (with_config(hidden_size=-64), "hidden_size = -64 is outside"),
    "zero hidden size": (with_config(hidden_size=0), "hidden_size = 0 is outside"),
    "1e12 hidden size": (with_config(hidden_size=10**12), "hidden_size = 1000000000000 is outside"),
    "zero layers": (with_config(num_hidden_layers=0), "num_hidden_layers = 0"),
    "1e9 layers": (with_config(num_hidden_layers=10**9), "num_hidden_layers = 1000000000"),
    "zero heads": (with_config(num_attention_heads=0), "num_attention_heads = 0"),
    "negative vocab": (with_config(vocab_size=-1), "vocab_size = -1"),
    "1e12 vocab": (with_config(vocab_size=10**12), "vocab_size"),
    "no vocab": (with_config(vocab_size=...), "vocab_size is missing"),
    "no context": (with_config(max_position_embeddings=...), "max_position_embeddings is missing"),
    "hidden size a string": (with_config(hidden_size="4096"), "'4096', not a number"),
    "hidden size fractional": (with_config(hidden_size=64.5), "not a whole number"),
    "hidden size true": (with_config(hidden_size=True), "not a number"),
    "hidden size a dict": (with_config(hidden_size={"a": 1}), "not a number"),
    "NaN hidden size": ('{"num_hidden_layers": 2, "hidden_size": NaN}', "not a whole number"),
    "infinite layers": ('{"num_hidden_layers": Infinity}', "not a whole number"),
    "negative infinite heads": ('{"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": -Infinity}',
                                "not a whole number"),
    "head_dim derived as 0": (with_config(hidden_size=2), "head_dim = 0"),
    "more experts per token than experts": (with_config(num_local_experts=4, num_experts_per_tok=8),
                                            "num_experts_per_tok = 8"),
    "2^40 sliding-window pattern": (with_config(sliding_window=128, sliding_window_pattern=2**40),
                                    "sliding_window_pattern"),
    "layer types that are not names": (with_config(layer_types=[["full_attention"]]), "not a layer type name"),
    "linear layers without their sizes": (with_config(layer_types=["linear_attention", "full_attention"]),
                                          "linear_num_value_heads is missing"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_hostile_config_json_is_e307(tmp_path, case):
    config, expected = CONFIG_CASES[case]
    folder = hf_folder(tmp_path, config)
    detail = outcome(folder)
    assert expected in detail, detail
    assert peak_memory(folder) < PEAK_BYTES


def test_config_json_over_the_size_limit_is_not_read(tmp_path):
    folder = hf_folder(tmp_path, BASE_CONFIG)
    with open(folder / "config.json", "r+b") as f:
        f.truncate(MAX_CONFIG_BYTES + 1)
    assert "larger than 16 MiB" in outcome(folder)


def test_config_json_that_is_a_directory(tmp_path):
    (tmp_path / "model" / "config.json").mkdir(parents=True)
    assert outcome(tmp_path / "model") == "not a regular file"


CONFIG_OK = {
    "base": BASE_CONFIG,
    "layer types of half a million entries": with_config(num_hidden_layers=MAX_LAYERS,
                                                    layer_types=["sliding_attention"] * 499_999 + ["full_attention"],
                                                    sliding_window=512),
    "quantization config of odd shape": with_config(quantization_config={"quant_method": "compressed-tensors",
                                                                         "config_groups": [1, 2]}),
    "quantization weights not a dict": with_config(quantization_config={"quant_method": "compressed-tensors",
                                                                        "config_groups": {"g": {"weights": 4}}}),
    "text_config a list": with_config(text_config=[1]),
    "a full layer at the very end": with_config(num_hidden_layers=MAX_LAYERS, sliding_window=512,
                                                layer_types=["sliding_attention"] * (MAX_LAYERS - 1) + ["full_attention"]),
    "integral floats": with_config(hidden_size=64.0, num_hidden_layers=2.0),
}


@pytest.mark.parametrize("case", sorted(CONFIG_OK))
def test_odd_but_valid_config_imports_sanely(tmp_path, case):
    assert outcome(hf_folder(tmp_path, CONFIG_OK[case])) == "ok"


def test_a_local_hf_folder_is_served_as_the_folder(tmp_path):
    folder = hf_folder(tmp_path, BASE_CONFIG)
    assert import_local(folder).model.source == (str(folder),)


CONFIG_VALUES = st.one_of(
    st.integers(-2**64, 2**64), st.sampled_from([0, 1, -1, 2**20, 2**20 + 1, 2**30, 2**31, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(), st.text(max_size=6),
    st.lists(st.integers(-3, 5000), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
CONFIG_KEYS = ["num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
               "vocab_size", "intermediate_size", "max_position_embeddings", "sliding_window", "use_sliding_window",
               "sliding_window_pattern", "layer_types", "num_local_experts", "num_experts_per_tok",
               "moe_intermediate_size", "n_shared_experts", "first_k_dense_replace", "decoder_sparse_step",
               "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "q_lora_rank",
               "linear_num_value_heads", "linear_num_key_heads", "linear_key_head_dim", "linear_value_head_dim",
               "full_attention_interval", "attention_chunk_size", "index_topk", "num_nextn_predict_layers",
               "quantization_config", "text_config", "torch_dtype", "tie_word_embeddings"]


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(CONFIG_KEYS), CONFIG_VALUES, max_size=6))
@example(changes={"layer_types": ["sliding_attention", 3]})
@example(changes={"kv_lora_rank": 8, "qk_rope_head_dim": 4, "qk_nope_head_dim": 0, "v_head_dim": 4})
@example(changes={"linear_num_value_heads": 2, "linear_num_key_heads": 0})
def test_generated_config_json_imports_sanely_or_is_e307(changes):
    with tempfile.TemporaryDirectory() as tmp:
        outcome(hf_folder(Path(tmp), {**BASE_CONFIG, **changes}))


@FUZZ
@given(name=st.sampled_from(sorted(p.name for p in RAW_CONFIGS.glob("*.json"))), index=st.integers(0, 10_000),
       value=CONFIG_VALUES)
def test_a_real_config_with_one_field_broken_imports_sanely_or_is_e307(name, index, value):
    config = json.loads((RAW_CONFIGS / name).read_text())
    target = config["text_config"] if isinstance(config.get("text_config"), dict) else config
    target[sorted(target)[index % len(target)]] = value
    with tempfile.TemporaryDirectory() as tmp:
        outcome(hf_folder(Path(tmp), config))


# ---------------------------------------------------------------- safetensors headers

def safetensors(header: bytes | str | object, data: int = 64, length: int | None = None) -> bytes:
    blob = header if isinstance(header, bytes) else (header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<Q", len(blob) if length is None else length) + blob + bytes(data)


TENSOR = {"dtype": "BF16", "shape": [4, 8], "data_offsets": [0, 64]}

SAFETENSORS_CASES = {
    "a list": (safetensors([TENSOR]), "an array, not an object"),
    "no data_offsets": (safetensors({"w": {"dtype": "BF16", "shape": [4]}}), "data_offsets None"),
    "negative offsets": (safetensors({"w": {**TENSOR, "data_offsets": [-64, 0]}}), "data_offsets [-64, 0]"),
    "offsets past the data": (safetensors({"w": {**TENSOR, "data_offsets": [0, 65]}}), "within the 64 data bytes"),
    "end before start": (safetensors({"w": {**TENSOR, "data_offsets": [64, 0]}}), "data_offsets"),
    "2^63 bytes claimed": (safetensors({"w": {**TENSOR, "data_offsets": [0, 2**63]}}), "data_offsets"),
    "float offsets": (safetensors({"w": {**TENSOR, "data_offsets": [0.0, 64.0]}}), "data_offsets"),
    "header length 2^63": (safetensors({"w": TENSOR}, length=2**63), "the header claims 9223372036854775808"),
    "header length past the file": (safetensors({"w": TENSOR}, data=0, length=10_000), "the header claims 10000"),
    "non-UTF-8 header": (safetensors(b'{"w\xff": 1}'), "utf-8"),
    "deep header": (safetensors("[" * 100_000), "nested too deeply"),
    "not JSON": (safetensors("{oops"), "Expecting property name"),
    "tensor entry a number": (safetensors({"w": 3}), "3 is not an object"),
    "dtype missing": (safetensors({"w": {"shape": [4], "data_offsets": [0, 8]}}), "dtype None"),
    "negative shape": (safetensors({"w": {**TENSOR, "shape": [-4]}}), "shape [-4]"),
    "shape a string": (safetensors({"w": {**TENSOR, "shape": "4x8"}}), "shape '4x8'"),
    "a 2000-digit block number": (safetensors({"blk." + "9" * 2000 + ".x": TENSOR}), "a tensor name of 2006"),
    "too short": (b"\x01\x02", "too short"),
}


@pytest.mark.parametrize("case", sorted(SAFETENSORS_CASES))
def test_hostile_safetensors_header_is_e307(tmp_path, case):
    header, expected = SAFETENSORS_CASES[case]
    folder = hf_folder(tmp_path, BASE_CONFIG, header)
    detail = outcome(folder)
    assert expected in detail, detail
    assert peak_memory(folder) < PEAK_BYTES


def test_a_valid_safetensors_header_gives_its_bytes(tmp_path):
    local = bounded_import(hf_folder(tmp_path, BASE_CONFIG, safetensors({"w": TENSOR, "__metadata__": {"a": "b"}})))
    assert local.weight_bytes == 64 and local.format == "bf16"


TENSOR_ENTRIES = st.one_of(
    st.fixed_dictionaries({"dtype": st.sampled_from(["BF16", "F32", "F8_E4M3", "I64"]) | st.integers(),
                           "shape": st.lists(st.integers(-2, 2**64), max_size=4) | st.text(max_size=3),
                           "data_offsets": st.lists(st.integers(-2**64, 2**64), max_size=3)
                           | st.lists(st.integers(0, 80), min_size=2, max_size=2)}),
    st.integers(), st.none(), st.text(max_size=4), st.lists(st.integers(), max_size=2))


@FUZZ
@given(header=st.dictionaries(st.text(max_size=12), TENSOR_ENTRIES, max_size=5) | TENSOR_ENTRIES,
       length_delta=st.sampled_from([0, 0, 0, 1, -1, 2**40]), data=st.integers(0, 96))
def test_generated_safetensors_header_imports_sanely_or_is_e307(header, length_delta, data):
    blob = json.dumps(header).encode()
    with tempfile.TemporaryDirectory() as tmp:
        outcome(hf_folder(Path(tmp), BASE_CONFIG,
                          safetensors(blob, data=data, length=max(0, len(blob) + length_delta))))
