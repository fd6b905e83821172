"""Hand-built Plans for the target tests (the solver is not needed to test what a target emits)."""

from __future__ import annotations

from pathlib import Path

from llmc.plan import (DeviceMemory, Estimate, Hardware, Memory, MemoryPart, ModelRef, Parallelism, Performance,
                       Plan, RuntimeRef, Serving, Settings, Speculative, Targets, Workload)
from llmc.catalog import load_catalog
from llmc.runtimes import PROFILES

GIB = 1024**3
MIB = 1024**2



def _runtime(name: str, cpu_only: bool = False) -> RuntimeRef:
    """plan.runtime as the solver writes it: the profile's pin, the catalog record's health path and port."""
    record, pin = load_catalog()[0].runtimes[name], PROFILES[name].pin
    backend = "cpu" if cpu_only else "cuda"
    return RuntimeRef(name=name, version=pin.version, image=pin.image_ref(backend), backend=backend,
                      health_path=record.health_path, default_port=record.default_port)


RUNTIMES = {name: _runtime(name) for name in PROFILES} | {"llama.cpp-cpu": _runtime("llama.cpp", cpu_only=True)}


def _device(name: str, kind: str, weights: int, kv: int, capacity: int, compute: int = 300 * MIB,
            overhead: int = 500 * MIB) -> DeviceMemory:
    parts = (MemoryPart(name="weights", bytes=weights, source="test builder"),
             MemoryPart(name="kv_cache", bytes=kv, source="test builder"),
             MemoryPart(name="compute", bytes=compute, source="test builder"),
             MemoryPart(name="overhead", bytes=overhead, source="test builder"))
    return DeviceMemory(device=name, kind=kind, weights_bytes=weights, kv_cache_bytes=kv, compute_bytes=compute,
                        overhead_bytes=overhead, total_bytes=weights + kv + compute + overhead,
                        capacity_bytes=capacity, parts=parts)


def _plan(**fields) -> Plan:
    base = dict(
        llmc_version="0.1.0",
        workload=Workload(task="chat", concurrency=1, prompt_tokens=512, output_tokens=128),
        kv_cache={"type": "f16"},
        settings=Settings(),
        performance=Performance(ttft_s=Estimate(value=0.2, low=0.1, high=0.4),
                                tpot_s=Estimate(value=0.02, low=0.015, high=0.03),
                                throughput_tok_s=Estimate(value=50.0, low=40.0, high=60.0),
                                bound="memory bandwidth", sources=("test builder",)),
        targets=Targets(),
        binding_constraint="memory",
        score=1.0,
    )
    base.update(fields)
    return Plan(**base)


def llamacpp_tiny_cpu(gguf: Path, *, context: int = 1024, slots: int = 2, kv_bytes: int = 0,
                      kv: str = "f16", api_key_env: str | None = None, port: int = 18080) -> Plan:
    """llama.cpp on a CPU-only host, serving a local tiny GGUF (tests/support/tiny_gguf.py)."""
    return _plan(
        deployment="tiny-cpu",
        model=ModelRef(id="local:tiny", name="tiny", format="f32", source="local", path=str(gguf),
                       architecture="llama", license="apache-2.0", max_context=4096, n_layers=2),
        runtime=RUNTIMES["llama.cpp-cpu"], kv_cache={"type": kv}, context=context, slots=slots,
        parallelism=Parallelism(), hardware=Hardware(gpu=None, gpus_per_node=0, host_memory_bytes=24 * GIB),
        settings=Settings(flash_attention="off", kv_unified=False, threads=2),
        serving=Serving(port=port, served_name="tiny", api_key_env=api_key_env),
        memory=Memory(devices=(_device("cpu (host RAM)", "cpu", 3 * MIB, kv_bytes, 24 * GIB),), safety_margin=0.1),
    )


