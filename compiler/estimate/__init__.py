"""Memory and speed estimates: pure functions that return their parts, each with its source.

See docs/estimation.md. Entry points: weights.weight_bytes, kv.kv_bytes, memory.plan_memory,
speed.estimate_speed, speculative.speedup, report.memory_bar / report.render_estimate,
llama_log.parse_llama_log.
"""
