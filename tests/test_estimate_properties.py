"""Properties every estimate must keep, over generated model shapes, formats and workloads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from llmc.catalog.schema import Attention, Format, Gpu, KvType, LinearAttention, Moe
from llmc.estimate.kv import kv_bytes, paged_bytes_per_token, recurrent_state_elements
from llmc.estimate.memory import HardwareView, MemorySettings, ParallelView, plan_memory
from llmc.estimate.speed import bandwidth_limit_tok_s, estimate_speed
from llmc.estimate.weights import weight_bytes
from tests.test_params import model

GIB = 1024 ** 3
F16 = KvType(source=("ggml",), id="f16", bits=16, runtimes={"llama.cpp": "f16", "vllm": "auto"})
Q8_0 = KvType(source=("ggml",), id="q8_0", bits=8.5, block_size=32, runtimes={"llama.cpp": "q8_0"},
              needs_flash_attention=True)
GPU = Gpu(source=("spec",), name="H100 SXM", memory_bytes=80 * GIB, bandwidth_gbps=3350, bf16_tflops=989,
          arch="Hopper", device_class="datacenter")
RTX = Gpu(source=("spec",), name="RTX 4090", memory_bytes=24 * GIB, bandwidth_gbps=1008, bf16_tflops=165, arch="Ada",
          device_class="consumer")
CPU = Gpu(source=("spec",), name="DDR5 host", kind="cpu", memory_bytes=256 * GIB, bandwidth_gbps=90, bf16_tflops=2,
          arch="Zen4")


def fmt(bits: float) -> Format:
    return Format(source=("x",), id=f"b{bits}", family="gguf", bits_per_weight=bits, runtimes=("llama.cpp",))


@st.composite
def shapes(draw, kinds=("full", "sliding", "linear")):
    head_dim = draw(st.sampled_from([64, 128, 256]))
    n_kv = draw(st.sampled_from([1, 2, 4, 8]))
    n_heads = n_kv * draw(st.sampled_from([1, 2, 4, 8]))
    hidden = draw(st.sampled_from([512, 1024, 2048, 4096]))
    layers = draw(st.integers(2, 48))
    pattern = tuple(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=6)))
    if "full" not in pattern and "sliding" not in pattern:
        pattern = pattern + ("full",)
    moe = None
    if draw(st.booleans()):
        e = draw(st.sampled_from([8, 64, 128]))
        moe = Moe(num_experts=e, experts_per_token=draw(st.integers(1, min(8, e))),
                  expert_intermediate_size=draw(st.sampled_from([256, 768, 1408])))
    linear = LinearAttention(num_k_heads=16, num_v_heads=32, head_k_dim=128, head_v_dim=128) \
        if "linear" in pattern else None
    window = draw(st.sampled_from([128, 512, 1024, 4096])) if "sliding" in pattern else None
    return model(n_layers=layers, hidden_size=hidden, n_heads=n_heads, n_kv_heads=n_kv, head_dim=head_dim,
                 vocab_size=draw(st.sampled_from([32000, 151936])), intermediate_size=hidden * 3, moe=moe,
                 attention=Attention(pattern=pattern, sliding_window=window, linear=linear))


def all_full(m):
    return m.model_copy(update={"attention": Attention()})


def host_total(m, bits, context, slots, runtime="llama.cpp", kv=F16):
    w = weight_bytes(m, fmt(bits))
    est = plan_memory(m, w, fmt(bits), kv, runtime, HardwareView(host_ram_bytes=512 * GIB), ParallelView(),
                      context, slots, MemorySettings())
    return est.devices[-1].total_bytes


contexts = st.integers(256, 65536)
slot_counts = st.integers(1, 8)
bits = st.sampled_from([2.625, 3.4375, 4.5, 5.5, 6.5625, 8.5, 16.0])


@settings(max_examples=60, deadline=None)
@given(shapes(), contexts, contexts, slot_counts)
def test_memory_is_monotone_in_context(m, a, b, slots):
    lo, hi = sorted((a, b))
    assert host_total(m, 4.5, lo, slots) <= host_total(m, 4.5, hi, slots)


@settings(max_examples=60, deadline=None)
@given(shapes(), contexts, slot_counts, slot_counts)
def test_memory_is_monotone_in_concurrency(m, context, a, b):
    lo, hi = sorted((a, b))
    assert host_total(m, 4.5, context, lo) <= host_total(m, 4.5, context, hi)
    need = lambda s: kv_bytes(m, F16, n_ctx=context, n_seq=s, runtime="vllm").total_bytes  # noqa: E731
    assert need(lo) <= need(hi)


@settings(max_examples=60, deadline=None)
@given(shapes(), bits, bits, contexts)
def test_memory_is_monotone_in_bits_per_weight(m, a, b, context):
    lo, hi = sorted((a, b))
    assert host_total(m, lo, context, 1) <= host_total(m, hi, context, 1)


@settings(max_examples=80, deadline=None)
@given(shapes(kinds=("full", "sliding")), contexts, slot_counts, st.booleans(), st.sampled_from(["llama.cpp", "vllm"]))
def test_sliding_hybrid_kv_never_exceeds_all_full(m, context, slots, unified, runtime):
    hybrid = kv_bytes(m, F16, n_ctx=context, n_seq=slots, unified=unified, runtime=runtime).total_bytes
    full = kv_bytes(all_full(m), F16, n_ctx=context, n_seq=slots, unified=unified, runtime=runtime).total_bytes
    assert hybrid <= full


@settings(max_examples=80, deadline=None)
@given(shapes(), contexts, slot_counts, st.booleans())
def test_any_hybrid_kv_never_exceeds_all_full_past_the_state_crossover(m, context, slots, unified):
    """A recurrent layer's state is a fixed size: it costs less than full attention once the
    per-sequence context passes state / per-token KV (for Qwen3-Next shapes a few thousand tokens)."""
    per_token_layer = 2 * m.n_kv_heads * m.head_dim * 2
    crossover = 0
    if m.attention.linear is not None:
        crossover = recurrent_state_elements(m) * 4 // per_token_layer + 1
    per_seq = max(context // slots, crossover)
    ctx = per_seq * slots
    hybrid = kv_bytes(m, F16, n_ctx=ctx, n_seq=slots, unified=unified).total_bytes
    full = kv_bytes(all_full(m), F16, n_ctx=ctx, n_seq=slots, unified=unified).total_bytes
    assert hybrid <= full


def test_a_recurrent_state_outweighs_a_short_context():
    """The crossover above is real: at 256 tokens one Gated DeltaNet state is bigger than its KV would be."""
    m = model(n_layers=4, hidden_size=2048, n_heads=16, n_kv_heads=2, head_dim=256, vocab_size=151936,
              intermediate_size=5120, attention=Attention(pattern=("linear", "full"), linear=LinearAttention(
                  num_k_heads=16, num_v_heads=32, head_k_dim=128, head_v_dim=128)))
    assert kv_bytes(m, F16, n_ctx=256).total_bytes > kv_bytes(all_full(m), F16, n_ctx=256).total_bytes


@settings(max_examples=80, deadline=None)
@given(shapes(), bits, st.integers(1, 256), st.integers(16, 16384), st.integers(1, 4096),
       st.sampled_from([(GPU, "vllm"), (RTX, "llama.cpp"), (CPU, "llama.cpp")]), st.sampled_from([1, 2, 4]))
def test_no_decode_estimate_beats_the_bandwidth_limit(m, b, batch, prompt, output, device, tp):
    dev, runtime = device
    if dev.kind == "cpu":
        hw, tp = HardwareView(cpu=dev, host_ram_bytes=dev.memory_bytes), 1
    else:
        hw = HardwareView(gpus=(dev,) * tp, link="nvlink")
    w = weight_bytes(m, fmt(b))
    s = estimate_speed(m, w, F16, runtime, hw, ParallelView(tp=tp), prompt_tokens=prompt, output_tokens=output,
                       concurrency=batch)
    assert s.decode_tok_s <= bandwidth_limit_tok_s(m, w, hw, tp=tp)
    assert s.throughput_tok_s.value <= batch * bandwidth_limit_tok_s(m, w, hw, tp=tp)
    assert s.ttft_s.value > 0 and s.tpot_s.low <= s.tpot_s.value <= s.tpot_s.high


@settings(max_examples=40, deadline=None)
@given(shapes(kinds=("full", "sliding")), st.sampled_from([1, 2, 4, 8]))
def test_paged_bytes_per_token_shrink_with_tp(m, tp):
    one = sum(paged_bytes_per_token(m, F16, 1).values())
    split = sum(paged_bytes_per_token(m, F16, tp).values())
    assert split <= one and split * tp >= one
