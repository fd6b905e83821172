"""llama.cpp: llama-server's buffers per device, a layer split, layer/expert offload to host RAM."""

from .base import CALIBRATION, Efficiency, Pin, RuntimeProfile, Scheduler
from .knobs import Tunable, backend_knob, knob

# A prompt's GEMMs per weight type, achieved / peak FLOPs of the AVX2 FMA units the kernels ran on (96 GFLOPS a
# core at 3 GHz, estimate/speed.py CPU_FLOPS_PER_CYCLE): llama-bench pp512 (b11312, -t 2, the GGML_NATIVE=OFF
# AVX2 build of scripts/ensure-llama-server.sh) on this project's 2-core Xeon VM, over generated llama GGUFs
# quantized with llama-quantize --pure (d2048 x 4 layers, d1024 x 8, d4096 x 1: within +-5% of their mean; one
# shape for the types after q6_k), FLOPs counted as the step model counts them (the last layer's FFN for the
# sampled row only). Int8 dot products do more than one FP32 FMA's work, so quantized types pass 1. Why this
# order: x86 repacks Q4_0, Q4_K, IQ4_NL and MXFP4 into 8x8 tiles (ggml-cpu/repack.cpp
# ggml_repack_get_optimal_repack_type), the other k-quants multiply row blocks against q8_K activations,
# F16/Q8_0/Q5_0 go through tinyBLAS (ggml-cpu/llamafile/sgemm.cpp); the _1 types are the slowest. gemma-3-270m
# (640 wide) ran 10-20% below these at every type, a shape effect not modelled.
CPU_GEMM_BY_TYPE = (("f16", 0.58), ("bf16", 0.58), ("q8_0", 0.62), ("q4_0", 0.70), ("q4_1", 0.42),
                    ("q5_0", 0.46), ("q5_1", 0.34), ("q2_k", 0.88), ("q3_k", 1.02), ("q4_k", 0.88),
                    ("q5_k", 0.88), ("q6_k", 0.94), ("iq4_nl", 0.76), ("iq4_xs", 0.92))
# types not measured (the other IQ types, MXFP4, TQ): the median of those measured
CPU_GEMM_UNMEASURED = 0.73
# Decode's matrix-vector products as compute: test-backend-ops perf (b11312 AVX2 build, one thread of this
# project's 2-core Xeon VM), MUL_MAT m=4096 k=14336 at n=4, where the weight row is read once for four vectors
# and the dot products bind: Q8_0 79.8, Q4_K 75.1, Q6_K 63.0, F16 57.8, Q5_0 57.4 GFLOPS against the core's
# 96 GFLOPS AVX2 FMA peak: ~66%, the median. At n=1 every type ran at the memory's pace (Q8_0 45 GFLOPS =
# 24 GB/s of a matrix that stays in L3; an earlier 10% of twice that peak was such a bandwidth figure).
# llama-server agrees: a Q8_0 640 x 262,144 head decoded 8 sequences in 32.8 ms, 4 in 18.7 ms, ~147 GFLOPS on
# two threads beyond the sampling.
CPU_VECTOR_COMPUTE = 0.66
CPU_SOURCE = ("llama.cpp CPU backend (assumptions, checked by benchmarks/calibration_cpu.py): ~60% of the DDR "
              "bandwidth in decode (all of a measured one); prefill GEMMs at 34-102% of the AVX2 FMA peak by "
              "weight type (llama-bench pp512, b11312, measured); decode's matrix-vector "
              "dot products at ~66% of it (test-backend-ops perf MUL_MAT n=4, b11312); ~0.2 ms a layer of thread "
              "barriers (ggml-cpu.c ggml_graph_compute_thread syncs the threads after every graph node)")

# compute: of the fp16 peak for 16-bit GGUFs, of MMQ_PREFILL_SPEEDUP x it for quantized ones (estimate/speed.py)
EFFICIENCY = (
    ("consumer", Efficiency(0.80, 0.54, 0.0002, 25e-6,
                            f"fitted to llama-bench rows s1, s2, s4 (RTX 4090 / 3080), {CALIBRATION}")),
    ("datacenter", Efficiency(0.66, 0.41, 0.0002, 25e-6,
                              f"P40 row s3 (bandwidth); compute assumed below consumer, {CALIBRATION}")),
    ("cpu", Efficiency(0.60, CPU_GEMM_UNMEASURED, 0.0005, 0.0002, CPU_SOURCE, vector_compute=CPU_VECTOR_COMPUTE,
                       gemm_by_type=CPU_GEMM_BY_TYPE)),
)

