from ..context import finding
from ..network import exposure
from ..registry import rule


@rule("E803", "NET-OLLAMA-OPEN", "Ollama reachable from the network (it has no authentication)",
      "ollama#16236, #11941; NemoClaw PR#1140; Ollama 0.33 server/routes.go GenerateRoutes (no auth), "
      "envconfig/config.go:86 (OLLAMA_ORIGINS)")
def ollama_open(server, ctx):
    if server.runtime.knob("api_key") is not None or server.runtime.knob("origins") is None:
        return
    exposed = exposure(server, ctx.services)
    if exposed is not None:
        yield finding("E803", f"Ollama {exposed.how}: anyone who reaches it can pull, create and delete models",
                      exposed.span, label="unauthenticated",
                      detail="Ollama has no API key; exposed servers are scanned for and abused in the wild "
                             "(model pulls that fill the disk, prompts run on your GPUs).",
                      help="bind to 127.0.0.1 (OLLAMA_HOST=127.0.0.1:11434, or `127.0.0.1:11434:11434` in "
                           "ports) and put an authenticating reverse proxy in front")
    origins = server.value("origins")
    if origins is not None and origins.text and "*" in origins.text.split(","):
        yield finding("E803", "OLLAMA_ORIGINS=* lets any web page a user opens call this Ollama", origins,
                      label="every origin",
                      detail="The browser's same-origin protection is what keeps a malicious page from "
                             "driving a local Ollama; `*` switches it off.",
                      help="list the origins that need it, or leave OLLAMA_ORIGINS unset")
