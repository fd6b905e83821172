import json

from ..context import finding
from ..registry import rule


@rule("E821", "POS-EMB", "Context longer than the model's window",
      "vllm#3676, PR#44286; vLLM 0.33 config/model.py:2663 (\"User-specified max_model_len (...) is greater than "
      "the derived max_model_len\"), envs.py:1115 (VLLM_ALLOW_LONG_MAX_MODEL_LEN); SGLang 0.5.23 "
      "srt/configs/model_config.py:1303 (SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN)")
def position_limit(server, ctx):
    context = server.integer("context")
    found = ctx.model(server)
    limit = window(server, found.model) if found else None
    if context is None or limit is None or server.runtime.engine != "paged" or context <= limit:
        return
    forced = server.env.get(server.runtime.long_context_env or "")
    if forced is not None and forced.flag_on():
        summary = f"{context} tokens past {found.model.name}'s {limit}-token window, forced with " \
                  f"{forced.written}: positions beyond it give NaNs or illegal memory accesses"
    else:
        summary = f"{context} tokens is past {found.model.name}'s {limit}-token window: the engine refuses to start"
    yield finding("E821", summary, server.value("context"), label=f"window {limit}",
                  also=((forced.span, "overrides the check"),) if forced is not None else (),
                  detail="The model was trained with positions up to its window (config.json max_position_"
                         "embeddings, with its RoPE scaling); beyond it attention reads positions it never saw.",
                  help=f"set the context to at most {limit}, or serve a variant with RoPE scaling (YaRN) for more")


def window(server, model) -> int:
    """The model's window, or what a config override makes it: `max_position_embeddings`, or a RoPE
    scaling (YaRN) `factor` times its original window (`--hf-overrides`, SGLang `--json-model-override-args`)."""
    value = server.value("model_overrides")
    try:
        overrides = json.loads(value.text) if value is not None and value.text and not value.symbolic else {}
    except ValueError:
        return model.max_context
    if not isinstance(overrides, dict):
        return model.max_context
    rope = overrides.get("rope_scaling") or overrides.get("rope_parameters") or {}
    if "max_position_embeddings" in overrides:
        return int(overrides["max_position_embeddings"])
    if isinstance(rope, dict) and rope.get("factor"):
        return int(float(rope["factor"]) * int(rope.get("original_max_position_embeddings") or model.max_context))
    return model.max_context
