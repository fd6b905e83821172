"""The build directory's README.md: how to start the deployment, what it uses per device, how to smoke-test it."""

from __future__ import annotations

from ...artifacts import Artifact
from ...diagnostics import Diagnostic
from ...plan import Plan
from ...names import client_url
from ...runtimes import profile
from ..base import Target
from ..kubernetes import hf_token_secret, secret_name

GIB = 1024**3


class ReadmeTarget(Target):
    name = "readme"

    def emit(self, plan: Plan) -> list[Artifact]:
        return self.emit_readme(plan, [plan.runtime.name], [], [])

    def emit_readme(self, plan: Plan, targets: list[str], artifacts: list[Artifact],
                    diagnostics: list[Diagnostic]) -> list[Artifact]:
        runtime = profile(plan.runtime.name)   # the template reads the profile's fields, never the name
        text = self.render("README.md.j2", plan=plan, runtime=runtime, targets=targets, start=runtime.launcher,
                           files=sorted(a.path for a in artifacts), diagnostics=diagnostics,
                           devices=[device_row(d) for d in plan.memory.devices], base_url=client_url(plan.serving.host, plan.serving.port),
                           nodes=max(plan.parallelism.nodes, plan.hardware.nodes),
                           secret_name=secret_name(plan), hf_token_secret=hf_token_secret(plan.deployment), hello_request=hello_request(plan))
        return [Artifact(path="README.md", content=text)]


def gib(n: int) -> str:
    return f"{n / GIB:.2f}"


def device_row(d) -> dict:
    return {"device": d.device, "weights": gib(d.weights_bytes), "kv": gib(d.kv_cache_bytes),
            "compute": gib(d.compute_bytes), "overhead": gib(d.overhead_bytes), "total": gib(d.total_bytes),
            "capacity": gib(d.capacity_bytes)}


def hello_request(plan: Plan) -> dict:
    return {"model": plan.serving.served_name, "messages": [{"role": "user", "content": "Say hello."}],
            "max_tokens": 16}