LLAMA_HELP = ("keep the log verbosity at 4 or more (llmc smoke sets LLAMA_ARG_LOG_VERBOSITY=4; a -lv flag in "
              "the script overrides it)")
LLAMA_MEMORY_SOURCE = ("llama-server's buffer lines (log verbosity 4)", LLAMA_HELP)

BUILD = "b11312"

# tools/server/server-context.cpp update_slots(): the sampled tokens of every generating slot go into the
# batch first, then prompt tokens of the slots still reading their prompt, up to n_batch (-b 2048); llama_decode
# runs the batch in micro-batches of n_ubatch (-ub 512), each a full pass over the weights.
# Sampling runs on the host over the whole vocabulary for every sampled token (common/sampling.cpp set_logits
# fills one candidate per vocabulary entry; --backend-sampling, which moves it to the device, is off by
# default in b11312): a model with a 262,144-entry vocabulary and a 33 MB head decoded at 1.61 / 3.24 / 5.08 /
# 10.26 ms per token with 1 / 2 / 4 / 8 slots busy on this project's 2-core Xeon VM (against 0.15 ms with a
# 262-entry vocabulary): ~1.25 ms per sequence, 4.8 ns an entry. Published desktops agree: moving gpt-oss-20b's
# sampling (201,088 entries) to the GPU cut 12.34 -> 11.47 ms per token on an RTX 4000 SFF and 3.27 -> 2.74 ms
# on an RTX 6000 Pro (ggml-org/llama.cpp#25262): 2.6-4.3 ns an entry, less the device's own sampling.
SAMPLING_S_PER_ENTRY = 4.8e-9
SCHEDULER = Scheduler("slots", 0.002, step_tokens=2048, ubatch=512, sampling_s_per_entry=SAMPLING_S_PER_ENTRY,
                      source=(f"llama.cpp {BUILD} tools/server/server-context.cpp update_slots, src/llama-context.cpp "
                              "decode (ubatch split); per-request cost (HTTP, template, tokenizing) ~2 ms assumed; "
                              f"host-side sampling ~{SAMPLING_S_PER_ENTRY * 1e9:g} ns per vocabulary entry per "
                              "sampled token (measured)"))

# llama.cpp b11312 common/arg.cpp: the long flags and their LLAMA_ARG_* variables (aliases such as -c, -np,
# -ngl come from targets/llamacpp/flags_b11312.json)
KNOBS = (
    backend_knob(),
    knob("model", "model", "text", flag="--model", env="LLAMA_ARG_MODEL"),
    knob("hf_repo", "hf_repo", "text", flag="--hf-repo", env="LLAMA_ARG_HF_REPO", pin=False),
    knob("host", "host", "text", flag="--host", env="LLAMA_ARG_HOST"),
    knob("port", "port", "int", flag="--port", env="LLAMA_ARG_PORT"),
    knob("api_key", "api_key", "text", flag="--api-key", env="LLAMA_API_KEY"),
    knob("api_key_file", "api_key_file", "text", flag="--api-key-file", pin=False),
    knob("served_name", "alias", "text", flag="--alias"),
    knob("context", "ctx_size", "tokens", flag="--ctx-size", env="LLAMA_ARG_CTX_SIZE"),
    knob("kv_cache", "cache_type_k", "word", flag="--cache-type-k", env="LLAMA_ARG_CACHE_TYPE_K"),
    knob("kv_cache_v", "cache_type_v", "word", flag="--cache-type-v", env="LLAMA_ARG_CACHE_TYPE_V"),
    knob("slots", "parallel", "int", flag="--parallel", env="LLAMA_ARG_N_PARALLEL"),
    knob("gpu_layers", "n_gpu_layers", "int", flag="--n-gpu-layers", env="LLAMA_ARG_N_GPU_LAYERS"),
    knob("n_cpu_moe", "n_cpu_moe", "int", flag="--n-cpu-moe", env="LLAMA_ARG_N_CPU_MOE"),
    knob("split_mode", "split_mode", "word", flag="--split-mode", env="LLAMA_ARG_SPLIT_MODE"),
    knob("tensor_split", "tensor_split", "text", flag="--tensor-split", env="LLAMA_ARG_TENSOR_SPLIT"),
    knob("batch_size", "batch_size", "int", flag="--batch-size", env="LLAMA_ARG_BATCH"),
    knob("ubatch_size", "ubatch_size", "int", flag="--ubatch-size", env="LLAMA_ARG_UBATCH"),
    knob("flash_attention", "flash_attn", "word", flag="--flash-attn", env="LLAMA_ARG_FLASH_ATTN"),
    knob("kv_unified", "kv_unified", "bool", flag="--kv-unified", env="LLAMA_ARG_KV_UNIFIED"),
    knob("threads", "threads", "int", flag="--threads", env="LLAMA_ARG_THREADS"),
    knob("jinja", "jinja", "bool", flag="--jinja", env="LLAMA_ARG_JINJA", pin=False),
    knob("chat_template", "chat_template", "text", flag="--chat-template", env="LLAMA_ARG_CHAT_TEMPLATE",
         pin=False),
    knob("context_shift", "context_shift", "bool", flag="--context-shift", env="LLAMA_ARG_CONTEXT_SHIFT",
         pin=False),
    knob("n_predict", "n_predict", "int", flag="--n-predict", env="LLAMA_ARG_N_PREDICT", pin=False),
)