def llamacpp_gemma_cpu(*, context: int = 4096, slots: int = 1, kv_bytes: int = 0, port: int = 18081) -> Plan:
    """llama.cpp on CPU with the real gemma-3-270m Q4_K_M GGUF (from its Hugging Face repo)."""
    return _plan(
        deployment="gemma-cpu",
        model=ModelRef(id="google/gemma-3-270m-it", name="gemma-3-270m-it", format="q4_k_m", source="gguf",
                       repo="unsloth/gemma-3-270m-it-GGUF", file="gemma-3-270m-it-Q4_K_M.gguf",
                       architecture="gemma3", license="gemma", max_context=32768, n_layers=18,
                       stop=("<end_of_turn>",)),
        runtime=RUNTIMES["llama.cpp-cpu"], context=context, slots=slots,
        parallelism=Parallelism(), hardware=Hardware(gpu=None, gpus_per_node=0, host_memory_bytes=24 * GIB),
        settings=Settings(flash_attention="off", kv_unified=False, threads=2),
        serving=Serving(port=port, served_name="gemma-3-270m-it"),
        memory=Memory(devices=(_device("cpu (host RAM)", "cpu", 241 * MIB, kv_bytes, 24 * GIB),), safety_margin=0.1),
    )


def vllm_tp2_speculative() -> Plan:
    """vLLM on 2×H100 (NVLink) with tensor parallel 2, FP8 KV and a draft model, serving an agent."""
    return _plan(
        deployment="qwen3-32b-agent",
        workload=Workload(task="agent", concurrency=32, prompt_tokens=4096, output_tokens=512),
        model=ModelRef(id="Qwen/Qwen3-32B", name="Qwen3-32B", format="bf16", source="hf", repo="Qwen/Qwen3-32B",
                       architecture="qwen3", license="apache-2.0", tool_call_parser="hermes",
                       reasoning_parser="qwen3", thinking="on", max_context=40960, n_layers=64),
        runtime=RUNTIMES["vllm"], kv_cache={"type": "fp8"}, context=32768, slots=32,
        parallelism=Parallelism(tensor=2),
        hardware=Hardware(gpu="H100-SXM-80GB", gpus_per_node=2, gpu_memory_bytes=80 * GIB, link="nvlink", p2p=True),
        settings=Settings(gpu_memory_utilization=0.9, max_num_batched_tokens=8192, enable_prefix_caching=True,
                          enable_chunked_prefill=True),
        serving=Serving(host="127.0.0.1", port=8000, served_name="qwen3-32b", api_key_env="QWEN_API_KEY"),
        speculative=Speculative(method="draft", num_tokens=4, draft_repo="Qwen/Qwen3-0.6B", acceptance=0.6,
                                speedup=1.5, source="seed guide speculative table"),
        memory=Memory(devices=tuple(_device(f"gpu{i} (H100)", "gpu", 31 * GIB, 36 * GIB, 80 * GIB) for i in range(2)),
                      safety_margin=0.08, kv_tokens_capacity=600000, max_concurrency=18.3),
        emit=("compose", "kubernetes"),
    )


def llamacpp_70b_row_split() -> Plan:
    """Llama-3.3-70B Q4_K_M with llama.cpp on 2×RTX 4090 (PCIe, no P2P): row split, some layers in RAM."""
    return _plan(
        deployment="llama70b-4090",
        model=ModelRef(id="meta-llama/Llama-3.3-70B-Instruct", name="Llama-3.3-70B-Instruct", format="q4_k_m",
                       source="gguf", repo="bartowski/Llama-3.3-70B-Instruct-GGUF",
                       file="Llama-3.3-70B-Instruct-Q4_K_M.gguf", architecture="llama",
                       license="llama3.3 community", max_context=131072, n_layers=80, stop=("<|eot_id|>",)),
        runtime=RUNTIMES["llama.cpp"], kv_cache={"type": "q8_0"}, context=16384, slots=2,
        parallelism=Parallelism(tensor=2, gpu_layers=70, split_mode="row", tensor_split=(1.0, 1.0)),
        hardware=Hardware(gpu="RTX-4090", gpus_per_node=2, gpu_memory_bytes=24 * GIB, host_memory_bytes=128 * GIB,
                          link="pcie", p2p=False),
        settings=Settings(flash_attention="on", kv_unified=False, threads=16, batch_size=2048, ubatch_size=512,
                          env={"NCCL_P2P_DISABLE": "1"}),
        serving=Serving(port=8080, served_name="llama-3.3-70b", api_key_env="LLAMA_API_KEY_VALUE"),
        memory=Memory(devices=(_device("gpu0 (RTX 4090)", "gpu", 18 * GIB, 2 * GIB, 24 * GIB),
                               _device("gpu1 (RTX 4090)", "gpu", 18 * GIB, 2 * GIB, 24 * GIB),
                               _device("cpu (host RAM)", "cpu", 5 * GIB, 0, 128 * GIB)), safety_margin=0.05),
        emit=("compose",),
    )


