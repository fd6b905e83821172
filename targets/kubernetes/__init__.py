"""Kubernetes: Deployment + Service + PVC on one node; a LeaderWorkerSet with Ray for multi-node vLLM.

Why LeaderWorkerSet rather than KubeRay: vLLM's own docs (docs/deployment/frameworks/lws.md) ship it
with the image's examples/online_serving/multi-node-serving.sh, so it needs no Ray operator; the
group (leader + workers) is scheduled and restarted as one unit. The shape follows kubernetes-sigs/lws
docs/examples/vllm/GPU/lws.yaml; unlike it, the weights live on one ReadWriteMany claim that a Job
fills before any pod of the group starts. See docs/targets/kubernetes.md for every sizing rule.
"""

from __future__ import annotations

import hashlib
import json
import math

from ...artifacts import Artifact
from ...plan import Plan
from ...runtimes import profile
from ..base import GENERATED, Container, Target
from ..devices import k8s_gpu_resource, no_image_reason
from ..escape import kubernetes_literal, sh
from ..yamlout import cmap, dump, script

GIB = 1024**3
MIB = 1024**2
SECRET_KEY = "api-key"
RAY_SCRIPT = "bash /vllm-workspace/examples/online_serving/multi-node-serving.sh"
# Weights are written and read at 125 MiB/s: an EBS gp3 volume's throughput unless more is provisioned
# (AWS EC2 API CreateVolume, Throughput: default and minimum 125 MiB/s). Faster storage only starts sooner.
STORAGE_RATE = 125 * MIB
PERIOD_S = 10
# Host memory of one process that has initialized CUDA through torch: ~2 GB RSS (pytorch/pytorch#113326).
PROCESS_BYTES = 2 * GIB
# Of a node's memory, what llmc requests at most: the rest is the kubelet's and the system's
# (kube-reserved, system-reserved, eviction threshold: Kubernetes "Reserve Compute Resources for System Daemons").
ALLOCATABLE = 0.9
NO_SERVICE_LINKS = "no NAME_PORT=tcp://... variables: a Service named like the runtime (vllm) would set VLLM_PORT"
INTERFACE_HINT = "several NICs: name one with hardware.interface in the spec (docs/targets/kubernetes.md)"
WAIT = 'until [ -f "$0" ]; do echo "waiting for the model-download Job to fill the cache"; sleep 10; done'
# Run by the download Job as `python3 -c DOWNLOAD MARKER REPO REVISION [REPO REVISION ...]` in the vLLM image.
DOWNLOAD = '''\
"""Download what vLLM 0.33 loads (model_loader/default_loader.py _prepare_weights, weight_utils.py
download_weights_from_hf): Mistral's consolidated*.safetensors when present, else the files the safetensors
index names, else the first of *.safetensors, *.bin, *.pt, never original/; then create MARKER."""
import fnmatch, json, pathlib, sys
from huggingface_hub import hf_hub_download, list_repo_files, snapshot_download

INDEX = "model.safetensors.index.json"
WEIGHT_FILES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack", ".onnx")


def weights(repo, revision, files):
    root = [f for f in files if "/" not in f]
    consolidated = fnmatch.filter(root, "consolidated*.safetensors")
    if consolidated:
        return consolidated
    if INDEX in root:
        index = json.loads(pathlib.Path(hf_hub_download(repo, INDEX, revision=revision)).read_text())
        return sorted(set(index["weight_map"].values()))
    return next(([p] for p in ("*.safetensors", "*.bin", "*.pt") if fnmatch.filter(root, p)), [])


marker, *pairs = sys.argv[1:]
for repo, revision in zip(pairs[::2], pairs[1::2]):
    revision = revision or None  # empty: the default branch
    files = list_repo_files(repo, revision=revision)
    small = [f for f in files if not f.endswith(WEIGHT_FILES)]  # config, tokenizer, chat template, code
    snapshot_download(repo, revision=revision, allow_patterns=weights(repo, revision, files) + small,
                      ignore_patterns=["original/*"])
pathlib.Path(marker).touch()
'''


