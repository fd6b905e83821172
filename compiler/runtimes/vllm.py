"""vLLM: a paged KV pool sized by gpu_memory_utilization, TP/PP over identical GPUs, Ray across nodes."""

from .base import CALIBRATION, Efficiency, Pin, RuntimeProfile, Scheduler
from .knobs import Tunable, backend_knob, knob

VERSION = "0.33.0"

# vLLM 0.33's `vllm serve` defaults by the card's NVML memory (engine/arg_utils.py get_batch_defaults):
# >= 160 GiB (B200) 16384 / 1024, >= 70 GiB and not an A100 or GB10 (H100, H200) 8192 / 1024, else 2048 / 256
BATCHED_TOKENS = ((160, 16384), (70, 8192), (0, 2048))
MAX_SEQS = ((70, 1024), (0, 256))
BUDGET_FLOOR_DEVICES = ("a100", "gb10")

# The bandwidth share from Qwen2.5-14B's batch-1 decode on A100 (s8, vLLM 0.6.3); the per-step host time from
# Qwen3-8B's on H100 (l29, vLLM 0.11: 7.28 ms a token, 6.03 ms of it the weights' read), as the V1 engine
# the pin runs spends it: V0's was ~3 ms (s14, a 1.5B model at 5.46 ms a token), which V1's engine-core
# loop (and, from 0.11 on, async scheduling) no longer spends between the GPU's steps
EFFICIENCY = (("datacenter", Efficiency(0.75, 0.55, 0.00125, 0.0,
                                        f"fitted to Qwen2.5 vLLM 0.6.3 row s8 on A100 and Qwen3-8B vLLM 0.11 row l29 "
                                        f"on H100, {CALIBRATION}")),
              ("consumer", Efficiency(0.75, 0.50, 0.00125, 0.0, f"assumed equal to the datacenter fit, {CALIBRATION}")))

# vLLM 0.33 v1/core/sched/scheduler.py schedule(): running requests first (one token per decode, or the rest
# of a prompt chunk), then waiting ones with what is left of max_num_batched_tokens; a waiting request is
# admitted only when its whole prompt fits the free blocks (config/scheduler.py scheduler_reserve_full_isl);
# a full pool preempts the newest running request (recompute: its blocks are freed, num_computed_tokens = 0).
SCHEDULER = Scheduler("mixed", 0.010, preempts=True, source=(
    "vLLM 0.33.0 v1/core/sched/scheduler.py schedule() and _preempt_request; per-request cost (API server "
    "HTTP, chat template, tokenizing, detokenizing, engine-core IPC) ~10 ms assumed, not measured here"))

# vLLM 0.33 engine/arg_utils.py EngineArgs.add_cli_args and entrypoints/openai/cli_args.py: the long flags
# (their aliases, e.g. -tp, come from the generated flag table targets/vllm/flags_0.33.0.json).
KNOBS = (
    backend_knob(),
    knob("model", "model", "text", flag="--model"),
    knob("host", "host", "text", flag="--host"),
    knob("uds", "uds", "text", flag="--uds", pin=False),
    knob("port", "port", "int", flag="--port"),
    knob("api_key", "api_key", "text", flag="--api-key", env="VLLM_API_KEY"),
    knob("served_name", "served_model_name", "text", flag="--served-model-name"),
    knob("context", "max_model_len", "tokens", flag="--max-model-len"),
    knob("kv_cache", "kv_cache_dtype", "word", flag="--kv-cache-dtype"),
    knob("quantization", "quantization", "word", flag="--quantization"),
    knob("tensor", "tensor_parallel_size", "int", flag="--tensor-parallel-size"),
    knob("pipeline", "pipeline_parallel_size", "int", flag="--pipeline-parallel-size"),
    knob("replicas", "data_parallel_size", "int", flag="--data-parallel-size"),
    knob("expert", "enable_expert_parallel", "bool", flag="--enable-expert-parallel"),
    knob("slots", "max_num_seqs", "int", flag="--max-num-seqs"),
    knob("gpu_memory_utilization", "gpu_memory_utilization", "fraction", flag="--gpu-memory-utilization"),
    knob("max_num_batched_tokens", "max_num_batched_tokens", "tokens", flag="--max-num-batched-tokens"),
    knob("enforce_eager", "enforce_eager", "bool", flag="--enforce-eager"),
    knob("enable_prefix_caching", "enable_prefix_caching", "bool", flag="--enable-prefix-caching"),
    knob("enable_chunked_prefill", "enable_chunked_prefill", "bool", flag="--enable-chunked-prefill"),
    knob("block_size", "block_size", "int", flag="--block-size"),
    knob("dtype", "dtype", "word", flag="--dtype"),
    knob("tool_call_parser", "tool_call_parser", "word", flag="--tool-call-parser", pin=False),
    knob("auto_tool_choice", "enable_auto_tool_choice", "bool", flag="--enable-auto-tool-choice", pin=False),
    knob("reasoning_parser", "reasoning_parser", "word", flag="--reasoning-parser", pin=False),
    knob("chat_template", "chat_template", "text", flag="--chat-template", pin=False),
    knob("chat_template_kwargs", "default_chat_template_kwargs", "text", flag="--default-chat-template-kwargs",
         pin=False),
    knob("trust_remote_code", "trust_remote_code", "bool", flag="--trust-remote-code", pin=False),
    knob("revision", "revision", "text", flag="--revision", pin=False),
    knob("code_revision", "code_revision", "text", flag="--code-revision", pin=False),
    knob("generation_config", "generation_config", "text", flag="--generation-config", pin=False),
    knob("model_overrides", "hf_overrides", "text", flag="--hf-overrides", pin=False),
    knob("download_dir", "download_dir", "text", flag="--download-dir", pin=False),
    knob("nodes", "nnodes", "int", flag="--nnodes", pin=False),
    knob("distributed_timeout", "distributed_timeout_seconds", "int", flag="--distributed-timeout-seconds",
         pin=False),
)

