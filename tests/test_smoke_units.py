"""The parts of `llmc smoke` that need no server: prompt calibration, reading runtime reports, NVML without a GPU."""

from __future__ import annotations

import socket

import pytest

from llmc.plan import DeviceMemory, Memory
from llmc.smoke.launch import port_free
from llmc.smoke.load import build_prompt, percentile
from llmc.smoke.measure import GpuSampler, device_key, llama_figures, vllm_figures, vllm_metrics_tokens
from llmc.smoke.build_dir import LOG_VERBOSITY_ENV, server_env
from llmc.smoke.run import fit_prompt
from tests.support import smoke_plans as sp
from tests.support.tiny_gguf import write_tiny_gguf

MIB, GIB = 2**20, 2**30


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    return sp.cpu_llama_plan(write_tiny_gguf(tmp_path_factory.mktemp("m") / "t.gguf"), port=8080, context=1024,
                             slots=2, prompt_tokens=100, output_tokens=50)


def with_devices(plan, *devices, error_band=0.1, kv_tokens=None):
    memory = Memory(devices=devices, safety_margin=0.0, error_band=error_band, kv_tokens_capacity=kv_tokens)
    return plan.model_copy(update={"memory": memory})


def device(kind, name, weights, kv, compute):
    return DeviceMemory(device=name, kind=kind, weights_bytes=weights, kv_cache_bytes=kv, compute_bytes=compute,
                        overhead_bytes=0, total_bytes=weights + kv + compute, capacity_bytes=80 * GIB)


@pytest.mark.parametrize("chars_per_token", [1, 4, 7])
def test_prompt_is_calibrated_with_the_servers_token_count(chars_per_token):
    def counter(text):
        return len(text) // chars_per_token

    text, counted = build_prompt(500, counter)
    assert counted == counter(text)
    assert abs(counted - 500) <= 25


def test_prompt_without_a_tokenizer_is_one_word_per_token():
    text, counted = build_prompt(300, lambda text: None)
    assert counted is None and len(text.split()) == 300


def test_percentile_is_nearest_rank():
    values = [0.5, 0.1, 0.4, 0.2, 0.3]
    assert percentile(values, 50) == 0.3
    assert percentile(values, 95) == 0.5
    assert percentile([], 50) is None


def test_buffer_names_map_to_devices():
    assert [device_key(n) for n in ("CPU", "CPU_Mapped", "CPU_REPACK", "CUDA_Host", "CUDA0", "CUDA1", "ROCm2")] == \
        ["cpu", "cpu", "cpu", "cpu", "gpu0", "gpu1", "gpu2"]


LLAMA_GPU_LOG = """\
load_tensors: offloaded 29/29 layers to GPU
load_tensors:        CUDA0 model buffer size =  4000.00 MiB
load_tensors:   CPU_Mapped model buffer size =   300.00 MiB
load_tensors:   CPU_REPACK model buffer size =    20.00 MiB
llama_context:  CUDA_Host  output buffer size =     0.50 MiB
llama_kv_cache:      CUDA0 KV buffer size =   512.00 MiB
llama_kv_cache: size =  512.00 MiB (  4096 cells,  32 layers,  1/1 seqs), K (f16):  256.00 MiB, V (f16):  256.00 MiB
sched_reserve:      CUDA0 compute buffer size =   300.00 MiB
sched_reserve:  CUDA_Host compute buffer size =    16.00 MiB
"""


def test_llama_buffers_are_compared_per_device(plan):
    gpu_plan = with_devices(plan, device("gpu", "gpu0 (RTX 4090)", 4000 * MIB, 512 * MIB, 290 * MIB),
                            device("cpu", "cpu (host RAM)", 300 * MIB, 0, 10 * MIB))
    got = {(f.device, f.part): f for f in llama_figures(gpu_plan, LLAMA_GPU_LOG)}
    assert got["gpu0", "weights"].measured == 4000 * MIB and got["gpu0", "weights"].within
    assert got["gpu0", "kv_cache"].measured == 512 * MIB
    assert got["gpu0", "compute"].within                        # 300 vs 290 MiB, band 10%
    # the repacked copy lives inside the mapped file's range: not counted twice
    assert got["cpu", "weights"].measured == 300 * MIB
    # host compute = compute + output buffer, as the estimator plans it; 16.5 MiB vs 10 MiB is out of band
    assert got["cpu", "compute"].measured == round(16.5 * MIB) and not got["cpu", "compute"].within
    assert ("cpu", "kv_cache") not in got                       # nothing planned, nothing printed