class KubernetesTarget(Target):
    name = "kubernetes"
    directory = "kubernetes"
    GPU = CPU_ONLY = MULTI_NODE = True

    def __init__(self, runtime: Target) -> None:
        super().__init__()
        self.runtime_target = runtime

    def emit(self, plan: Plan) -> list[Artifact]:
        if reason := no_image_reason(plan):
            self.unsupported(reason, help="drop `emit = [kubernetes]`; the launch script runs the server natively")
            return []
        box = self.runtime_target.container(plan)
        name = plan.deployment  # an RFC 1035 label (the front end's E207): a valid name for every object
        header = f"{GENERATED}\nKubernetes for deployment \"{plan.deployment}\" ({plan.runtime.name} {plan.runtime.version})."
        nodes = max(plan.parallelism.nodes, plan.hardware.nodes)
        service = self.service(name, box)
        if box.local_files:
            self.unsupported("a local() model is not reachable from a pod; copy it into the cache volume "
                             f"(model-cache) at {box.local_files[0][1]}, the path the server loads")
        runtime = profile(plan.runtime.name)
        if plan.serving.api_key_env and not runtime.api_key_env and not box.secret_env \
                and self.runtime_target.API_KEY:
            self.unsupported(f"the {plan.runtime.name} pod gets no API key; add it from a Secret yourself")
        if nodes > 1:
            if not runtime.ray_multi_node:
                self.unsupported(f"multi-node {plan.runtime.name} has no emitted Kubernetes path; "
                                 "only vLLM's LeaderWorkerSet is generated")
                return []
            files = [self.file("leaderworkerset.yaml", dump(self.leader_worker_set(plan, name, box, nodes), header)),
                     self.file("service.yaml", dump(service, header)),
                     self.file("pvc.yaml", dump(self.pvc(plan, name, "ReadWriteMany"), header))]
            if box.hub_repos:
                files.append(self.file("download-job.yaml", dump(self.download_job(name, box), header)))
            return files
        return [self.file("deployment.yaml", dump(self.deployment(plan, name, box), header)),
                self.file("service.yaml", dump(service, header)),
                self.file("pvc.yaml", dump(self.pvc(plan, name, "ReadWriteOnce"), header))]

    def container(self, plan: Plan, name: str, box: Container, nodes: int, startup_s: int | None,
                  args: list[str] | None = None, command: list[str] | None = None):
        """The server's container; `startup_s` is its startupProbe window (None: no probes)."""
        c = cmap(("name", name), ("image", box.image))
        if command or box.entrypoint:
            c["command"] = list(command or box.entrypoint or ())
        if args if args is not None else box.args:
            c["args"] = list(args) if args is not None else [kubernetes_literal(a) for a in box.args]
        c["ports"] = [cmap(("name", "http"), ("containerPort", box.port))]
        env = [cmap(("name", k), ("value", kubernetes_literal(v))) for k, v in sorted(box.env.items())]
        key_env = profile(plan.runtime.name).api_key_env
        if plan.serving.api_key_env and key_env:
            env.append(cmap(("name", key_env), ("valueFrom", cmap(("secretKeyRef", cmap(
                ("name", secret_name(plan)), ("key", SECRET_KEY)))))))
        if box.hub_repos and "HF_TOKEN" not in box.env:
            env.append(hf_token(plan.deployment))
        if env:
            c["env"] = env
        c["resources"] = resources(plan, box, nodes)
        if startup_s is not None:
            self.probes(c, box, startup_s)
        mounts = [cache_mount(box)]
        if box.ipc_host:
            mounts.append(cmap(("name", "dshm"), ("mountPath", "/dev/shm")))
        if plan.serving.api_key_env and "api_key" in box.secret_env:
            mounts.append(cmap(("name", "api-key"), ("mountPath", "/run/secrets"), ("readOnly", True)))
        c["volumeMounts"] = mounts
        return c

    def fetch_container(self, name: str, box: Container):
        """Downloads the GGUF into the cache volume once, with the image's own curl."""
        return cmap(("name", "model-download"), ("image", box.image), ("command", ["/bin/sh", "-c"]),
                    ("args", [script(kubernetes_literal(box.fetch_script))]), ("env", [hf_token(name)]),
                    ("volumeMounts", [cache_mount(box)]),
                    comments={"env": "an optional Secret for gated repos"})

    def probes(self, c, box: Container, startup_s: int) -> None:
        def probe(period: int, failures: int):
            if box.health_path:
                action = ("httpGet", cmap(("path", box.health_path), ("port", "http")))
            else:
                action = ("exec", cmap(("command", list(box.health_cmd))))
            return cmap(action, ("periodSeconds", period), ("failureThreshold", failures))
        c["startupProbe"] = probe(PERIOD_S, math.ceil(startup_s / PERIOD_S))
        weights_s = startup_s - box.start_period_s
        c.yaml_add_eol_comment(f"{startup_s} s: {box.start_period_s} s to start"
                               + (f", {weights_s} s for the weights at 125 MiB/s" if weights_s else ""), "startupProbe")
        c["readinessProbe"] = probe(PERIOD_S, 3)
        c["livenessProbe"] = probe(30, 3)

    def volumes(self, plan: Plan, name: str, box: Container):
        vols = [cache_volume(name)]
        if box.ipc_host:
            vols.append(cmap(("name", "dshm"), ("emptyDir", cmap(("medium", "Memory")))))
        if plan.serving.api_key_env and "api_key" in box.secret_env:
            vols.append(cmap(("name", "api-key"), ("secret", cmap(("secretName", secret_name(plan)), ("items", [
                cmap(("key", SECRET_KEY), ("path", "api_key"))])))))
        return vols

    def deployment(self, plan: Plan, name: str, box: Container):
        server = self.container(plan, plan.runtime.name.replace(".", "-"), box, 1,
                                startup_window_s(plan, box, downloads=bool(box.hub_repos)))
        init = [self.fetch_container(name, box)] if box.fetch_script else []
        labels = cmap(("app.kubernetes.io/name", name))
        template = cmap(("metadata", cmap(("labels", cmap(*labels.items())))),
                        ("spec", pod_spec([server], self.volumes(plan, name, box), init)))
        spec = cmap(("replicas", 1), ("selector", cmap(("matchLabels", labels))),
                    ("strategy", cmap(("type", "Recreate"))), ("template", template),
                    comments={"strategy": "GPUs and the RWO cache volume cannot be held by two pods at once"})
        return cmap(("apiVersion", "apps/v1"), ("kind", "Deployment"), ("metadata", cmap(("name", name))), ("spec", spec))

    def service(self, name: str, box: Container):
        selector = cmap(("app.kubernetes.io/name", name))
        spec = cmap(("type", "ClusterIP"), ("selector", selector),
                    ("ports", [cmap(("name", "http"), ("port", box.port), ("targetPort", "http"))]),
                    comments={"type": "cluster-internal; expose through your ingress with authentication"})
        return cmap(("apiVersion", "v1"), ("kind", "Service"), ("metadata", cmap(("name", name))), ("spec", spec))

    def pvc(self, plan: Plan, name: str, access: str):
        size = max(10, math.ceil(checkpoint_bytes(plan) * 1.25 / GIB) + 5)
        spec = cmap(("accessModes", [access]), ("resources", cmap(("requests", cmap(("storage", f"{size}Gi"))))))
        if access == "ReadWriteMany":
            spec.yaml_add_eol_comment("every node reads it: set a storageClassName that offers ReadWriteMany "
                                      "(NFS, CephFS, EFS, Filestore, Azure Files)", "accessModes")
        spec.yaml_add_eol_comment("the weights plus 25% and 5 GiB of headroom", "resources")
        return cmap(("apiVersion", "v1"), ("kind", "PersistentVolumeClaim"), ("metadata", cmap(("name", f"{name}-cache"))),
                    ("spec", spec))

    def download_job(self, name: str, box: Container):
        """Fills the shared claim once, in the runtime's image, before the group's pods start."""
        argv = [download_marker(box), *(part for repo in box.hub_repos for part in repo)]
        fetch = cmap(("name", "model-download"), ("image", box.image), ("command", ["python3", "-c"]),
                     ("args", [script(kubernetes_literal(DOWNLOAD)), *map(kubernetes_literal, argv)]),
                     ("env", [hf_token(name)]), ("volumeMounts", [cache_mount(box)]),
                     comments={"env": "an optional Secret for gated repos"})
        pod = pod_spec([fetch], [cache_volume(name)], restart="OnFailure")
        spec = cmap(("template", cmap(("spec", pod))),
                    comments={"template": "huggingface_hub resumes a partial download when the pod restarts"})
        return cmap(("apiVersion", "batch/v1"), ("kind", "Job"), ("metadata", cmap(("name", download_job_name(name)))),
                    ("spec", spec))

    def wait_container(self, box: Container):
        """Holds a pod of the group until the download Job has filled the claim."""
        return cmap(("name", "wait-for-model"), ("image", box.image), ("command", ["sh", "-c"]),
                    ("args", [kubernetes_literal(WAIT), kubernetes_literal(download_marker(box))]),
                    ("volumeMounts", [cache_mount(box)]))

    def leader_worker_set(self, plan: Plan, name: str, box: Container, nodes: int):
        runtime = profile(plan.runtime.name)
        serve = kubernetes_literal(" ".join(sh(a) for a in (*runtime.serve_command, *box.args)))
        leader_cmd = f"{RAY_SCRIPT} leader --ray_cluster_size=$(LWS_GROUP_SIZE); {serve}"
        worker_cmd = f"{RAY_SCRIPT} worker --ray_address=$(LWS_LEADER_ADDRESS)"
        leader = self.container(plan, f"{runtime.service_name}-leader", box, nodes, startup_window_s(plan, box, downloads=False),
                                args=[leader_cmd], command=["sh", "-c"])
        worker = self.container(plan, f"{runtime.service_name}-worker", box, nodes, None, args=[worker_cmd], command=["sh", "-c"])

        def pod(c):  # fresh maps for each template: a shared one would be written as a YAML alias
            if "NCCL_SOCKET_IFNAME" not in plan.settings.env:
                c.yaml_add_eol_comment(INTERFACE_HINT, "name")
            return pod_spec([c], self.volumes(plan, name, box), [self.wait_container(box)] if box.hub_repos else [])
        labels = cmap(("app.kubernetes.io/name", name), ("role", "leader"))
        template = cmap(
            ("size", nodes), ("restartPolicy", "RecreateGroupOnPodRestart"),
            ("leaderTemplate", cmap(("metadata", cmap(("labels", labels))), ("spec", pod(leader)))),
            ("workerTemplate", cmap(("spec", pod(worker)))),
            comments={"size": "one leader + workers: one pod per node", "restartPolicy": "a Ray group restarts as a whole"})
        spec = cmap(("replicas", 1), ("leaderWorkerTemplate", template))
        return cmap(("apiVersion", "leaderworkerset.x-k8s.io/v1"), ("kind", "LeaderWorkerSet"),
                    ("metadata", cmap(("name", name))), ("spec", spec))


