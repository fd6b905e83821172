from ..context import finding
from ..registry import rule


@rule("W827", "RSN-PARSER", "Thinking model without its reasoning parser",
      "void#509; vllm#22507, #26239; the catalog's reasoning parser per model and runtime (serving.yaml)")
def reasoning_parser(server, ctx):
    found = ctx.model(server)
    knob = server.runtime.knob("reasoning_parser")
    parsers = found.model.parsers.get(server.runtime.name) if found else None
    if knob is None or parsers is None or not parsers.reasoning or found.model.thinking is None:
        return
    set_to = server.value("reasoning_parser")
    if set_to is not None and set_to.text == parsers.reasoning:
        return
    summary = f"{found.model.name} thinks, and " + (f"`{set_to.text}` is not its reasoning parser" if set_to else
                                                    "no reasoning parser separates its thinking")
    yield finding("W827", summary, set_to or server.span, label="thinking in the answer",
                  detail="The model's `<think>` section then arrives inside `content`: chat UIs show it, and "
                         "clients that parse the answer (JSON, code) break.",
                  help=f"add {knob.flag} {parsers.reasoning}")
