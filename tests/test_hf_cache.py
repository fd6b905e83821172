"""`model = "org/name"` for a model in the user's Hugging Face cache: read offline from its snapshot (the
hub library's layout, built here on disk: blobs, symlinked snapshot files, refs/main), pinned to the exact
commit in the plan, its license taken from the cached model card."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from llmc.catalog.hf_cache import import_cached, snapshot
from llmc.driver import compile_file
from tests.support.tools import gemma_gguf

from .test_local_import import write_safetensors

CONFIGS = Path(__file__).parent / "data" / "hf_configs"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def cache_repo(cache: Path, repo: str, files: dict[str, Path | bytes], commit: str = COMMIT,
               ref: bool = True) -> Path:
    """What `hf download` leaves: each file a blob named by its hash, the snapshot a tree of symlinks."""
    root = cache / ("models--" + repo.replace("/", "--"))
    snap = root / "snapshots" / commit
    for name, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        if not blob.exists():
            if isinstance(content, Path):
                shutil.copy(content, blob)
            else:
                blob.write_bytes(data)
        link = snap / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(blob)
    if ref:
        (root / "refs").mkdir(parents=True, exist_ok=True)
        (root / "refs" / "main").write_text(commit)
    return snap


def spec(tmp_path: Path, model: str, body: str = "", gpu: str = '1 x "RTX 4090"') -> str:
    path = tmp_path / "s.llmspec"
    path.write_text(f'deployment "c" {{\n  model = "{model}"\n{body}  hardware {{\n    gpu = {gpu}\n  }}\n}}\n')
    return str(path)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return root


def test_a_cached_gguf_repo_is_planned_from_its_file_at_the_cached_commit(tmp_path, cache):
    card = b"---\nlicense: gemma\nbase_model: google/gemma-3-270m-it\n---\n# gemma\n"
    cache_repo(cache, "acme/gemma-3-270m-it-GGUF", {"gemma-3-270m-it-Q4_K_M.gguf": gemma_gguf(), "README.md": card})
    result = compile_file(spec(tmp_path, "acme/gemma-3-270m-it-GGUF", gpu="none\n    memory = 4 GiB"))
    assert not [d for d in result.diagnostics if d.is_error], [d.summary for d in result.diagnostics]
    plan = result.deployments[0].plan
    assert (plan.model.repo, plan.model.file, plan.model.revision) == (
        "acme/gemma-3-270m-it-GGUF", "gemma-3-270m-it-Q4_K_M.gguf", COMMIT)
    assert plan.model.source == "gguf" and plan.model.format == "q4_k_m" and plan.model.license == "gemma"
    weights = next(p for d in plan.memory.devices for p in d.parts if p.name == "weights" and p.bytes)
    assert "GGUF header" in weights.source          # exact, from the cached file's tensor table
    script = next(a.content for a in result.deployments[0].artifacts if a.path.endswith("llama-server.sh"))
    assert f"/resolve/{COMMIT}/gemma-3-270m-it-Q4_K_M.gguf" in script


def test_a_cached_safetensors_repo_is_read_exactly_and_pinned(tmp_path, cache):
    folder = tmp_path / "st"
    folder.mkdir()
    a = write_safetensors(folder / "model.safetensors", {"model.embed_tokens.weight": ("BF16", (151936, 4096), 2),
                                                         "model.layers.0.self_attn.q_proj.weight": ("BF16", (4096, 4096), 2)})
    cache_repo(cache, "acme/Qwen3-8B-mirror", {"config.json": CONFIGS / "Qwen--Qwen3-8B.json",
                                                "model.safetensors": folder / "model.safetensors",
                                                "README.md": b"---\nlicense: apache-2.0\n---\n"})
    local = import_cached("acme/Qwen3-8B-mirror")
    assert local.weight_bytes == a and local.model.license.id == "apache-2.0" and local.model.license.verified
    [variant] = local.model.variants
    assert (variant.repo, variant.revision, variant.file, variant.format) == ("acme/Qwen3-8B-mirror", COMMIT, None, "bf16")
    result = compile_file(spec(tmp_path, "acme/Qwen3-8B-mirror", body="  runtime = vllm\n"))
    plan = result.deployments[0].plan
    assert plan.model.revision == COMMIT and plan.model.repo == "acme/Qwen3-8B-mirror"
    vllm = next(a.content for a in result.deployments[0].artifacts if a.path.endswith(".sh"))
    assert f"--revision {COMMIT}" in vllm


def test_the_license_of_a_cached_model_is_enforced(tmp_path, cache):
    cache_repo(cache, "acme/tiny-GGUF", {"tiny.gguf": gemma_gguf(), "README.md": b"---\nlicense: gemma\n---\n"})
    result = compile_file(spec(tmp_path, "acme/tiny-GGUF", body="  license = [apache-2.0]\n"))
    assert [d.code for d in result.diagnostics if d.is_error] == ["E402"]


def test_a_snapshot_is_found_by_refs_main_or_as_the_only_one(tmp_path):
    cache = tmp_path / "hub"
    cache_repo(cache, "a/b", {"x.gguf": b"x"}, ref=False)
    assert snapshot("a/b", cache) == (cache / "models--a--b" / "snapshots" / COMMIT, COMMIT)
    cache_repo(cache, "a/b", {"x.gguf": b"y"}, commit="f" * 40, ref=False)
    assert snapshot("a/b", cache) is None                    # two snapshots and no ref: ambiguous
    assert snapshot("not a repo id", cache) is None and snapshot("c/d", cache) is None


def test_a_model_neither_in_the_catalog_nor_in_the_cache_says_where_it_looked(tmp_path, cache):
    result = compile_file(spec(tmp_path, "acme/never-downloaded"))
    [error] = [d for d in result.diagnostics if d.is_error]
    assert error.code == "E401" and "Hugging Face" in error.detail
