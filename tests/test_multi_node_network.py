"""Multi-node plans name the NIC NCCL and Gloo bootstrap on, and request an RDMA device per pod, when the
spec says so (`hardware { interface = "...", rdma = "..." }`); checked with the real Kubernetes schemas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
LLMC = str(Path(sys.executable).with_name("llmc"))


def build(tmp_path: Path, extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    text = (REPO / "examples" / "moe-2x8-h100.llmspec").read_text()
    spec = tmp_path / "s.llmspec"
    spec.write_text(text.replace("    nodes  = 2\n", "    nodes  = 2\n" + extra))
    result = subprocess.run([LLMC, "build", str(spec), "-o", str(tmp_path / "out")], capture_output=True,
                            text=True, timeout=120)
    return result, tmp_path / "out" / "deepseek-cluster"


def test_the_interface_and_the_rdma_device_reach_every_pod(tmp_path):
    result, out = build(tmp_path, '    interface = "ens1f0"\n    rdma = "rdma/hca"\n')
    assert result.returncode == 0, result.stderr
    lws = YAML(typ="safe").load((out / "kubernetes" / "leaderworkerset.yaml").read_text())
    template = lws["spec"]["leaderWorkerTemplate"]
    for pod in (template["leaderTemplate"]["spec"], template["workerTemplate"]["spec"]):
        [server] = pod["containers"]
        env = {e["name"]: e.get("value") for e in server["env"]}
        assert env["NCCL_SOCKET_IFNAME"] == env["GLOO_SOCKET_IFNAME"] == "ens1f0"
        assert server["resources"]["limits"]["rdma/hca"] == 1
    assert "export NCCL_SOCKET_IFNAME=ens1f0" in (out / "vllm" / "serve.sh").read_text()


def test_a_value_outside_the_grammar_is_an_error(tmp_path):
    result, _ = build(tmp_path, '    interface = "eth0; reboot"\n')
    assert result.returncode == 2 and "not a network interface name" in result.stderr
