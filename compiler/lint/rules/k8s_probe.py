from ..context import finding
from ..registry import rule


@rule("W808", "K8S-PROBE", "Liveness probe without a startup probe",
      "kserve#5062; aibrix#772; Kubernetes docs, \"Protect slow starting containers with startup probes\"")
def probe(server, ctx):
    c = server.container
    if c is None or c.liveness is None or c.startup is not None:
        return
    yield finding("W808", "a liveness probe with no startupProbe restarts the pod while the model loads",
                  c.liveness, label="runs from the start",
                  detail="Loading weights and capturing CUDA graphs takes minutes; the liveness probe fails "
                         "meanwhile and the kubelet kills the container, which starts over: CrashLoopBackOff.",
                  help="add a startupProbe on the health path with failureThreshold x periodSeconds longer than "
                       "the load (e.g. 60 x 10 s)")
