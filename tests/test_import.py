"""`llmc import`: hand-written configs → a spec with every choice pinned.

The round trip is the ground truth: every example, compiled, emitted for every target (its runtime's
native artifact, compose and Kubernetes), and imported again gives a spec whose plan makes the same choices.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from llmc.driver import compile_file, load_source, open_catalog
from llmc.importers import merge_servers, read_config
from llmc.importers.hardware import parse_hardware
from llmc.importers.shell import commands
from llmc.importers.to_spec import import_specs
from llmc.runtimes import PROFILES
from llmc.solve import solve
from llmc.source import SourceFile
from llmc.targets import emit_all

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.llmspec"))
NATIVE = ("vllm/serve.sh", "vllm/config.yaml", "llama.cpp/llama-server.sh", "sglang/launch.sh", "compose.yaml")
CATALOG = open_catalog()[0]


def choices(plan) -> dict:
    """What the solver decided; a local model by its file (the spec names it relative to where it is)."""
    par, st = plan.parallelism, plan.settings
    model = os.path.basename(plan.model.id) if plan.model.source == "local" else plan.model.id
    return dict(model=model, format=plan.model.format, runtime=plan.runtime.name, kv=plan.kv_cache,
                context=plan.context, slots=plan.slots, tensor=par.tensor, pipeline=par.pipeline,
                replicas=par.replicas, expert=par.expert, gpu_layers=par.gpu_layers, n_cpu_moe=par.n_cpu_moe,
                split_mode=par.split_mode, gpu_memory_utilization=st.gpu_memory_utilization,
                mem_fraction_static=st.mem_fraction_static, max_num_batched_tokens=st.max_num_batched_tokens,
                flash_attention=st.flash_attention, kv_unified=st.kv_unified, batch_size=st.batch_size,
                ubatch_size=st.ubatch_size)


def _hardware(plan) -> str:
    hw = plan.hardware
    text = f'gpu = {hw.gpus_per_node} x "{hw.gpu}"' if hw.gpu else "gpu = none"
    return text + (f" memory = {hw.host_memory_bytes} B" if hw.host_memory_bytes else "") + \
        (f" nodes = {hw.nodes}" if hw.nodes > 1 else "")


def _server_files(files: dict[str, str]) -> list[list[str]]:
    groups = [[path] for path in files if path in NATIVE or path.startswith("kubernetes/")]
    if "ollama/Modelfile" in files:
        groups.append(["ollama/Modelfile", "ollama/ollama.env"])
    return groups


def _reimported(build: Path, files: dict[str, str], group: list[str], plan):
    """The plan of the spec `llmc import` writes for these files, solved where it is written (beside them: a
    bind mount's relative host path is relative to the compose file)."""
    configs = []
    for rel in group:
        path = build / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[rel], encoding="utf-8")
        configs.append(read_config(SourceFile(path=str(path), text=files[rel])))
    merge_servers(configs)
    if not any(c.servers for c in configs):
        return None
    machine, problems = parse_hardware(_hardware(plan), CATALOG)
    assert problems == []
    text, _ = import_specs(configs, CATALOG, machine)
    spec, diagnostics, malformed = load_source(SourceFile(path=str(build / "imported.llmspec"), text=text))
    assert not malformed, (text, [d.summary for d in diagnostics])
    again, diagnostics = solve(spec.deployments[0], CATALOG, build)
    assert again is not None, (text, [d.summary + d.detail for d in diagnostics])
    return again


@pytest.mark.parametrize("spec", EXAMPLES, ids=[s.stem for s in EXAMPLES])
def test_every_target_of_every_example_imports_to_the_same_plan(spec, tmp_path):
    result = compile_file(str(spec), catalog=CATALOG, out_dir=str(tmp_path / "build"))
    checked = 0
    for item in result.deployments:
        plan = item.plan.model_copy(update={"emit": ("compose", "kubernetes")})
        emitted, _ = emit_all(plan)
        files = {a.path: a.content for a in emitted}
        for group in _server_files(files):
            if plan.model.source == "local" and group[0].startswith("kubernetes/"):
                continue   # the pod reads the file from its volume: the manifest cannot say where it came from
            again = _reimported(tmp_path / "build" / item.deployment.name, files, group, plan)
            if again is None:
                continue   # a Service, a PVC, the download Job
            assert choices(again) == choices(plan), f"{item.deployment.name} {group}"
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("name", ["ollama_gemma", "sglang_qwen", "llamacpp_70b_row_split"])
def test_hand_built_plans_of_the_other_runtimes_import_to_the_same_plan(name, tmp_path):
    from .support import plans

    plan = getattr(plans, name)().model_copy(update={"emit": ("compose",)})
    emitted, _ = emit_all(plan)
    files = {a.path: a.content for a in emitted}
    native = [g for g in _server_files(files) if not g[0].startswith(("kubernetes/", "compose"))]
    assert native
    modelfile = ["ollama/Modelfile"] if "ollama/Modelfile" in files else []
    for group in native + [["compose.yaml", *modelfile]]:
        again = _reimported(tmp_path / group[0].replace("/", "-"), files, group, plan)
        mine = choices(plan)
        theirs = choices(again)
        # a hand-built plan's settings are not all a solver's: compare what the config pins
        keys = ["model", "format", "runtime", "kv", "context", "slots", "gpu_layers"]
        keys += ["split_mode"] if PROFILES[plan.runtime.name].knob("split_mode") else []   # Ollama has none
        for key in keys:
            assert theirs[key] == mine[key], (name, group, key)


