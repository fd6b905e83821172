"""SGLang: a paged KV pool sized by mem_fraction_static, TP/PP over identical GPUs."""

from dataclasses import replace

from .base import Pin, RuntimeProfile, Scheduler, SwaPool
from .knobs import Tunable, backend_knob, knob
from .vllm import EFFICIENCY as VLLM_EFFICIENCY
from .vllm import PROFILE as VLLM_PROFILE

# SGLang 0.5.23 arg_groups/memory_hook.py handle_gpu_memory_settings: chunked_prefill_size by GPU memory
# (< 20 GiB 2048, < 60 GiB 4096, < 160 GiB 8192, else 16384); the prefill batch is min(that, max_prefill_tokens
# 16384). max_running_requests: resolve_max_num_reqs, 2048-4096 unless the pool is tiny.
CHUNKED_PREFILL = ((160, 16384), (60, 8192), (20, 4096), (0, 2048))
MAX_RUNNING = ((0, 2048),)

VERSION = "0.5.23"

# SGLang 0.5.23 srt/managers/schedule_policy.py PrefillAdder: a waiting request is admitted only if its
# prompt + min(max_new_tokens, 4096) fits what the pool has left after reserving, for each running request,
# min(its remaining max_new_tokens, 4096) x new_token_ratio (1.0 for ignore_eos, as bench_serving sends; else
# 0.7 decaying to 0.098, its estimate of the share of max_new_tokens an answer uses: the simulation's answers
# are their real lengths, so their whole remainder is reserved); scheduler.py retract_decode preempts only
# when a decode step's pages do not fit even so.
SCHEDULER = Scheduler("prefill-first", 0.010, preempts=True, reserves_answers=True, source=(
    f"SGLang {VERSION} srt/managers/scheduler.py get_next_batch_to_run (a prefill batch runs before decoding "
    "resumes; chunked_prefill_size per batch), schedule_policy.py PrefillAdder (room kept for the running "
    "requests' answers); per-request cost ~10 ms assumed, as vLLM's"))

# SGLang 0.5.23 srt/server_args.py ServerArgs.add_cli_args (aliases from targets/sglang/flags_0.5.23.json)
KNOBS = (
    backend_knob(),
    knob("model", "model_path", "text", flag="--model-path"),
    knob("host", "host", "text", flag="--host"),
    knob("port", "port", "int", flag="--port"),
    knob("api_key", "api_key", "text", flag="--api-key"),
    knob("served_name", "served_model_name", "text", flag="--served-model-name"),
    knob("context", "context_length", "tokens", flag="--context-length"),
    knob("kv_cache", "kv_cache_dtype", "word", flag="--kv-cache-dtype"),
    knob("quantization", "quantization", "word", flag="--quantization"),
    knob("tensor", "tp_size", "int", flag="--tp-size"),
    knob("pipeline", "pp_size", "int", flag="--pp-size"),
    knob("replicas", "dp_size", "int", flag="--dp-size"),
    knob("expert", "ep_size", "int", flag="--ep-size"),
    knob("slots", "max_running_requests", "int", flag="--max-running-requests"),
    knob("mem_fraction_static", "mem_fraction_static", "fraction", flag="--mem-fraction-static"),
    knob("max_num_batched_tokens", "chunked_prefill_size", "tokens", flag="--chunked-prefill-size"),
    knob("enforce_eager", "disable_cuda_graph", "bool", flag="--disable-cuda-graph"),
    knob("enable_prefix_caching", "disable_radix_cache", "bool", flag="--disable-radix-cache", invert=True),
    knob("block_size", "page_size", "int", flag="--page-size"),
    knob("dtype", "dtype", "word", flag="--dtype"),
    knob("tool_call_parser", "tool_call_parser", "word", flag="--tool-call-parser", pin=False),
    knob("reasoning_parser", "reasoning_parser", "word", flag="--reasoning-parser", pin=False),
    knob("chat_template", "chat_template", "text", flag="--chat-template", pin=False),
    knob("chat_template_kwargs", "default_chat_template_kwargs", "text", flag="--default-chat-template-kwargs",
         pin=False),
    knob("trust_remote_code", "trust_remote_code", "bool", flag="--trust-remote-code", pin=False),
    knob("revision", "revision", "text", flag="--revision", pin=False),
    knob("model_overrides", "json_model_override_args", "text", flag="--json-model-override-args", pin=False),
    knob("download_dir", "download_dir", "text", flag="--download-dir", pin=False),
    knob("nodes", "nnodes", "int", flag="--nnodes", pin=False),
)