def ollama_gemma(*, context: int = 8192, slots: int = 2) -> Plan:
    """Ollama on one RTX 4090 with gemma-3-270m, q8_0 KV (so flash attention is forced on)."""
    return _plan(
        deployment="gemma-ollama",
        model=ModelRef(id="google/gemma-3-270m-it", name="gemma-3-270m-it", format="q4_k_m", source="gguf",
                       repo="unsloth/gemma-3-270m-it-GGUF", file="gemma-3-270m-it-Q4_K_M.gguf",
                       architecture="gemma3", license="gemma", max_context=32768, n_layers=18,
                       stop=("<end_of_turn>",)),
        runtime=RUNTIMES["ollama"], kv_cache={"type": "q8_0"}, context=context, slots=slots,
        parallelism=Parallelism(),
        hardware=Hardware(gpu="RTX-4090", gpus_per_node=1, gpu_memory_bytes=24 * GIB),
        settings=Settings(flash_attention="auto", threads=8),
        serving=Serving(port=11434, served_name="gemma-chat"),
        memory=Memory(devices=(_device("gpu0 (RTX 4090)", "gpu", 241 * MIB, 80 * MIB, 24 * GIB),), safety_margin=0.2),
        emit=("compose", "kubernetes"),
    )


def sglang_qwen() -> Plan:
    """SGLang on 4×H100 with TP 4, FP8 KV, MTP speculative decoding and a reasoning parser."""
    return _plan(
        deployment="qwen3-sglang",
        workload=Workload(task="reasoning", concurrency=64, prompt_tokens=2048, output_tokens=2048),
        model=ModelRef(id="Qwen/Qwen3-Next-80B-A3B-Instruct", name="Qwen3-Next-80B-A3B-Instruct", format="bf16",
                       source="hf", repo="Qwen/Qwen3-Next-80B-A3B-Instruct", architecture="qwen3_next",
                       license="apache-2.0", reasoning_parser="qwen3", thinking="on", max_context=262144,
                       n_layers=48, moe=True),
        runtime=RUNTIMES["sglang"], kv_cache={"type": "fp8"}, context=65536, slots=64,
        parallelism=Parallelism(tensor=4),
        hardware=Hardware(gpu="H100-SXM-80GB", gpus_per_node=4, gpu_memory_bytes=80 * GIB, link="nvlink", p2p=True),
        settings=Settings(mem_fraction_static=0.85),
        serving=Serving(port=30000, served_name="qwen3-next"),
        speculative=Speculative(method="mtp", num_tokens=2, acceptance=0.7, speedup=1.6, source="test builder"),
        memory=Memory(devices=tuple(_device(f"gpu{i} (H100)", "gpu", 40 * GIB, 25 * GIB, 80 * GIB) for i in range(4)),
                      safety_margin=0.08),
        emit=("compose",),
    )


