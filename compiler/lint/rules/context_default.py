from ...runtimes import by_memory
from ...units import format_tokens
from ..context import finding
from ..registry import rule


@rule("W802", "OLL-CTX-DEFAULT", "Context left at the runtime's default",
      "ollama#10368, #17889; quodeq PR#1122; Ollama 0.33 envconfig/config.go:230 and server/routes.go:2043 "
      "(OLLAMA_CONTEXT_LENGTH 0: 4k below 23 GiB of VRAM, 32k below 47 GiB, else 256k), openai/openai.go:105 "
      "(no num_ctx on /v1)")
def context_default(server, ctx):
    table = server.runtime.default_context
    if not table or server.value("context") is not None:
        return
    knob = server.runtime.knob("context")
    gpus = ctx.gpus
    if gpus:
        gib = sum(g.visible_memory_bytes for g in gpus) / 2**30
        size = f"{format_tokens(by_memory(table, gib))} tokens on {len(gpus)} x {gpus[0].name}"
    else:
        size = " / ".join(f"{format_tokens(t)}" for _, t in reversed(table)) + " tokens by the GPUs' memory"
    names = " or ".join(n for n in (knob.parameter and f"PARAMETER {knob.parameter}", knob.env) if n)
    yield finding("W802", f"no {names}: the context is {size}, and longer prompts are cut without an error",
                  server.span, label="default context",
                  detail="Ollama truncates a prompt to its context silently; the OpenAI-compatible /v1 API has no "
                         "way to ask for more per request.",
                  help=f"set {knob.env} (or {knob.parameter} in the Modelfile) to the longest prompt plus output "
                       "you serve")
