"""`llmc models`, `llmc gpus`, `llmc formats`: readable tables and --json, each record with its source."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from llmc.catalog import load_catalog
from llmc.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def no_env_catalog(monkeypatch):
    monkeypatch.delenv("LLMC_CATALOG", raising=False)


def test_models_json_lists_every_model_with_a_source(capsys):
    code, out, _ = run(capsys, "models", "--json")
    models = json.loads(out)
    assert code == 0 and len(models) >= 38
    assert all(m["source"] and m["params_total"] > 0 for m in models)
    assert len({m["id"] for m in models}) == len(models)


def test_gpus_json_lists_every_gpu_with_a_source(capsys):
    code, out, _ = run(capsys, "gpus", "--json")
    gpus = json.loads(out)
    assert code == 0 and len([g for g in gpus if g["kind"] == "gpu"]) >= 26
    assert all(g["source"] and g["memory_bytes"] > 0 and g["bandwidth_gbps"] > 0 for g in gpus)
    assert any(g["kind"] == "cpu" for g in gpus)


def test_formats_json_has_formats_kv_types_and_block_types(capsys):
    code, out, _ = run(capsys, "formats", "--json")
    data = json.loads(out)
    assert code == 0
    assert {f["id"] for f in data["formats"]} >= {"q4_k_m", "q8_0", "fp8", "awq", "gptq", "nvfp4", "mxfp4", "bf16"}
    assert {k["id"] for k in data["kv_types"]} >= {"f16", "fp8", "q8_0", "q4_0"}
    assert {t["id"]: t["bits_per_weight"] for t in data["ggml_types"]}["q8_0"] == 8.5


def test_tables_are_readable(capsys):
    _, models, _ = run(capsys, "models")
    _, gpus, _ = run(capsys, "gpus")
    _, formats, _ = run(capsys, "formats")
    assert models.splitlines()[0].split()[:5] == ["MODEL", "QUALITY", "(MMLU-Pro)", "PARAMS", "CONTEXT"]
    line = next(l for l in models.splitlines() if l.startswith("google/gemma-3-270m-it "))
    assert "3 full, 15 sliding 512" in line
    line = next(l for l in gpus.splitlines() if l.startswith("RTX 4090 "))
    assert "24 GiB" in line and "1,008 GB/s" in line and "8.9" in line
    assert "q4_k_m" in formats and "KV-cache types" in formats


def test_models_filter_by_task_and_license(capsys):
    _, out, _ = run(capsys, "models", "--task", "multimodal", "--json")
    ids = {m["id"] for m in json.loads(out)}
    assert "google/gemma-3-4b-it" in ids and "Qwen/Qwen3-8B" not in ids
    _, out, _ = run(capsys, "models", "--license", "permissive", "--json")
    licenses = {m["license"]["id"] for m in json.loads(out)}
    assert licenses <= {"apache-2.0", "mit"} and "apache-2.0" in licenses
    _, out, _ = run(capsys, "models", "--license", "llama3.1", "--json")
    assert {m["license"]["id"] for m in json.loads(out)} == {"llama3.1"}


def test_models_that_fit_a_gpu(capsys):
    _, out, _ = run(capsys, "models", "--fits", "RTX 4090", "--json")
    fitting = {m["id"]: m for m in json.loads(out)}
    assert "Qwen/Qwen3-8B" in fitting and "deepseek-ai/DeepSeek-V3" not in fitting
    assert all(m["checkpoint"]["bytes"] <= 0.9 * 24 * 2**30 for m in fitting.values())
    _, out, _ = run(capsys, "models", "--fits", "2 x rtx4090", "--json")
    assert len(json.loads(out)) > len(fitting)


def test_the_best_model_for_a_card_is_the_first_row(capsys):
    """Sorted by the task's score; each model with the least lossy checkpoint that fits, not the smallest."""
    _, out, _ = run(capsys, "models", "--task", "code", "--fits", "RTX 4090", "--json")
    rows = json.loads(out)
    scores = [m["quality"]["score"] for m in rows]
    assert scores == sorted(scores, reverse=True) and all(m["quality"]["task"] == "code" for m in rows)
    qwen8 = next(m for m in rows if m["id"] == "Qwen/Qwen3-8B")
    assert qwen8["checkpoint"]["format"] == "bf16"        # 16.4 GB of BF16 fits in 24 GB: no need to quantize
    _, table, _ = run(capsys, "models", "--task", "code", "--fits", "RTX 4090")
    assert table.splitlines()[1].startswith(rows[0]["id"] + " ")


