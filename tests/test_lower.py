"""lower.py: the tree becomes a typed Spec with spans; every schema mistake is a coded diagnostic."""

from __future__ import annotations

import pytest
from llmc.catalog import format_ids, kv_type_ids
from llmc.catalog.schema import LICENSE_IDS
from llmc.lower import lower
from llmc.parse import parse
from llmc.source import SourceFile
from llmc.spec import RUNTIMES, TASKS
from pydantic import ValidationError

GPU = 'hardware {\n    gpu = 1 x "RTX 4090"\n  }'


def _lower(text: str):
    source = SourceFile(path="t.llmspec", text=text)
    tree, diagnostics = parse(source)
    assert diagnostics == [], diagnostics
    return lower(source, tree)


def _deployment(body: str):
    spec, diagnostics = _lower(f'deployment "svc" {{\n  {body}\n  {GPU}\n}}\n')
    assert diagnostics == [], diagnostics
    return spec.deployments[0]


def _error(body: str, hardware: bool = True):
    spec, diagnostics = _lower(f'deployment "svc" {{\n  {body}\n' + (f"  {GPU}\n" if hardware else "") + "}\n")
    assert diagnostics and spec.deployments == (), "expected an error, and the deployment left out of the spec"
    return diagnostics[0]


def test_defaults_come_from_the_spec_properties():
    d = _deployment("")
    assert (d.task, d.concurrency, d.prompt_tokens, d.output_tokens, d.objective, d.nodes, d.host) == \
        ("chat", 1, 1024, 256, "quality", 1, "127.0.0.1")
    assert d.model.kind == "auto" and d.quantization.allowed is None and d.license.kind == "any" and d.emits == ()


@pytest.mark.parametrize("text, tokens", [
    ("32k", 32768), ("32k tokens", 32768), ("4096", 4096), ("4096 tokens", 4096), ("1M", 1048576),
    ("1.5k", 1536), ("1 token", 1),
])
def test_token_counts(text, tokens):
    assert _deployment(f"context = {text}").context.value == tokens


@pytest.mark.parametrize("text, size", [
    ("128 GiB", 128 * 2**30), ("64 GB", 64 * 10**9), ("1 TiB", 2**40), ("512MiB", 512 * 2**20), ("0", 0),
    ("1.5 KB", 1500), ("2 TB", 2 * 10**12), ("7 B", 7),
])
def test_byte_sizes_si_and_iec(text, size):
    assert _memory(text) == size


def _memory(text: str) -> int:
    spec, diagnostics = _lower(f'deployment "svc" {{\n  hardware {{\n    gpu = none\n    memory = {text}\n  }}\n}}\n')
    assert diagnostics == []
    return spec.deployments[0].hardware.memory.value


@pytest.mark.parametrize("text, seconds", [("1.5s", 1.5), ("50ms", 0.05), ("250 us", 0.00025), ("2 min", 120.0)])
def test_durations(text, seconds):
    bound = _deployment(f"latency {{\n ttft <= {text}\n }}").latency.ttft
    assert bound.op == "<=" and bound.value.seconds == pytest.approx(seconds)


def test_rates_and_all_four_bounds():
    lat = _deployment("latency {\n ttft < 1s\n tpot <= 50ms\n decode >= 20 tok/s\n throughput > 400 tok/s\n }").latency
    assert (lat.ttft.op, lat.tpot.op, lat.decode.op, lat.throughput.op) == ("<", "<=", ">=", ">")
    assert lat.decode.value.tok_s == 20 and lat.throughput.value.tok_s == 400


def test_values_keep_their_spans():
    d = _deployment("context = 32k tokens")
    assert (d.context.span.line, d.context.span.col, d.context.span.end_col) == (2, 13, 23)
    assert d.name == "svc" and (d.name_span.line, d.name_span.col) == (1, 12)


def test_gpu_forms():
    spec, _ = _lower('deployment "a" {\n  hardware {\n    gpu = [2 x "RTX 4090", 1x "RTX 3090"]\n  }\n}\n')
    groups = spec.deployments[0].hardware.gpu
    assert [(g.count, g.name) for g in groups] == [(2, "RTX 4090"), (1, "RTX 3090")]
    assert spec.deployments[0].hardware.gpu_span.col == 11
    spec, _ = _lower('deployment "a" {\n  hardware {\n    gpu = none\n  }\n}\n')
    assert spec.deployments[0].hardware.gpu is None