def vllm_deepseek_two_nodes() -> Plan:
    """DeepSeek-V3.1 FP8 on 2 nodes × 8 H100: TP 8 × PP 2 over Ray, expert parallel, MTP; Kubernetes."""
    return _plan(
        deployment="deepseek-v31",
        workload=Workload(task="agent", concurrency=128, prompt_tokens=4096, output_tokens=1024),
        model=ModelRef(id="deepseek-ai/DeepSeek-V3.1", name="DeepSeek-V3.1", format="fp8", source="hf",
                       repo="deepseek-ai/DeepSeek-V3.1", architecture="deepseek_v3", license="mit",
                       tool_call_parser="deepseek_v31", reasoning_parser="deepseek_v3", thinking="on",
                       chat_template_kwargs={"thinking": True}, max_context=131072, n_layers=61, moe=True),
        runtime=RUNTIMES["vllm"], kv_cache={"type": "f16"}, context=65536, slots=128,
        parallelism=Parallelism(tensor=8, pipeline=2, expert=8, nodes=2),
        hardware=Hardware(gpu="H100-SXM-80GB", gpus_per_node=8, nodes=2, gpu_memory_bytes=80 * GIB, link="nvlink",
                          p2p=True),
        settings=Settings(gpu_memory_utilization=0.92, enable_prefix_caching=True, enable_chunked_prefill=True,
                          max_num_batched_tokens=16384),
        serving=Serving(host="0.0.0.0", port=8000, served_name="deepseek-v3.1", api_key_env="DEEPSEEK_API_KEY"),
        speculative=Speculative(method="mtp", num_tokens=1, acceptance=0.8, speedup=1.4, source="test builder"),
        memory=Memory(devices=tuple(_device(f"node{n} gpu{i} (H100)", "gpu", 42 * GIB, 25 * GIB, 80 * GIB)
                                    for n in range(2) for i in range(8)), safety_margin=0.08),
        emit=("kubernetes",),
    )


ALL = {
    "vllm_tp2_speculative": vllm_tp2_speculative,
    "llamacpp_70b_row_split": llamacpp_70b_row_split,
    "ollama_gemma": ollama_gemma,
    "sglang_qwen": sglang_qwen,
    "vllm_deepseek_two_nodes": vllm_deepseek_two_nodes,
    "llamacpp_gemma_cpu": llamacpp_gemma_cpu,
    "llamacpp_tiny_cpu": lambda: llamacpp_tiny_cpu(Path("/models/tiny.gguf")),
}


# ---------------------------------------------------------------- llama.cpp KV bytes, independently of llmc.estimate

def llama_kv_bytes(gguf: Path, *, n_ctx: int, n_seq: int, unified: bool, k: str = "f16", v: str = "f16",
                   n_ubatch: int = 512) -> int:
    """llmc's own prediction (llmc.estimate.kv) of the KV cache llama-server allocates for this file:
    the tests compare it with what the real server prints."""
    from llmc.catalog.local import import_local
    from llmc.estimate.kv import kv_bytes

    catalog, _ = load_catalog()
    model = import_local(Path(gguf)).model
    return kv_bytes(model, catalog.kv_types[k], n_ctx=n_ctx, n_seq=n_seq, runtime="llama.cpp", unified=unified,
                    n_ubatch=n_ubatch, kv_v=catalog.kv_types[v]).total_bytes


def with_kv_bytes(plan: Plan, kv_bytes: int) -> Plan:
    device = plan.memory.devices[0]
    device = device.model_copy(update={"kv_cache_bytes": kv_bytes,
                                       "total_bytes": device.weights_bytes + kv_bytes + device.compute_bytes
                                       + device.overhead_bytes})
    return plan.model_copy(update={"memory": plan.memory.model_copy(update={"devices": (device,)})})


def kv_printed_matches(log, kv_bytes: int) -> bool:
    """llama-server prints each KV buffer in MiB with two decimals (iSWA models print two), so the
    printed sum equals the byte figure within half a hundredth of a MiB per printed buffer."""
    buffers = [b for b in log.buffers if b.kind == "KV"]
    return bool(buffers) and abs(sum(b.mib for b in buffers) - kv_bytes / 1024**2) <= 0.005 * len(buffers) + 1e-9