# Hybrid SWA pools (srt/configs/model_config.py is_hybrid_swa_model: GptOss, Llama4, Gemma4, MiMoV2, Step3p5,
# among others; not Gemma 2/3, whose sliding layers take the whole context like full ones): the full pool's cell
# carries swa_full_tokens_ratio x the sliding layers' bytes (model_executor/pool_configurator.py
# _recompute_cell_size), the ratio's fallback 0.8 (arg_groups/fields/schedule.py)
SWA_POOL = SwaPool(frozenset({"gpt-oss", "llama4", "gemma4", "mimo2", "step35"}), 0.8,
                   f"SGLang {VERSION} srt/configs/model_config.py is_hybrid_swa_model; model_executor/"
                   "pool_configurator.py _recompute_cell_size; --swa-full-tokens-ratio fallback 0.8")

PROFILE = RuntimeProfile(
    name="sglang",
    pin=Pin(VERSION, "lmsysorg/sglang", f"v{VERSION}", test_package=("SGLANG_VERSION", VERSION),
            source="sgl-project/sglang docker/Dockerfile, image lmsysorg/sglang; tags v<release> are CUDA 13 "
                   "builds (the -cu129 tags ended at v0.5.19)"),
    engine="paged", kv_runtime="vllm", error_band=0.10, swa_pool=SWA_POOL,
    # no SGLang rows to fit: assumed no faster than vLLM (same kinds of kernels), so an uncalibrated edge
    # never decides a plan; vLLM's lower rank wins the tie
    efficiency=tuple((cls, replace(fit, source=f"assumed equal to vLLM's ({fit.source}); no SGLang rows"))
                     for cls, fit in VLLM_EFFICIENCY),
    memory_budget="fraction", slow_int4_kernels=True,
    # --disable-cuda-graph launches each layer's kernels from Python as vLLM's eager mode does: its figure assumed
    eager_layer_s=VLLM_PROFILE.eager_layer_s, eager_source=f"assumed as vLLM's: {VLLM_PROFILE.eager_source}",
    batched_tokens=CHUNKED_PREFILL, max_seqs=MAX_RUNNING, scheduler=SCHEDULER, memory_fraction=0.88,
    memory_fraction_source="SGLang --mem-fraction-static auto (~0.85-0.9 by GPU size; server_args heuristic)",
    rank=1, needs_tool_parser=True, homogeneous_ranks=True,
    service_name="sglang", launcher="sglang/launch.sh",
    override_hint="Override the interpreter with `PYTHON=/path/to/python3`; extra arguments are passed on.",
    memory_log="vllm-lines",
    target_package="sglang", commands=(("python", "-m", "sglang.launch_server"), ("sglang", "serve")),
    knobs=KNOBS, tunables=(Tunable("slots", "scale"), Tunable("max_num_batched_tokens", "scale", minimum=256)),
    flag_prefixes=True,   # launch_server's argparse.ArgumentParser keeps allow_abbrev: `--tp` is `--tp-size`
    config_yaml=True,
    cache_dir="/root/.cache/huggingface", cache_env="HF_HOME",
    long_context_env="SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN",   # srt/configs/model_config.py:1303
    source_knobs="SGLang 0.5.23 srt/server_args.py (host 127.0.0.1)",
)