def pod_spec(containers: list, volumes: list, init: list | None = None, restart: str | None = None):
    spec = cmap(("enableServiceLinks", False), comments={"enableServiceLinks": NO_SERVICE_LINKS})
    if restart:
        spec["restartPolicy"] = restart
    if init:
        spec["initContainers"] = init
    spec["containers"] = containers
    spec["volumes"] = volumes
    return spec


def cache_mount(box: Container):
    return cmap(("name", "model-cache"), ("mountPath", box.cache_path))


def cache_volume(name: str):
    return cmap(("name", "model-cache"), ("persistentVolumeClaim", cmap(("claimName", f"{name}-cache"))))


def hf_token(name: str):
    """HF_TOKEN for gated repos from the optional Secret `<deployment>-hf-token`, never inline."""
    return cmap(("name", "HF_TOKEN"), ("valueFrom", cmap(("secretKeyRef", cmap(
        ("name", hf_token_secret(name)), ("key", "token"), ("optional", True))))))


def hf_token_secret(name: str) -> str:
    """The optional Secret with the Hugging Face token (the README tells the user to create it)."""
    return f"{name}-hf-token"


def download_job_name(name: str) -> str:
    """`<deployment>-download` in 63 characters: the Job's name is a label value on its pods."""
    suffix = "-download"
    return name[:63 - len(suffix)] + suffix


