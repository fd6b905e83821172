"""`rate` and percentile bounds: the language, and the solver holding plans to them under load."""

from __future__ import annotations

from llmc.driver import load_source
from llmc.source import SourceFile
from tests.support.specs import deployment, spec_text
from tests.test_solve import plan_for

L40S = '    gpu = 1 x "L40S"'
QWEN_AT_4_RPS = ('  model = "Qwen/Qwen3-8B"\n  runtime = vllm\n'
                 '  workload {\n    rate = 4 req/s\n    prompt = 2k tokens\n    output = 256 tokens\n    spread = 0\n  }\n')


def _codes(text: str) -> list[tuple[str, str]]:
    _, diagnostics, _ = load_source(SourceFile(path="t.llmspec", text=text))
    return [(d.code, d.summary) for d in diagnostics]


def test_rate_and_a_percentile_lower():
    d = deployment(spec_text(L40S, body='  workload {\n    rate = 0.5 req/s\n  }\n'
                                        '  latency {\n    ttft p99 <= 2s\n    tpot p90 <= 50ms\n  }\n'))
    assert d.rate == 0.5 and d.latency.ttft.percentile == "p99" and d.latency.tpot.percentile == "p90"
    assert deployment(spec_text(L40S, body='  latency {\n    ttft mean <= 2s\n  }\n')).latency.ttft.percentile is None


def test_a_wrong_percentile_or_rate_is_an_error_with_a_fix():
    assert _codes(spec_text(L40S, body='  latency {\n    ttft p95 <= 2s\n  }\n')) == \
        [("E206", "unknown percentile `p95`")]
    assert _codes(spec_text(L40S, body='  latency {\n    throughput p99 >= 10 tok/s\n  }\n')) == \
        [("E206", "`throughput` takes no percentile")]
    assert [c for c, _ in _codes(spec_text(L40S, body='  workload {\n    rate = 0 req/s\n  }\n'))] == ["E232"]
    assert [c for c, _ in _codes(spec_text(L40S, body='  workload {\n    rate = 5 tok/s\n  }\n'))] == ["E205"]


def test_spread_lowers_and_a_wrong_one_is_an_error_with_a_fix():
    assert deployment(spec_text(L40S, body='  workload {\n    spread = 0.5\n  }\n')).length_spread == 0.5
    assert deployment(spec_text(L40S)).length_spread == 0.5      # unwritten: real traffic's lengths vary
    assert deployment(spec_text(L40S, body='  workload {\n    spread = 0\n  }\n')).length_spread == 0.0
    assert _codes(spec_text(L40S, body='  workload {\n    spread = 50 tokens\n  }\n')) == \
        [("E205", "`spread` takes a fraction, not a token count")]
    assert [c for c, _ in _codes(spec_text(L40S, body='  workload {\n    spread = 2\n  }\n'))] == ["E229"]


def test_a_plan_for_requests_of_varied_lengths_says_so_and_meets_a_ttft_waves_would_miss():
    """Eight users sending 2k-token prompts all alike arrive as one wave (16k prompt tokens per cycle); the
    same users with lengths spread ±50% drift apart, so the plan's TTFT is a prompt beside running decodes."""
    users = QWEN_AT_4_RPS.replace("rate = 4 req/s", "concurrency = 8")
    alike, _ = plan_for(_catalog(), L40S, users)
    varied, _ = plan_for(_catalog(), L40S, users.replace("spread = 0", "spread = 0.5"))
    assert alike.performance.basis == varied.performance.basis == "simulated"
    assert varied.workload.spread == 0.5 and alike.workload.spread is None
    assert "lengths ±50%" in varied.performance.load.workload
    assert varied.performance.ttft_s.value < 0.6 * alike.performance.ttft_s.value


def test_a_percentile_bound_holds_the_tail_where_the_mean_would_pass():
    """Poisson arrivals queue now and then: the mean TTFT meets 250 ms where the p99 does not, so the p99 bound
    rejects the plan the mean bound accepts."""
    mean_plan, _ = plan_for(_catalog(), L40S, QWEN_AT_4_RPS + '  latency {\n    ttft <= 250ms\n  }\n')
    load = mean_plan.performance.load
    assert mean_plan.performance.basis == "simulated" and load.ttft_s.mean <= 0.25 < load.ttft_s.p99
    tail_plan, diags = plan_for(_catalog(), L40S, QWEN_AT_4_RPS + '  latency {\n    ttft p99 <= 250ms\n  }\n')
    if tail_plan is not None:
        assert tail_plan.performance.load.ttft_s.p99 <= 0.25 and tail_plan.targets.ttft_percentile == "p99"
        assert (tail_plan.model.format, tail_plan.kv_cache) != (mean_plan.model.format, mean_plan.kv_cache)
    else:
        assert "p99 time to first token" in str(diags[0].detail)


def test_arrivals_a_replica_cannot_keep_up_with_are_refused():
    plan, diags = plan_for(_catalog(), L40S, QWEN_AT_4_RPS.replace("rate = 4 req/s", "rate = 40 req/s"))
    assert plan is None and "outpace" in str(diags[0].detail)
    assert "add" in diags[0].help or "workload.rate" in diags[0].help


def _catalog():
    from llmc.catalog import load_catalog
    return load_catalog([])[0]
