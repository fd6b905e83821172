"""Every emitted artifact renders hostile values as data: executed with stub runtimes, the runtime gets
the value byte for byte in its argv or environment, and nothing else runs.

The values are injected into the Plan directly (the front end's validation is a second, separate
line of defence), so each template's escaping is tested on its own. Each payload tries every way out
of its context (quotes, `$(...)`, backticks, newlines, `${...}` defaults, Compose `$VAR` and
Kubernetes `$(VAR)` interpolation) and calls the stub `pwned` if it escapes.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from llmc.targets import emit_all
from llmc.targets.llamacpp import model_files
from llmc.targets.ollama.modelfile import check as check_modelfile
from llmc.targets.ollama.modelfile import instructions, parameters
from ruamel.yaml import YAML

from tests.support import plans, stubs
from tests.support.fuzz import hostile_text
from tests.support.tools import compose_binary

PAYLOAD = ("x'$(pwned a)`pwned b`\"; pwned c; \"\n pwned d\n}${X:-$(pwned e)}$$(pwned f) $(HF_TOKEN) "
           "\\ ${IFS}pwned${IFS}g # ")
KEY = "sk-" + PAYLOAD  # the API key's value, from the environment at run time


def hostile(plan, *, local: Path | None = None, payload: str = PAYLOAD):
    model = {"name": "Evil\x1b[2J\n" + payload, "stop": (payload,)}
    if local is not None:
        model |= {"path": str(local)}
    else:  # a file name: no `/` or `..` to climb out of the models folder (the catalog's grammar forbids them)
        name = payload.replace("/", "_").replace(".", "_")
        model |= {"repo": "org/" + name, "file": name + ".gguf"}
    serving = {"served_name": payload}
    if plan.serving.api_key_env:
        serving["api_key_env"] = "LLMC_KEY"
    update = {"model": plan.model.model_copy(update=model), "serving": plan.serving.model_copy(update=serving),
              "settings": plan.settings.model_copy(update={"env": {"LLMC_TEST": payload}})}
    if plan.speculative is not None and plan.speculative.draft_repo:
        update["speculative"] = plan.speculative.model_copy(update={"draft_repo": "org/draft" + payload})
    return plan.model_copy(update=update)


def write(plan, directory: Path) -> Path:
    artifacts, diagnostics = emit_all(plan)
    assert artifacts, diagnostics
    for a in artifacts:
        path = directory / a.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(a.content)
        path.chmod(a.mode)
    return directory


@pytest.fixture
def stub_env(tmp_path):
    return stubs.install(tmp_path / "bin") | {"STUB_ENV": "LLMC_TEST,VLLM_API_KEY,OLLAMA_HOST"}


def only_runtime_ran(env, runtime: str) -> list[dict]:
    """The calls of `runtime` (curl downloads allowed); fails when anything else ran."""
    ran = stubs.calls(env)
    assert [c["argv"][0] for c in ran if c["argv"][0] not in ("curl", runtime)] == []
    return [c for c in ran if c["argv"][0] == runtime]


def after(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def run_script(script: Path, env, cwd: Path, **extra):
    result = stubs.run(["bash", str(script)], env, cwd, {"LLMC_KEY": KEY, **extra})
    assert result.returncode == 0, result.stderr
    return result


def test_llama_server_script(tmp_path, stub_env):
    plan = hostile(plans.llamacpp_70b_row_split())
    out = write(plan, tmp_path / "build")
    run_script(out / "llama.cpp" / "llama-server.sh", stub_env, tmp_path, LLMC_MODELS_DIR=str(tmp_path / "m"))
    [call] = only_runtime_ran(stub_env, "llama-server")
    argv = call["argv"]
    assert after(argv, "-a") == PAYLOAD
    assert after(argv, "-m") == str(tmp_path / "m" / ("org/" + PAYLOAD) / (PAYLOAD + ".gguf"))
    assert call["env"]["LLMC_TEST"] == PAYLOAD
    key_file = after(argv, "--api-key-file")
    assert not Path(key_file).exists()  # removed on exit; it held the key, which never was on argv
    assert KEY not in argv


def test_llama_server_script_with_a_local_file(tmp_path, stub_env):
    local = tmp_path / ("dir " + PAYLOAD.replace("/", "")) / "m.gguf"
    plan = hostile(plans.llamacpp_tiny_cpu(local), local=local)
    run_script(write(plan, tmp_path / "build") / "llama.cpp" / "llama-server.sh", stub_env, tmp_path)
    [call] = only_runtime_ran(stub_env, "llama-server")
    assert after(call["argv"], "-m") == str(local)


def test_vllm_script(tmp_path, stub_env):
    plan = hostile(plans.vllm_tp2_speculative())
    run_script(write(plan, tmp_path / "build") / "vllm" / "serve.sh", stub_env, tmp_path)
    [call] = only_runtime_ran(stub_env, "vllm")
    argv = call["argv"]
    assert argv[1:3] == ["serve", "org/" + PAYLOAD]
    assert after(argv, "--served-model-name") == PAYLOAD
    assert json.loads(after(argv, "--speculative-config"))["model"] == "org/draft" + PAYLOAD
    assert call["env"] == {"LLMC_TEST": PAYLOAD, "VLLM_API_KEY": KEY, "OLLAMA_HOST": None}


def test_sglang_script(tmp_path, stub_env):
    plan = hostile(plans.sglang_qwen())
    plan = plan.model_copy(update={"serving": plan.serving.model_copy(update={"api_key_env": "LLMC_KEY"})})
    key = KEY.replace("\n", " ")  # one line: the script refuses a key that is not
    run_script(write(plan, tmp_path / "build") / "sglang" / "launch.sh", stub_env, tmp_path, LLMC_KEY=key)
    [call] = only_runtime_ran(stub_env, "python3")
    argv = call["argv"]
    assert argv[1:3] == ["-m", "sglang.launch_server"]
    assert after(argv, "--model-path") == "org/" + PAYLOAD
    assert after(argv, "--served-model-name") == PAYLOAD
    assert call["env"]["LLMC_TEST"] == PAYLOAD
    assert key not in " ".join(argv) and YAML(typ="safe").load(call["config"]) == {"api-key": key}
    assert not Path(after(argv, "--config")).exists()  # removed when the server exits


def test_ollama_files(tmp_path, stub_env):
    plan = hostile(plans.ollama_gemma())
    out = write(plan, tmp_path / "build")
    run_script(out / "ollama" / "create.sh", stub_env, tmp_path, LLMC_MODELS_DIR=str(tmp_path / "m"))
    [call] = only_runtime_ran(stub_env, "ollama")
    assert call["argv"][1:] == ["create", PAYLOAD, "-f", "Modelfile"]
    assert call["env"]["LLMC_TEST"] == PAYLOAD  # ollama.env is sourced as shell: the value stays data
    assert call["env"]["OLLAMA_HOST"] == f"{plan.serving.host}:{plan.serving.port}"
    modelfile = (out / "ollama" / "Modelfile").read_text()
    assert check_modelfile(modelfile) == []
    assert parameters(modelfile)["stop"] == [PAYLOAD]
    [gguf] = model_files(plan)
    assert ("from", f"./{gguf.relative}") in instructions(modelfile) and PAYLOAD in gguf.relative
    assert (out / "ollama" / gguf.relative).is_symlink()


def kubelet_expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion/expand.go): `$$` is `$`, a
    `$(NAME)` of a defined variable is its value, anything else stays as written."""
    def one(m: re.Match) -> str:
        token = m.group()
        if token == "$$":
            return "$"
        return env.get(token[2:-1], token)
    return re.sub(r"\$\$|\$\([A-Za-z_][A-Za-z0-9_]*\)", one, text)