def download_marker(box: Container) -> str:
    """The file the Job creates once the repos are in the cache; named after them, so pods of a build for
    another model or revision wait for that download."""
    digest = hashlib.sha256(json.dumps(box.hub_repos).encode()).hexdigest()[:12]
    return f"{box.cache_path}/llmc-download-{digest}.done"


def checkpoint_bytes(plan: Plan) -> int:
    """The weights on disk: every device's share, for each data-parallel replica."""
    return sum(d.weights_bytes for d in plan.memory.devices) * max(1, plan.parallelism.replicas)


def startup_window_s(plan: Plan, box: Container, downloads: bool) -> int:
    """The runtime's own start (start_period_s), then the weights written once when the server downloads
    them itself and read once when it loads them, at STORAGE_RATE."""
    passes = int(downloads) + int(box.loads_at_start)
    return box.start_period_s + math.ceil(passes * checkpoint_bytes(plan) / STORAGE_RATE)


def resources(plan: Plan, box: Container, nodes: int):
    """Requests from the plan, the GPUs as a limit. cpu: two vCPUs per process, as vLLM's docs ask (2 + N
    physical cores for N GPUs, 2 x (2 + N) with hyper-threading: docs/configuration/optimization.md, "CPU
    Resources for GPU Deployments"), or the plan's threads. memory: see `memory_bytes`."""
    requests = cmap(("cpu", max(2 * box.processes, plan.settings.threads or 0)),
                    ("memory", f"{math.ceil(memory_bytes(plan, box, nodes) / GIB)}Gi"))
    if box.scratch_bytes:
        requests["ephemeral-storage"] = f"{math.ceil(box.scratch_bytes / GIB)}Gi"
    out = cmap(("requests", requests))
    if plan.hardware.gpus_per_node:
        out["limits"] = cmap((k8s_gpu_resource(plan), plan.hardware.gpus_per_node))
    if plan.hardware.rdma and nodes > 1:  # one RDMA device per pod, as the device plugin hands them out
        out.setdefault("limits", cmap())[plan.hardware.rdma] = 1
    return out


def memory_bytes(plan: Plan, box: Container, nodes: int) -> int:
    """What the plan keeps in host RAM, the node's share of the GPU weights (loading reads them through the
    page cache, which is charged to the pod; vLLM 0.33 even prefetches the whole checkpoint into it on NFS
    when it fits: weight_utils.py safetensors_weights_iterator), and PROCESS_BYTES per process; capped at
    ALLOCATABLE of the node's memory when the spec gives it."""
    ram = sum(d.total_bytes for d in plan.memory.devices if d.kind == "cpu")
    gpu_weights = sum(d.weights_bytes for d in plan.memory.devices if d.kind == "gpu") // nodes
    need = ram + gpu_weights + box.processes * PROCESS_BYTES
    if plan.hardware.host_memory_bytes:
        return min(need, int(plan.hardware.host_memory_bytes * ALLOCATABLE))
    return need


def secret_name(plan: Plan) -> str:
    """The Secret that holds the API key (the README tells the user to create it)."""
    return f"{plan.deployment}-api-key"
