from ..context import finding
from ..registry import rule


@rule("W830", "LCPP-CTX-SHIFT", "Context shift on shared slots with no output cap",
      "llama.cpp#3969, #6002; llama.cpp b11312 common/common.h:573 (ctx_shift false), :451 (n_predict -1)")
def context_shift(server, ctx):
    if not server.flag("context_shift"):
        return
    slots = server.integer("slots") or server.runtime.default_slots
    cap = server.integer("n_predict")
    if slots <= 1 or (cap is not None and cap > 0):
        return
    yield finding("W830", f"context shift with {slots} slots and no -n cap lets a runaway generation loop",
                  server.value("context_shift"), label="context shift",
                  detail="A generation that reaches the end of its slot drops old tokens and continues; without "
                         "a cap it never ends, and shifted slots have produced corrupted output.",
                  help="cap generations with -n (e.g. -n 4096), or leave context shift off")
