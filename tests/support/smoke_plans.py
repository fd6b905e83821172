"""Build directories for the smoke tests: a Plan for llama.cpp on a CPU host, and its emitted script.

The model comes from llmc's local import of the GGUF (llmc.catalog.local: header and exact tensor
bytes), the KV and compute predictions from llmc.estimate; the launcher is what the real llama.cpp
target emits for the plan.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from llmc.artifacts import Artifact, write_atomically
from llmc.catalog.local import import_local
from llmc.catalog.schema import KvType
from llmc.estimate.from_file import weights_from_tensors
from llmc.estimate.memory import HardwareView, MemorySettings, ParallelView, plan_memory
from llmc.plan import (Estimate, Hardware, ModelRef, Parallelism, Performance, Plan, RuntimeRef, Serving, Settings,
                       Targets, Workload)
from llmc.targets.compose import ComposeTarget
from llmc.targets.llamacpp import LlamaCppTarget

F16 = KvType(id="f16", bits=16, runtimes={"llama.cpp": "f16"}, source="test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_llama_plan(model_path: Path, *, port: int, context: int = 2048, slots: int = 2, prompt_tokens: int = 64,
                   output_tokens: int = 16, targets: Targets = Targets(),
                   ttft: Estimate | None = None, tpot: Estimate | None = None) -> Plan:
    """A plan that serves `model_path` with llama.cpp on this CPU host; its memory is llmc.estimate's.

    `context` is per sequence, as plan.context holds it: llama-server gets -c context x slots.
    """
    local = import_local(model_path)
    model = local.model
    weights = weights_from_tensors(model, local.tensors, local.format)
    est_memory = plan_memory(model, weights, None, F16, "llama.cpp", HardwareView(host_ram_bytes=24 * 2**30),
                             ParallelView(), context, slots, MemorySettings(flash_attention=True))
    est = Estimate(value=0.05, low=0.01, high=0.5)
    return Plan(
        llmc_version="0.1.0", deployment=model_path.stem,
        workload=Workload(task="chat", concurrency=slots, prompt_tokens=prompt_tokens, output_tokens=output_tokens),
        model=ModelRef(id=model.id, name=model.name, format=local.format, source="local", path=str(model_path),
                       architecture=model.architecture, license=model.license.id, max_context=model.max_context,
                       n_layers=model.n_layers),
        runtime=RuntimeRef(name="llama.cpp", version="0c1e57098", image="ghcr.io/ggml-org/llama.cpp:server-b6000",
                           health_path="/health", default_port=8080),
        kv_cache={"type": "f16"}, context=context, slots=slots, parallelism=Parallelism(),
        hardware=Hardware(gpu=None, gpus_per_node=0, host_memory_bytes=24 * 2**30),
        settings=Settings(flash_attention="on"),
        serving=Serving(host="127.0.0.1", port=port, served_name=model.name),
        memory=est_memory.to_plan(),
        performance=Performance(ttft_s=ttft or est, tpot_s=tpot or est,
                                throughput_tok_s=Estimate(value=50, low=10, high=500)),
        targets=targets, binding_constraint="test", score=1.0, emit=("llama.cpp",))


def write_build_dir(directory: Path, plan: Plan, *, script: str | None = None, compose: bool = False) -> Path:
    """plan.json plus llama.cpp/llama-server.sh: the real target's script, or `script` in its place;
    with `compose`, also the real compose target's compose.yaml."""
    if script is None:
        artifacts = LlamaCppTarget().emit(plan)
    else:
        artifacts = [Artifact(path="llama.cpp/llama-server.sh", content=script, mode=0o755)]
    if compose:
        artifacts += ComposeTarget(LlamaCppTarget()).emit(plan)
    write_atomically(directory, [Artifact(path="plan.json", content=plan.to_json()), *artifacts])
    return directory


def bad_flag_script(plan: Plan) -> str:
    """The real script with a flag llama-server rejects at start."""
    return LlamaCppTarget().emit(plan)[0].content.replace("--metrics", "--metrics --no-such-flag")


def fake_server_script(port: int, *, stubborn_child: bool = False) -> str:
    fake = Path(__file__).with_name("fake_server.py")
    extra = " --stubborn-child" if stubborn_child else ""
    return (f"#!/usr/bin/env bash\nset -euo pipefail\nexec {_python()} {fake} --port {port}{extra}\n")


def _python() -> str:
    import sys

    return os.path.realpath(sys.executable)


SPEC = """\
deployment "{name}" {{
  workload {{
    task        = chat
    concurrency = {concurrency}
    prompt      = {prompt} tokens
    output      = {output} tokens
    spread      = 0   # every request alike: the checks count its tokens exactly
  }}

  context = {context} tokens

  hardware {{
    gpu    = none
    memory = 16 GiB
  }}

  model   = local("{model}")
  runtime = llama.cpp

  serve {{
    port = {port}
  }}
}}
"""


def llmc_build(directory: Path, model_path: Path, *, name: str, port: int, concurrency: int = 1, prompt: int = 128,
               output: int = 16, context: str = "2k", extra: tuple[str, ...] = ()) -> Path:
    """Write a CPU-host spec for `model_path` and compile it with the real `llmc build`; returns the build dir."""
    import subprocess
    import sys

    directory.mkdir(parents=True, exist_ok=True)
    spec = directory / f"{name}.llmspec"
    spec.write_text(SPEC.format(name=name, concurrency=concurrency, prompt=prompt, output=output, context=context,
                                model=model_path, port=port), encoding="utf-8")
    out = directory / "build"
    result = subprocess.run([sys.executable, "-m", "llmc.cli", "build", str(spec), "-o", str(out), *extra],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"llmc build failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return out / name