# --enforce-eager (no CUDA graphs, no torch.compile): Qwen2.5-Omni-7B's thinker (a 28-layer Qwen2.5-7B) decodes
# at ~22.5 ms a token eager against ~13 ms with graphs on two A800s, vLLM 0.29 (vllm-project/vllm-omni#7960,
# the flag the only difference): ~0.34 ms a layer of host-side launches. The launch rate is the host CPU's.
EAGER_LAYER_S = (22.5e-3 - 13e-3) / 28
EAGER_SOURCE = ("--enforce-eager: ~0.34 ms a layer a step of kernel launches from the host (Qwen2.5-7B decode "
                "22.5 vs 13 ms with CUDA graphs, vllm-project/vllm-omni#7960)")

PROFILE = RuntimeProfile(
    name="vllm",
    pin=Pin(VERSION, "vllm/vllm-openai", f"v{VERSION}", test_package=("VLLM_VERSION", VERSION),
            backend_images=(("rocm", f"vllm/vllm-openai-rocm:v{VERSION}"), ("xpu", f"vllm/vllm-openai-xpu:v{VERSION}")),
            source="vllm-project/vllm docker/Dockerfile (target vllm-openai, ENTRYPOINT vllm serve); ROCm and XPU: "
                   ".buildkite/scripts/publish-release-images.sh (vllm-openai-rocm, x86_64, ROCm 10.0; "
                   "vllm-openai-xpu); tags v<release> (not re-checked on the registry)"),
    engine="paged", kv_runtime="vllm", error_band=0.10,
    efficiency=EFFICIENCY,
    memory_budget="utilization", slow_int4_kernels=True,
    batched_tokens=BATCHED_TOKENS, max_seqs=MAX_SEQS, budget_floor_devices=BUDGET_FLOOR_DEVICES, scheduler=SCHEDULER,
    # sliding-window groups keep window - 1 + max_concurrent_batches x max_num_batched_tokens tokens; async
    # scheduling (on by default in 0.33, config/vllm.py) schedules 2 batches ahead (config/vllm.py:601)
    kv_groups=True, in_flight_batches=2, pads_mxfp4_experts=True,
    eager_layer_s=EAGER_LAYER_S, eager_source=EAGER_SOURCE,
    memory_fraction=0.92, memory_fraction_source="vLLM 0.33.0 vllm/config/cache.py: gpu_memory_utilization default 0.92",
    rank=0, needs_tool_parser=True, homogeneous_ranks=True,
    service_name="vllm", launcher="vllm/serve.sh", api_key_env="VLLM_API_KEY", serve_command=("vllm", "serve"),
    ray_multi_node=True, config_file="vllm/config.yaml",
    override_hint="Override the executable with `VLLM=/path/to/vllm`; extra arguments are passed on.",
    metrics=("vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:prompt_tokens_total",
             "vllm:generation_tokens_total"),
    memory_log="vllm-lines", metrics_figures=True,
    target_package="vllm", commands=(("vllm", "serve"), ("python", "-m", "vllm.entrypoints.openai.api_server")),
    model_positional=True,
    # utils/argparse_utils.py: FlexibleArgumentParser (argparse, allow_abbrev left on) turns `_` into `-`
    # (parse_args), human_readable_int: 1k = 1000, 1K = 1024 (max_model_len, max_num_batched_tokens)
    flag_prefixes=True, flag_underscores=True, human_readable_ints=True, config_yaml=True, config_drops_false=True,
    knobs=KNOBS, listens_on_all=True,
    tunables=(Tunable("slots", "scale"), Tunable("max_num_batched_tokens", "scale", minimum=256)),
    cache_dir="/root/.cache/huggingface", cache_env="HF_HOME", port_env="VLLM_PORT",
    long_context_env="VLLM_ALLOW_LONG_MAX_MODEL_LEN",
    unguarded_routes="/invocations, /tokenize, /detokenize, /pooling, /classify, /score, /rerank, /metrics, "
                     "/start_profile (the key guards only /v1, /v2, /inference and /cohere)",
    source_knobs="vLLM 0.33.0 entrypoints/common/cli_args.py:293 and launchers/launcher.py:378 (host None binds \"\": "
                 "every interface), "
                 "entrypoints/serve/middleware/authenticate.py:11 (GUARDED_PREFIX)",
    memory_source=("vLLM's startup lines and /metrics",
                   ("keep vLLM's log level at INFO (VLLM_LOGGING_LEVEL) and its "
                    "output in the log llmc smoke reads")),
)
