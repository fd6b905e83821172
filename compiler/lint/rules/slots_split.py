from ...units import format_tokens
from ..context import finding
from ..registry import rule


@rule("W810", "LCPP-NP-SPLIT", "Slots split the context",
      "llama.cpp#11681, #23652; jan PR#8534; llama.cpp b11312 src/llama-context.cpp:290 (n_ctx_seq = n_ctx / "
      "n_seq_max unless kv_unified), tools/server/server.cpp:156")
def slots_split(server, ctx):
    if not server.runtime.slots_split_context or server.flag("kv_unified"):
        return
    slots, context = server.value("slots"), server.integer("context")
    n = slots.integer() if slots else None
    if not n or n <= 1 or not context:
        return
    per_slot = _pad(_pad(context) // n)
    yield finding("W810", f"-c {context} over {n} slots gives each request {format_tokens(per_slot)} tokens",
                  slots, label=f"{n} slots share -c",
                  detail="Without --kv-unified llama-server divides the context between the slots (each share "
                         "padded up to 256 tokens): a request longer than its share fails with \"context size "
                         "exceeded\".",
                  help=f"write -c {context * n} for {format_tokens(context)} per request, or add --kv-unified "
                       "to share one pool")


def _pad(n: int) -> int:
    """GGML_PAD(n, 256), as src/llama-context.cpp pads n_ctx and each slot's n_ctx_seq."""
    return -(-n // 256) * 256
