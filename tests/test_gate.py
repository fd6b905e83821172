"""`llmc check` as the pre-deploy gate, `--against` drift, and `build --locked`."""

from __future__ import annotations

import json
import shutil

from llmc import cli
from tests.support.tools import REPO

EXAMPLE = REPO / "examples" / "staging-and-prod.llmspec"


def _copy_example(tmp_path):
    spec = tmp_path / "svc.llmspec"
    shutil.copy(EXAMPLE, spec)
    return spec


def _tree(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_fresh_build_passes_the_drift_check(tmp_path, capsys):
    spec = _copy_example(tmp_path)
    assert cli.main(["build", str(spec), "-o", str(tmp_path / "build")]) == 0
    assert cli.main(["check", str(spec), "--against", str(tmp_path / "build")]) == 0


def _drift(tmp_path, capsys, fmt: str) -> str:
    """Build the example, change its context, and check it against the build in `fmt`: what it prints."""
    spec = _copy_example(tmp_path)
    assert cli.main(["build", str(spec), "-o", str(tmp_path / "build")]) == 0
    spec.write_text(spec.read_text().replace("context = 16k", "context = 8k"))
    capsys.readouterr()
    assert cli.main(["check", str(spec), "--against", str(tmp_path / "build"), "--format", fmt]) == 1
    return capsys.readouterr().out


def test_a_spec_change_without_rebuild_is_drift_naming_the_changed_choice(tmp_path, capsys):
    diags = json.loads(_drift(tmp_path, capsys, "json"))
    drift = [d for d in diags if d["code"] == "E701"]
    assert len(drift) == 1 and "context: 16384 → 8192" in drift[0]["detail"]
    files = drift[0]["extra"]["files"]
    assert files and all(not f.startswith("- ") and ": " in f for f in files)   # data, not markdown


def test_a_hand_edited_artifact_is_drift(tmp_path, capsys):
    spec = _copy_example(tmp_path)
    out = tmp_path / "build"
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    script = out / "support-staging" / "vllm" / "serve.sh"
    script.write_text(script.read_text().replace("--max-num-seqs", "--max-num-seqs 512 #"))
    capsys.readouterr()
    assert cli.main(["check", str(spec), "--against", str(out), "--format", "concise"]) == 1
    assert "E701" in capsys.readouterr().err


def test_locked_build_refuses_a_changed_choice_and_writes_nothing(tmp_path, capsys):
    spec = _copy_example(tmp_path)
    out = tmp_path / "build"
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    before = _tree(out)
    spec.write_text(spec.read_text().replace("context = 16k", "context = 8k"))
    capsys.readouterr()
    assert cli.main(["build", str(spec), "-o", str(out), "--locked"]) == 1
    err = capsys.readouterr().err
    assert "E702" in err and "context: 16384 → 8192" in err
    assert _tree(out) == before
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    assert _tree(out) != before


def test_an_infeasible_spec_fails_the_gate_with_relaxations(tmp_path, capsys):
    spec = tmp_path / "big.llmspec"
    spec.write_text('deployment "big" {\n  model        = "meta-llama/Llama-3.1-70B-Instruct"\n'
                    '  quantization = q4_k_m\n  hardware {\n    gpu = 1 x "RTX 4090"\n  }\n}\n')
    assert cli.main(["check", str(spec), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "E410"
    assert cli.main(["build", str(spec), "-o", str(tmp_path / "out")]) == 1
    assert "add 1 × RTX 4090" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_unknown_gpu_is_malformed_input_with_a_suggestion(tmp_path, capsys):
    spec = tmp_path / "gpu.llmspec"
    spec.write_text('deployment "g" {\n  hardware {\n    gpu = 1 x "RTX 4909"\n  }\n}\n')
    assert cli.main(["check", str(spec), "--format", "github"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("::error file=") and "line=3" in out and "E301" in out and "did you mean 'RTX 4090'" in out


def test_github_annotations_keep_the_changed_choices(tmp_path, capsys):
    annotation = next(line for line in _drift(tmp_path, capsys, "github").splitlines() if "E701" in line)
    assert "Changed choices" in annotation and "context: 16384 → 8192" in annotation   # as full and sarif say


def test_a_renamed_deployment_leaves_its_old_build_reported(tmp_path, capsys):
    spec = _copy_example(tmp_path)
    out = tmp_path / "build"
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    (out / "notes").mkdir()                     # a directory llmc did not write is not its business
    spec.write_text(spec.read_text().replace('deployment "support-staging"', 'deployment "support-stage"'))
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["check", str(spec), "--against", str(out), "--format", "json"]) == 0   # a warning
    found = [d for d in json.loads(capsys.readouterr().out) if d["code"] == "W705"]
    assert [d["summary"].split(" is ")[0] for d in found] == [(out / "support-staging").as_posix()]
    assert "delete" in found[0]["help"]


def test_drift_points_at_the_changed_line_and_says_what_the_change_does(tmp_path, capsys):
    """The annotation lands on the line whose change made the drift (not only the deployment's name), and
    the review sees what the change does to the headline figures."""
    spec = _copy_example(tmp_path)
    assert cli.main(["build", str(spec), "-o", str(tmp_path / "build")]) == 0
    spec.write_text(spec.read_text().replace("concurrency = 2", "concurrency = 8", 1))
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1) if "concurrency = 8" in text)
    capsys.readouterr()
    assert cli.main(["check", str(spec), "--against", str(tmp_path / "build"), "--format", "json"]) == 1
    drift = next(d for d in json.loads(capsys.readouterr().out) if d["code"] == "E701")
    assert drift["span"]["line"] == line
    assert "Expected change:" in drift["detail"] and "TPOT" in drift["detail"]
    assert any(e.startswith("TPOT ") and "→" in e for e in drift["extra"]["expected"])
    assert cli.main(["check", str(spec), "--against", str(tmp_path / "build"), "--format", "github"]) == 1
    assert f"line={line}," in capsys.readouterr().out
