from ..context import finding
from ..network import exposure
from ..registry import rule


@rule("E804", "NET-VLLM-OPEN", "Server reachable from the network without an API key",
      "vllm#18892, PR#51999; llama.cpp PR#5837; vLLM 0.33 launchers/launcher.py:378 (no --host: every interface)")
def server_open(server, ctx):
    if server.runtime.knob("api_key") is None or server.api_key is not None:
        return
    exposed = exposure(server, ctx.services)
    if exposed is None:
        return
    knob = server.runtime.knob("api_key")
    yield finding("E804", f"{server.runtime.name} {exposed.how} and has no API key", exposed.span,
                  label="reachable from the network",
                  detail="Anyone who can reach this address can run the model, read its metrics and, on some "
                         "routes, control the server.",
                  help=f"bind to 127.0.0.1 behind an authenticating proxy, or set {knob.flag or knob.env} from a "
                       f"secret ({knob.env or 'an environment variable'})")
