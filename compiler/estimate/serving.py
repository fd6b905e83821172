"""Figures under load: a deterministic simulation of the runtime's scheduler, step by step.

Each step's batch is formed as the runtime's scheduler forms it (runtimes.Scheduler: vLLM's token budget
with prompt chunks beside the decodes, SGLang's prefill batches that pause the decodes, llama-server's
slots in micro-batches) and priced by the roofline step model (speed.StepModel), so a long prompt joining
short interactive requests slows their tokens as it does on the real server. Requests come from N users
who each send the next request when the last one ends (closed loop: `concurrency`) or from Poisson
arrivals at a fixed rate (open loop: `rate`, seeded, so the same spec gives the same figures).

A closed loop's users start together, as a benchmark client (`vllm bench serve --max-concurrency`, `llmc
smoke`) starts them; whether they stay in step is the scheduler's doing: llama-server batches prompts that
arrive together into one step and their answers of equal length end together, so its users stay in waves (on
this machine's CPU, 2, 4 and 8 users' measured TTFT within 10% of the waves', where users spread over a
request's latency were 25-240% off: benchmarks/serving_cpu.py), while a token budget smaller than a wave's
prompts splits it. Requests whose lengths vary (`spread`: answers that end at EOS, ShareGPT) end at different
steps, so the users drift apart within a cycle and each prompt meets the others' decodes instead of a wave
(a published vLLM run of 4 users on one RTX 4090: TTFT 63 ms measured, 187 ms as waves, 69 ms with its
answers' spread; docs/accuracy.md l16). Users that arrive independently of each other are an open loop
(`rate`). The first
cycle and the last (the batch draining) are warm-up and cool-down: the figures are over the requests in
between, the steady state. The simulation is O(1) per step in the number of running sequences (their
contexts are kept as sums), so a build simulates its short list of candidates in milliseconds each.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from ..plan import Load as PlanLoad
from ..plan import Percentiles
from ..runtimes import Scheduler
from .speed import StepModel

SOURCE = ("llmc's discrete-event simulation of the runtime's scheduler (estimate/serving.py), each step "
          "priced by the roofline step model")
# Requests per simulated user (closed loop) and in all (open loop): enough cycles for a steady state.
CYCLES = 3
MIN_CLOSED_REQUESTS = 16      # a closed loop of few users runs more cycles, so its percentiles have samples
MIN_VARIED_REQUESTS = 32      # ... and more when lengths vary, so the percentiles sample the lengths too
# Events one simulation may handle, each a step or a request (a few microseconds each in CPython; a build may
# simulate hundreds of candidates): a workload past it (answers of millions of tokens, or 30,000 users) keeps
# its unloaded figures, which the plan says (Performance.basis)
MAX_SIMULATED_EVENTS = 100_000
OPEN_REQUESTS = 200
SEED = 20261201


@dataclass(frozen=True)
class Load:
    """What arrives: `users` in a closed loop, or Poisson arrivals at `rate` requests/s."""

    kind: Literal["closed", "open"]
    prompt: int
    output: int
    users: int = 1
    rate: float = 0.0
    # requests beside the load, as (arrival s, prompt, output): one long prompt among short ones (they are
    # served, and slow the others, but are not among the measured requests)
    extra: tuple[tuple[float, int, int], ...] = ()
    requests: int | None = None   # in all (None: Load.total)
    # each request's prompt and output drawn uniformly within ±spread of the typical lengths (seeded), as
    # `vllm bench serve --random-range-ratio` draws them, and cut to `longest` (prompt + output); 0: all alike
    prompt_spread: float = 0.0
    output_spread: float = 0.0
    longest: int | None = None
    # or drawn from an exponential distribution about the typical lengths (ShareGPT's conversations: most short,
    # a long tail, which decides how long a burst of them takes to drain), the spreads then unused
    exponential: bool = False
    # the figures over every request, the first cycle's burst and the drain included, as a benchmark client
    # reports them; False: the steady state between them
    whole_run: bool = False

    @property
    def total(self) -> int:
        """The requests a simulation runs: as given, else CYCLES per closed-loop user (at least
        MIN_CLOSED_REQUESTS, or MIN_VARIED_REQUESTS), OPEN_REQUESTS in an open loop."""
        least = MIN_VARIED_REQUESTS if self.varied else MIN_CLOSED_REQUESTS
        return self.requests or (max(CYCLES * self.users, least) if self.kind == "closed" else OPEN_REQUESTS)

    @property
    def varied(self) -> bool:
        return bool(self.exponential or self.prompt_spread or self.output_spread)

    def describe(self) -> str:
        shape = f"{self.prompt}-token prompts, {self.output}-token answers"
        if self.exponential:
            shape += ", lengths exponential about those"
        elif self.prompt_spread == self.output_spread != 0:
            shape += f", lengths ±{self.prompt_spread:.0%}"
        elif self.prompt_spread or self.output_spread:
            shape += f", prompts ±{self.prompt_spread:.0%} and answers ±{self.output_spread:.0%} long"
        if self.kind == "open":
            return f"Poisson arrivals at {self.rate:g} req/s, {shape}"
        return f"{self.users} user(s) in a closed loop, {shape}"


@dataclass(frozen=True)
class Budget:
    """The scheduler's limits on one replica, as the plan sets them."""

    step_tokens: int              # tokens per step (max_num_batched_tokens, chunked_prefill_size, -b)
    max_seqs: int                 # sequences running at once (max_num_seqs, max_running_requests, -np)
    pool_tokens: int | None       # the paged KV pool in tokens; None: each slot holds its own context
    speedup: float = 1.0          # speculative decoding: tokens a decode step yields on average
    slot_context: int | None = None   # the cells each slot holds (llama.cpp), for the occupancy figures


