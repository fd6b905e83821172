"""Calibration on this machine's CPU: predictions before and after runs of one case, on shapes not fitted.

    python benchmarks/calibration_cpu.py        # build, smoke and rebuild every case; print the errors

The host is what `llmc detect` finds here (cores, measured bandwidth), written into every spec as a user
would paste it, with the instructions of the llama-server under test (an AVX2 build: tools.LLAMA_SERVER_ISA).
Each case is built with `llmc build --no-calibration` ("before"), then run with
`llmc smoke` (the real llama-server, the plan's workload). The fit uses one case only: gemma-3-270m Q4_K_M
at one user, run first and again after the others (two records in a scratch store: this VM's speed drifts
by 20% between runs minutes apart, and one run's drift would be learnt as the machine's); every other case,
a generated GGUF of another shape or gemma at another prompt length or concurrency, is rebuilt with `--calibration STORE` ("after")
and compared with its own run, which the fit never saw. Printed: TTFT and TPOT (smoke's medians; a
generated model's TPOT from the server's /metrics, see `smoke`) measured, before and after, and the median
and worst error of the held-out rows.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORT = 18991


@dataclass(frozen=True)
class Case:
    name: str
    model: str                 # "gemma" or a generated shape's name
    concurrency: int
    prompt: int
    output: int
    fit: bool = False          # the one run the calibration learns from


# Generated llama-architecture GGUFs (tests/support/tiny_gguf.py), random weights; the vocabulary is the byte
# tokens alone (no unused entries, which greedy decoding of random weights may repeat as empty text).
SHAPES = {
    "llama-d1024-l8-f16": dict(n_layer=8, n_embd=1024, n_head=16, n_head_kv=4, n_ff=2816, n_vocab=262,
                                weight_type="f16"),
    "llama-d2048-l4-q8_0": dict(n_layer=4, n_embd=2048, n_head=16, n_head_kv=8, n_ff=5632, n_vocab=262,
                                 weight_type="q8_0"),
    "llama-d512-l24-f16": dict(n_layer=24, n_embd=512, n_head=8, n_head_kv=8, n_ff=1408, n_vocab=262, seed=1,
                                weight_type="f16"),
}
CASES = (
    Case("gemma-3-270m, 1 user (fitted)", "gemma", 1, 256, 64, fit=True),
    Case("gemma-3-270m, 1 user, 1k prompt", "gemma", 1, 1024, 64),
    Case("gemma-3-270m, 4 users", "gemma", 4, 256, 32),
    *(Case(f"{name}, 1 user", name, 1, 256, 64) for name in SHAPES),
    Case("llama-d1024-l8-f16, 2 users", "llama-d1024-l8-f16", 2, 256, 32),
)

SPEC = """deployment "{name}" {{
  model = local("{model}")
  workload {{
    task        = chat
    concurrency = {concurrency}
    prompt      = {prompt} tokens
    output      = {output} tokens
  }}
  context = 4k tokens
  serve {{ port = {port} }}
{hardware}}}
"""


ENV = dict(os.environ)


def llmc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmc.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=ENV)


def detected_host(work: Path, isa: tuple[str, ...]) -> str:
    """`llmc detect`'s block, its instructions those of the llama-server under test (tools.LLAMA_SERVER_ISA)."""
    proc = llmc("detect", cwd=work)
    if proc.returncode != 0:
        raise SystemExit(f"llmc detect failed:\n{proc.stderr}")
    lines = [line.split("#")[0].rstrip() for line in proc.stdout.splitlines()]
    lines = [f"    isa = [{', '.join(isa)}]" if line.split("=")[0].strip() == "isa" else line for line in lines]
    return "\n".join("  " + line for line in lines) + "\n"


def build(work: Path, case: Case, index: int, model: Path, hardware: str, calibration: list[str]) -> dict:
    name = f"case{index}"
    spec = work / f"{name}.llmspec"
    spec.write_text(SPEC.format(name=name, model=model, concurrency=case.concurrency, prompt=case.prompt,
                                output=case.output, port=PORT, hardware=hardware), encoding="utf-8")
    proc = llmc("build", str(spec), "-o", str(work / "build"), *calibration, cwd=work)
    if proc.returncode != 0:
        raise SystemExit(f"llmc build of {case.name} failed:\n{proc.stderr}")
    return json.loads((work / "build" / name / "plan.json").read_text())["performance"]


def smoke(work: Path, case: Case, index: int, record: Path | None) -> dict:
    """smoke's medians, as its calibration record keeps them; for a generated model the TPOT is the server's
    own time per generated token instead: its tokens are random bytes, which reach the client in bursts (an
    incomplete UTF-8 sequence waits for the next token), so the client's token gaps are not the server's."""
    args = ["--record", str(record)] if record else ["--no-record"]
    proc = llmc("smoke", str(work / "build" / f"case{index}"), "--format", "json", "--requests", "8", *args, cwd=work)
    report = json.loads(proc.stdout)
    if not report["latency"]:
        raise SystemExit(f"llmc smoke of case {index} failed:\n{json.dumps(report['checks'], indent=1)}")
    metrics = report["runtime_metrics"]
    tpot = report["latency"]["tpot_s"]["p50"] if case.model == "gemma" else \
        metrics["llamacpp:tokens_predicted_seconds_total"] / metrics["llamacpp:tokens_predicted_total"]
    return {"ttft_s": report["latency"]["ttft_s"]["p50"], "tpot_s": tpot}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.support import tools
    from tests.support.tiny_gguf import write_tiny_gguf

    work = Path(tempfile.mkdtemp(prefix="llmc-calibration-"))
    ENV["LLAMA_SERVER"] = str(tools.llama_server())   # what the launch scripts run; built once into the cache
    models = {"gemma": tools.gemma_gguf(), **{n: write_tiny_gguf(work / f"{n}.gguf", **s) for n, s in SHAPES.items()}}
    hardware = detected_host(work, tools.LLAMA_SERVER_ISA)
    print("host, as `llmc detect` found it (isa: the test build's):\n" + hardware)
    store = work / "runs.jsonl"
    rows = []
    for i, case in enumerate(CASES):
        before = build(work, case, i, models[case.model], hardware, ["--no-calibration"])
        measured = smoke(work, case, i, store if case.fit else None)
        rows.append((case, before, measured))
    for i, case in enumerate(CASES):   # the fitted case once more, minutes later: two runs of it, not one
        if case.fit:
            smoke(work, case, i, store)
    out = ["| case | TTFT measured | before | after | TPOT measured | before | after |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    errors = {"before": [], "after": []}
    for i, (case, before, measured) in enumerate(rows):
        after = build(work, case, i, models[case.model], hardware, ["--calibration", str(store)])
        cells = []
        for figure in ("ttft_s", "tpot_s"):
            m = measured[figure]
            b, a = before[figure]["value"], after[figure]["value"]
            cells += [f"{m * 1000:.1f} ms", f"{b * 1000:.1f} ms ({b / m - 1:+.0%})", f"{a * 1000:.1f} ms ({a / m - 1:+.0%})"]
            if not case.fit:
                errors["before"].append(abs(b / m - 1))
                errors["after"].append(abs(a / m - 1))
        runs = after["calibration"]["runs"]
        out.append(f"| {case.name}{'' if runs else ' (no record matched)'} | " + " | ".join(cells) + " |")
    print("\n".join(out))
    for when, errs in errors.items():
        print(f"\n{when} calibration, held-out rows (TTFT and TPOT, {len(errs)} figures): "
              f"median |error| {statistics.median(errs):.0%}, worst {max(errs):.0%}", end="")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
