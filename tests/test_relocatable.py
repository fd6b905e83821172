"""A spec that loads a local model by a relative path builds the same bytes from any checkout, and the
built scripts find the model from wherever the checkout is."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import stubs

REPO = Path(__file__).resolve().parents[1]
LLMC = str(Path(sys.executable).with_name("llmc"))
SPEC = "examples/cpu-local-gguf.llmspec"


def checkout(root: Path) -> Path:
    (root / "examples").mkdir(parents=True)
    shutil.copy(REPO / SPEC, root / SPEC)
    shutil.copytree(REPO / "examples" / "models", root / "examples" / "models")
    return root


def llmc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LLMC, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_two_checkouts_build_the_same_bytes_and_see_no_drift(tmp_path):
    a, b = checkout(tmp_path / "a"), checkout(tmp_path / "deeper" / "b")
    for root in (a, b):
        assert llmc("build", SPEC, "-o", "build", cwd=root).returncode == 0
    assert files(a / "build") == files(b / "build")
    plan = json.loads((a / "build" / "edge-assistant" / "plan.json").read_text())
    assert plan["model"]["path"] == "models/tiny-llama.gguf" and plan["spec_dir"] == "../../examples"
    shutil.rmtree(b / "build")
    shutil.copytree(a / "build", b / "build")  # a build committed in one checkout, checked in another
    result = llmc("check", SPEC, "--against", "build", cwd=b)
    assert result.returncode == 0, result.stderr


def test_the_script_finds_the_model_from_anywhere(tmp_path):
    root = checkout(tmp_path / "repo")
    assert llmc("build", SPEC, "-o", "build", cwd=root).returncode == 0
    env = stubs.install(tmp_path / "bin")
    script = root / "build" / "edge-assistant" / "llama.cpp" / "llama-server.sh"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert stubs.run(["bash", str(script)], env, elsewhere).returncode == 0
    [call] = stubs.calls(env)
    model = Path(call["argv"][call["argv"].index("-m") + 1])
    assert model.resolve() == (root / "examples" / "models" / "tiny-llama.gguf").resolve()


def test_a_container_sees_the_local_model_through_a_read_only_bind_mount(tmp_path):
    """vLLM in Compose serves a local folder: bound read-only from the spec's checkout, relative to the build."""
    from llmc.targets import emit_all

    from tests.support import plans
    from tests.support.tools import compose_binary

    plan = plans.vllm_tp2_speculative()
    plan = plan.model_copy(update={"model": plan.model.model_copy(update={"source": "local", "path": "models/qwen"}),
                                   "spec_dir": "../../specs", "emit": ("compose",)})
    build = tmp_path / "build" / plan.deployment
    (tmp_path / "specs" / "models" / "qwen").mkdir(parents=True)
    for a in emit_all(plan)[0]:
        (build / a.path).parent.mkdir(parents=True, exist_ok=True)
        (build / a.path).write_text(a.content)
    config = subprocess.run([str(compose_binary()), "-f", str(build / "compose.yaml"), "config", "--format", "json"],
                            capture_output=True, text=True, env={"QWEN_API_KEY": "k", "PATH": "/usr/bin:/bin"})
    assert config.returncode == 0, config.stderr
    service = json.loads(config.stdout)["services"]["vllm"]
    [bind] = [v for v in service["volumes"] if v["type"] == "bind"]
    assert Path(bind["source"]) == tmp_path / "specs" / "models" / "qwen" and bind["read_only"]
    assert bind["target"] == "/models/qwen" and "/models/qwen" in service["command"]
