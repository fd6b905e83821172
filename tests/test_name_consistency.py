"""Every id a command prints is accepted by the language, and the language's closed sets are the catalog's:
what `llmc models`, `llmc gpus` and `llmc formats` show can be pasted into a spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmc.catalog import format_ids, kv_type_ids, load_catalog
from llmc.catalog.schema import LICENSE_IDS
from llmc.cli import main
from llmc.driver import load_source
from llmc.runtimes import names as runtime_names
from llmc.solve.resolve import resolve
from llmc.source import SourceFile

CATALOG, _ = load_catalog()


def printed(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def lowered(body: str, hardware: str = '    gpu = 1 x "RTX 4090"'):
    text = f'deployment "n" {{\n{body}\n  hardware {{\n{hardware}\n  }}\n}}\n'
    spec, diagnostics, _ = load_source(SourceFile(path="n.llmspec", text=text))
    return spec, [d for d in diagnostics if d.is_error]


@pytest.fixture(autouse=True)
def no_env_catalog(monkeypatch):
    monkeypatch.delenv("LLMC_CATALOG", raising=False)


def test_every_model_id_and_license_llmc_models_prints_is_accepted(capsys):
    for model in printed(capsys, "models"):
        spec, errors = lowered(f'  model = "{model["id"]}"\n  license = [{model["license"]["id"]}]')
        assert not errors, (model["id"], [e.summary for e in errors])
        _, diagnostics = resolve(spec.deployments[0], CATALOG, base_dir=Path("."))
        assert not [d for d in diagnostics if d.code == "E401"], model["id"]


def test_every_gpu_name_and_alias_llmc_gpus_prints_is_accepted(capsys):
    for gpu in printed(capsys, "gpus"):
        if gpu["kind"] != "gpu":
            continue
        for name in (gpu["name"], *gpu["aliases"]):
            spec, errors = lowered("", f'    gpu = 1 x "{name}"')
            assert not errors
            _, diagnostics = resolve(spec.deployments[0], CATALOG, base_dir=Path("."))
            assert not [d for d in diagnostics if d.code == "E301"], name


def test_every_format_kv_type_and_runtime_llmc_formats_prints_is_accepted(capsys):
    data = printed(capsys, "formats")
    for fmt in data["formats"]:
        assert not lowered(f"  quantization = {fmt['id']}")[1], fmt["id"]
        assert not lowered(f"  quantization = {fmt['id'].upper()}")[1], fmt["id"]   # as GGUF file names write it
        for runtime in fmt["runtimes"]:
            assert not lowered(f"  runtime = {runtime}")[1], runtime
    for kv in data["kv_types"]:
        assert not lowered(f"  kv_cache = {kv['id']}")[1], kv["id"]


def test_the_language_closed_sets_are_the_catalogs():
    assert set(format_ids()) == set(CATALOG.formats)
    assert set(kv_type_ids()) == set(CATALOG.kv_types)
    assert set(runtime_names()) == set(CATALOG.runtimes)
    assert {m.license.id for m in CATALOG.models.values()} <= set(LICENSE_IDS)
    for license_id in LICENSE_IDS:
        assert not lowered(f"  license = [{license_id}]")[1], license_id