def test_gpu_names_are_kept_as_written():
    spec, diagnostics = _lower('deployment "a" {\n  hardware {\n    gpu = 3 x "no such card"\n  }\n}\n')
    assert diagnostics == [] and spec.deployments[0].hardware.gpu[0].name == "no such card"


def test_hardware_fields():
    text = 'deployment "a" {\n hardware {\n gpu = 8 x "H100 SXM"\n nodes = 2\n link = nvlink\n p2p = true\n }\n}'
    spec, _ = _lower(text)
    hw = spec.deployments[0].hardware
    assert (hw.nodes.value, hw.link.value, hw.p2p.value) == (2, "nvlink", True)


def test_model_forms():
    assert _deployment("model = auto").model.kind == "auto"
    m = _deployment('model = "Qwen/Qwen3-8B"').model
    assert (m.kind, [i.value for i in m.ids]) == ("id", ["Qwen/Qwen3-8B"])
    m = _deployment('model = any ["a/b", "c/d"]').model
    assert (m.kind, [i.value for i in m.ids]) == ("any", ["a/b", "c/d"])
    m = _deployment('model = local("models/m.gguf")').model
    assert (m.kind, m.path.value) == ("local", "models/m.gguf")


def test_choices():
    assert _deployment("runtime = vllm").runtime.allowed == ("vllm",)
    assert _deployment("runtime = any [vllm, llama.cpp]").runtime.allowed == ("vllm", "llama.cpp")
    assert _deployment("quantization = Q4_K_M").quantization.allowed == ("q4_k_m",)
    assert _deployment("kv_cache = fp8").kv_cache.allowed == ("fp8",)
    assert _deployment("runtime = auto").runtime.kind == "auto"


def test_licenses():
    assert _deployment("license = permissive").license.kind == "permissive"
    lic = _deployment("license = [Apache-2.0, mit]").license
    assert lic.kind == "list" and [i.value for i in lic.ids] == ["apache-2.0", "mit"]
    assert [i.value for i in _deployment("license = llama3.1").license.ids] == ["llama3.1"]


def test_serve_block():
    serve = _deployment('serve {\n port = 9000\n host = "0.0.0.0"\n api_key = env("KEY")\n name = "x"\n }').serve
    assert (serve.port.value, serve.host.value) == (9000, "0.0.0.0")
    assert (serve.api_key_env.value, serve.name.value) == ("KEY", "x")


def test_string_escapes_are_resolved():
    assert _deployment(r'model = "a\"b\\c"').model.ids[0].value == 'a"b\\c'


def test_several_deployments():
    spec, diagnostics = _lower(f'deployment "a" {{\n  {GPU}\n}}\ndeployment "b" {{\n  {GPU}\n}}\n')
    assert [d.name for d in spec.deployments] == ["a", "b"] and diagnostics == []


def test_spec_is_frozen():
    d = _deployment("")
    with pytest.raises(ValidationError):
        d.name = "other"


@pytest.mark.parametrize("body, code, fragment", [
    ("context = 24 GB", "E205", "takes a token count, not a size in bytes"),
    ("workload {\n concurrency = 4 tokens\n }", "E205", "plain number"),
    ("latency {\n ttft <= 20 tok/s\n }", "E205", "a duration"),
    ("latency {\n decode >= 20ms\n }", "E205", "a rate"),
    ("context = 32k\n  context = 8k", "E204", "set twice"),
    ("workload = chat", "E203", "is a block"),
    ("context {\n }", "E203", "is a field"),
    ("latency {\n ttft = 1s\n }", "E211", "is a bound"),
    ("latency {\n ttft >= 1s\n }", "E211", "upper bound"),
    ("latency {\n throughput <= 1 tok/s\n }", "E211", "lower bound"),
    ("context <= 32k", "E211", "set with `=`"),
    ('model = lokal("x")', "E212", "unknown function"),
    ('model = local("x", "y")', "E212", "one quoted string"),
    ('serve {\n api_key = "secret"\n }', "E215", "API key"),
    ("workload {\n concurrency = 2.5\n }", "E216", "whole"),
    ("runtime = any []", "E205", "allows nothing"),
    ("license = [permissive]", "E205", "class of licenses"),
    ("model = llama3", "E205", "quoted model id"),
    ("emit = compose", None, None),
])
def test_schema_errors(body, code, fragment):
    if code is None:
        assert _deployment(body).emits == ("compose",)
        return
    d = _error(body)
    assert d.code == code and fragment in d.summary, d.summary


