"""Semantic checks on a lowered Spec that need no catalog.

Each check is one function registered under its code with `@rule`; it takes one
Deployment and yields diagnostics. Checks that need the catalog (unknown GPU, license
of a pinned model ...) live with the catalog. A new check is one function, one code,
one docs page (docs/diagnostics/<CODE>.md) and one fixture in tests/diagnostics/.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

from .names import is_loopback
from .diagnostics import Diagnostic, Label, define_code, error, warning
from .source import Span
from .spec import Deployment, Spec, Word
from .units import format_duration, format_tokens

Check = Callable[[Deployment], Iterable[Diagnostic]]
RULES: dict[str, Check] = {}


def rule(code: str, title: str) -> Callable[[Check], Check]:
    """Register a check under a diagnostic code."""
    define_code(code, title, __name__)

    def register(check: Check) -> Check:
        RULES[code] = check
        return check
    return register


def check(spec: Spec) -> list[Diagnostic]:
    """Every registered check over every deployment, in code order (stable output)."""
    return [d for deployment in spec.deployments for code in sorted(RULES) for d in RULES[code](deployment)]


@rule("W220", "Exposed service without an API key")
def exposed_without_key(d: Deployment) -> Iterator[Diagnostic]:
    host = d.serve.host
    if host is None or d.serve.api_key_env is not None or is_loopback(host.value):
        return
    yield warning("W220", f"`{host.value}` exposes the service beyond this machine without an API key",
                  span=host.span, label="reachable from the network",
                  detail="Anyone who can reach this address can use the model. A key is required by every "
                         "runtime llmc emits once `api_key` is set.",
                  help='add `api_key = env("LLMC_API_KEY")` to the serve block, or bind to "127.0.0.1"')


@rule("E221", "Count below one")
def count_below_one(d: Deployment) -> Iterator[Diagnostic]:
    counts = [("workload.concurrency", d.workload.concurrency), ("hardware.nodes", d.hardware.nodes),
              ("hardware.cores", d.hardware.cores)]
    for name, value in counts:
        if value is not None and value.value < 1:
            yield error("E221", f"`{name}` must be at least 1, not {value.value}", span=value.span,
                        label="below 1", help=f"write `{name.split('.')[1]} = 1` or more")
    for group in d.hardware.gpu or ():
        if group.count < 1:
            yield error("E221", f"a GPU count must be at least 1, not {group.count}", span=group.span,
                        label="below 1", help="remove the group, or write `gpu = none` for a CPU-only host")


@rule("E232", "Request rate not above zero")
def rate_not_positive(d: Deployment) -> Iterator[Diagnostic]:
    rate = d.workload.rate
    if rate is not None and not rate.per_s > 0:
        yield error("E232", f"`workload.rate` must be above 0 req/s, not {rate.per_s:g}", span=rate.span,
                    label="no arrivals", help="write the arrivals per second you expect, e.g. `rate = 5 req/s`, or "
                    "remove `rate` to size for `concurrency` users")


def _hours(seconds: float) -> str:
    return format_duration(seconds) if seconds < 3600 else f"{seconds / 3600:g} h"


# The largest value each field may take (docs/language.md, "Ranges"): far past any real deployment,
# small enough that every estimate stays finite and the solver's search stays small.
MAX_TOKENS = 16 * 1024**2
LIMITS: dict[str, tuple[float, Callable[[float], str]]] = {
    "workload.concurrency": (100_000, str),
    "workload.rate": (100_000.0, lambda r: f"{r:g} req/s"),
    "workload.prompt": (MAX_TOKENS, format_tokens),
    "workload.output": (MAX_TOKENS, format_tokens),
    "workload.spread": (1.0, lambda f: f"{f:g}"),
    "context": (MAX_TOKENS, format_tokens),
    "hardware.memory": (64 * 1024**4, lambda b: f"{b / 1024**4:g} TiB"),
    "hardware.nodes": (1024, str),
    "hardware.cores": (4096, str),
    "hardware.memory_bandwidth": (100e12, lambda b: f"{b / 1e9:g} GB/s"),
    "min_quality": (100, str),
    "hardware.gpu": (256, lambda n: f"{n:g} GPUs per node"),
    "latency.ttft": (86_400.0, _hours),
    "latency.tpot": (86_400.0, _hours),
    "latency.decode": (1e9, lambda r: f"{r:g} tok/s"),
    "latency.throughput": (1e9, lambda r: f"{r:g} tok/s"),
}


def _amounts(d: Deployment) -> Iterator[tuple[str, float, Span]]:
    w, h, lat = d.workload, d.hardware, d.latency
    for name, node in (("workload.concurrency", w.concurrency), ("workload.prompt", w.prompt),
                       ("workload.output", w.output), ("context", d.context), ("hardware.memory", h.memory),
                       ("hardware.nodes", h.nodes), ("hardware.cores", h.cores), ("min_quality", d.min_quality)):
        if node is not None:
            yield name, node.value, node.span
    if h.memory_bandwidth is not None:
        yield "hardware.memory_bandwidth", h.memory_bandwidth.bytes_per_s, h.memory_bandwidth.span
    if w.rate is not None:
        yield "workload.rate", w.rate.per_s, w.rate.span
    if w.spread is not None:
        yield "workload.spread", w.spread.value, w.spread.span
    if h.gpu:
        yield "hardware.gpu", sum(g.count for g in h.gpu), d.hardware.gpu_span
    for name in ("ttft", "tpot", "decode", "throughput"):
        bound = getattr(lat, name)
        if bound is not None:
            amount = bound.value.seconds if name in ("ttft", "tpot") else bound.value.tok_s
            yield f"latency.{name}", amount, bound.value.span


@rule("E229", "Value out of range")
def out_of_range(d: Deployment) -> Iterator[Diagnostic]:
    for name, amount, span in _amounts(d):
        limit, show = LIMITS[name]
        if not amount <= limit:  # also catches a value too large to be a finite float
            shown = show(amount) if amount < 1e15 else "a number that large"  # int < float compares exactly
            yield error("E229", f"`{name}` is {shown}; the most llmc plans for is {show(limit)}", span=span,
                        label="out of range", detail="Every numeric field has a documented range "
                        "(docs/language.md); values past it are typing mistakes, and would make the estimates "
                        "meaningless.", help=f"write at most {show(limit)}")
        elif name in ("workload.prompt", "workload.output", "context") and amount < 1:
            yield error("E229", f"`{name}` must be at least 1 token", span=span, label="out of range",
                        help="write a positive token count")


@rule("E222", "Port out of range")
def port_out_of_range(d: Deployment) -> Iterator[Diagnostic]:
    port = d.serve.port
    if port is not None and not 1 <= port.value <= 65535:
        yield error("E222", f"port {port.value} is not between 1 and 65535", span=port.span, label="invalid port",
                    help="use a free port such as 8000")


@rule("E223", "Latency bound that can never be met")
def impossible_bound(d: Deployment) -> Iterator[Diagnostic]:
    for name in ("ttft", "tpot", "decode", "throughput"):
        bound = getattr(d.latency, name)
        if bound is None:
            continue
        amount = bound.value.seconds if name in ("ttft", "tpot") else bound.value.tok_s
        if amount <= 0 and bound.op in ("<=", "<"):
            yield error("E223", f"`{name} {bound.op} 0` can never be met", span=bound.span, label="impossible",
                        help=f"give `{name}` a positive limit, or remove it")


@rule("E224", "`tpot` and `decode` disagree")
def tpot_decode_conflict(d: Deployment) -> Iterator[Diagnostic]:
    tpot, decode = d.latency.tpot, d.latency.decode
    if tpot is None or decode is None or tpot.value.seconds <= 0:
        return
    implied = 1.0 / tpot.value.seconds  # tpot <= T means decode >= 1/T
    if decode.value.tok_s > implied * (1 + 1e-9):
        yield error("E224", f"`decode {decode.op} {decode.value.tok_s:g} tok/s` is stricter than "
                    f"`tpot {tpot.op} {format_duration(tpot.value.seconds)}` ({implied:g} tok/s)",
                    span=decode.span, label="asks for more", labels=(Label(span=tpot.span, message="allows less"),),
                    detail="`tpot` and `decode` state the same constraint: a time per output token of T is a decode "
                           "speed of 1/T. Two different values are two different targets.",
                    help="keep one of them")


@rule("E225", "Output longer than the context")
def output_exceeds_context(d: Deployment) -> Iterator[Diagnostic]:
    context, output = d.context, d.workload.output
    if context is not None and output is not None and output.value > context.value:
        yield error("E225", f"`output = {format_tokens(output.value)}` is longer than `context = "
                    f"{format_tokens(context.value)}`", span=output.span, label="longer than the context",
                    labels=(Label(span=context.span, message="the whole request must fit here"),),
                    detail="The context holds the prompt and the output together, so no request could ever "
                           "produce this many tokens.", help="raise `context` or lower `output`")


@rule("W226", "Request longer than the context")
def request_exceeds_context(d: Deployment) -> Iterator[Diagnostic]:
    context, prompt = d.context, d.workload.prompt
    if context is None or prompt is None:
        return
    spread = d.workload.spread.value if d.workload.spread else 0.0   # as written: the default is cut to fit
    total = math.floor((d.prompt_tokens + d.output_tokens) * (1 + spread))
    if d.output_tokens <= context.value < total:
        which = f"the longest request (spread {spread:g})" if spread else "a typical request"
        yield warning("W226", f"{which} ({format_tokens(total)} tokens: prompt + output) does not fit in "
                      f"`context = {format_tokens(context.value)}`", span=prompt.span, label="prompt",
                      labels=(Label(span=context.span, message="context"),),
                      detail="Requests longer than the context are rejected by the runtime; the load estimate "
                             "cuts their answers to fit.",
                      help=f"raise `context` to at least {format_tokens(total)}")


@rule("W227", "Value listed twice")
def duplicate_values(d: Deployment) -> Iterator[Diagnostic]:
    lists: list[tuple[str, tuple[Word, ...]]] = [("emit", d.emit), ("license", d.license.ids)]
    lists += [(name, getattr(d, name).values) for name in ("quantization", "kv_cache", "runtime")]
    for name, words in lists:
        seen: dict[str, Word] = {}
        for word in words:
            if word.value in seen:
                yield warning("W227", f"`{word.value}` is listed twice in `{name}`", span=word.span,
                              label="again", labels=(Label(span=seen[word.value].span, message="first here"),),
                              help="remove the repeat")
            seen.setdefault(word.value, word)


@rule("W228", "Interconnect settings without GPUs")
def link_without_gpus(d: Deployment) -> Iterator[Diagnostic]:
    if d.hardware.gpu is not None:
        return
    for setting in (d.hardware.link, d.hardware.p2p):
        if setting is not None:
            yield warning("W228", "GPU interconnect settings have no effect with `gpu = none`", span=setting.span,
                          label="ignored", help="remove it, or name the GPUs")