def test_host_ram_lets_an_offloadable_checkpoint_fit(capsys):
    _, out, _ = run(capsys, "models", "--fits", "RTX 4090", "--json")
    alone = {m["id"] for m in json.loads(out)}
    _, out, _ = run(capsys, "models", "--fits", "RTX 4090", "--ram", "128GiB", "--json")
    offloaded = {m["id"]: m for m in json.loads(out)}
    added = set(offloaded) - alone
    assert "openai/gpt-oss-120b" in added        # 60 GiB of MXFP4 GGUF: layers in host RAM
    assert all(0.9 * 24 * 2**30 < offloaded[i]["checkpoint"]["bytes"] <= 0.9 * (24 + 128) * 2**30 for i in added)


def test_an_unknown_license_filter_is_an_error_with_a_suggestion(capsys):
    code, out, err = run(capsys, "models", "--license", "mti")
    assert code == 2 and out == "" and "E309" in err and "did you mean 'mit'?" in err
    code, _, err = run(capsys, "models", "--license", "modified-mit", "--json")
    assert code == 0


def test_fits_with_an_unknown_gpu_suggests_names(capsys):
    code, out, err = run(capsys, "models", "--fits", "RTX 4900")
    assert code == 2 and out == ""
    assert "E301" in err and "RTX 4090" in err


def test_broken_user_catalog_is_reported_and_the_rest_listed(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("gpus:\n- {name: Mystery GPU, source: 'a rumour'}\n")
    code, out, err = run(capsys, "gpus", "--catalog", str(tmp_path))
    assert code == 0 and "RTX 4090" in out and "Mystery GPU" not in out
    assert "E302" in err and "bad.yaml" in err and "Mystery GPU" in err


def test_user_catalog_gpu_is_listed(tmp_path, capsys):
    (tmp_path / "gpu.yaml").write_text(
        "gpus:\n- {name: Acme X1, device_class: datacenter, memory_bytes: 68719476736, bandwidth_gbps: 2000, arch: Hopper, source: 'datasheet'}\n")
    _, out, _ = run(capsys, "gpus", "--catalog", str(tmp_path), "--json")
    assert "Acme X1" in {g["name"] for g in json.loads(out)}


def test_cli_runs_as_a_program():
    done = subprocess.run([sys.executable, "-m", "llmc.cli", "gpus", "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and len(json.loads(done.stdout)) == len(load_catalog()[0].gpus) + 1


def _in_terminal(args: list[str], columns: int, **env: str) -> str:
    """What `llmc ARGS` prints to a terminal `columns` wide (a pseudo-terminal; COLUMNS sets its width)."""
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "llmc.cli", *args], stdout=slave, stderr=subprocess.DEVNULL,
                            env={**{k: v for k, v in os.environ.items() if k != "NO_COLOR"}, "COLUMNS": str(columns),
                                 **env})
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:   # the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return data.decode().replace("\r", "")


@pytest.mark.parametrize("command", ["gpus", "models", "formats"])
@pytest.mark.parametrize("columns", [80, 120, 160])
def test_tables_fit_the_terminal_and_say_what_they_hid(command, columns):
    text = re.sub(r"\x1b\[[0-9;]*m", "", _in_terminal([command], columns))   # what the terminal shows
    assert max(len(line) for line in text.splitlines()) <= columns
    piped = subprocess.run([sys.executable, "-m", "llmc.cli", command], capture_output=True, text=True).stdout
    first = piped.splitlines()[0 if command != "formats" else 1].split()
    hidden = [h for h in first if h not in text]
    assert not hidden or "hidden to fit" in text, hidden   # never a column lost without saying so
    if command == "gpus":
        assert "ALIASES" in piped and "…" not in piped       # a pipe gets every column, uncut


@pytest.mark.parametrize("args", [["gpus"], ["explain", "examples/chat-16gb.llmspec"],
                                  ["estimate", "examples/chat-16gb.llmspec"]])
def test_reports_are_in_colour_on_a_terminal_only_and_never_with_no_color(args):
    from tests.support.tools import REPO

    args = [str(REPO / a) if a.endswith(".llmspec") else a for a in args]
    bold = "\x1b[1m"
    coloured = _in_terminal(args, 160)
    assert bold in coloured
    plain = _in_terminal(args, 160, NO_COLOR="1")
    assert "\x1b[" not in plain and plain.replace(" ", "") == re.sub(r"\x1b\[[0-9;]*m", "", coloured).replace(" ", "")
    piped = subprocess.run([sys.executable, "-m", "llmc.cli", *args], capture_output=True, text=True).stdout
    assert "\x1b[" not in piped
