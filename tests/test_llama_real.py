"""Our llama.cpp memory predictions against the real llama-server's own buffer report (-lv 4).

Every case starts the real server (CPU build) on a generated tiny GGUF of a chosen shape, or on the
real gemma-3-270m (sliding-window layers), waits for /health, parses what it printed, and checks:
  - the context sizes (n_ctx, n_ctx_seq) and KV cells per cache exactly;
  - every KV cache's size exactly at the precision llama.cpp prints (MiB, two decimals) -- the cell
    count is exact, so this pins the bytes per cell too;
  - the model buffer within 1% and the compute buffer within 10% (12% for the one gemma case noted below);
  - the output buffer exactly.
It also checks the two KV-type constraints the solver relies on, by letting the real server refuse them.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from llmc.catalog.schema import Format, KvType
from llmc.estimate.ggml_types import row_bytes
from llmc.estimate.kv import kv_constraints, llama_context_sizes
from llmc.estimate.llama_log import LlamaLog, mib_text, parse_llama_log
from llmc.estimate.memory import HardwareView, MemorySettings, ParallelView, plan_memory
from llmc.estimate.weights import weight_bytes
from tests.support import tools
from tests.support.script_run import terminate
from tests.support.tiny_gguf import write_tiny_gguf
from tests.test_params import gemma3_270m, model

GIB = 1024 ** 3


def kv_type(id_: str, bits: float, block: int = 1) -> KvType:
    return KvType(source=("ggml/src/ggml.c",), id=id_, bits=bits, block_size=block,
                  runtimes={"llama.cpp": id_}, needs_flash_attention=block > 1)


F16, Q8_0, Q4_0 = kv_type("f16", 16), kv_type("q8_0", 8.5, 32), kv_type("q4_0", 4.5, 32)
KV = {"f16": F16, "q8_0": Q8_0, "q4_0": Q4_0}
FORMATS = {w: Format(source=("ggml/src/ggml.c",), id=w, family="gguf", bits_per_weight=b, runtimes=("llama.cpp",))
           for w, b in (("f32", 32.0), ("f16", 16.0), ("q8_0", 8.5))}
CPU_HOST = HardwareView(gpus=(), host_ram_bytes=24 * GIB)


# ---------------------------------------------------------------- running the real server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_llama_server(gguf: Path, *args: str, timeout: float = 60.0) -> tuple[LlamaLog, str, int | None]:
    """Run llama-server until /health is 200 or it exits; return (parsed log, text, exit code or None)."""
    port = free_port()
    cmd = [str(tools.llama_server()), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port),
           "-t", "1", "-lv", "4", "--fit", "off", "--no-warmup", *args]
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            healthy = _wait_healthy(proc, port, timeout)
        finally:
            terminate(proc)
        out.seek(0)
        text = out.read()
    return parse_llama_log(text), text, None if healthy else proc.returncode


def _wait_healthy(proc: subprocess.Popen, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"llama-server did not become healthy within {timeout}s")


# ---------------------------------------------------------------- cases

def tiny_model(n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_expert=0, n_expert_used=0):
    from llmc.catalog.schema import Moe
    moe = Moe(num_experts=n_expert, experts_per_token=n_expert_used, expert_intermediate_size=n_ff) if n_expert else None
    return model(n_layers=n_layer, hidden_size=n_embd, n_heads=n_head, n_kv_heads=n_head_kv, head_dim=head_dim,
                 vocab_size=n_vocab, intermediate_size=n_ff, moe=moe, max_context=4096)


# shape, weight type, -c, -np, unified, flash attention, KV type, -ub
TINY = {
    "gqa2-hd32-np1": (dict(n_layer=2, n_embd=256, n_head=8, n_head_kv=4, head_dim=32, n_ff=768, n_vocab=1024),
                      "f32", 1024, 1, False, "on", "f16", 512),
    "mqa-hd64-np4-nofa": (dict(n_layer=3, n_embd=512, n_head=8, n_head_kv=1, head_dim=64, n_ff=1536, n_vocab=2048),
                          "f32", 4096, 4, False, "off", "f16", 512),
    "mha-hd128-np4-unified-pad": (dict(n_layer=2, n_embd=256, n_head=2, n_head_kv=2, head_dim=128, n_ff=768,
                                       n_vocab=512), "f32", 3000, 4, True, "on", "f16", 512),
    "gqa4-hd64-q8_0kv-np2": (dict(n_layer=4, n_embd=512, n_head=8, n_head_kv=2, head_dim=64, n_ff=1536,
                                  n_vocab=1024), "f16", 2048, 2, False, "on", "q8_0", 512),
    "gqa2-hd32-q4_0kv-pad": (dict(n_layer=2, n_embd=256, n_head=8, n_head_kv=4, head_dim=32, n_ff=1024,
                                  n_vocab=1024), "f32", 1000, 1, False, "on", "q4_0", 512),
    "hd64-f16w-ub256-nofa": (dict(n_layer=2, n_embd=384, n_head=6, n_head_kv=2, head_dim=64, n_ff=1152,
                                  n_vocab=4096), "f16", 2048, 1, False, "off", "f16", 256),
    "q8_0-weights-np4-unified": (dict(n_layer=2, n_embd=256, n_head=4, n_head_kv=2, head_dim=64, n_ff=768,
                                      n_vocab=2048), "q8_0", 2048, 4, True, "on", "q8_0", 512),
    "moe-4x2": (dict(n_layer=2, n_embd=256, n_head=4, n_head_kv=2, head_dim=64, n_ff=512, n_vocab=1024,
                     n_expert=4, n_expert_used=2), "f32", 1024, 1, False, "on", "f16", 512),
}


def server_args(n_ctx, n_seq, unified, fa, kv, ubatch) -> list[str]:
    return ["-c", str(n_ctx), "-np", str(n_seq), "-kvu" if unified else "-no-kvu", "-fa", fa,
            "-ctk", kv, "-ctv", kv, "-ub", str(ubatch)]


def predict(m, fmt, n_ctx, n_seq, unified, fa, kv, ubatch):
    settings = MemorySettings(flash_attention=fa == "on", kv_unified=unified, n_ubatch=ubatch)
    w = weight_bytes(m, fmt)
    # the runtime gets -c context*slots: pass the per-slot context so that -c is exactly n_ctx
    return plan_memory(m, w, fmt, KV[kv], "llama.cpp", CPU_HOST, ParallelView(), n_ctx // n_seq, n_seq, settings)


def part(device, name):
    return next(p.bytes for p in device.parts if p.name == name)


def assert_kv_exact(log: LlamaLog, est, n_seq):
    by_layers = {p.layers: p for p in est.kv.parts}
    assert len(log.kv_caches) == len(est.kv.parts)
    for line in log.kv_caches:
        ours = by_layers[line.layers]
        assert line.cells * line.streams == ours.cells, f"{ours.kind}: cells"
        assert f"{line.mib:.2f}" == mib_text(ours.bytes), f"{ours.kind}: {line} vs {ours}"
    buffers = sorted(f"{b.mib:.2f}" for b in log.buffers if b.kind == "KV")
    assert buffers == sorted(mib_text(p.bytes) for p in est.kv.parts)


@pytest.mark.parametrize("case", sorted(TINY))
def test_tiny_gguf_buffers_match_prediction(case, tmp_path):
    shape, wtype, n_ctx, n_seq, unified, fa, kv, ub = TINY[case]
    gguf = write_tiny_gguf(tmp_path / f"{case}.gguf", weight_type=wtype, **shape)
    log, text, code = run_llama_server(gguf, *server_args(n_ctx, n_seq, unified, fa, kv, ub))
    assert code is None and log.complete, text[-2000:]

    m = tiny_model(**shape)
    est = predict(m, FORMATS[wtype], n_ctx if n_ctx % n_seq == 0 else n_ctx + n_seq - n_ctx % n_seq,
                  n_seq, unified, fa, kv, ub)
    ctx, ctx_seq, _ = llama_context_sizes(n_ctx, n_seq, unified)
    assert (log.param("n_ctx"), log.param("n_ctx_seq")) == (ctx, ctx_seq)
    assert_kv_exact(log, est, n_seq)

    host = est.devices[-1]
    assert host.kind == "cpu" and est.devices == (host,)
    mapped = log.mib("model", "CPU_Mapped") * 1024 * 1024
    assert part(host, "weights") == pytest.approx(mapped, rel=0.01)
    assert part(host, "compute") == pytest.approx(log.mib("compute") * 1024 * 1024, rel=0.10)
    assert mib_text(part(host, "output")) == f"{log.mib('output'):.2f}"


def test_context_not_divisible_by_slots_rounds_like_llama_cpp(tmp_path):
    """-c 1000 -np 3: llama.cpp pads to 1024, gives each slot pad256(1024/3) = 512, so n_ctx = 1536."""
    gguf = write_tiny_gguf(tmp_path / "t.gguf", n_embd=128, n_head=4, n_head_kv=2, head_dim=32)
    log, text, code = run_llama_server(gguf, "-c", "1000", "-np", "3", "-no-kvu")
    assert code is None, text[-2000:]
    assert (log.param("n_ctx"), log.param("n_ctx_seq")) == llama_context_sizes(1000, 3, False)[:2] == (1536, 512)


# ---------------------------------------------------------------- gemma-3-270m (iSWA: 15 sliding + 3 full layers)

GEMMA_CASES = {
    # -c, -np, unified, fa, kv, compute tolerance
    "np2": (4096, 2, False, "on", "f16", 0.10),
    "np2-unified": (4096, 2, True, "on", "f16", 0.10),
    "np1-nofa-8k": (8192, 1, False, "off", "f16", 0.10),
    # q8_0 KV with flash attention on the CPU adds ~0.5 MiB of conversion buffers we do not model: 12%.
    "np4-q8_0": (2048, 4, False, "on", "q8_0", 0.12),
}


@pytest.mark.parametrize("case", sorted(GEMMA_CASES))
def test_gemma_sliding_window_kv_and_buffers(case, gemma_path):
    n_ctx, n_seq, unified, fa, kv, tol = GEMMA_CASES[case]
    log, text, code = run_llama_server(gemma_path, *server_args(n_ctx, n_seq, unified, fa, kv, 512))
    assert code is None and log.complete, text[-2000:]
    m = gemma3_270m()
    est = predict(m, FORMATS["f32"], n_ctx, n_seq, unified, fa, kv, 512)
    assert_kv_exact(log, est, n_seq)
    host = est.devices[-1]
    assert part(host, "compute") == pytest.approx(log.mib("compute") * 1024 * 1024, rel=tol)
    assert mib_text(part(host, "output")) == f"{log.mib('output'):.2f}"


def test_gemma_sliding_cache_is_capped_by_the_window(gemma_path):
    """The 15 sliding layers hold pad256(512 + 512) = 1024 cells at any context >= 1024."""
    log, _, _ = run_llama_server(gemma_path, "-c", "16384", "-np", "1", "-fa", "on")
    cells = {line.layers: line.cells for line in log.kv_caches}
    assert cells == {3: 16384, 15: 1024}
    est = predict(gemma3_270m(), FORMATS["f32"], 16384, 1, False, "on", "f16", 512)
    assert est.kv.part("sliding").cells == 1024 and est.kv.part("full").cells == 16384


def test_gemma_model_buffer_from_our_ggml_type_table(gemma_path):
    """The mapped model buffer is the file's tensors sized with our ggml block table, and a plan for the
    local file puts exactly those bytes in host RAM."""
    from llmc.catalog.local import import_gguf
    from llmc.estimate.from_file import weights_from_tensors

    local = import_gguf(gemma_path)
    ours = sum(row_bytes(t.ggml_type, t.shape[0]) * (_elements(t.shape) // t.shape[0]) for t in local.tensors)
    log, _, _ = run_llama_server(gemma_path, "-c", "1024", "-np", "1")
    assert mib_text(ours) == f"{log.mib('model', 'CPU_Mapped'):.2f}"
    w = weights_from_tensors(local.model, local.tensors, local.format)
    assert w.total_bytes == ours and w.bytes_of("embed") > 0.7 * ours   # a 262k-token vocabulary dominates
    est = plan_memory(local.model, w, FORMATS["f32"], F16, "llama.cpp", CPU_HOST, ParallelView(), 1024, 1,
                      MemorySettings())
    assert est.devices[-1].weights_bytes == ours


def _elements(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


# ---------------------------------------------------------------- constraints the real server enforces

def test_quantized_v_cache_needs_flash_attention(tmp_path):
    gguf = write_tiny_gguf(tmp_path / "t.gguf", n_embd=128, n_head=4, n_head_kv=2, head_dim=32)
    m = tiny_model(n_layer=2, n_embd=128, n_head=4, n_head_kv=2, head_dim=32, n_ff=128, n_vocab=320)
    reasons = kv_constraints(m, Q8_0, "llama.cpp", flash_attention=False)
    assert any("flash attention" in r for r in reasons)
    _, text, code = run_llama_server(gguf, "-c", "512", "-fa", "off", "-ctk", "f16", "-ctv", "q8_0")
    assert code is not None and "quantized V cache requires flash_attn" in text
    assert kv_constraints(m, Q8_0, "llama.cpp", flash_attention=True) == []


def test_block_kv_type_needs_head_dim_multiple_of_block(tmp_path):
    gguf = write_tiny_gguf(tmp_path / "t.gguf", n_embd=64, n_head=4, n_head_kv=2)  # head_dim 16
    m = tiny_model(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, head_dim=16, n_ff=128, n_vocab=320)
    assert any("divisible by 32" in r for r in kv_constraints(m, Q4_0, "llama.cpp"))
    _, text, code = run_llama_server(gguf, "-c", "512", "-fa", "on", "-ctk", "q4_0", "-ctv", "q4_0")
    assert code is not None and "does not divide n_embd_head_k=16" in text


def test_tiny_gguf_serves_a_completion(tmp_path):
    """The generated model is a real one: llama-server answers a chat completion with it."""
    gguf = write_tiny_gguf(tmp_path / "t.gguf")
    port = free_port()
    proc = subprocess.Popen([str(tools.llama_server()), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port),
                             "-t", "1", "-c", "512", "--no-warmup"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert _wait_healthy(proc, port, 60)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=30,
                       json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
        assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] >= 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