@pytest.mark.parametrize("field, bad, expected", [
    ("workload {\n task", "chta", "chat"), ("runtime", "vlm", "vllm"), ("quantization", "q4km", "q4_k_m"),
    ("kv_cache", "q8", "q8_0"), ("license", "apache2", "apache-2.0"), ("prefer", "qualty", "quality"),
    ("emit", "[compse]", "compose"), ("hardware {\n gpu = none\n link", "nvlnk", "nvlink"),
])
def test_closed_words_get_did_you_mean(field, bad, expected):
    closing = "\n }" if "{" in field else ""
    d = _error(f"{field} = {bad}{closing}", hardware="hardware" not in field)
    assert d.code == "E206" and f"'{expected}'" in d.help


def test_unknown_fields_and_blocks_get_suggestions():
    d = _error("workload {\n tsk = chat\n }")
    assert (d.code, d.help) == ("E201", "did you mean 'task'?")
    d = _error("workloads {\n }")
    assert (d.code, d.help) == ("E202", "did you mean 'workload'?")
    d = _error("gpu = none")
    assert d.code == "E201" and d.help == "`gpu` belongs in the `hardware` block"


def test_repeated_field_names_both_places():
    d = _error("context = 32k\n  context = 8k")
    assert (d.span.line, d.labels[0].span.line, d.labels[0].message) == (3, 2, "first set here")


def test_deployment_names():
    spec, ds = _lower('deployment "Bad Name" {\n  hardware { gpu = none }\n}\n')
    assert ds[0].code == "E207" and ds[0].help == 'write "bad-name"'
    twice = 'deployment "a" {\n  hardware { gpu = none }\n}\n' * 2
    spec, ds = _lower(twice)
    assert ds[0].code == "E208" and ds[0].labels[0].span.line == 1
    spec, ds = _lower('deploymnt "a" {\n}\n')
    assert (ds[0].code, ds[0].help) == ("E202", "did you mean 'deployment'?")


def test_missing_hardware_and_empty_file():
    _, ds = _lower('deployment "a" {\n  context = 32k\n}\n')
    assert ds[0].code == "E210"
    _, ds = _lower("# nothing\n")
    assert ds[0].code == "E209"
    _, ds = _lower('context = 32k\ndeployment "a" {\n  hardware { gpu = none }\n}\n')
    assert ds[0].code == "E214"


def test_all_errors_of_a_file_are_reported_at_once():
    _, ds = _lower('deployment "a" {\n  context = 24 GB\n  prefer = fast\n  workload {\n    tsk = chat\n  }\n}\n')
    assert [(d.code, d.span.line) for d in ds] == [("E210", 1), ("E205", 2), ("E206", 3), ("E201", 5)]


def test_closed_sets_are_the_documented_ones():
    assert TASKS == ("chat", "code", "reasoning", "agent", "long-context", "multimodal")
    assert set(RUNTIMES) == {"vllm", "llama.cpp", "ollama", "sglang"}
    assert {"f16", "fp8", "q8_0", "q4_0"} <= set(kv_type_ids())
    assert {"q4_k_m", "fp8", "nvfp4", "mxfp4", "iq4_xs", "awq", "gptq", "q3_k_s", "iq2_xxs", "q4_k_xl"} <= set(format_ids())
    assert {"apache-2.0", "mit", "modified-mit", "bsd-3-clause", "llama3.1", "gemma", "other"} <= set(LICENSE_IDS)
    assert all(q == q.lower() for q in format_ids() + kv_type_ids() + LICENSE_IDS)
