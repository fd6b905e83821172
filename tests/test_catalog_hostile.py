"""Hostile and broken user catalogs through `llmc build --catalog DIR`: always E302/E303 and exit code 2,
never a traceback; and a non-finite estimate never passes a bound or reaches plan.json."""

from __future__ import annotations

import dataclasses
import io
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from llmc.catalog import load_catalog
from llmc.catalog.yamlcache import MAX_FILE_BYTES
from llmc.cli import main
from llmc.estimate.speed import SpeedEstimate
from llmc.plan import Estimate
from llmc.solve import solve
from llmc.solve.evaluate import Context, speed_violation
from tests.support import plans
from tests.support.specs import deployment, spec_text

SPEC = spec_text('    gpu = 1 x "RTX 4090"', body="  latency {\n    tpot <= 80ms\n  }")

# A new GPU, and partial overrides of built-in records: each is valid as written here.
RECORDS = {
    "gpus": {"name": "Acme X1", "device_class": "datacenter", "memory_bytes": 64 * 2**30, "bandwidth_gbps": 2000.0, "bf16_tflops": 500.0,
             "fp8_tflops": 1000.0, "fp4_tflops": 2000.0, "arch": "Hopper", "compute_capability": 9.0,
             "nvlink": True, "nvlink_gbps": 450.0, "pcie_gbps": 25.0, "tdp_w": 700.0, "source": "datasheet"},
    "models": {"id": "Qwen/Qwen3-8B", "source": "config.json",
               "attention": {"pattern": ["sliding", "full"], "sliding_window": 4096, "dsa_topk": 2048,
                             "mla": {"kv_lora_rank": 512, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128,
                                     "v_head_dim": 128}},
               "moe": {"num_experts": 64, "experts_per_token": 8, "expert_intermediate_size": 1024,
                       "shared_experts": 1, "first_dense_layers": 1, "layer_step": 1}},
    "formats": {"id": "q4_k_m", "source": "measured", "bits_per_weight": 4.9, "min_compute_capability": 7.0,
                "ppl_increase_pct": 2.7},
    "kv_types": {"id": "q8_0", "source": "measured", "bits": 8.5, "block_size": 32},
    "ggml_types": {"id": "q4_k", "source": "ggml", "block_size": 256, "type_size": 144},
    "runtimes": {"name": "vllm", "source": "docs", "default_port": 8000},
}
KEYS = {"gpus": "name", "runtimes": "name"}

# (section, path to a numeric field, the lowest valid value: "positive" > 0, "natural" >= 0, "signed" > -100)
FIELDS = [
    *(("gpus", (f,), "positive") for f in ("memory_bytes", "bandwidth_gbps", "bf16_tflops", "fp8_tflops",
                                           "fp4_tflops", "compute_capability", "nvlink_gbps", "pcie_gbps", "tdp_w")),
    *(("models", (f,), "positive") for f in ("n_layers", "hidden_size", "n_heads", "n_kv_heads", "head_dim",
                                             "vocab_size", "max_context", "published_total_b", "vision_params_b")),
    ("models", ("intermediate_size",), "natural"),
    ("models", ("mtp_layers",), "natural"),
    ("models", ("attention", "sliding_window"), "positive"),
    ("models", ("attention", "dsa_topk"), "positive"),
    ("models", ("attention", "mla", "kv_lora_rank"), "positive"),
    ("models", ("attention", "mla", "qk_rope_head_dim"), "natural"),
    ("models", ("moe", "num_experts"), "positive"),
    ("models", ("moe", "expert_intermediate_size"), "positive"),
    ("models", ("moe", "layer_step"), "positive"),
    ("models", ("moe", "shared_experts"), "natural"),
    ("models", ("moe", "first_dense_layers"), "natural"),
    ("formats", ("bits_per_weight",), "positive"),
    ("formats", ("min_compute_capability",), "positive"),
    ("formats", ("ppl_increase_pct",), "signed"),
    ("kv_types", ("bits",), "positive"),
    ("kv_types", ("block_size",), "positive"),
    ("ggml_types", ("block_size",), "positive"),
    ("ggml_types", ("type_size",), "positive"),
    ("runtimes", ("default_port",), "positive"),
]

