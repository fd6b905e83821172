from ..context import finding
from ..registry import rule


@rule("E819", "VLLM-CHUNK-BT", "Token budget below the context with chunked prefill off",
      "vllm PR#33109; verl PR#7632; vLLM 0.33 config/scheduler.py:318 (\"max_num_batched_tokens (...) is "
      "smaller than max_model_len (...)\")")
def chunked_budget(server, ctx):
    if server.flag("enable_chunked_prefill") is not False:
        return
    budget, context = server.integer("max_num_batched_tokens"), server.integer("context")
    if budget is None or context is None or budget >= context:
        return
    yield finding("E819", f"with chunked prefill off, a step of {budget} tokens cannot hold a {context}-token "
                  "prompt", server.value("max_num_batched_tokens"), label=f"{budget} tokens per step",
                  also=((server.value("context").span, f"{context} tokens"),),
                  detail="Without chunked prefill a prompt is scheduled in one step, so vLLM refuses to start "
                         "when the step budget is below max_model_len.",
                  help=f"raise max_num_batched_tokens to {context}, or leave chunked prefill on")
