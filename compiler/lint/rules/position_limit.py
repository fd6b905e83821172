from ..context import finding
from ..registry import rule


@rule("E821", "POS-EMB", "Context longer than the model's window",
      "vllm#3676, PR#44286; vLLM 0.33 config/model.py:2663 (\"User-specified max_model_len (...) is greater than "
      "the derived max_model_len\"), envs.py:1115 (VLLM_ALLOW_LONG_MAX_MODEL_LEN)")
def position_limit(server, ctx):
    context = server.integer("context")
    found = ctx.model(server)
    if context is None or found is None or context <= found.model.max_context or server.runtime.engine != "paged":
        return
    forced = server.env.get("VLLM_ALLOW_LONG_MAX_MODEL_LEN")
    window = found.model.max_context
    if forced is not None and forced.flag_on():
        summary = f"{context} tokens past {found.model.name}'s {window}-token window, forced with " \
                  "VLLM_ALLOW_LONG_MAX_MODEL_LEN: positions beyond it give NaNs or illegal memory accesses"
    else:
        summary = f"{context} tokens is past {found.model.name}'s {window}-token window: the engine refuses to start"
    yield finding("E821", summary, server.value("context"), label=f"window {window}",
                  also=((forced.span, "overrides the check"),) if forced is not None else (),
                  detail="The model was trained with positions up to its window (config.json max_position_"
                         "embeddings, with its RoPE scaling); beyond it attention reads positions it never saw.",
                  help=f"set the context to at most {window}, or serve a variant with RoPE scaling (YaRN) for more")
