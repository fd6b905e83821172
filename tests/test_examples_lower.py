"""Golden tests: every example parses, lowers and passes the checks; its Spec equals the checked-in JSON.

`pytest --update-golden` rewrites tests/golden/spec/<name>.json; review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from llmc import cli
from llmc.driver import exit_code, load_one, load_source
from llmc.format import format_source
from llmc.source import SourceFile
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.llmspec"))
GOLDEN = REPO / "tests" / "golden" / "spec"


def test_there_are_enough_examples():
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_lowers_to_golden_spec(example, update_golden, monkeypatch):
    monkeypatch.chdir(REPO)
    result = load_one(f"examples/{example.name}")
    assert result.diagnostics == [] and exit_code(result.diagnostics) == 0
    spec = result.spec
    text = json.dumps(spec.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    golden = GOLDEN / f"{example.stem}.json"
    if update_golden:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_starts_with_a_header_comment(example):
    first = example.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(f"# {example.name}: ")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_canonically_formatted(example):
    source = SourceFile(path=str(example), text=example.read_text(encoding="utf-8"))
    assert format_source(source)[0] == source.text


def test_examples_name_only_catalog_gpus():
    records = YAML(typ="safe").load(REPO / "compiler" / "catalog" / "data" / "gpus.yaml")
    known = {record["name"] for record in records["gpus"]}
    assert "RTX 4090" in known
    for example in EXAMPLES:
        spec = load_one(str(example)).spec
        for deployment in spec.deployments:
            for group in deployment.hardware.gpu or ():
                assert group.name in known, f"{example.name}: {group.name}"


def test_check_accepts_all_examples_at_once(capsys):
    assert cli.main(["check", *map(str, EXAMPLES)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().err


def test_the_examples_cover_the_language():
    specs = [load_one(str(e)).spec for e in EXAMPLES]
    deployments = [d for s in specs for d in s.deployments]
    assert any(len(s.deployments) > 1 for s in specs)
    assert any(d.hardware.gpu is None for d in deployments)
    assert any(d.model.kind == "local" for d in deployments)
    assert any(d.model.kind == "any" for d in deployments)
    assert any(d.nodes > 1 for d in deployments)
    assert any(d.hardware.p2p is not None and not d.hardware.p2p.value for d in deployments)
    assert {"compose", "kubernetes"} <= {e for d in deployments for e in d.emits}
    assert any(d.context and d.context.value == 128 * 1024 for d in deployments)
    assert any(d.license.kind == "list" and [i.value for i in d.license.ids] == ["apache-2.0"] for d in deployments)


def test_build_writes_each_deployment_and_explain_prints_the_plan(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["build", str(REPO / "examples" / "staging-and-prod.llmspec"), "-o", "out"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["support-prod", "support-staging"]
    assert (tmp_path / "out" / "support-prod" / "plan.json").is_file()
    capsys.readouterr()
    assert cli.main(["explain", str(REPO / "examples" / "chat-16gb.llmspec")]) == 0
    out = capsys.readouterr().out
    assert 'deployment "home-chat" will be built' in out and "Binding constraint:" in out


def test_build_of_a_malformed_spec_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.llmspec"
    bad.write_text('deployment "a" {\n  context = 24 GB\n  hardware {\n    gpu = none\n  }\n}\n')
    assert cli.main(["build", str(bad), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "E205" in err
    assert not (tmp_path / "out").exists()


def _hcl_blocks(path: Path) -> list[str]:
    return re.findall(r"```hcl\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_the_specs_in_the_docs_are_valid_and_canonical():
    blocks = _hcl_blocks(REPO / "README.md") + _hcl_blocks(REPO / "docs" / "language.md")
    assert len(blocks) >= 2
    for text in blocks:
        source = SourceFile(path="doc.llmspec", text=text)
        spec, diagnostics, _ = load_source(source)
        assert spec is not None and diagnostics == [], diagnostics
        assert format_source(source)[0] == text



def test_the_example_model_is_what_the_script_generates(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_example_model", REPO / "scripts" / "make-example-model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.main(tmp_path / "tiny-llama.gguf")
    assert fresh.read_bytes() == (REPO / "examples" / "models" / "tiny-llama.gguf").read_bytes()