@dataclass(frozen=True)
class Dist:
    mean: float
    p50: float
    p90: float
    p99: float

    def to_plan(self) -> Percentiles:
        return Percentiles(mean=self.mean, p50=self.p50, p90=self.p90, p99=self.p99)

    def at(self, percentile: str | None) -> float:
        return getattr(self, percentile) if percentile else self.mean

    @classmethod
    def of(cls, values: list[float]) -> Dist:
        if not values:
            return cls(0.0, 0.0, 0.0, 0.0)
        ordered = sorted(values)
        return cls(_r(sum(ordered) / len(ordered)), _r(_pct(ordered, 50)), _r(_pct(ordered, 90)),
                   _r(_pct(ordered, 99)))


@dataclass(frozen=True)
class LoadFigures:
    load: Load
    ttft_s: Dist
    tpot_s: Dist
    itl_s: Dist
    e2e_s: Dist
    queue_s: Dist
    throughput_tok_s: float
    request_rate: float
    kv_peak: float                # largest share of the KV pool (or of the slots' cells) in use
    kv_mean: float
    preemptions: int
    requests: int                 # measured (steady state)
    steps: int
    saturated: bool               # arrivals outpace the server: the queue grows for as long as they last
    scheduler: str
    source: str = SOURCE

    def to_plan(self) -> PlanLoad:
        return PlanLoad(workload=self.load.describe(), scheduler=self.scheduler, ttft_s=self.ttft_s.to_plan(),
                        tpot_s=self.tpot_s.to_plan(), itl_s=self.itl_s.to_plan(), e2e_s=self.e2e_s.to_plan(),
                        queue_s=self.queue_s.to_plan(), request_rate=self.request_rate, kv_peak=self.kv_peak,
                        kv_mean=self.kv_mean, preemptions=self.preemptions, saturated=self.saturated,
                        requests=self.requests, source=self.source)


