"""`llmc detect`: NVML -> a hardware { ... } block; without a GPU or driver it says so and exits 1."""

from __future__ import annotations

import json
import subprocess
import sys

import pynvml

from llmc.catalog import load_catalog
from llmc.commands.detect import DetectedGpu, hardware_block, match_gpu
from llmc.parse import parse
from llmc.source import SourceFile


def nvml_available() -> bool:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


def test_detect_reports_this_machine():
    """Without the driver (the dev box): W308 and the CPU host's block, exit 0. With one (a GPU runner): the GPUs."""
    done = subprocess.run([sys.executable, "-m", "llmc.cli", "detect"], capture_output=True, text=True)
    assert "Traceback" not in done.stderr and done.returncode == 0
    if nvml_available():
        assert done.stdout.startswith("hardware {\n  gpu")
    else:
        assert "W308" in done.stderr and "NVML" in done.stderr
        assert done.stdout.startswith("hardware {\n  gpu              = none")
        for field in ("memory ", "cores ", "memory_bandwidth "):
            assert f"\n  {field}" in done.stdout, field
        assert "measured:" in done.stdout and "read: /proc/cpuinfo" in done.stdout


def test_the_detected_cpu_host_is_a_spec_llmc_plans_for(tmp_path):
    """The block pasted into a spec builds, and the plan uses what it states: -t from the cores."""
    from llmc.commands.detect import cpu_block, probe_cpu

    host = probe_cpu(read_bytes=16 << 20)
    assert host.cores and host.cores >= 1 and host.bandwidth_bytes_per_s > 1e8
    body = "".join("  " + line + "\n" for line in cpu_block(host).splitlines())
    spec = tmp_path / "cpu.llmspec"
    spec.write_text('deployment "cpu" {\n  model = "google/gemma-3-270m-it"\n' + body + "}\n")
    done = subprocess.run([sys.executable, "-m", "llmc.cli", "build", str(spec), "-o", str(tmp_path / "b")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    script = (tmp_path / "b" / "cpu" / "llama.cpp" / "llama-server.sh").read_text()
    assert f"-t {host.cores}" in script


def gpu(name: str, memory_gib: int, index: int = 0) -> DetectedGpu:
    catalog = load_catalog()[0]
    return DetectedGpu(index=index, name=name, memory_bytes=memory_gib * 2**30, compute_capability="8.9",
                       driver="580.00", catalog_name=match_gpu(catalog, name, memory_gib * 2**30))


def test_nvml_names_map_to_catalog_names():
    catalog = load_catalog()[0]
    assert match_gpu(catalog, "NVIDIA GeForce RTX 4090", 24 * 2**30) == "RTX 4090"
    assert match_gpu(catalog, "NVIDIA H100 80GB HBM3", 80 * 2**30) == "H100 SXM"
    assert match_gpu(catalog, "NVIDIA Quantum Widget 9000", 8 * 2**30) is None


def test_two_identical_gpus_make_one_group():
    block = hardware_block([gpu("NVIDIA GeForce RTX 4090", 24, 0), gpu("NVIDIA GeForce RTX 4090", 24, 1)], 128 * 2**30)
    assert block == 'hardware {\n  gpu    = 2 x "RTX 4090"\n  memory = 128 GiB\n}\n'


def test_mixed_and_unknown_gpus():
    block = hardware_block([gpu("NVIDIA GeForce RTX 4090", 24), gpu("NVIDIA Quantum Widget 9000", 8, 1)], None)
    assert 'gpu = [1 x "RTX 4090", 1 x "NVIDIA Quantum Widget 9000"]' in block
    assert '"NVIDIA Quantum Widget 9000" is not in the catalog' in block


def test_the_block_is_valid_llmspec():
    block = hardware_block([gpu("NVIDIA L40S", 48), gpu("NVIDIA L40S", 48, 1)], 64 * 2**30)
    text = 'deployment "x" {\n' + "".join("  " + line + "\n" for line in block.splitlines()) + "}\n"
    tree, diagnostics = parse(SourceFile(path="detected.llmspec", text=text))
    assert tree is not None and diagnostics == []


def test_detect_json():
    done = subprocess.run([sys.executable, "-m", "llmc.cli", "detect", "--json"], capture_output=True, text=True)
    data = json.loads(done.stdout)
    assert done.returncode == 0 and data["hardware"].startswith("hardware {")
    if nvml_available():
        assert data["gpus"]
    else:
        assert data["gpus"] == [] and data["cpu"]["cores"] >= 1