def test_compose_file(tmp_path, stub_env):
    plan = hostile(plans.llamacpp_70b_row_split())
    out = write(plan, tmp_path / "build")
    result = stubs.run([str(compose_binary()), "-f", str(out / "compose.yaml"), "config", "--format", "json"],
                       {}, out, {"HF_TOKEN": "", "LLAMA_API_KEY_VALUE": "k"})
    assert result.returncode == 0, result.stderr
    # `config` prints the interpolated model as a compose file again, so a literal `$` comes back as `$$`
    services = json.loads(result.stdout.replace("$$", "$"))["services"]
    server = services["llama-cpp"]
    assert after(server["command"], "-a") == PAYLOAD
    assert server["environment"]["LLMC_TEST"] == PAYLOAD
    fetch = services["model-download"]
    script = fetch["command"][0].replace("/models/", f"{tmp_path}/models/")
    assert stubs.run(["/bin/sh", "-c", script], stub_env, tmp_path).returncode == 0
    [download] = only_runtime_ran(stub_env, "curl")
    assert download["argv"][-1].startswith("https://huggingface.co/org/" + PAYLOAD + "/resolve/")


def test_kubernetes_manifests(tmp_path, stub_env):
    plan = hostile(plans.llamacpp_70b_row_split()).model_copy(update={"emit": ("kubernetes",)})
    out = write(plan, tmp_path / "build")
    deployment = YAML(typ="safe").load((out / "kubernetes" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    [server] = pod["containers"]
    env = {e["name"]: e.get("value", "token") for e in server.get("env", [])}
    args = [kubelet_expand(a, env) for a in server["args"]]
    assert after(args, "-a") == PAYLOAD
    assert kubelet_expand(env["LLMC_TEST"], env) == PAYLOAD
    [init] = pod["initContainers"]
    script = kubelet_expand(init["args"][0], {"HF_TOKEN": "token"}).replace("/models/", f"{tmp_path}/models/")
    assert stubs.run(["/bin/sh", "-c", script], stub_env, tmp_path).returncode == 0
    [download] = only_runtime_ran(stub_env, "curl")
    assert "token" not in download["argv"][-1]  # $(HF_TOKEN) in a repo name is not expanded by the kubelet


def test_multi_node_leader_command(tmp_path, stub_env):
    plan = hostile(plans.vllm_deepseek_two_nodes())
    out = write(plan, tmp_path / "build")
    lws = YAML(typ="safe").load((out / "kubernetes" / "leaderworkerset.yaml").read_text())
    [leader] = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"]
    command = kubelet_expand(leader["args"][0], {"LWS_GROUP_SIZE": "2"})
    stubs.run(["/bin/sh", "-c", command], stub_env, tmp_path)  # the Ray script is absent here; serve still runs
    [call] = only_runtime_ran(stub_env, "vllm")
    assert after(call["argv"], "--served-model-name") == PAYLOAD


@pytest.mark.parametrize("name", ["vllm_tp2_speculative", "ollama_gemma"])
def test_readme_commands(tmp_path, stub_env, name):
    plan = hostile(plans.ALL[name]())
    readme = (write(plan, tmp_path / "build") / "README.md").read_text()
    smoke = readme.split("## Smoke test", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert stubs.run(["bash", "-c", smoke], stub_env, tmp_path, {"LLMC_KEY": KEY}).returncode == 0
    *_, chat = only_runtime_ran(stub_env, "curl")
    assert json.loads(after(chat["argv"], "-d"))["model"] == PAYLOAD
    assert "\x1b" not in readme


def test_comments_stay_comments(tmp_path):
    plan = hostile(plans.llamacpp_70b_row_split())
    script = (write(plan, tmp_path / "build") / "llama.cpp" / "llama-server.sh").read_text()
    header = script.splitlines()[2]
    assert header.startswith("# llama.cpp llama-server: Evil\\x1b[2J\\n")


def test_a_value_no_context_can_hold_is_refused():
    plan = plans.ollama_gemma()
    plan = plan.model_copy(update={"model": plan.model.model_copy(update={"stop": ('a"""\nSYSTEM evil',)})})
    artifacts, diagnostics = emit_all(plan)
    assert artifacts == [] and [d.code for d in diagnostics] == ["E504"]


def test_model_files_keep_their_names():
    plan = hostile(plans.llamacpp_70b_row_split())
    [m] = model_files(plan)
    assert m.relative == f"org/{PAYLOAD}/{PAYLOAD}.gguf"


def test_a_hostile_local_gguf_end_to_end(tmp_path, stub_env):
    """The proven attack: a GGUF whose general.name holds a newline, at a path with `$(...)` and backticks,
    through `llmc build` and the emitted script."""
    import subprocess
    import sys

    from tests.support.tiny_gguf import write_tiny_gguf

    folder = tmp_path / "dir $(pwned a)"
    folder.mkdir()
    gguf = write_tiny_gguf(folder / "m`pwned b`.gguf", name="tiny\n$(pwned c)\npwned d")
    spec = tmp_path / "s.llmspec"
    spec.write_text('deployment "evil" {\n  model = local("dir $(pwned a)/m`pwned b`.gguf")\n  runtime = llama.cpp\n'
                    '  hardware {\n    gpu = none\n    memory = 8 GiB\n  }\n}\n')
    llmc = str(Path(sys.executable).with_name("llmc"))
    built = subprocess.run([llmc, "build", str(spec), "-o", str(tmp_path / "build")], capture_output=True,
                           text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    assert "\x1b" not in built.stderr and "pwned c\n" not in built.stderr
    run_script(tmp_path / "build" / "evil" / "llama.cpp" / "llama-server.sh", stub_env, tmp_path)
    [call] = only_runtime_ran(stub_env, "llama-server")
    assert Path(after(call["argv"], "-m")).resolve() == gguf.resolve()


@settings(max_examples=30, deadline=None, database=None)
@given(value=hostile_text)
def test_any_value_in_the_plans_strings_stays_data(value):
    """Generated values in every string field of a llama.cpp plan: refused (E504), or passed on byte for byte."""
    plan = hostile(plans.llamacpp_70b_row_split(), payload=value)
    artifacts, diagnostics = emit_all(plan)
    if "\x00" in value:  # no shell word can hold a NUL
        assert artifacts == [] and [d.code for d in diagnostics] == ["E504"]
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = stubs.install(tmp / "bin") | {"STUB_ENV": "LLMC_TEST"}
        out = write(plan, tmp / "build")
        run_script(out / "llama.cpp" / "llama-server.sh", env, tmp, LLMC_MODELS_DIR=str(tmp / "m"))
        [call] = only_runtime_ran(env, "llama-server")
        assert after(call["argv"], "-a") == value and call["env"]["LLMC_TEST"] == value


MARKUP = "tiny | x\n\n## Injected heading\n<!-- [click](http://evil.example) `code"


def test_markdown_documents_show_markup_as_text():
    """A model name cannot add headings, hide the rest of PLAN.md or README.md in a comment, break a
    table or plant a link."""
    from llmc.explain import plan_markdown

    plan = plans.llamacpp_70b_row_split()
    plan = plan.model_copy(update={"model": plan.model.model_copy(update={"name": MARKUP, "format": "q4`k"})})
    readme = {a.path: a.content for a in emit_all(plan)[0]}["README.md"]
    for text in (plan_markdown(plan), readme.split("-->", 1)[1]):
        unescaped = re.compile(r"(?<!\\)(<!--|\]\(http|\|\s*x)")
        assert "\n## Injected" not in text and not unescaped.search(text)
        assert "tiny \\| x" in text
    assert "``q4`k``" in readme