# Past every bound in the schema (the largest is 16 TiB of memory, ~1.8e13).
ABSURD = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf]),
                   st.integers(min_value=10**14), st.floats(min_value=1e14, allow_infinity=False),
                   st.integers(max_value=-101), st.floats(max_value=-101, allow_infinity=False))
WRONG_TYPE = st.one_of(st.text(max_size=8), st.booleans(), st.lists(st.integers(), min_size=1, max_size=2),
                       st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2))
BELOW = {"positive": st.one_of(st.integers(max_value=0), st.floats(max_value=0, allow_infinity=False)),
         "natural": st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_infinity=False)),
         "signed": st.floats(max_value=-100.0001, allow_infinity=False)}


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    monkeypatch.delenv("LLMC_CATALOG", raising=False)
    monkeypatch.setenv("LLMC_TRACEBACK", "1")  # a crash raises here instead of printing "internal error"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "app.llmspec").write_text(SPEC)
    (root / "catalog").mkdir()
    return root


def build(work, capsys, files: dict[str, str]) -> tuple[int, str]:
    catalog = work / "catalog"
    for old in catalog.iterdir():
        old.unlink()
    for name, text in files.items():
        (catalog / name).write_text(text)
    code = main(["build", str(work / "app.llmspec"), "--catalog", str(catalog), "-o", str(work / "out")])
    out, err = capsys.readouterr()
    return code, out + err


def yaml_text(document) -> str:
    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False  # ruamel writes {':0': 0} in flow style as `{:0: 0}`, which it cannot read back
    yaml.dump(document, stream)
    return stream.getvalue()


def with_value(record: dict, path: tuple[str, ...], value) -> dict:
    head, *rest = path
    return {**record, head: with_value(record[head], tuple(rest), value) if rest else value}


def assert_rejected(code: int, output: str, diagnostic: str, *names: str) -> None:
    assert code == 2, output
    assert diagnostic in output and "Traceback" not in output and "internal error" not in output, output
    for name in names:
        assert name in output, output