@dataclass
class _Request:
    index: int
    arrival: float
    prompt: int
    output: int
    user: int = 0
    measured: bool = True
    slot: int | None = None       # llama-server's slot, while it holds one
    done_prompt: int = 0          # prompt tokens in the cache (recomputed ones included after a preemption)
    generated: int = 0
    admitted: float | None = None
    first_token: float | None = None
    finished: float | None = None
    join_step: int = 0            # decode: the step it joined, its context then
    join_ctx: int = 0

    @property
    def context(self) -> int:
        return self.prompt + self.generated


@dataclass
class _Decoders:
    """The sequences generating, their contexts kept as sums so a step costs O(1): at decode step k a member
    that joined at step j with context c reads c + (k - j) tokens, and a sliding-window layer min(that, W)."""

    window: int | None
    members: dict[int, _Request] = field(default_factory=dict)
    base: int = 0                 # sum over members of (join context - join step)
    answers_base: int = 0         # sum over members of (tokens left to generate at joining + join step)
    below: dict[int, _Request] = field(default_factory=dict)     # members still shorter than the window
    below_base: int = 0
    finish: list[tuple[int, int]] = field(default_factory=list)  # (last step, index)
    cross: list[tuple[int, int]] = field(default_factory=list)   # (step the window fills, index)

    def add(self, r: _Request, step: int) -> None:
        r.join_step, r.join_ctx = step, r.context
        self.members[r.index] = r
        self.base += r.join_ctx - step
        self.answers_base += r.output - r.generated + step
        heapq.heappush(self.finish, (step + r.output - r.generated - 1, r.index))
        if self.window and r.join_ctx < self.window:
            self.below[r.index] = r
            self.below_base += r.join_ctx - step
            heapq.heappush(self.cross, (step + self.window - r.join_ctx, r.index))

    def remove(self, r: _Request, step: int) -> None:
        del self.members[r.index]
        self.base -= r.join_ctx - r.join_step
        self.answers_base -= r.output - r.generated + r.join_step
        if self.below.pop(r.index, None) is not None:
            self.below_base -= r.join_ctx - r.join_step
        r.generated += step - r.join_step

    def tokens(self, step: int) -> int:
        return self.base + len(self.members) * step

    def answers_left(self, step: int) -> int:
        return self.answers_base - len(self.members) * step

    def window_tokens(self, step: int) -> float:
        if not self.window:
            return 0.0
        while self.cross and self.cross[0][0] <= step:
            _, index = heapq.heappop(self.cross)
            r = self.below.get(index)
            if r is not None and r.join_step + self.window - r.join_ctx <= step:
                del self.below[index]
                self.below_base -= r.join_ctx - r.join_step
        above = len(self.members) - len(self.below)
        return self.below_base + len(self.below) * step + self.window * above

    def finishing(self, step: int) -> list[_Request]:
        """Members whose last token is this step's (a preempted and readmitted member has a stale entry too)."""
        out: dict[int, _Request] = {}
        while self.finish and self.finish[0][0] <= step:
            _, index = heapq.heappop(self.finish)
            r = self.members.get(index)
            if r is not None and r.join_step + r.output - r.generated - 1 <= step:
                out[index] = r
        return list(out.values())

    def newest(self) -> _Request:
        return max(self.members.values(), key=lambda r: (r.admitted or 0.0, r.index))


@dataclass
class _Prefilling:
    """The requests reading their prompts, in admission order, with the pool tokens they hold and will still
    add kept as sums, so a step's pool check costs O(1) however many are admitted."""

    members: dict[int, _Request] = field(default_factory=dict)   # by index, in admission order
    held: int = 0                 # sum over members of (prompt tokens cached + tokens generated)
    left: int = 0                 # sum over members of _left

    def __iter__(self):
        return iter(self.members.values())

    def __len__(self) -> int:
        return len(self.members)

    def add(self, r: _Request) -> None:
        self.members[r.index] = r
        self.held += r.done_prompt + r.generated
        self.left += _left(r)

    def advance(self, r: _Request, tokens: int) -> None:
        r.done_prompt += tokens
        self.held += tokens
        self.left -= tokens

    def remove(self, r: _Request) -> None:
        del self.members[r.index]
        self.held -= r.done_prompt + r.generated
        self.left -= _left(r)


