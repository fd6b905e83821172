"""User catalogs (--catalog DIR, LLMC_CATALOG): merged over the built-in data; broken records are diagnostics."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmc.catalog import load_catalog

FINE_TUNE = """
models:
- id: acme/support-bot-8b
  name: support-bot-8b
  family: llama
  architecture: llama
  n_layers: 32
  hidden_size: 4096
  n_heads: 32
  n_kv_heads: 8
  head_dim: 128
  vocab_size: 128256
  intermediate_size: 14336
  max_context: 131072
  license: {id: llama3.1, commercial: true, permissive: false}
  source: "our own fine-tune of meta-llama/Llama-3.1-8B-Instruct (config.json in the training repo)"
gpus:
- name: Acme Accelerator X1
  aliases: [x1, acme-x1]
  device_class: datacenter
  memory_bytes: 68719476736
  bandwidth_gbps: 2000
  arch: Hopper
  compute_capability: 9.0
  source: "vendor datasheet rev 3"
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def no_env_catalog(monkeypatch):
    monkeypatch.delenv("LLMC_CATALOG", raising=False)


def test_user_catalog_adds_a_fine_tune_and_an_unlisted_gpu(tmp_path):
    write(tmp_path / "cat", "private.yaml", FINE_TUNE)
    catalog, diagnostics = load_catalog([tmp_path / "cat"])
    assert diagnostics == []
    assert catalog.models["acme/support-bot-8b"].n_kv_heads == 8
    assert catalog.find_gpu("ACME-X1").name == "Acme Accelerator X1"
    builtin, _ = load_catalog()
    assert "acme/support-bot-8b" not in builtin.models and len(catalog.models) == len(builtin.models) + 1


def test_user_record_overrides_the_fields_it_names(tmp_path):
    write(tmp_path, "override.yaml", """
gpus:
- name: RTX 4090
  bandwidth_gbps: 900
  source: "measured on our card with nvbandwidth"
""")
    catalog, diagnostics = load_catalog([tmp_path])
    assert diagnostics == []
    gpu = catalog.find_gpu("4090")
    assert gpu.bandwidth_gbps == 900 and gpu.memory_bytes == 24 * 2**30
    assert gpu.source == ("measured on our card with nvbandwidth",)


def test_llmc_catalog_environment_variable(tmp_path, monkeypatch):
    write(tmp_path / "a", "a.yaml", FINE_TUNE)
    write(tmp_path / "b", "b.yml", "gpus:\n- {name: RTX 4090, bandwidth_gbps: 950, source: 'bench b'}\n")
    monkeypatch.setenv("LLMC_CATALOG", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    catalog, diagnostics = load_catalog()
    assert diagnostics == []
    assert "acme/support-bot-8b" in catalog.models
    assert catalog.find_gpu("RTX 4090").bandwidth_gbps == 950


def test_broken_record_is_a_diagnostic_naming_file_and_record(tmp_path):
    path = write(tmp_path, "broken.yaml", FINE_TUNE.replace("  n_heads: 32\n", "  n_heads: many\n")
                 .replace('  source: "vendor datasheet rev 3"\n', ""))
    catalog, diagnostics = load_catalog([tmp_path])
    by_record = {d.extra["record"]: d for d in diagnostics}
    assert set(by_record) == {"acme/support-bot-8b", "Acme Accelerator X1"}
    model_diag = by_record["acme/support-bot-8b"]
    assert model_diag.code == "E302" and str(path) in model_diag.summary and "acme/support-bot-8b" in model_diag.summary
    assert "n_heads" in model_diag.detail
    assert "source" in by_record["Acme Accelerator X1"].detail
    assert "acme/support-bot-8b" not in catalog.models and len(catalog.models) >= 38


def test_record_without_a_key_and_unknown_section(tmp_path):
    write(tmp_path, "odd.yaml", "gpus:\n- {memory_bytes: 1, source: x}\nwidgets:\n- {id: a}\n")
    _, diagnostics = load_catalog([tmp_path])
    summaries = sorted(d.summary for d in diagnostics)
    assert all(d.code == "E302" for d in diagnostics)
    assert any("gpus[0]" in s and "no 'name'" in s for s in summaries)
    assert any("unknown catalog section 'widgets'" in s for s in summaries)


def test_yaml_syntax_error_and_missing_directory(tmp_path):
    write(tmp_path, "bad.yaml", "models: [\n  - id: x\n")
    _, diagnostics = load_catalog([tmp_path, tmp_path / "missing"])
    codes = [d.code for d in diagnostics]
    assert codes == ["E303", "E303"]
    assert "bad.yaml" in diagnostics[0].summary and "missing" in diagnostics[1].summary


def test_serving_data_for_an_unknown_model_is_a_diagnostic(tmp_path):
    write(tmp_path, "serving.yaml", "serving:\n  Qwen/Qwen3-8b-typo: {chat_template: qwen3}\n")
    _, diagnostics = load_catalog([tmp_path])
    assert [d.code for d in diagnostics] == ["E304"]
    assert "Qwen/Qwen3-8B" in diagnostics[0].help


def test_user_variants_merge_into_the_model(tmp_path):
    write(tmp_path, "variants.yaml", """
variants:
  acme/support-bot-8b:
  - {format: q4_k_m, repo: acme/support-bot-8b-GGUF, file: support-bot-8b-Q4_K_M.gguf, source: "our registry", verified: true}
""")
    write(tmp_path, "models.yaml", FINE_TUNE)
    catalog, diagnostics = load_catalog([tmp_path])
    assert diagnostics == []
    assert [v.format for v in catalog.models["acme/support-bot-8b"].variants] == ["q4_k_m"]


def test_user_variants_of_a_builtin_model_join_its_own(tmp_path):
    builtin, _ = load_catalog()
    before = [(v.repo, v.file) for v in builtin.models["Qwen/Qwen3-8B"].variants]
    q4 = next(v for v in builtin.models["Qwen/Qwen3-8B"].variants if v.format == "q4_k_m")
    write(tmp_path, "variants.yaml", f"""
variants:
  Qwen/Qwen3-8B:
  - {{format: q3_k_m, repo: acme/Qwen3-8B-GGUF, file: Qwen3-8B-Q3_K_M.gguf, source: "our mirror"}}
  - {{format: q4_k_m, repo: {q4.repo}, file: {q4.file}, size_bytes: 5000000000, source: "our mirror, re-measured"}}
""")
    catalog, diagnostics = load_catalog([tmp_path])
    assert diagnostics == []
    after = catalog.models["Qwen/Qwen3-8B"].variants
    assert [(v.repo, v.file) for v in after] == [k for k in before if k != (q4.repo, q4.file)] + [
        ("acme/Qwen3-8B-GGUF", "Qwen3-8B-Q3_K_M.gguf"), (q4.repo, q4.file)]
    assert after[-1].size_bytes == 5000000000


def test_builtin_load_is_cached_and_fast():
    import time

    load_catalog()
    start = time.perf_counter()
    first, _ = load_catalog()
    second, _ = load_catalog()
    assert first is second
    assert time.perf_counter() - start < 0.01
