"""Golden files for every hand-built plan and every example × target, and byte-identical rebuilds.

Run `pytest tests/test_targets_golden.py --update-golden` after an intended change, and review the diff.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from llmc import targets
from llmc.artifacts import Artifact, write_atomically
from llmc.targets import plan_artifacts
from tests.support import plans
from tests.support.example_plans import EXAMPLES, example_plans
from tests.support.tools import REPO

GOLDEN = REPO / "tests" / "golden" / "targets"


def rendered(plan, strict: bool = False, with_plan: bool = False) -> dict[str, str]:
    """Every emitted file plus a diagnostics listing (what the targets could not express);
    `with_plan` adds plan.json and PLAN.md, as `llmc build` writes them."""
    artifacts, diagnostics = targets.emit_all(plan, strict=strict)
    if with_plan:
        artifacts = plan_artifacts(plan) + artifacts
    # A local() model's path is resolved to an absolute one by the solver: keep goldens checkout-independent.
    files = {a.path: a.content.replace(str(REPO), "$REPO") for a in artifacts}
    files["diagnostics.txt"] = "".join(f"{d.severity.value} {d.code}: {d.summary}\n" for d in diagnostics)
    return files


def compare(files: dict[str, str], directory: Path, update: bool) -> None:
    if update:
        if directory.exists():
            for old in sorted(directory.rglob("*"), reverse=True):
                old.unlink() if old.is_file() else old.rmdir()
        for path, content in files.items():
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / path).write_text(content)
        return
    assert directory.is_dir(), f"no golden files in {directory}; run with --update-golden"
    expected = {p.relative_to(directory).as_posix(): p.read_text() for p in directory.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(expected)
    for path in files:
        assert files[path] == expected[path], f"{directory.name}/{path} differs from its golden file"


@pytest.mark.parametrize("name", sorted(plans.ALL))
def test_hand_built_plans_match_golden(name, update_golden):
    compare(rendered(plans.ALL[name]()), GOLDEN / "plans" / name, update_golden)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_match_golden(example, update_golden):
    unsolved = []
    for name, plan in example_plans(example):
        if plan is None:
            unsolved.append(name)
            continue
        compare(rendered(plan, with_plan=True), GOLDEN / "examples" / example.stem / name, update_golden)
    listing = GOLDEN / "examples" / example.stem / "unsolved.txt"
    text = "".join(f"{n}\n" for n in unsolved)
    if update_golden:
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.write_text(text)
    else:
        assert listing.read_text() == text


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(directory).as_posix(): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", sorted(plans.ALL))
def test_rebuild_is_byte_identical(name, tmp_path):
    plan = plans.ALL[name]()
    first, _ = targets.emit_all(plan)
    write_atomically(tmp_path / "a", first)
    again, _ = targets.emit_all(plans.ALL[name]())
    write_atomically(tmp_path / "a", again)  # over the previous build
    write_atomically(tmp_path / "b", again)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert [a.path for a in first] == sorted(a.path for a in first)


@pytest.mark.parametrize("name", sorted(plans.ALL))
def test_scripts_are_executable_strict_and_overridable(name):
    artifacts, _ = targets.emit_all(plans.ALL[name]())
    scripts = [a for a in artifacts if a.path.endswith(".sh")]
    assert scripts
    for script in scripts:
        assert script.executable and script.content.startswith("#!/usr/bin/env bash\n")
        assert "set -euo pipefail" in script.content
        assert any(v in script.content for v in ("${LLAMA_SERVER:-llama-server}", "${VLLM:-vllm}",
                                                 "${OLLAMA:-ollama}", "${PYTHON:-python3}"))
    for other in artifacts:
        if not other.path.endswith(".sh"):
            assert not other.executable


def test_registry_picks_the_runtime_then_packaging():
    names = [t.name for t in targets.for_plan(plans.vllm_tp2_speculative())]
    assert names == ["vllm", "compose", "kubernetes"]
    assert [t.name for t in targets.for_plan(plans.llamacpp_gemma_cpu())] == ["llama.cpp"]


def test_unknown_packaging_is_an_error_not_a_traceback():
    plan = plans.llamacpp_gemma_cpu().model_copy(update={"emit": ("helm",)})
    artifacts, diagnostics = targets.emit_all(plan)
    assert artifacts == [] and [d.code for d in diagnostics] == ["E501"] and diagnostics[0].is_error


def test_readme_tells_how_to_start_and_smoke_test():
    readme = rendered(plans.vllm_tp2_speculative())["README.md"]
    assert "vllm/serve.sh" in readme and "/health" in readme and "/v1/chat/completions" in readme
    assert "Authorization: Bearer $QWEN_API_KEY" in readme
    assert "| gpu0 (H100) | 31.00 | 36.00 |" in readme


def test_no_secret_value_or_latest_tag_anywhere():
    for name, build in plans.ALL.items():
        for path, content in rendered(build()).items():
            assert ":latest" not in content, (name, path)


def test_artifact_modes_survive_the_atomic_write(tmp_path):
    write_atomically(tmp_path / "x", [Artifact(path="a.sh", content="#!/bin/sh\n", mode=0o755)])
    assert os.access(tmp_path / "x" / "a.sh", os.X_OK)


DOCS = REPO / "docs" / "targets"


@pytest.mark.parametrize("target", [*targets.RUNTIME_TARGETS.values(), *targets.PACKAGING.values()],
                         ids=lambda t: t.name)
def test_every_target_has_a_docs_page_with_a_capability_table_and_an_example(target):
    text = (DOCS / f"{target.name}.md").read_text()
    assert "| capability |" in text and "## Example" in text


def test_sglang_key_that_packaging_cannot_carry_is_reported():
    plan = plans.sglang_qwen()
    plan = plan.model_copy(update={"serving": plan.serving.model_copy(update={"api_key_env": "SG_KEY"}),
                                   "emit": ("compose", "kubernetes")})
    files = rendered(plan)
    assert '--config "$KEY_DIR/api-key.yaml"' in files["sglang/launch.sh"]
    assert "--api-key" not in files["sglang/launch.sh"]
    assert "compose: the sglang container gets no API key" in files["diagnostics.txt"]
    assert "kubernetes: the sglang pod gets no API key" in files["diagnostics.txt"]


@pytest.mark.parametrize("name", sorted(plans.ALL))
def test_scripts_are_valid_bash(name, tmp_path):
    import subprocess

    for artifact in targets.emit_all(plans.ALL[name]())[0]:
        if artifact.path.endswith(".sh"):
            path = tmp_path / artifact.path.replace("/", "_")
            path.write_text(artifact.content)
            result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
            assert result.returncode == 0, (artifact.path, result.stderr)


def test_a_target_crash_is_a_diagnostic_not_a_traceback(monkeypatch):
    from llmc.targets import ollama

    monkeypatch.setattr(ollama, "check", lambda text: ["unknown parameter 'numa'"])
    artifacts, diagnostics = targets.emit_all(plans.ollama_gemma())
    assert artifacts == [] and [d.code for d in diagnostics] == ["E502"]


BUILDABLE = [e for e in EXAMPLES if all(plan is not None for _, plan in example_plans(e))]


@pytest.mark.parametrize("example", BUILDABLE, ids=lambda p: p.stem)
def test_llmc_build_of_each_example_is_byte_identical_when_repeated(example, tmp_path):
    from llmc import driver

    first = driver.build(str(example), str(tmp_path / "a"))
    assert not [d for d in first.diagnostics if d.is_error]
    driver.build(str(example), str(tmp_path / "a"))  # again, over the previous output
    driver.build(str(example), str(tmp_path / "b"))
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    for compiled in first.deployments:
        built = {p.name for p in (tmp_path / "a" / compiled.deployment.name).iterdir()}
        assert {"plan.json", "PLAN.md", "README.md"} <= built


def test_plans_cite_sources_a_reader_can_follow():
    """PLAN.md's speed sources are references (a URL, a repository, a runtime's source file), never the
    catalog's notes of where a figure was found (they stay in the record)."""
    import re

    from llmc.catalog.schema import FOLLOWABLE

    internal = re.compile(r"code corpus|find_string|read_file id|(?<!gh-)\bpages [\w-]+\.")
    for plan_md in sorted(GOLDEN.rglob("PLAN.md")):
        text = plan_md.read_text()
        assert not internal.search(text), (plan_md, internal.search(text).group(0))
        sources = next(line for line in text.splitlines() if line.startswith("Sources: "))
        assert FOLLOWABLE.search(sources.split("; ")[0].removeprefix("Sources: ")), (plan_md, sources[:120])
