"""`llmc lint`: hand-written configs against the failure modes users hit.

The fixtures under tests/lint/ are realistic configs, each with the findings a reviewer expects in its own
`# lint-expect: CODE:LINE ...` line (or `clean`) and the machine in `# lint-hardware: ...`; a directory is
linted as one run (a Modelfile with its env file). Every rule has a docs page whose example, linted, produces
its code, and docs/lint.md lists every rule with its source.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llmc.driver import open_catalog
from llmc.importers.hardware import parse_hardware
from llmc.lint import lint_sources
from llmc.lint.registry import RULES
from llmc.source import SourceFile

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "lint"
PAGES = REPO / "docs" / "diagnostics"
CATALOG = open_catalog()[0]
EXPECT = re.compile(r"#\s*lint-expect:\s*(.*)")
HARDWARE = re.compile(r"#\s*lint-hardware:\s*(.*)")


def _fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if not p.name.startswith(".")) if FIXTURES.is_dir() else []


def _files(fixture: Path) -> list[Path]:
    return sorted(p for p in fixture.iterdir() if p.is_file()) if fixture.is_dir() else [fixture]


def lint_paths(paths: list[Path], hardware: str | None):
    machine, problems = parse_hardware(hardware, CATALOG) if hardware else (None, [])
    assert problems == [], problems
    sources = [SourceFile(path=str(p), text=p.read_text(encoding="utf-8")) for p in paths]
    return lint_sources(sources, CATALOG, machine)


def _expected(paths: list[Path]) -> tuple[set[tuple[str, str, int]], str | None]:
    expected, hardware = set(), None
    for path in paths:
        text = path.read_text(encoding="utf-8")
        m = EXPECT.search(text)
        assert m, f"{path.name}: no `# lint-expect:` line"
        if m.group(1).strip() != "clean":
            for item in m.group(1).split():
                code, _, line = item.partition(":")
                expected.add((path.name, code, int(line)))
        h = HARDWARE.search(text)
        hardware = h.group(1).strip() if h else hardware
    return expected, hardware


def test_there_are_enough_fixtures_and_every_rule_has_one():
    fixtures = _fixtures()
    assert len(fixtures) >= 40
    clean = [f for f in fixtures if all("lint-expect: clean" in p.read_text() for p in _files(f))]
    assert len(clean) >= 8
    covered = {code for f in fixtures for _, code, _ in _expected(_files(f))[0]}
    untested = sorted(set(RULES) - covered - {"W818"})    # W818 needs a real model file: test_chat_template_*
    assert untested == []


@pytest.mark.parametrize("fixture", _fixtures(), ids=lambda p: p.name)
def test_fixture_findings_are_the_expected_ones(fixture):
    paths = _files(fixture)
    expected, hardware = _expected(paths)
    run = lint_paths(paths, hardware)
    found = {(Path(d.span.file).name, d.code, d.span.line) for d in run.diagnostics if d.span}
    assert not run.unusable
    assert found == expected, "\n".join(f"{d.span}: {d.code} {d.summary}" for d in run.diagnostics)


# ---------------------------------------------------------------------------
# every rule: its page, its example, its place in docs/lint.md
# ---------------------------------------------------------------------------

def _example(code: str) -> tuple[dict[str, str], str | None]:
    """The files of a page's example (each block's first line is `# file: NAME`) and its `# lint: --hardware`."""
    text = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    example = text.split("## Example", 1)[1].split("## Fix", 1)[0]
    files, hardware = {}, None
    for block in re.findall(r"```[a-z]*\n(.*?)```", example, re.S):
        name = re.match(r"#\s*file:\s*(\S+)", block)
        if name:
            files[name.group(1)] = block
        found = re.search(r"#\s*lint:\s*--hardware\s+'(.*)'", block)
        hardware = found.group(1) if found else hardware
    return files, hardware


# W818 reads the model file itself, which a page cannot carry: test_chat_template_finds_a_gguf_without_one
NEEDS_A_MODEL_FILE = ("W818",)


@pytest.mark.parametrize("code", sorted(set(RULES) - set(NEEDS_A_MODEL_FILE)))
def test_each_rules_docs_example_produces_its_code(code, tmp_path):
    files, hardware = _example(code)
    assert files, f"{code}: the example's blocks name their files (`# file: NAME`)"
    for name, block in files.items():
        (tmp_path / name).write_text(block, encoding="utf-8")
    run = lint_paths([tmp_path / name for name in files], hardware)
    assert code in {d.code for d in run.diagnostics}, [f"{d.code} {d.summary}" for d in run.diagnostics]


def test_docs_lint_lists_every_rule_with_its_source():
    text = (REPO / "docs" / "lint.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| \[`([EW]8\d\d)`\]\(diagnostics/\1\.md\) \| (.*)$", text, re.M))
    assert sorted(rows) == sorted(RULES)
    for code, rule in RULES.items():
        assert f"`{rule.name}`" in rows[code] and rule.title in rows[code], code


def test_rules_are_one_module_each():
    modules = [rule.check.__module__ for rule in RULES.values()]
    assert len(modules) == len(set(modules)), "two rules share a module"
    assert all(m.startswith("llmc.lint.rules.") for m in modules)


# ---------------------------------------------------------------------------
# the command: formats and exit codes
# ---------------------------------------------------------------------------

def _llmc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmc.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_exit_codes_say_error_warning_or_unreadable(tmp_path):
    error = _write(tmp_path, "open.sh", "vllm serve Qwen/Qwen3-8B --max-model-len 8192\n")
    warning = _write(tmp_path, "shift.sh", "llama-server -m m.gguf --host 127.0.0.1 --context-shift -np 2\n")
    clean = _write(tmp_path, "ok.sh", "llama-server -m m.gguf --host 127.0.0.1 -c 8192\n")
    other = _write(tmp_path, "nginx.yaml", "services:\n  web:\n    image: nginx:1.27\n")
    assert _llmc("lint", str(error)).returncode == 1
    assert _llmc("lint", str(warning)).returncode == 0
    assert _llmc("lint", str(clean)).returncode == 0
    done = _llmc("lint", str(other))
    assert done.returncode == 2 and "E836" in done.stderr    # never silently clean
    assert _llmc("lint", str(tmp_path / "missing.sh")).returncode == 2
    bad = _llmc("lint", str(clean), "--hardware", '1 x "RTX 9090"')
    assert bad.returncode == 2 and "did you mean" in bad.stderr


def test_every_output_format_carries_the_findings(tmp_path):
    path = _write(tmp_path, "run.sh", "vllm serve Qwen/Qwen3-8B \\\n  --max-model-len 131072\n")
    args = ("lint", str(path), "--hardware", '1 x "RTX 4090"')
    as_json = json.loads(_llmc(*args, "--format", "json").stdout)
    codes = {d["code"] for d in as_json}
    assert {"E804", "E821"} <= codes
    e821 = next(d for d in as_json if d["code"] == "E821")
    assert (e821["span"]["line"], e821["span"]["col"]) == (2, 3)    # the flag, on its continuation line
    sarif = json.loads(_llmc(*args, "--format", "sarif").stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == codes
    github = _llmc(*args, "--format", "github").stdout
    assert f"::error file={path},line=2,col=3" in github
    concise = _llmc(*args, "--format", "concise").stderr
    assert f"{path}:2:3: E821" in concise
    full = _llmc(*args).stderr
    assert "--max-model-len 131072" in full and "^^^" in full and "= help:" in full


def test_chat_template_finds_a_gguf_without_one(tmp_path):
    """W818 reads the model file itself: a GGUF written here without tokenizer.chat_template."""
    import gguf

    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    modelfile = _write(tmp_path, "Modelfile", "FROM ./m.gguf\nPARAMETER num_ctx 4096\n")
    assert "W818" in {d.code for d in lint_paths([modelfile], None).diagnostics}
    templated = _write(tmp_path, "Modelfile", 'FROM ./m.gguf\nPARAMETER num_ctx 4096\nTEMPLATE """{{ .Prompt }}"""\n')
    assert "W818" not in {d.code for d in lint_paths([templated], None).diagnostics}


# ---------------------------------------------------------------------------
# the same config, written differently, gives the same findings
# ---------------------------------------------------------------------------

FLAGS = [("--tensor-parallel-size", "2"), ("--max-model-len", "131072"), ("--gpu-memory-utilization", "0.95"),
         ("--trust-remote-code", None), ("--tool-call-parser", "llama3_json"), ("--enable-auto-tool-choice", None)]


def _quote(word: str, style: int) -> str:
    return [word, f"'{word}'", f'"{word}"'][style]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 2), min_size=16, max_size=16), st.lists(st.booleans(), min_size=8, max_size=8),
       st.permutations(range(len(FLAGS))))
def test_shell_quoting_and_layout_do_not_change_the_findings(tmp_path, quotes, breaks, order):
    words = ["vllm", "serve", "Qwen/Qwen3-8B"]
    for i in order:
        flag, value = FLAGS[i]
        words += [f"{flag}={value}"] if value and breaks[i % 8] else [flag] + ([value] if value else [])
    text = "".join(_quote(w, quotes[i % 16]) + (" \\\n  " if breaks[i % 8] else " ") for i, w in enumerate(words))
    path = _write(tmp_path, "serve.sh", text.rstrip(" \\\n") + "\n")
    codes = sorted(d.code for d in lint_paths([path], '2 x "RTX 4090"').diagnostics)
    assert codes == sorted(["E804", "E812", "E821", "W820", "W827", "W828"]), text


COMPOSE_COMMANDS = [
    "    command: >\n      {args}\n",
    "    command: {args}\n",
    "    command:\n{items}",
    "    command: [{flow}]\n",
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 3), st.booleans(), st.booleans())
def test_yaml_styles_do_not_change_the_findings(tmp_path, command_style, env_as_map, quoted_ports):
    args = ["Qwen/Qwen3-8B", "--tensor-parallel-size", "2", "--max-model-len", "131072"]
    command = COMPOSE_COMMANDS[command_style].format(
        args=" ".join(args), items="".join(f"      - '{a}'\n" for a in args), flow=", ".join(f'"{a}"' for a in args))
    env = "    environment:\n      HF_TOKEN: ${HF_TOKEN}\n" if env_as_map else \
        "    environment:\n      - HF_TOKEN=${HF_TOKEN}\n"
    port = '"8000:8000"' if quoted_ports else "8000:8000"
    text = (f"services:\n  vllm:\n    image: vllm/vllm-openai:v0.33.0\n{command}{env}    ports:\n      - {port}\n"
            "    deploy:\n      resources:\n        reservations:\n          devices:\n"
            "            - {driver: nvidia, count: 2, capabilities: [gpu]}\n")
    path = _write(tmp_path, "compose.yaml", text)
    codes = sorted(d.code for d in lint_paths([path], '2 x "RTX 4090"').diagnostics)
    assert codes == sorted(["E804", "E809", "E821", "W806", "W820", "W825", "W827"]), text


def test_the_readme_commands_work_on_the_example_configs(tmp_path):
    configs = REPO / "examples" / "configs"
    done = _llmc("lint", str(configs / "compose.yaml"), "--hardware", '2 x "RTX 4090"', "--format", "json")
    assert done.returncode == 1
    assert {d["code"] for d in json.loads(done.stdout)} == {"E804", "E809", "W820", "W825", "W827", "W840"}
    assert _llmc("lint", str(configs / "serve.sh"), "--hardware", '2 x "RTX 4090"').returncode == 0
    spec = tmp_path / "serve.llmspec"
    done = _llmc("import", str(configs / "serve.sh"), "--hardware", '2 x "RTX 4090"', "-o", str(spec))
    assert done.returncode == 0, done.stderr
    built = _llmc("build", str(spec), "-o", str(tmp_path / "build"))
    assert built.returncode == 0, built.stderr
    script = (tmp_path / "build" / "serve" / "vllm" / "serve.sh").read_text()
    for flag in ("--tensor-parallel-size 2", "--max-model-len 32768", "--max-num-seqs 32",
                 "--gpu-memory-utilization 0.9", "--tool-call-parser hermes", "--reasoning-parser qwen3"):
        assert flag in script