# ---------------------------------------------------------------------------
# the readers
# ---------------------------------------------------------------------------

def test_shell_words_keep_their_offsets_through_quotes_continuations_and_variables():
    text = 'export MODEL=Qwen/Qwen3-8B\nCUDA_VISIBLE_DEVICES=0,1 exec vllm serve "$MODEL" \\\n  --max-model-len=32768 \'--x\'\n'
    [command] = commands(text)
    assert [w.text for w in command.words] == ["vllm", "serve", "$MODEL", "--max-model-len=32768", "--x"]
    for word in command.words:
        raw = text[word.start:word.end]
        assert raw.strip("'\"") == word.text
    assert command.env["CUDA_VISIBLE_DEVICES"].text == "CUDA_VISIBLE_DEVICES=0,1"
    assert command.env["MODEL"].text == "MODEL=Qwen/Qwen3-8B"


def test_a_script_resolves_its_own_variables_and_directory():
    text = ('D="$(cd "$(dirname "$0")/.." && pwd)"\nM="${LLMC_MODEL:-$D/models/m.gguf}"\n'
            'exec "${LLAMA_SERVER:-llama-server}" -m "$M" -c 4096 --api-key "$KEY"\n')
    [server] = read_config(SourceFile(path="/srv/app/bin/run.sh", text=text)).servers
    assert server.runtime.name == "llama.cpp"
    assert server.value("model").text == "/srv/app/models/m.gguf"
    assert server.integer("context") == 4096
    assert server.value("api_key").symbolic   # $KEY is set where it runs: never resolved, never inlined


def test_docker_run_reads_the_container_and_the_runtime_flags():
    text = ('docker run --gpus all --ipc=host -p 127.0.0.1:8000:8000 -v ~/.cache/huggingface:/root/.cache/huggingface'
            ' -e VLLM_API_KEY=$KEY vllm/vllm-openai:v0.33.0 --model Qwen/Qwen3-8B -tp 2\n')
    [server] = read_config(SourceFile(path="run.sh", text=text)).servers
    c = server.container
    assert (server.runtime.name, c.gpus_all, c.shared_memory, server.integer("tensor")) == ("vllm", True, True, 2)
    assert (c.ports[0].host_ip, c.ports[0].host_port) == ("127.0.0.1", 8000)
    assert [m.target for m in c.mounts] == ["/root/.cache/huggingface"]
    assert server.version.text == "v0.33.0"


def test_compose_and_kubernetes_readers_find_the_server_behind_a_shell_entrypoint():
    compose = ("services:\n  vllm:\n    image: vllm/vllm-openai:v0.33.0\n    entrypoint: [/bin/sh, -c, 'exec vllm serve "
               "\"$$@\"', vllm]\n    command: [Qwen/Qwen3-8B, --max-model-len, '8192']\n"
               "  download:\n    image: vllm/vllm-openai:v0.33.0\n    entrypoint: [/bin/sh, -c]\n"
               "    command: ['huggingface-cli download Qwen/Qwen3-8B']\n")
    config = read_config(SourceFile(path="compose.yaml", text=compose))
    assert [(s.container.name, s.value("model").text, s.integer("context")) for s in config.servers] == \
        [("vllm", "Qwen/Qwen3-8B", 8192)]
    span = config.servers[0].value("context").span
    assert compose.splitlines()[span.line - 1][span.col - 1:].startswith("--max-model-len")


def test_an_unknown_flag_and_a_flag_value_keep_the_runtime_release_in_view():
    [server] = read_config(SourceFile(path="r.sh", text="vllm serve m --max-modle-len 4096 --dtype bf16\n")).servers
    assert [u.written for u in server.unknown] == ["--max-modle-len"]
    assert "bfloat16" in server.flags[-1][0].choices and server.flags[-1][1].text == "bf16"


# ---------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------

def _llmc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmc.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def test_import_writes_a_spec_the_front_end_accepts_and_says_what_it_could_not_infer(tmp_path):
    script = tmp_path / "serve.sh"
    script.write_text("vllm serve Qwen/Qwen3-8B --tensor-parallel-size 2 --max-model-len 16384\n")
    out = _llmc("import", str(script))
    assert out.returncode == 0, out.stderr
    assert "W841" in out.stderr and 'gpu = 1 x "TODO"' in out.stdout
    assert "tensor_parallel_size = 2" in out.stdout and "context      = 16384" in out.stdout
    written = tmp_path / "serve.llmspec"
    out = _llmc("import", str(script), "--hardware", '2 x "RTX 4090"', "-o", str(written))
    assert out.returncode == 0, out.stderr
    check = _llmc("check", str(written))
    assert check.returncode in (0, 1), check.stderr   # a valid spec; feasibility is the solver's verdict
    assert "error[E1" not in check.stderr and "error[E2" not in check.stderr


def test_import_of_a_file_without_a_server_is_exit_2(tmp_path):
    other = tmp_path / "compose.yaml"
    other.write_text("services:\n  web:\n    image: nginx:1.27\n")
    out = _llmc("import", str(other))
    assert out.returncode == 2 and "E836" in out.stderr and out.stdout == ""
