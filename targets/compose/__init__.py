"""Docker Compose: the runtime's pinned image with GPUs reserved, a health check and a model cache."""

from __future__ import annotations

from ...artifacts import Artifact
from ...plan import Plan
from ...names import bracketed
from ...runtimes import profile
from ..base import GENERATED, Container, Target
from ..devices import COMPOSE_DEVICES, COMPOSE_GROUPS, no_image_reason
from ..escape import compose_literal
from ..yamlout import cmap, dump, flow, script

SECRET = "api_key"
HF_TOKEN = "${HF_TOKEN:-}"  # interpolated by Compose from the host's environment, never written here


class ComposeTarget(Target):
    name = "compose"
    GPU = CPU_ONLY = True

    def __init__(self, runtime: Target) -> None:
        super().__init__()
        self.runtime_target = runtime

    def emit(self, plan: Plan) -> list[Artifact]:
        if max(plan.parallelism.nodes, plan.hardware.nodes) > 1:
            self.unsupported("Compose runs on one host; this plan spans several nodes, so no compose.yaml is "
                             "written (see kubernetes/)",
                             help="use the kubernetes manifests, or the instructions in README.md")
            return []
        if reason := no_image_reason(plan):
            self.unsupported(reason, help="drop `emit = [compose]`; the launch script runs the server natively")
            return []
        box = self.runtime_target.container(plan)
        runtime = profile(plan.runtime.name)
        service = runtime.service_name
        services = cmap()
        if box.fetch_script:
            services["model-download"] = self.fetch_service(box)
        services[service] = self.service(plan, box)
        doc = cmap(("name", plan.deployment), ("services", services))
        if box.cache_volume:
            doc["volumes"] = cmap((box.cache_volume, cmap()))
        if plan.serving.api_key_env and box.secret_env:
            doc["secrets"] = cmap((SECRET, cmap(("environment", plan.serving.api_key_env))),
                                  comments={SECRET: f"read from ${plan.serving.api_key_env} when the stack starts"})
        header = f"{GENERATED}\nDocker Compose for deployment \"{plan.deployment}\" ({plan.runtime.name} {plan.runtime.version})."
        if runtime.create_script:
            header += (f"\nAfter `docker compose up -d`, register the model with {runtime.create_script} "
                       "(it talks to the published port).")
        return [self.file("compose.yaml", dump(doc, header))]

    def fetch_service(self, box: Container):
        """A one-shot service that downloads the GGUF into the cache volume with the image's own curl."""
        svc = cmap(("image", compose_literal(box.image)), ("entrypoint", flow(["/bin/sh", "-c"])),
                   ("command", [script(compose_literal(box.fetch_script))]),
                   ("environment", cmap(("HF_TOKEN", HF_TOKEN))),
                   ("volumes", [f"{box.cache_volume}:{box.cache_path}"]), ("restart", "no"),
                   comments={"environment": "sent only when set, for gated repos"})
        return svc

    def service(self, plan: Plan, box: Container):
        svc = cmap(("image", compose_literal(box.image)), comments={"image": "pinned tag, never latest"})
        if box.entrypoint:
            svc["entrypoint"] = flow(list(box.entrypoint))
        if box.args:
            svc["command"] = [compose_literal(a) for a in box.args]
        self.api_key(plan, box, svc)
        svc["ports"] = [f"{bracketed(plan.serving.host)}:{plan.serving.port}:{box.port}"]
        svc.yaml_add_eol_comment("bound to the spec's serve.host (loopback unless it says otherwise)", "ports")
        env = cmap(*((k, compose_literal(v)) for k, v in sorted(box.env.items())))
        if box.hub_repos and "HF_TOKEN" not in env:
            env["HF_TOKEN"] = HF_TOKEN
            env.yaml_add_eol_comment("from the host's environment when set, for gated repos", "HF_TOKEN")
        if env:
            svc["environment"] = env
        svc["volumes"] = [f"{box.cache_volume}:{box.cache_path}", *(bind_mount(src, dst) for src, dst in box.local_files)]
        if box.fetch_script:
            svc["depends_on"] = cmap(("model-download", cmap(("condition", "service_completed_successfully"))))
            svc.yaml_add_eol_comment("starts once the GGUF is in the volume", "depends_on")
        if box.ipc_host:
            svc["ipc"] = "host"
            svc.yaml_add_eol_comment("PyTorch workers share memory through /dev/shm", "ipc")
        if box.ulimits:
            svc["ulimits"] = cmap(*box.ulimits.items())
        self.gpu_access(plan, svc)
        svc["healthcheck"] = cmap(("test", flow(["CMD", *box.health_cmd])), ("interval", "30s"), ("timeout", "10s"),
                                  ("retries", 5), ("start_period", f"{box.start_period_s}s"),
                                  comments={"start_period": "model download and load can take many minutes"})
        svc["restart"] = "unless-stopped"
        return svc

    def gpu_access(self, plan: Plan, svc) -> None:
        gpus, backend = plan.hardware.gpus_per_node, plan.runtime.backend
        if not gpus:
            return
        if backend in COMPOSE_DEVICES:
            svc["devices"] = list(COMPOSE_DEVICES[backend])
            svc.yaml_add_eol_comment(f"{backend}: the GPU device nodes", "devices")
            if backend in COMPOSE_GROUPS:
                svc["group_add"] = list(COMPOSE_GROUPS[backend])
            return
        device = cmap(("driver", "nvidia"), ("count", gpus), ("capabilities", flow(["gpu"])))
        svc["deploy"] = cmap(("resources", cmap(("reservations", cmap(("devices", [device]))))))

    def api_key(self, plan: Plan, box: Container, svc) -> None:
        if not plan.serving.api_key_env:
            return
        if not box.secret_env:
            if self.runtime_target.API_KEY:
                self.unsupported(f"the {plan.runtime.name} container gets no API key here; "
                                 "set it on the command line inside your own secret handling")
            return
        svc["secrets"] = [SECRET]
        runtime = profile(plan.runtime.name)
        if runtime.api_key_env:
            # the runtime reads its key from the environment (vLLM: VLLM_API_KEY): load it from the secret
            # file, then hand over to the image's own server command.
            serve, key = " ".join(runtime.serve_command), runtime.api_key_env
            svc["entrypoint"] = flow(["/bin/sh", "-c", f'{key}="$$(cat /run/secrets/{SECRET})" exec {serve} "$$@"',
                                      runtime.serve_command[0]])
            svc.yaml_add_eol_comment(f"the image's `{serve}`, with {key} read from the secret", "entrypoint")


def bind_mount(source: str, target: str):
    """The long volume syntax: a host path may hold `:` (the short syntax's separator) or `$`."""
    return cmap(("type", "bind"), ("source", compose_literal(source)), ("target", compose_literal(target)),
                ("read_only", True))
