from ..context import finding
from ..registry import rule


@rule("W806", "TOOL-OFF", "Tool-capable model served without tool calling",
      "vllm#9986; ramalama#988; llama.cpp#27129; vLLM 0.33 renderers/online_renderer.py:274 (\"\\\"auto\\\" tool "
      "choice requires --enable-auto-tool-choice and --tool-call-parser to be set\"); llama.cpp b11312 "
      "common/common.h:640 (--jinja on by default)")
def tool_calling(server, ctx):
    found = ctx.model(server)
    parsers = found.model.parsers.get(server.runtime.name) if found else None
    if parsers is None or not parsers.tool_call:
        return
    rt = server.runtime
    missing = [k for k in (rt.knob("auto_tool_choice"), rt.knob("tool_call_parser")) if k and not server.value(k.setting)]
    if rt.knob("jinja") is not None and server.flag("jinja") is False:
        missing.append(rt.knob("jinja"))
    if not missing:
        return
    flags = " ".join(k.flag + (f" {parsers.tool_call}" if k.setting == "tool_call_parser" else "") for k in missing)
    yield finding("W806", f"{found.model.name} can call tools, but this server answers tool requests with an error",
                  server.span, label="tool calling off",
                  detail="Clients that send `tools` (agents, IDE assistants) get HTTP 400, or the tools are dropped "
                         "and the model answers in plain text.",
                  help=f"add {flags}")
