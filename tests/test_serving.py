"""The serving simulation (estimate/serving.py): each runtime's scheduler under closed- and open-loop load.

Real model shapes and the runtimes' own profiles (their schedulers and budgets); the assertions are about
what a user sees under load: a long prompt slowing short interactive requests, a queue that grows past
saturation, preemption when the pool runs out, requests waiting for a llama-server slot.
"""

from __future__ import annotations

import pytest

from llmc.estimate.memory import HardwareView, ParallelView
from llmc.estimate.serving import Budget, Load, simulate
from llmc.estimate.speed import step_model
from llmc.estimate.weights import weight_bytes
from llmc.runtimes import profile
from tests.test_estimate import BF16, F16, H100, Q4_K_M, RTX4090
from tests.test_params import llama_8b


def _step(runtime: str, gpu=H100, fmt=BF16):
    m = llama_8b()
    return step_model(m, weight_bytes(m, fmt), F16, runtime, HardwareView(gpus=(gpu,)), ParallelView())


VLLM_BUDGET = Budget(step_tokens=8192, max_seqs=1024, pool_tokens=400_000)


def _run(runtime: str, load: Load, budget: Budget = VLLM_BUDGET, **step):
    return simulate(_step(runtime, **step), profile(runtime).scheduler, budget, load)


@pytest.mark.parametrize("runtime, budget, step, rate", [
    ("vllm", VLLM_BUDGET, {}, 4.0),
    ("sglang", VLLM_BUDGET, {}, 4.0),
    ("llama.cpp", Budget(step_tokens=2048, max_seqs=8, pool_tokens=None), {"gpu": RTX4090, "fmt": Q4_K_M}, 2.0),
])
def test_a_long_prompt_joining_short_requests_slows_them(runtime, budget, step, rate):
    """The seed's continuous-batching trap (chapter 18): one long request among short interactive ones raises
    their tail TTFT (there ~50 ms -> ~200 ms) and TPOT. Short chats arrive at a light rate; a 32k-token
    prompt arrives halfway through."""
    base = _run(runtime, Load("open", prompt=256, output=128, rate=rate), budget, **step)
    halfway = 100 / rate
    mixed = _run(runtime, Load("open", prompt=256, output=128, rate=rate, extra=((halfway, 32_768, 64),)), budget,
                 **step)
    assert not base.saturated
    assert mixed.ttft_s.p99 > 2 * base.ttft_s.p99
    assert mixed.tpot_s.p99 > 1.3 * base.tpot_s.p99
    assert mixed.ttft_s.p99 < 100 * base.ttft_s.p99      # a prompt's worth of steps, not a stall
    assert mixed.ttft_s.p50 == pytest.approx(base.ttft_s.p50, rel=0.2)   # most requests never meet it


def test_the_same_load_gives_the_same_figures():
    load = Load("open", prompt=512, output=128, rate=20.0)
    assert _run("vllm", load) == _run("vllm", load)


def test_an_open_loop_past_capacity_saturates_and_its_queue_grows():
    light = _run("vllm", Load("open", prompt=512, output=128, rate=2.0))
    heavy = _run("vllm", Load("open", prompt=512, output=128, rate=2000.0))
    assert not light.saturated and light.request_rate == pytest.approx(2.0, rel=0.25)
    assert light.throughput_tok_s == pytest.approx(light.request_rate * 128, rel=1e-3)
    assert heavy.saturated and heavy.queue_s.p90 > 10 * light.queue_s.p90
    assert heavy.ttft_s.p99 > 10 * light.ttft_s.p99


def test_more_users_raise_throughput_and_latency_until_the_batch_is_compute_bound():
    figures = [_run("vllm", Load("closed", prompt=512, output=128, users=n)) for n in (1, 8, 64)]
    rates = [f.throughput_tok_s for f in figures]
    assert rates[0] < rates[1] < rates[2]
    assert figures[0].tpot_s.mean < figures[1].tpot_s.mean < figures[2].tpot_s.mean


def test_a_small_pool_preempts_and_recomputes():
    """vLLM admits a request when its prompt fits the free blocks; when decoding outgrows the pool the newest
    request is preempted and recomputed later (v1/core/sched/scheduler.py)."""
    roomy = _run("vllm", Load("closed", prompt=1024, output=1024, users=32))
    tight = _run("vllm", Load("closed", prompt=1024, output=1024, users=32),
                 Budget(step_tokens=8192, max_seqs=1024, pool_tokens=40_000))
    assert roomy.preemptions == 0 and tight.preemptions > 0
    assert tight.e2e_s.mean > roomy.e2e_s.mean and tight.kv_peak <= 1.0


def test_sglang_keeps_room_for_the_answers_so_the_same_pool_runs_fewer_at_once_without_preempting():
    """SGLang's PrefillAdder admits a request only if its prompt and answer fit beside every running request's
    remaining answer (srt/managers/schedule_policy.py); vLLM admits on the prompt and preempts as answers grow."""
    load, tight = Load("closed", prompt=1024, output=1024, users=32), Budget(8192, 1024, 40_000)
    vllm, sglang = _run("vllm", load, tight), _run("sglang", load, tight)
    assert vllm.preemptions > 0 and sglang.preemptions == 0
    assert sglang.queue_s.mean > 0 and sglang.kv_peak <= 1.0


def test_users_beyond_the_slots_wait_in_llama_servers_queue():
    step = {"gpu": RTX4090, "fmt": Q4_K_M}
    fits = _run("llama.cpp", Load("closed", prompt=256, output=64, users=4), Budget(2048, 4, None), **step)
    waits = _run("llama.cpp", Load("closed", prompt=256, output=64, users=8), Budget(2048, 4, None), **step)
    assert waits.queue_s.mean > 5 * fits.queue_s.mean   # a free slot is taken at the next step
    assert waits.ttft_s.mean > fits.ttft_s.mean


