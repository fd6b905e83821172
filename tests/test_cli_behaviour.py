"""The command line behaves the same everywhere (issue 17): a misspelt command gets the nearest one,
`fmt --diff` shows what formatting changes, `explain` takes --catalog, builds follow the user's umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _llmc(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmc.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120, **kw)


def test_a_misspelt_command_gets_the_nearest_one():
    done = _llmc("biuld", "examples/chat-16gb.llmspec", cwd=REPO)
    assert done.returncode == 2 and "unknown command `biuld`" in done.stderr and "'build'" in done.stderr
    assert "Traceback" not in done.stderr
    assert _llmc("--version").returncode == 0


def test_fmt_diff_shows_the_change_and_check_still_fails(tmp_path):
    spec = tmp_path / "s.llmspec"
    spec.write_text('deployment "s" {\n hardware {\n gpu=1 x "RTX 4090"\n }\n}\n')
    done = _llmc("fmt", "--check", "--diff", str(spec))
    assert done.returncode == 1
    assert '-gpu=1 x "RTX 4090"' in done.stdout.replace(" ", "") or '-gpu=1x"RTX4090"' in done.stdout.replace(" ", "")
    assert '+    gpu = 1 x "RTX 4090"' in done.stdout
    assert spec.read_text().startswith('deployment "s" {\n hardware')   # --check changes nothing


def test_explain_takes_a_catalog(tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "gpus.yaml").write_text(
        "gpus:\n- name: Lab Card 48GB\n  vendor: nvidia\n  kind: gpu\n  device_class: datacenter\n"
        "  memory_bytes: 51539607552\n  bandwidth_gbps: 864\n  bf16_tflops: 181\n  compute_capability: 8.9\n  arch: ada\n"
        "  source: [test]\n")
    spec = tmp_path / "s.llmspec"
    spec.write_text('deployment "s" {\n  hardware {\n    gpu = 1 x "Lab Card 48GB"\n  }\n}\n')
    done = _llmc("explain", str(spec), "--catalog", str(catalog))
    assert done.returncode == 0, done.stderr
    assert "Lab Card 48GB" in done.stdout


def test_a_build_follows_the_users_umask(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(f"umask 022 && {sys.executable} -m llmc.cli build examples/chat-16gb.llmspec -o {out}",
                          shell=True, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    build = next(out.iterdir())
    assert stat.S_IMODE(build.stat().st_mode) == 0o755
    assert stat.S_IMODE((build / "plan.json").stat().st_mode) == 0o644


def test_one_user_is_singular_in_the_plan(tmp_path):
    done = _llmc("build", "examples/cpu-local-gguf.llmspec", "-o", str(tmp_path / "b"), cwd=REPO)
    assert done.returncode == 0, done.stderr
    text = next((tmp_path / "b").iterdir()).joinpath("PLAN.md").read_text()
    assert "(1 user in a closed loop)" in text and "1 users" not in text


def test_estimate_and_explain_print_json_and_nothing_else():
    import json

    for args in (("estimate", "examples/chat-16gb.llmspec", "--format", "json"),
                 ("explain", "examples/chat-16gb.llmspec", "--json"),
                 ("estimate", "examples/chat-16gb.llmspec", "--json")):
        done = _llmc(*args, cwd=REPO)
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)   # the whole of stdout is one document
        assert data["diagnostics"] == [] and data["results"][0]["deployment"] == "home-chat"


def test_build_takes_several_files_and_a_directory(tmp_path):
    done = _llmc("build", "examples/chat-16gb.llmspec", "examples/code-assistant.llmspec", "-o", str(tmp_path / "two"),
                 cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["code-assistant", "home-chat"]
    specs = tmp_path / "specs"
    specs.mkdir()
    for name in ("chat-16gb", "cpu-local-gguf"):
        (specs / f"{name}.llmspec").write_text((REPO / "examples" / f"{name}.llmspec").read_text()
                                               .replace('local("models/', f'local("{REPO}/examples/models/'))
    done = _llmc("build", str(specs), "-o", str(tmp_path / "dir"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "dir").iterdir()) == ["edge-assistant", "home-chat"]


def test_one_deployment_name_in_two_files_builds_nothing(tmp_path):
    done = _llmc("build", "examples/chat-16gb.llmspec", "examples/chat-16gb.llmspec", "-o", str(tmp_path / "out"),
                 cwd=REPO)
    assert done.returncode == 2 and "E208" in done.stderr and "two of the files" in done.stderr
    assert not (tmp_path / "out").exists()


def test_the_default_build_directory_lives_beside_setuptools_output(tmp_path):
    """`build/` stays the default (docs/cli.md says why): llmc writes only build/<deployment>/, marked as its
    own, so setuptools' build/lib beside it is untouched, and a deployment named like one of setuptools'
    folders is refused (E003) rather than written into it."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\n')
    (tmp_path / "build" / "lib" / "app").mkdir(parents=True)
    (tmp_path / "build" / "lib" / "app" / "__init__.py").write_text("x = 1\n")
    spec = tmp_path / "svc.llmspec"
    spec.write_text((REPO / "examples" / "chat-16gb.llmspec").read_text())
    run = lambda: subprocess.run([sys.executable, "-m", "llmc.cli", "build", str(spec)], cwd=tmp_path,  # noqa: E731
                                 capture_output=True, text=True)
    assert run().returncode == 0
    assert (tmp_path / "build" / "home-chat" / "plan.json").is_file()
    assert (tmp_path / "build" / "lib" / "app" / "__init__.py").read_text() == "x = 1\n"
    spec.write_text(spec.read_text().replace('deployment "home-chat"', 'deployment "lib"'))
    refused = run()
    assert refused.returncode != 0 and "E003" in refused.stderr
    assert sorted(p.name for p in (tmp_path / "build" / "lib").iterdir()) == ["app"]


def test_docs_cli_lists_every_command_and_option_of_the_help():
    """docs/cli.md matches `llmc --help`: every command, and every option each command's parser takes."""
    import argparse

    from llmc.cli import COMMANDS, make_parser

    doc = (REPO / "docs" / "cli.md").read_text()
    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name in COMMANDS:
        assert f"`llmc {name}" in doc, name
        parsers = [sub.choices[name]]
        parsers += [p for a in sub.choices[name]._actions if isinstance(a, argparse._SubParsersAction)
                    for p in a.choices.values()]
        for p in parsers:
            for action in p._actions:
                spellings = [o for o in action.option_strings if o not in ("-h", "--help")]
                if spellings and not any(f"`{o}" in doc for o in spellings):
                    missing.append(f"{p.prog}: {spellings[-1]}")
    assert missing == []
