"""Speculative decoding speedups from acceptance rates, each with its source.

Draft models: the seed's measured table (local-llms-2026-guide, Chapter 17), 1B and 7B drafts for a
70B target, by task. MTP heads: the DeepSeek-V3 technical report (§5.4.3: the second token is
accepted 85-90% of the time, 1.8x tokens per second), a figure for DeepSeek's own heads only. N-gram
lookup has no measured figure here, so it uses the standard expected-length formula with a stated
acceptance assumption.

A speedup is `sourced` only when a measurement for that kind of model stands behind it. The solver lets
only sourced speedups carry a plan past a latency target (an assumed one would make a plan that misses
it look feasible).
"""

from __future__ import annotations

from dataclasses import dataclass

SEED = "seed local-llms-2026-guide.txt, Chapter 17 (speculative decoding table)"
DEEPSEEK_V3 = "DeepSeek-V3 Technical Report §5.4.3 (MTP: 85-90% second-token acceptance, 1.8x TPS)"
# Model families whose own MTP heads have a measured speedup.
MTP_MEASURED = {"deepseek_v3": DEEPSEEK_V3}

# (draft class, task) -> (acceptance, speedup); draft class by parameter count of the draft.
SEED_TABLE = {
    ("1b", "code"): (0.72, 1.8), ("1b", "chat"): (0.45, 1.3), ("1b", "creative"): (0.28, 1.1),
    ("7b", "code"): (0.85, 2.4), ("7b", "chat"): (0.62, 1.7), ("7b", "creative"): (0.41, 1.4),
}
NGRAM_ACCEPTANCE = {"code": 0.5, "chat": 0.2, "creative": 0.1}
NGRAM_SOURCE = ("expected accepted length (1 - a^(k+1)) / (1 - a) at zero draft cost; acceptance assumed "
                "(code 0.5, chat 0.2): an assumption, not a measurement")


@dataclass(frozen=True)
class SpecSpeedup:
    method: str
    acceptance: float
    speedup: float
    num_tokens: int
    source: str
    sourced: bool = True  # False: the figure is an assumption for this model (see the module docstring)


def task_class(task: str) -> str:
    """The seed's three workload columns: code-like, chat-like, creative."""
    if task in ("code", "agent"):
        return "code"
    if task in ("creative", "writing"):
        return "creative"
    return "chat"


def expected_tokens(acceptance: float, k: int) -> float:
    """Tokens produced per target step with k drafted tokens, each accepted with probability a."""
    if acceptance >= 1.0:
        return k + 1.0
    return (1 - acceptance ** (k + 1)) / (1 - acceptance)


def speedup(task: str, method: str, *, draft_params_b: float | None = None, num_tokens: int | None = None,
            draft_cost: float = 0.0, family: str | None = None) -> SpecSpeedup:
    """Speedup of decode for a task and method (draft | mtp | ngram) on a model of `family`."""
    cls = task_class(task)
    if method == "draft":
        size = "1b" if (draft_params_b or 1.0) < 3.0 else "7b"
        acc, up = SEED_TABLE[(size, cls)]
        return SpecSpeedup("draft", acc, up, num_tokens or 5,
                           f"{SEED}: {size.upper()} draft for a 70B target, {cls}")
    if method == "mtp":
        if family in MTP_MEASURED:
            return SpecSpeedup("mtp", 0.85, 1.8, num_tokens or 1, MTP_MEASURED[family])
        return SpecSpeedup("mtp", 0.85, 1.8, num_tokens or 1, f"assumed: {DEEPSEEK_V3}, measured on DeepSeek-V3 "
                           f"only, not on {family}", sourced=False)
    if method == "ngram":
        k = num_tokens or 4
        acc = NGRAM_ACCEPTANCE[cls]
        up = expected_tokens(acc, k) / (1 + k * draft_cost)
        return SpecSpeedup("ngram", acc, round(up, 3), k, NGRAM_SOURCE, sourced=False)
    raise ValueError(f"unknown speculative method {method!r}")
