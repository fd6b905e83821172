from ..context import finding
from ..registry import rule

@rule("E811", "KVQ-NOFA", "Quantized V cache with flash attention off",
      "llama.cpp#28524, #10378; ollama#13337, #15043; llama.cpp b11312 src/llama-context.cpp:3840 (\"quantized V "
      "cache requires flash_attn to be enabled\"); Ollama 0.33 llm/llama_server.go:394 (OLLAMA_KV_CACHE_TYPE is "
      "passed as -ctk and -ctv)")
def kv_quant_fa(server, ctx):
    # one variable sets both caches where the runtime has no separate V setting (OLLAMA_KV_CACHE_TYPE)
    v = server.value("kv_cache_v" if server.runtime.knob("kv_cache_v") else "kv_cache")
    fa = server.value("flash_attention")
    kv = ctx.catalog.kv_types.get((v.text or "").lower()) if v is not None else None
    if kv is None or fa is None or not kv.needs_flash_attention or fa.flag_on():
        return
    yield finding("E811", f"a {v.text} V cache needs flash attention, which this config turns off: llama.cpp does "
                  "not create the context", fa,
                  label="flash attention off", also=((v.span, "quantized V cache"),),
                  detail="llama.cpp stores a quantized V cache only in flash attention's layout; with it off "
                         "the context is not created and the server exits.",
                  help="turn flash attention on (`-fa on`, OLLAMA_FLASH_ATTENTION=1) or use an f16 V cache")