PROFILE = RuntimeProfile(
    name="llama.cpp",
    pin=Pin(BUILD, "ghcr.io/ggml-org/llama.cpp", f"server-{BUILD}", gpu_tag=f"server-cuda-{BUILD}",
            backend_images=(("rocm", f"ghcr.io/ggml-org/llama.cpp:server-rocm-{BUILD}"),
                            ("vulkan", f"ghcr.io/ggml-org/llama.cpp:server-vulkan-{BUILD}"),
                            ("sycl", f"ghcr.io/ggml-org/llama.cpp:server-intel-{BUILD}")),
            # the tests build llama-server from the llama.cpp that llama-cpp-python 0.3.36 vendors:
            # commit 0c1e57098, which is release b11312
            test_package=("LLAMA_CPP_PYTHON_VERSION", "0.3.36"),
            source="ggml-org/llama.cpp@0c1e57098 docs/docker.md (images server, server-cuda) and "
                   ".github/workflows/docker.yml (versioned tags server-<variant>-b<build>: cuda, rocm (amd64, "
                   "gfx908-gfx1201), vulkan, intel); Metal has no image (macOS only, run natively)"),
    engine="llama", kv_runtime="llama.cpp", efficiency=EFFICIENCY, error_band=0.03,
    memory_budget="fit-target", quantized_gguf_mmq=True, scheduler=SCHEDULER, last_layer_output_rows=True,
    rank=2, offload=True,
    service_name="llama-cpp", launcher="llama.cpp/llama-server.sh",
    override_hint="Override the executable with `LLAMA_SERVER=/path/to/llama-server`; extra arguments are passed on.",
    gguf_download=True,
    metrics=("llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total",
             "llamacpp:prompt_seconds_total", "llamacpp:tokens_predicted_seconds_total",
             "llamacpp:n_decode_total", "llamacpp:n_tokens_max"),
    memory_log="llama-buffers", memory_source=LLAMA_MEMORY_SOURCE,
    llama_log_verbosity=True, compose_log_override=True, tokenize="content",
    target_package="llamacpp", commands=(("llama-server",), ("/app/llama-server",)),
    former_images=("ggerganov/llama.cpp",), knobs=KNOBS,
    # -t, -ub (common/common.h: n_ubatch 512) and -ngl near the plan's; -np stays: it splits the context
    tunables=(Tunable("threads", "threads"), Tunable("ubatch_size", "scale", default=512, minimum=32),
              Tunable("gpu_layers", "step", minimum=0, needs_gpu=True)),
    default_slots=4, slots_split_context=True,
    # -hf downloads into LLAMA_CACHE, else the Hugging Face hub cache (common/hf-cache.cpp:38, b11312)
    cache_dir="/root/.cache/huggingface", cache_env="LLAMA_CACHE",
    image_env=(("LLAMA_ARG_HOST", "0.0.0.0"),),   # .devops/cuda.Dockerfile:125 (every server image)
    source_knobs=f"llama.cpp {BUILD} common/common.h (host 127.0.0.1, n_ctx 0 = the trained context), "
                 "tools/server/server.cpp:156 (no -np: 4 slots with kv_unified), src/llama-context.cpp:290 "
                 "(n_ctx_seq = n_ctx / n_seq_max unless kv_unified), tools/server/server-http.cpp:241 (the "
                 "routes without a key)",
)