class _Sim:
    def __init__(self, step: StepModel, scheduler: Scheduler, budget: Budget, load: Load):
        self.step, self.sched, self.budget, self.load = step, scheduler, budget, load
        self.overhead = step.request_s
        self.t = 0.0
        self.k = 0
        self.waiting: deque[_Request] = deque()
        self.prefilling = _Prefilling()
        self.free_slots = list(range(budget.max_seqs))
        self.decoders = _Decoders(step.window)
        self.done: list[_Request] = []
        # per step: (end time, duration, tokens out, decoders, KV tokens held)
        self.records: list[tuple[float, float, int, int, int]] = []
        self.preemptions = 0
        self.arrivals: list[tuple[float, int, _Request]] = []   # a heap by (arrival, index)
        self.sent = 0
        self.total = load.total
        self.lengths = length_draws()

    # ---- arrivals
    def _new(self, when: float, user: int = 0) -> _Request:
        prompt, output = request_lengths(self.load, self.lengths)
        r = _Request(self.sent, when, prompt, output, user)
        self.sent += 1
        return r

    def _seed_arrivals(self) -> None:
        if self.load.kind == "closed":
            requests = [self._new(0.0, u) for u in range(min(self.load.users, self.total))]
        else:
            requests = [self._new(when) for when in open_arrivals(self.load)]
        requests += [_Request(-1 - i, when, prompt, max(1, output), -1, measured=False)
                     for i, (when, prompt, output) in enumerate(self.load.extra)]
        self.arrivals = [(q.arrival, q.index, q) for q in requests]
        heapq.heapify(self.arrivals)

    def _arrive(self) -> None:
        while self.arrivals and self.arrivals[0][0] <= self.t + 1e-12:
            self.waiting.append(heapq.heappop(self.arrivals)[2])

    def _finish(self, r: _Request) -> None:
        r.finished = self.t
        if r.slot is not None:
            heapq.heappush(self.free_slots, r.slot)
            r.slot = None
        if not r.measured:
            return
        self.done.append(r)
        if self.load.kind == "closed" and self.sent < self.total:
            nxt = self._new(self.t + self.overhead, r.user)
            heapq.heappush(self.arrivals, (nxt.arrival, nxt.index, nxt))

    # ---- memory
    def _in_use(self) -> int:
        return self.decoders.tokens(self.k) + self.prefilling.held

    def _running(self) -> int:
        return len(self.decoders.members) + len(self.prefilling)

    def _room(self, tokens: int) -> bool:
        pool = self.budget.pool_tokens
        if pool is None:
            return True
        held = self._in_use()
        if self.sched.reserves_answers:
            held += self.decoders.answers_left(self.k) + self.prefilling.left
        return held + tokens <= pool

    # ---- one step
    def _plan_step(self) -> list[tuple[_Request, int]]:
        """Prompt chunks this step runs, as (request, tokens); decodes run unless the policy pauses them."""
        policy = self.sched.policy
        budget = self.budget.step_tokens - (0 if policy == "prefill-first" else len(self.decoders.members))
        chunks = []
        if policy == "slots":
            self._take_slots()
        for r in self.prefilling:
            if budget <= 0:
                break
            n = min(r.prompt + r.generated - r.done_prompt, budget)
            chunks.append((r, n))
            budget -= n
        while self.waiting and budget > 0 and self._running() < self.budget.max_seqs:
            r = self.waiting[0]
            n = min(r.prompt + r.generated - r.done_prompt, budget)
            reserve = _left(r) if self.sched.reserves_answers else r.prompt - r.done_prompt
            if not self._room(max(n, reserve)) and self._running():
                break
            self.waiting.popleft()
            r.admitted = self.t if r.admitted is None else r.admitted
            self.prefilling.add(r)
            chunks.append((r, n))
            budget -= n
        return chunks

    def _take_slots(self) -> None:
        """llama-server: a waiting request takes a free slot (each slot keeps its own context, so there is no
        pool to run out of). Prompts are batched in slot order (server-context.cpp), and which slot a request
        gets depends on its similarity to each slot's cached prompt: taken here as arrival order."""
        while self.waiting and self.free_slots:
            r = self.waiting.popleft()
            r.slot = heapq.heappop(self.free_slots)
            r.admitted = self.t
            self.prefilling.add(r)

    def _preempt_for(self, tokens: int) -> None:
        """vLLM / SGLang: the pool cannot take this step's tokens; evict the newest running request (its
        cache is freed and recomputed when it is scheduled again)."""
        while self.budget.pool_tokens is not None and self._in_use() + tokens > self.budget.pool_tokens \
                and len(self.decoders.members) > 1:
            r = self.decoders.newest()
            self.decoders.remove(r, self.k)
            r.done_prompt = 0
            self.waiting.appendleft(r)
            self.preemptions += 1
            tokens -= 1

    def run(self) -> None:
        self._seed_arrivals()
        while self.arrivals or self.waiting or self.prefilling or self.decoders.members:
            self._arrive()
            if not (self.waiting or self.prefilling or self.decoders.members):
                self.t = self.arrivals[0][0]
                continue
            if not self.waiting and not self.prefilling and self._decode_run():
                continue
            chunks = self._plan_step()
            decoding = not (self.sched.policy == "prefill-first" and chunks)
            if decoding and self.sched.preempts:
                self._preempt_for(len(self.decoders.members) + sum(n for _, n in chunks))
            n_dec = len(self.decoders.members) if decoding else 0
            dt = self._duration(n_dec, chunks)
            self.t += dt
            joining = self._apply(chunks)
            if decoding:
                for r in self.decoders.finishing(self.k):
                    self.decoders.remove(r, self.k + 1)
                    self._finish(r)
                self.k += 1
            for r in joining:
                if r.generated >= r.output:
                    self._finish(r)
                else:
                    self.decoders.add(r, self.k)
            self.records.append((self.t, dt, n_dec + len(joining), n_dec, self._in_use()))

    def _decode_run(self) -> bool:
        """Decode-only steps up to the next event (a sequence's last token, an arrival that could be admitted,
        a pool about to run out): the batch is fixed, so the loop does no scheduling. False if none ran."""
        d = self.decoders
        n = len(d.members)
        stop = d.finish[0][0] if d.finish else self.k
        if self.budget.pool_tokens is not None:
            stop = min(stop, self.k + (self.budget.pool_tokens - self._in_use()) // max(1, n))
        if stop <= self.k:
            return False
        admits = self._running() < self.budget.max_seqs
        arrival = self.arrivals[0][0] if self.arrivals and admits else math.inf
        time, window, speedup = self.step.time, d.window_tokens, self.budget.speedup
        start = self.k
        while self.k < stop and self.t < arrival:
            dt = time(n, d.base + n * self.k, window(self.k)) / speedup
            self.t += dt
            self.k += 1
            self.records.append((self.t, dt, n, n, d.base + n * self.k))
        return self.k > start

    def _duration(self, n_dec: int, chunks: list[tuple[_Request, int]]) -> float:
        k = self.k
        kv = self.decoders.tokens(k) if n_dec else 0
        kv_window = self.decoders.window_tokens(k) if n_dec else 0.0
        prefill = sum(n for _, n in chunks)
        pairs = sum(n * (r.done_prompt + n / 2) for r, n in chunks)
        dt = self.step.time(n_dec, kv, kv_window, prefill, pairs)
        if not prefill and self.budget.speedup > 1:
            dt /= self.budget.speedup
        return dt

    def _apply(self, chunks: list[tuple[_Request, int]]) -> list[_Request]:
        """Prompt chunks land; a prompt that completes emits its first token (it decodes from the next step)."""
        joining = []
        for r, n in chunks:
            self.prefilling.advance(r, n)
            if r.done_prompt >= r.prompt + r.generated:
                self.prefilling.remove(r)
                if r.first_token is None:
                    r.first_token = self.t
                r.generated += 1
                joining.append(r)
        return joining

    # ---- figures
    def figures(self) -> LoadFigures:
        done = sorted(self.done, key=lambda r: r.index)
        if self.load.whole_run:
            measured = done
        elif self.load.kind == "closed":
            warm = self.load.users
            measured = done[warm:len(done) - warm] or done
        else:
            cut = len(done) // 10
            measured = done[cut:len(done) - cut] or done
        start = min(r.arrival for r in measured)
        end = max(r.finished for r in measured)
        window = [rec for rec in self.records if start < rec[0] <= end]
        span = max(end - start, 1e-9)
        itl = weighted((rec[1], rec[3]) for rec in window if rec[3])
        e2e = [r.finished - r.arrival + self.overhead for r in measured]
        if self.load.kind == "closed" and self.load.whole_run:
            served = len(measured) / span
            saturated = False
        elif self.load.kind == "closed":
            # Little's law: each user completes one request per end-to-end latency (the overhead included,
            # which also delays its next request); a window over waves would straddle cycles
            served = self.load.users / (sum(e2e) / len(e2e))
            saturated = False
        else:
            # arrivals and completions of the same requests, each over its own span: a server that keeps up
            # finishes them as fast as they came, one that does not falls further behind
            finishes = sorted(r.finished for r in measured)
            arrivals = max(r.arrival for r in measured) - start
            offered = (len(measured) - 1) / arrivals if arrivals > 0 else math.inf
            served = (len(measured) - 1) / max(finishes[-1] - finishes[0], 1e-9)
            saturated = served < 0.95 * min(offered, self.load.rate)
        o = self.overhead
        pool = self.budget.pool_tokens
        per_slot = self.budget.slot_context or self.load.prompt + self.load.output
        capacity = max(1, pool if pool is not None else self.budget.max_seqs * per_slot)
        return LoadFigures(
            load=self.load,
            ttft_s=Dist.of([r.first_token - r.arrival + o for r in measured]),
            tpot_s=Dist.of([(r.finished - r.first_token) / (r.output - 1) for r in measured if r.output > 1]),
            itl_s=itl,
            e2e_s=Dist.of(e2e),
            queue_s=Dist.of([(r.admitted or r.arrival) - r.arrival for r in measured]),
            # the steady state's tokens at the typical answer (the sample's lengths only add noise); a whole run
            # counts the tokens it sent, as the benchmark client does
            throughput_tok_s=round(served * (statistics.fmean(r.output for r in measured) if self.load.whole_run
                                             else self.load.output), 3),
            request_rate=round(served, 4),
            kv_peak=round(max((rec[4] for rec in window), default=0) / capacity, 4),
            kv_mean=round(sum(rec[4] * rec[1] for rec in window) / span / capacity, 4),
            preemptions=self.preemptions, requests=len(measured), steps=len(self.records),
            saturated=saturated,
            scheduler=describe(self.sched, self.budget))


def _left(r: _Request) -> int:
    """The tokens a request not yet decoding will still add to the pool: the rest of its prompt (and, after a
    preemption, of the answer it recomputes) and the rest of its answer."""
    return r.prompt + r.output - r.done_prompt


def describe(scheduler: Scheduler, budget: Budget) -> str:
    what = {"mixed": "chunked prefill beside the decodes", "prefill-first": "prefill batches first",
            "slots": f"{budget.max_seqs} slot(s), micro-batches of {scheduler.ubatch}"}[scheduler.policy]
    pool = f", pool {budget.pool_tokens} tokens" if budget.pool_tokens is not None else ""
    seqs = f", up to {budget.max_seqs} sequences" if scheduler.policy != "slots" else ""
    return f"{what}, {budget.step_tokens} tokens/step{seqs}{pool}"


def simulation_events(load: Load, budget: Budget, request_s: float) -> int:
    """About how many events the simulation of `load` handles: its requests, and its decode steps (every
    request's answer, shared by the sequences running at once: the users, or the arrivals during one request's
    `request_s`)."""
    running = load.users if load.kind == "closed" else load.rate * request_s
    return load.total + int(load.total * max(1, load.output) / max(1.0, min(running, budget.max_seqs)))


class LengthDraws:
    """The seeded source of requests' lengths (`llmc smoke` draws the same ones, in the same order): for the
    prompts and for the answers, a stream of uniform draws in antithetic pairs (u, then 1 - u), so a few dozen
    requests already average the typical lengths and the figures do not wander with the sample."""

    def __init__(self) -> None:
        self._rng = random.Random(SEED + 1)
        self._pending: dict[str, float] = {}

    def unit(self, stream: str) -> float:
        if stream in self._pending:
            return 1.0 - self._pending.pop(stream)
        u = self._pending[stream] = self._rng.random()
        return u


def length_draws() -> LengthDraws:
    return LengthDraws()


def request_lengths(load: Load, draws: LengthDraws) -> tuple[int, int]:
    """The next request's (prompt, output) tokens."""
    prompt = _drawn(load.prompt, load.prompt_spread, draws.unit("prompt"), load.exponential)
    output = _drawn(load.output, load.output_spread, draws.unit("output"), load.exponential)
    if load.longest:
        prompt = min(prompt, max(1, load.longest - 1))
        output = max(1, min(output, load.longest - prompt))
    return prompt, output


def _drawn(typical: int, spread: float, u: float, exponential: bool) -> int:
    """`typical` scaled by the unit draw `u`: uniformly within ±spread, or at the exponential's quantile u."""
    typical = max(1, typical)
    if exponential:
        return max(1, round(-typical * math.log(max(1.0 - u, 1e-12))))
    return max(1, round(typical * (1 - spread + 2 * spread * u))) if spread else typical


def open_arrivals(load: Load) -> list[float]:
    """An open loop's arrival times (s): Poisson at `load.rate`, seeded. A run that checks the simulation
    replays these (benchmarks/serving_cpu.py): near saturation one sample path of 30 requests can queue
    several times longer than another."""
    rng, when, times = random.Random(SEED), 0.0, []
    for _ in range(load.total):
        times.append(when)
        when += rng.expovariate(load.rate)
    return times


def simulate(step: StepModel, scheduler: Scheduler, budget: Budget, load: Load) -> LoadFigures:
    sim = _Sim(step, scheduler, budget, load)
    sim.run()
    return sim.figures()


def weighted(samples) -> Dist:
    """Percentiles of (value, weight) samples: a step's duration is the gap between tokens for each of its
    decoding sequences."""
    ordered = sorted(samples)
    total = sum(w for _, w in ordered)
    if not total:
        return Dist(0.0, 0.0, 0.0, 0.0)
    mean = sum(v * w for v, w in ordered) / total
    marks, out, seen = [50, 90, 99], {}, 0
    for value, w in ordered:
        seen += w
        while marks and seen >= total * marks[0] / 100:
            out[marks.pop(0)] = value
    return Dist(_r(mean), _r(out.get(50, ordered[-1][0])), _r(out.get(90, ordered[-1][0])),
                _r(out.get(99, ordered[-1][0])))


def _pct(ordered: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on sorted values."""
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * p / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _r(v: float) -> float:
    return round(v, 6)
