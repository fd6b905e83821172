from ..context import finding
from ..network import exposure
from ..registry import rule


@rule("W805", "NET-VLLM-OPEN", "API key leaves routes open",
      "vllm#18892, PR#51999; vLLM 0.33 entrypoints/serve/middleware/authenticate.py:11 (GUARDED_PREFIX)")
def key_scope(server, ctx):
    key = server.api_key
    if key is None or not server.runtime.unguarded_routes:
        return
    exposed = exposure(server, ctx.services)
    if exposed is None:
        return
    yield finding("W805", f"{server.runtime.name}'s API key does not guard every route, and the server "
                  f"{exposed.how}", exposed.span, label="reachable from the network",
                  detail=f"Without the key clients still reach {server.runtime.unguarded_routes}.",
                  help="bind to 127.0.0.1 and expose only /v1 through a reverse proxy")
