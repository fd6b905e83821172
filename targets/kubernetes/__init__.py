"""Kubernetes: Deployment + Service + PVC on one node; a LeaderWorkerSet with Ray for multi-node vLLM.

Why LeaderWorkerSet rather than KubeRay: vLLM's own docs (docs/deployment/frameworks/lws.md) ship it
with the image's examples/online_serving/multi-node-serving.sh, so it needs no Ray operator; the
group (leader + workers) is scheduled and restarted as one unit. See docs/targets/kubernetes.md.
"""

from __future__ import annotations

import math

from ...artifacts import Artifact
from ...plan import Plan
from ..base import GENERATED, Container, Target
from ..escape import kubernetes_literal, sh
from ..yamlout import cmap, dump, script

GIB = 1024**3
SECRET_KEY = "api-key"
RAY_SCRIPT = "bash /vllm-workspace/examples/online_serving/multi-node-serving.sh"


class KubernetesTarget(Target):
    name = "kubernetes"
    directory = "kubernetes"
    GPU = CPU_ONLY = MULTI_NODE = True

    def __init__(self, runtime: Target) -> None:
        super().__init__()
        self.runtime_target = runtime

    def emit(self, plan: Plan) -> list[Artifact]:
        box = self.runtime_target.container(plan)
        name = plan.deployment  # an RFC 1035 label (the front end's E207): a valid name for every object
        header = f"{GENERATED}\nKubernetes for deployment \"{plan.deployment}\" ({plan.runtime.name} {plan.runtime.version})."
        nodes = max(plan.parallelism.nodes, plan.hardware.nodes)
        service = self.service(name, box)
        if box.local_files:
            self.unsupported("a local() model is not reachable from a pod; copy it into the cache volume "
                             f"(model-cache) at {box.local_files[0][1]}, the path the server loads")
        if plan.serving.api_key_env and plan.runtime.name != "vllm" and not box.secret_env \
                and self.runtime_target.API_KEY:
            self.unsupported(f"the {plan.runtime.name} pod gets no API key; add it from a Secret yourself")
        if nodes > 1:
            if plan.runtime.name != "vllm":
                self.unsupported(f"multi-node {plan.runtime.name} has no emitted Kubernetes path; "
                                 "only vLLM's LeaderWorkerSet is generated")
                return []
            return [self.file("leaderworkerset.yaml", dump(self.leader_worker_set(plan, name, box, nodes), header)),
                    self.file("service.yaml", dump(service, header))]
        return [self.file("deployment.yaml", dump(self.deployment(plan, name, box), header)),
                self.file("service.yaml", dump(service, header)),
                self.file("pvc.yaml", dump(self.pvc(plan, name), header))]

    def container(self, plan: Plan, name: str, box: Container, args: list[str] | None = None,
                  command: list[str] | None = None, probes: bool = True):
        c = cmap(("name", name), ("image", box.image))
        if command or box.entrypoint:
            c["command"] = list(command or box.entrypoint or ())
        if args if args is not None else box.args:
            c["args"] = list(args) if args is not None else [kubernetes_literal(a) for a in box.args]
        c["ports"] = [cmap(("name", "http"), ("containerPort", box.port))]
        env = [cmap(("name", k), ("value", kubernetes_literal(v))) for k, v in sorted(box.env.items())]
        if plan.serving.api_key_env and plan.runtime.name == "vllm":
            env.append(cmap(("name", "VLLM_API_KEY"), ("valueFrom", cmap(("secretKeyRef", cmap(
                ("name", secret_name(plan)), ("key", SECRET_KEY)))))))
        if env:
            c["env"] = env
        gpus = plan.hardware.gpus_per_node
        if gpus:
            c["resources"] = cmap(("limits", cmap(("nvidia.com/gpu", gpus))))
        if probes:
            self.probes(c, box)
        mounts = [cmap(("name", "model-cache"), ("mountPath", box.cache_path))]
        if box.ipc_host:
            mounts.append(cmap(("name", "dshm"), ("mountPath", "/dev/shm")))
        if plan.serving.api_key_env and "api_key" in box.secret_env:
            mounts.append(cmap(("name", "api-key"), ("mountPath", "/run/secrets"), ("readOnly", True)))
        c["volumeMounts"] = mounts
        return c

    def fetch_container(self, name: str, box: Container):
        """Downloads the GGUF into the cache volume once, with the image's own curl."""
        token = cmap(("name", "HF_TOKEN"), ("valueFrom", cmap(("secretKeyRef", cmap(
            ("name", f"{name}-hf-token"), ("key", "token"), ("optional", True))))))
        return cmap(("name", "model-download"), ("image", box.image), ("command", ["/bin/sh", "-c"]),
                    ("args", [script(kubernetes_literal(box.fetch_script))]), ("env", [token]),
                    ("volumeMounts", [cmap(("name", "model-cache"), ("mountPath", box.cache_path))]),
                    comments={"env": "an optional Secret for gated repos"})

    def probes(self, c, box: Container) -> None:
        def probe(period: int, failures: int):
            if box.health_path:
                action = ("httpGet", cmap(("path", box.health_path), ("port", "http")))
            else:
                action = ("exec", cmap(("command", list(box.health_cmd))))
            return cmap(action, ("periodSeconds", period), ("failureThreshold", failures))
        c["startupProbe"] = probe(10, max(1, box.start_period_s // 10))
        c.yaml_add_eol_comment("allows the model download and load before liveness applies", "startupProbe")
        c["readinessProbe"] = probe(10, 3)
        c["livenessProbe"] = probe(30, 3)

    def volumes(self, plan: Plan, name: str, box: Container, claim: str | None):
        cache = ("persistentVolumeClaim", cmap(("claimName", claim))) if claim else ("emptyDir", cmap())
        vols = [cmap(("name", "model-cache"), cache)]
        if box.ipc_host:
            vols.append(cmap(("name", "dshm"), ("emptyDir", cmap(("medium", "Memory")))))
        if plan.serving.api_key_env and "api_key" in box.secret_env:
            vols.append(cmap(("name", "api-key"), ("secret", cmap(("secretName", secret_name(plan)), ("items", [
                cmap(("key", SECRET_KEY), ("path", "api_key"))])))))
        return vols

    def deployment(self, plan: Plan, name: str, box: Container):
        pod = cmap()
        if box.fetch_script:
            pod["initContainers"] = [self.fetch_container(name, box)]
        pod["containers"] = [self.container(plan, plan.runtime.name.replace(".", "-"), box)]
        pod["volumes"] = self.volumes(plan, name, box, f"{name}-cache")
        labels = cmap(("app.kubernetes.io/name", name))
        spec = cmap(("replicas", 1), ("selector", cmap(("matchLabels", labels))),
                    ("strategy", cmap(("type", "Recreate"))),
                    ("template", cmap(("metadata", cmap(("labels", cmap(*labels.items())))), ("spec", pod))),
                    comments={"strategy": "GPUs and the RWO cache volume cannot be held by two pods at once"})
        return cmap(("apiVersion", "apps/v1"), ("kind", "Deployment"), ("metadata", cmap(("name", name))), ("spec", spec))

    def service(self, name: str, box: Container):
        selector = cmap(("app.kubernetes.io/name", name))
        spec = cmap(("type", "ClusterIP"), ("selector", selector),
                    ("ports", [cmap(("name", "http"), ("port", box.port), ("targetPort", "http"))]),
                    comments={"type": "cluster-internal; expose through your ingress with authentication"})
        return cmap(("apiVersion", "v1"), ("kind", "Service"), ("metadata", cmap(("name", name))), ("spec", spec))

    def pvc(self, plan: Plan, name: str):
        weights = sum(d.weights_bytes for d in plan.memory.devices) * max(1, plan.parallelism.replicas)
        size = max(10, math.ceil(weights * 1.25 / GIB) + 5)
        spec = cmap(("accessModes", ["ReadWriteOnce"]), ("resources", cmap(("requests", cmap(("storage", f"{size}Gi"))))))
        spec.yaml_add_eol_comment("the weights plus 25% and 5 GiB of headroom", "resources")
        return cmap(("apiVersion", "v1"), ("kind", "PersistentVolumeClaim"), ("metadata", cmap(("name", f"{name}-cache"))),
                    ("spec", spec))

    def leader_worker_set(self, plan: Plan, name: str, box: Container, nodes: int):
        serve = kubernetes_literal(" ".join(sh(a) for a in ("vllm", "serve", *box.args)))
        leader_cmd = f"{RAY_SCRIPT} leader --ray_cluster_size=$(LWS_GROUP_SIZE); {serve}"
        worker_cmd = f"{RAY_SCRIPT} worker --ray_address=$(LWS_LEADER_ADDRESS)"
        leader = self.container(plan, "vllm-leader", box, args=[leader_cmd], command=["sh", "-c"])
        worker = self.container(plan, "vllm-worker", box, args=[worker_cmd], command=["sh", "-c"], probes=False)
        labels = cmap(("app.kubernetes.io/name", name), ("role", "leader"))
        template = cmap(
            ("size", nodes), ("restartPolicy", "RecreateGroupOnPodRestart"),
            ("leaderTemplate", cmap(("metadata", cmap(("labels", labels))),
                                    ("spec", cmap(("containers", [leader]), ("volumes", self.volumes(plan, name, box, None)))))),
            ("workerTemplate", cmap(("spec", cmap(("containers", [worker]),
                                                   ("volumes", self.volumes(plan, name, box, None)))))),
            comments={"size": "one leader + workers: one pod per node", "restartPolicy": "a Ray group restarts as a whole"})
        spec = cmap(("replicas", 1), ("leaderWorkerTemplate", template))
        return cmap(("apiVersion", "leaderworkerset.x-k8s.io/v1"), ("kind", "LeaderWorkerSet"),
                    ("metadata", cmap(("name", name))), ("spec", spec))


def secret_name(plan: Plan) -> str:
    """The Secret that holds the API key (the README tells the user to create it)."""
    return f"{plan.deployment}-api-key"