def test_missing_buffer_line_is_not_reported_as_a_match(plan):
    figures = llama_figures(plan, "load_tensors:   CPU_Mapped model buffer size =     0.44 MiB\n")
    kv = next(f for f in figures if f.part == "kv_cache")
    assert kv.measured is None and not kv.within


# Formats from vLLM 0.33 (gpu_worker / model runner / kv_cache_utils logger calls).
VLLM_LOG = """\
INFO 11-25 10:00:01 [gpu_model_runner.py:2001] Model loading took 14.99 GiB memory and 5.123456 seconds
INFO 11-25 10:00:09 [gpu_worker.py:300] Available KV cache memory: 52.31 GiB
INFO 11-25 10:00:09 [kv_cache_utils.py:1000] GPU KV cache size: 428,512 tokens
INFO 11-25 10:00:09 [kv_cache_utils.py:1004] Maximum concurrency for 32,768 tokens per request: 13.08x
"""


def test_vllm_startup_lines_are_compared_with_the_plan(plan):
    vplan = with_devices(plan.model_copy(update={"runtime": plan.runtime.model_copy(update={"name": "vllm"})}),
                         device("gpu", "gpu0 (H100)", int(15.2 * GIB), int(52 * GIB), 2 * GIB),
                         error_band=0.10, kv_tokens=400_000)
    got = {f.part: f for f in vllm_figures(vplan, VLLM_LOG, "")}
    assert got["weights"].measured == pytest.approx(14.99 * GIB) and got["weights"].within
    assert got["kv_cache"].measured == pytest.approx(52.31 * GIB) and got["kv_cache"].within
    assert got["kv_tokens"].measured == 428_512 and got["kv_tokens"].within


def test_vllm_kv_tokens_fall_back_to_metrics(plan):
    metrics = ('# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n'
               'vllm:cache_config_info{block_size="16",cache_dtype="auto",num_gpu_blocks="26782"} 1.0\n')
    assert vllm_metrics_tokens(metrics) == 26782 * 16


def test_nvml_without_a_gpu_says_so_and_compares_nothing(plan):
    sampler = GpuSampler()
    sampler.start()
    sampler.stop()
    assert sampler.available is False
    assert "no NVIDIA GPU/driver found" in sampler.reason
    assert sampler.figures(plan) == []
    assert sampler.describe() == {"available": False, "reason": sampler.reason}


@pytest.mark.parametrize("given, expected", [(None, "4"), ("2", "4"), ("5", "5")])
def test_llama_log_verbosity_is_raised_to_4(plan, given, expected):
    env = {} if given is None else {LOG_VERBOSITY_ENV: given}
    assert server_env(plan, env)[LOG_VERBOSITY_ENV] == expected


def test_prompt_is_shortened_when_it_would_not_fit_a_slot(plan):
    assert fit_prompt(plan) == (100, "")
    long = plan.model_copy(update={"workload": plan.workload.model_copy(update={"prompt_tokens": 5000})})
    tokens, note = fit_prompt(long)
    assert tokens == plan.context - 50 - 64 and "shortened from 5000" in note


def test_port_free_sees_a_listener():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.listen()
        assert not port_free("127.0.0.1", port)
    assert port_free("127.0.0.1", port)


def test_compose_override_gives_llama_services_verbosity_4(plan, tmp_path):
    """Validated and merged by the real Compose binary (`config` needs no daemon)."""
    import json
    import subprocess

    from llmc.smoke.build_dir import compose_override
    from tests.support import tools

    build_dir = sp.write_build_dir(tmp_path / "build", plan, compose=True)
    override = compose_override(plan, build_dir / "compose.yaml", tmp_path)
    out = subprocess.run([str(tools.compose_binary()), "-f", str(build_dir / "compose.yaml"), "-f", str(override),
                          "config", "--format", "json"], capture_output=True, text=True, check=True)
    services = json.loads(out.stdout)["services"]
    assert services and all(s["environment"][LOG_VERBOSITY_ENV] == "4" for s in services.values())
