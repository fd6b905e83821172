from ..context import finding
from ..registry import rule


@rule("E812", "TOOL-PARSER-MISMATCH", "Tool-call parser that does not match the model",
      "vllm#11903; sglang#7769, #26790; TensorRT-LLM#18084; the catalog's parsers per model and runtime "
      "(compiler/catalog/data/serving.yaml, each with its source)")
def tool_parser(server, ctx):
    set_to = server.value("tool_call_parser")
    found = ctx.model(server)
    parsers = found.model.parsers.get(server.runtime.name) if found else None
    if set_to is None or not set_to.text or parsers is None or not parsers.tool_call or set_to.text == parsers.tool_call:
        return
    yield finding("E812", f"{found.model.name} writes its tool calls in `{parsers.tool_call}` format, not "
                  f"`{set_to.text}`", set_to, label="another model's format",
                  detail="A parser for another chat template finds no calls: they arrive in `content`, or "
                         "`tool_calls` is empty with HTTP 200, and agents silently do nothing.",
                  help=f"use {set_to.written} {parsers.tool_call}")