HOSTILE = st.sampled_from(FIELDS).flatmap(
    lambda field: st.tuples(st.just(field), st.one_of(ABSURD, WRONG_TYPE, BELOW[field[2]])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HOSTILE)
def test_hostile_numbers_are_e302_naming_file_and_record(work, capsys, case):
    (section, path, _), value = case
    record = with_value(RECORDS[section], path, value)
    code, output = build(work, capsys, {"hostile.yaml": yaml_text({section: [record]})})
    assert_rejected(code, output, "E302", "hostile.yaml", record[KEYS.get(section, "id")])


def test_the_records_are_valid_before_a_field_is_made_hostile(tmp_path):
    (tmp_path / "valid.yaml").write_text(yaml_text({section: [record] for section, record in RECORDS.items()}))
    _, diagnostics = load_catalog([tmp_path])
    assert diagnostics == []


NAN_GPU = "gpus:\n- {name: Acme X1, memory_bytes: 68719476736, bandwidth_gbps: .nan, arch: Hopper, source: s}\n"
EDGE_CASES = {
    "nan bandwidth": (NAN_GPU, "Acme X1", "finite"),
    "zero bandwidth": ("gpus:\n- {name: RTX 4090, bandwidth_gbps: 0, source: s}\n", "RTX 4090", "greater than"),
    "vanishing bandwidth": ("gpus:\n- {name: RTX 4090, bandwidth_gbps: 1e-300, source: s}\n", "RTX 4090",
                            "greater than"),
    "infinite bandwidth": ("gpus:\n- {name: RTX 4090, bandwidth_gbps: 1e400, source: s}\n", "RTX 4090", "finite"),
    "17 TiB of memory": (f"gpus:\n- {{name: RTX 4090, memory_bytes: {17 * 2**40}, source: s}}\n", "RTX 4090",
                         "less than"),
    "10^400 bytes": (f"gpus:\n- {{name: RTX 4090, memory_bytes: {10**400}, source: s}}\n", "RTX 4090", "less than"),
    "fractional bytes": ("gpus:\n- {name: RTX 4090, memory_bytes: 1.5e10, source: s}\n", "RTX 4090", "integer"),
    "bandwidth as text": ("gpus:\n- {name: RTX 4090, bandwidth_gbps: fast, source: s}\n", "RTX 4090", "number"),
    "bandwidth as bool": ("gpus:\n- {name: RTX 4090, bandwidth_gbps: true, source: s}\n", "RTX 4090", "number"),
    "no layers": ("models:\n- {id: Qwen/Qwen3-8B, n_layers: 0, source: s}\n", "Qwen/Qwen3-8B", "greater than"),
    "10^4 + 1 layers": ("models:\n- {id: Qwen/Qwen3-8B, n_layers: 10001, source: s}\n", "Qwen/Qwen3-8B", "less than"),
    "empty attention pattern": ("models:\n- {id: Qwen/Qwen3-8B, attention: {pattern: []}, source: s}\n",
                                "Qwen/Qwen3-8B", "at least 1"),
    "more experts per token than experts": (
        "models:\n- {id: Qwen/Qwen3-8B, moe: {num_experts: 4, experts_per_token: 8, expert_intermediate_size: 64},"
        " source: s}\n", "Qwen/Qwen3-8B", "exceeds num_experts"),
    "zero-weight ggml blocks": ("ggml_types:\n- {id: q4_k, block_size: 0, source: s}\n", "q4_k", "greater than"),
    "zero-bit KV": ("kv_types:\n- {id: q8_0, bits: 0, source: s}\n", "q8_0", "greater than"),
    "port 0": ("runtimes:\n- {name: vllm, default_port: 0, source: s}\n", "vllm", "greater than"),
    "nan quality score": ("serving:\n  Qwen/Qwen3-8B: {quality: {scores: {chat: .nan}, source: s}}\n",
                          "Qwen/Qwen3-8B", "finite"),
    "negative checkpoint size": (
        "variants:\n  Qwen/Qwen3-8B:\n  - {format: q4_k_m, repo: a/b, size_bytes: -1, source: s}\n",
        "Qwen/Qwen3-8B", "greater than"),
    "shell syntax in a repo": ("variants:\n  Qwen/Qwen3-8B:\n  - {format: q4_k_m, repo: 'org/$(pwned)', "
                               "file: x.gguf, source: s}\n", "Qwen/Qwen3-8B", "repo id"),
    "a file outside the repo": ("variants:\n  Qwen/Qwen3-8B:\n  - {format: q4_k_m, repo: org/name, "
                                "file: ../../etc/x.gguf, source: s}\n", "Qwen/Qwen3-8B", "inside a repo"),
    "a newline in a file": ("variants:\n  Qwen/Qwen3-8B:\n  - {format: q4_k_m, repo: org/name, "
                            "file: \"a.gguf\\nrm -rf x\", source: s}\n", "Qwen/Qwen3-8B", "inside a repo"),
    "a revision with a backtick": ("variants:\n  Qwen/Qwen3-8B:\n  - {format: q4_k_m, repo: org/name, "
                                   "file: a.gguf, revision: 'main`pwned`', source: s}\n", "Qwen/Qwen3-8B",
                                   "branch, tag or commit"),
    "self-referential alias": ("gpus:\n- &g {name: Acme X1, aliases: [*g], memory_bytes: 1, bandwidth_gbps: 1, "
                               "arch: a, source: s}\n", "Acme X1", "aliases"),
}


@pytest.mark.parametrize("text, record, reason", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_are_e302(work, capsys, text, record, reason):
    code, output = build(work, capsys, {"edge.yaml": text})
    assert_rejected(code, output, "E302", "edge.yaml", record, reason)


# 9^9 strings once the aliases are expanded; validation must not walk them.
LAUGHS = ("laughs:\n- &l0 lol\n" + "".join(f"- &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
          + "gpus:\n- {name: Acme X1, aliases: *l9, notes: *l9, memory_bytes: *l9, bandwidth_gbps: *l9, arch: *l9, "
            "source: *l9}\n")
UNREADABLE = {
    "10^5 nested [": "gpus: " + "[" * 10**5,
    "10^5 nested {": "gpus: " + "{a: " * 10**5,
    "deep block nesting": "gpus:\n" + "".join(" " * i + "- \n" for i in range(1, 2000)),
    "empty !!float": "gpus:\n- {name: X, bandwidth_gbps: !!float '', source: s}\n",
    "bad !!int": "gpus:\n- {name: X, memory_bytes: !!int x, source: s}\n",
    "month 13": "gpus:\n- {name: X, notes: 2024-13-45, source: s}\n",
    "python tag": "gpus: !!python/object:os.system {}\n",
    "NUL byte": "gpus: [\x00]\n",
    "not a mapping": "- just\n- a list\n",
    "billion laughs": LAUGHS,
}


@pytest.mark.parametrize("text", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_yaml_is_e303_or_e302(work, capsys, text):
    code, output = build(work, capsys, {"broken.yaml": text})
    assert code == 2 and "Traceback" not in output and "internal error" not in output, output
    assert ("E303" in output or "E302" in output) and "broken.yaml" in output, output


def test_a_file_past_the_size_cap_is_e303(work, capsys):
    code, output = build(work, capsys, {"huge.yaml": "#" * (MAX_FILE_BYTES + 1)})
    assert_rejected(code, output, "E303", "huge.yaml", "MiB")


def test_a_lone_surrogate_is_e303_and_the_listing_still_prints(work, capsys):
    """A "\\uD800" escape is no text: once in a GPU name, printing `llmc gpus` failed."""
    code, output = build(work, capsys, {"surrogate.yaml": 'gpus:\n- {name: "X\\uD800", memory_bytes: 1073741824, '
                                                         'bandwidth_gbps: 100, arch: a, source: s}\n'})
    assert_rejected(code, output, "E303", "surrogate.yaml")
    code = main(["gpus", "--catalog", str(work / "catalog")])
    out, err = capsys.readouterr()
    assert code == 0 and "RTX 4090" in out and "E303" in err and "surrogate.yaml" in err, err


# ---------------------------------------------------------------- non-finite estimates

def test_a_nan_tpot_is_never_feasible():
    d = deployment(SPEC)
    nan = Estimate(value=math.nan, low=math.nan, high=math.nan)
    fine = Estimate(value=1.0, low=0.5, high=1.5)
    speed = SpeedEstimate(ttft_s=fine, tpot_s=nan, throughput_tok_s=fine, prefill_tok_s=1.0, decode_tok_s=math.nan,
                          bound="memory bandwidth", sources=())
    ctx = Context(deployment=d, topology=None, host_ram_bytes=0, host_ram_given=False)
    violation = speed_violation(ctx, speed)
    assert violation is not None and violation.constraint == "estimate" and "tpot" in violation.detail


def test_a_nan_bandwidth_that_skipped_validation_makes_no_plan():
    """`tpot <= 80ms` compares false both ways with NaN: the solver must reject, not pass, the candidate."""
    catalog, _ = load_catalog()
    gpu = catalog.gpus["RTX 4090"].model_copy(update={"bandwidth_gbps": math.nan})  # model_copy does not validate
    broken = dataclasses.replace(catalog, gpus={**catalog.gpus, "RTX 4090": gpu})
    pinned = spec_text('    gpu = 1 x "RTX 4090"', body='  model = "Qwen/Qwen3-8B"\n  latency {\n    tpot <= 80ms\n  }')
    plan, diagnostics = solve(deployment(pinned), broken)
    assert plan is None and [d.code for d in diagnostics] == ["E410"]
    assert "non-finite" in diagnostics[0].detail


def test_plan_json_refuses_non_finite_numbers():
    plan = plans.ALL[sorted(plans.ALL)[0]]()
    assert "NaN" not in plan.to_json() and "Infinity" not in plan.to_json()
    broken = plan.model_copy(update={"score": math.inf})
    with pytest.raises(ValueError):
        broken.to_json()