def _basis(concurrency: int, output: str, model: str = "Qwen/Qwen3-30B-A3B-Instruct-2507", context: str = "256k",
           prompt: str = "1k") -> str:
    from llmc.catalog import load_catalog
    from llmc.solve import solve
    from tests.support.specs import deployment, spec_text

    body = (f'  model = "{model}"\n  runtime = vllm\n  context = {context} tokens\n'
            f'  workload {{\n    concurrency = {concurrency}\n    prompt = {prompt} tokens\n    output = {output}\n  }}\n')
    plan, diagnostics = solve(deployment(spec_text('    gpu = 1 x "H200 SXM"', body=body)), load_catalog()[0])
    assert plan is not None, [d.summary for d in diagnostics]
    return plan.performance.basis


def test_a_workload_too_long_to_simulate_keeps_its_unloaded_figures():
    """Answers of a quarter-million tokens from every user would take the simulation minutes: the plan keeps
    the unloaded figures and says so (basis), where a short answer of the same spec is simulated."""
    assert _basis(2, "250k tokens") == "unloaded"
    assert _basis(2, "1k tokens") == "simulated"


def test_a_crowd_too_large_to_simulate_keeps_its_unloaded_figures():
    """100,000 users are 300,000 simulated requests, each an event however short its answer (such a spec
    once kept `llmc build` busy for many minutes): the plan keeps the unloaded figures."""
    crowd = dict(model="google/gemma-3-270m-it", context="1k", prompt="8")
    assert _basis(100_000, "16 tokens", **crowd) == "unloaded"
    assert _basis(100, "16 tokens", **crowd) == "simulated"

@pytest.mark.parametrize("runtime, budget, step", [
    ("vllm", VLLM_BUDGET, {}),
    ("llama.cpp", Budget(step_tokens=2048, max_seqs=8, pool_tokens=None), {"gpu": RTX4090, "fmt": Q4_K_M}),
])
def test_users_whose_requests_vary_in_length_drift_out_of_their_waves(runtime, budget, step):
    """Closed-loop users with requests all alike start together and stay in waves: every prompt arrives with
    the other users' and waits for theirs. Answers of varied lengths end at different steps, so the users
    drift apart and a prompt meets running decodes instead: TTFT falls towards a lone prompt's, while the
    mean lengths, hence the throughput, stay about the same."""
    alike = _run(runtime, Load("closed", prompt=1024, output=128, users=8), budget, **step)
    varied = _run(runtime, Load("closed", prompt=1024, output=128, users=8, prompt_spread=0.5, output_spread=0.5),
                  budget, **step)
    alone = _run(runtime, Load("closed", prompt=1024, output=128, users=1), budget, **step)
    assert varied.ttft_s.mean < 0.6 * alike.ttft_s.mean
    assert varied.ttft_s.mean < 3 * alone.ttft_s.mean
    assert varied.ttft_s.p99 > varied.ttft_s.p50          # prompts of many lengths: a spread of TTFTs
    assert varied.throughput_tok_s == pytest.approx(alike.throughput_tok_s, rel=0.25)


def test_varied_lengths_keep_their_means_and_bounds():
    from llmc.estimate.serving import length_draws, request_lengths

    load = Load("closed", prompt=1000, output=200, users=4, prompt_spread=0.5, output_spread=0.5, longest=1400)
    draws = length_draws()
    lengths = [request_lengths(load, draws) for _ in range(2000)]
    prompts, outputs = [p for p, _ in lengths], [o for _, o in lengths]
    assert min(prompts) >= 500 and max(prompts) <= 1399
    assert sum(prompts) / len(prompts) == pytest.approx(1000, rel=0.05)
    assert all(p + o <= 1400 for p, o in lengths)             # cut to the context
    assert min(outputs) >= 1 and len(set(outputs)) > 100
    again = length_draws()
    assert [request_lengths(load, again) for _ in range(2000)] == lengths   # seeded: smoke sends the same


def test_a_benchmark_clients_whole_run_includes_the_first_burst():
    """`vllm bench serve` reports over every request it sent, the first burst of all users at once included;
    the steady-state figures leave it out."""
    steady = _run("vllm", Load("closed", prompt=1024, output=128, users=32, output_spread=0.3, requests=96))
    whole = _run("vllm", Load("closed", prompt=1024, output=128, users=32, output_spread=0.3, requests=96,
                              whole_run=True))
    assert whole.requests == 96 and steady.requests < 96
    assert whole.ttft_s.p99 > steady.ttft_s.p99


def test_exponential_lengths_keep_their_mean_and_a_long_tail_that_a_burst_waits_for():
    """ShareGPT's lengths (most short, a few thousands of tokens) as an exponential about their means: the
    mean holds, the longest is several times it, and a burst of requests drains at its longest answer, so it
    serves fewer tokens a second than the same burst of uniform lengths."""
    from llmc.estimate.serving import length_draws, request_lengths

    load = Load("closed", prompt=220, output=200, users=500, requests=500, exponential=True, longest=2048,
                whole_run=True)
    draws = length_draws()
    lengths = [request_lengths(load, draws) for _ in range(5000)]
    outputs = [o for _, o in lengths]
    assert sum(outputs) / len(outputs) == pytest.approx(200, rel=0.05)
    assert max(outputs) > 5 * 200 and all(p + o <= 2048 for p, o in lengths)
    uniform = Load("closed", prompt=220, output=200, users=500, requests=500, prompt_spread=1.0, output_spread=1.0,
                   whole_run=True)
    assert _run("vllm", load).throughput_tok_s < 0.8 * _run("vllm", uniform).throughput_tok_s
