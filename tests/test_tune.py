"""`llmc tune` on this CPU with the real llama-server and gemma-3-270m: the planned run first (recorded for
calibration), then settings near it; the fastest is written back into the build, pins are left alone."""

from __future__ import annotations

import json
import subprocess
import sys

from llmc.plan import Plan
from tests.support import smoke_plans as sp
from tests.support.smoke_run import smoke_env

SPEC = """deployment "tuned" {{
  model   = local("{model}")
  runtime = llama.cpp
  workload {{
    task        = chat
    concurrency = 1
    prompt      = 128 tokens
    output      = 16 tokens
  }}
  context = 2k tokens
  hardware {{
    gpu    = none
    memory = 16 GiB
    cores  = 2
  }}
  serve {{
    port = {port}
  }}
  settings {{
    ubatch_size = 512
  }}
}}
"""


def test_tune_finds_the_faster_thread_count_writes_it_back_and_leaves_pins_alone(tmp_path, gemma_path):
    (tmp_path / ".llmc" / "calibration").mkdir(parents=True)
    spec = tmp_path / "tuned.llmspec"
    spec.write_text(SPEC.format(model=gemma_path, port=sp.free_port()))
    llmc = [sys.executable, "-m", "llmc.cli"]
    subprocess.run([*llmc, "build", str(spec), "-o", str(tmp_path / "build")], check=True, capture_output=True)
    build_dir = tmp_path / "build" / "tuned"
    # the build as a worse plan would have it: one thread on a two-core host
    plan = Plan.from_json((build_dir / "plan.json").read_text())
    assert plan.settings.threads == 2 and plan.pinned == ("ubatch_size",)
    slow = plan.model_copy(update={"settings": plan.settings.model_copy(update={"threads": 1})})
    (build_dir / "plan.json").write_text(slow.to_json())

    proc = subprocess.run([*llmc, "tune", str(build_dir), "--requests", "3", "--max-trials", "4"], cwd=tmp_path,
                          env=smoke_env(), capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not searched: ubatch_size (pinned by the spec)" in proc.stdout
    assert "threads 1 → 2" in proc.stdout and "settings { threads = 2 }" in proc.stdout

    tuned = Plan.from_json((build_dir / "plan.json").read_text())
    measured = tuned.performance.measured
    assert tuned.settings.threads == 2 and tuned.settings.ubatch_size == 512
    assert measured.planned == {"threads": 1} and measured.chosen == {"threads": 2} and measured.trials >= 2
    assert measured.ttft_s > 0 and measured.tpot_s > 0
    assert "-t 2" in (build_dir / "llama.cpp" / "llama-server.sh").read_text()
    assert "llmc tune, 2 trials: threads 1 → 2" in (build_dir / "PLAN.md").read_text()
    assert not (tmp_path / "build" / ".tuned.tune").exists()     # the scratch build is gone

    records = (tmp_path / ".llmc" / "calibration" / "runs.jsonl").read_text().splitlines()
    assert len(records) == 1                                      # the planned run, for calibration
    record = json.loads(records[0])
    assert record["origin"] == "tune" and record["settings"]["threads"] == 1
