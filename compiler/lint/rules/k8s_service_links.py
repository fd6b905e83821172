from ..context import finding
from ..registry import rule


@rule("E807", "K8S-VLLM-SVC", "A Service's injected variable overrides the server's own",
      "vllm#15613, #34199; vLLM 0.33 envs.py:518 get_vllm_port (\"VLLM_PORT '...' appears to be a URI\")",
      scope="run")
def service_links(configs, ctx):
    """Across the files of a run: the Service and the Deployment are often in files of their own."""
    services = [s for c in configs for s in c.services]
    for server in (s for c in configs for s in c.servers):
        name = server.runtime.port_env
        c = server.container
        if name is None or c is None or not c.service_links or name in server.env:
            continue
        for service in services:
            if service.name.upper().replace("-", "_") + "_PORT" == name:
                yield finding("E807", f"the Service `{service.name}` makes Kubernetes set {name}=tcp://… in "
                              f"{server.runtime.name}'s pods, which it reads as its port and fails to start",
                              service.span, label=f"injects {name}",
                              also=((c.span, f"{server.runtime.name} parses {name}"),),
                              detail="Kubernetes' service links give every pod <SERVICE>_PORT variables for the "
                                     "Services of its namespace.",
                              help="set `enableServiceLinks: false` in the pod spec, or rename the Service")
