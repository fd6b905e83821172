"""The real llama-server on this machine's CPU under load, beside the serving simulation's prediction.

    python benchmarks/serving_cpu.py            # run the sweep; print measured, predicted and the error

Model: gemma-3-270m Q4_K_M (the test suite's file). The CPU host is what `llmc detect` finds (its ISA the
test build's, tests/support/tools.py LLAMA_SERVER_ISA), corrected by
a one-user run as llmc's calibration learns a device from a smoke record (estimate/calibration.py); every
other row is a prediction of the load model out of that fit: more users on more slots, a long prompt among
short chats, and an open-loop rate. A one-user run is made before each case and the host is fitted to all
of them together: this VM's speed drifts by 20% between runs minutes apart (and once by 3x for the seconds
of a run), and a single run at the start taught its drift to every row. Closed loop as `vllm bench serve --max-concurrency` and `llmc
smoke` run one: N users starting together, each sending its next request when the last one ends.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import httpx

from llmc.catalog.local import import_local
from llmc.catalog.schema import Gpu, KvType
from llmc.commands.detect import probe_cpu
from llmc.driver import open_catalog
from llmc.estimate.calibration import ONE, PRIOR, Correction, Key, Record, fit
from llmc.estimate.from_file import weights_from_tensors
from llmc.estimate.memory import HardwareView, ParallelView
from llmc.estimate.serving import Budget, Load, LoadFigures, length_draws, open_arrivals, request_lengths, simulate
from llmc.estimate.speed import step_model, unloaded_speed
from llmc.runtimes import profile
from llmc.solve.resolve import stated_host
from llmc.smoke.load import Endpoint, RequestResult, calibrate_prompt, chat_body, scaled, stream_one

ROOT = Path(__file__).resolve().parents[1]
F16 = KvType(source=("ggml",), id="f16", bits=16, runtimes={"llama.cpp": "f16"})
PROMPT, OUTPUT, LONG = 128, 32, 2048
WAVES_IN = 1.5
SLOTS = 8


@dataclass(frozen=True)
class Case:
    name: str
    load: Load                   # its `requests` in all, the first and last `users` (10% open) not measured

    @property
    def requests(self) -> int:
        return self.load.requests

    def describe(self) -> str:
        extra = f", plus one {self.load.extra[0][1]}-token prompt" if self.load.extra else ""
        return self.load.describe() + extra


CASES = (
    Case("1 user", Load("closed", PROMPT, OUTPUT, users=1, requests=4)),
    Case("2 users", Load("closed", PROMPT, OUTPUT, users=2, requests=8)),
    Case("4 users", Load("closed", PROMPT, OUTPUT, users=4, requests=12)),
    Case("8 users", Load("closed", PROMPT, OUTPUT, users=8, requests=24)),
    # lengths drawn as the simulation draws them (the same seeded draws, request by request): the users drift
    # out of their waves
    Case("8 users, lengths ±50%", Load("closed", PROMPT, OUTPUT, users=8, requests=48, prompt_spread=0.5,
                                       output_spread=0.5)),
    # the long prompt arrives halfway through the second wave of the 4 users' requests (WAVES_IN x the measured
    # latency of the case without it: measure() sets it), so it meets measured requests, not the warm-up
    Case("4 users + a long prompt", Load("closed", PROMPT, OUTPUT, users=4, requests=16, extra=((0.0, LONG, 8),))),
    Case("open loop 0.3 req/s", Load("open", PROMPT, OUTPUT, rate=0.3, requests=30)),
)


@dataclass
class Measured:
    ttft: list[float] = field(default_factory=list)
    tpot: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    tokens: int = 0
    slowest_s: float = 0.0       # the slowest short request's end-to-end latency, warm-up and cool-down included

    def mean(self, name: str) -> float:
        return statistics.fmean(getattr(self, name))

    def p99(self, name: str) -> float:
        values = sorted(getattr(self, name))
        return values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]

    @property
    def throughput(self) -> float:
        return self.tokens / self.wall_s


@dataclass(frozen=True)
class Run:
    case: Case
    measured: Measured
    reference: Measured          # the one-user case (CASES[0]) run just before it


@dataclass(frozen=True)
class Row:
    case: Case
    measured: Measured
    predicted: LoadFigures
    reference: Measured


# ---------------------------------------------------------------- the real server

@contextmanager
def llama_server(binary: Path, gguf: Path, port: int, slots: int = SLOTS, ctx: int = 4096):
    cmd = [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port), "-np", str(slots),
           "-c", str(slots * ctx), "-fa", "on", "--no-webui", "-lv", "1"]
    from tests.support.script_run import terminate, wait_healthy

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_healthy(proc, port, 120, lambda: "")
        yield Endpoint(base_url=f"http://127.0.0.1:{port}", model="gemma", runtime="llama.cpp")
    finally:
        terminate(proc)


def drive(endpoint: Endpoint, case: Case) -> Measured:
    """Send the case's requests as its load says (closed-loop users starting together, as the simulation
    starts them); the figures are over the steady-state ones. Every prompt starts with its
    case and index, so no request finds another's prompt in a slot's cache."""
    load = case.load
    out: list[tuple[float, RequestResult, bool]] = []   # (arrival, result, measured)
    lock = threading.Lock()
    with httpx.Client(timeout=600, headers={"Accept-Encoding": "identity"}, trust_env=False,
                      limits=httpx.Limits(max_connections=64)) as client:
        short, _, _ = calibrate_prompt(client, endpoint, load.prompt)
        long = calibrate_prompt(client, endpoint, load.extra[0][1])[0] if load.extra else ""
        start = time.monotonic()

        def one(index: int, text: str, tokens: int, measured: bool) -> None:
            arrival = time.monotonic() - start
            result = RequestResult(index=index)
            stream_one(client, endpoint, chat_body(endpoint, f"[{case.name} {index}] {text}", tokens), result)
            with lock:
                out.append((arrival, result, measured))

        draws = length_draws()
        lengths = [request_lengths(load, draws) for _ in range(case.requests)]
        threads = _arrivals(load, case.requests,
                            lambda i: one(i, scaled(short, lengths[i][0] / load.prompt), lengths[i][1], True), start)
        for when, _, tokens in load.extra:
            threads.append(_at(start + when, lambda: one(-1, long, tokens, False)))
        for t in threads:
            t.join()
        wall = time.monotonic() - start
    return _figures(out, load, wall)


def _arrivals(load: Load, requests: int, send, start: float) -> list[threading.Thread]:
    if load.kind == "open":    # the simulation's own arrivals, so both see the same sample path
        return [_at(start + when, lambda i=i: send(i)) for i, when in enumerate(open_arrivals(load))]
    counter = iter(range(requests))
    lock = threading.Lock()

    def user() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            send(i)
    threads = [threading.Thread(target=user, daemon=True) for _ in range(load.users)]
    for t in threads:
        t.start()
    return threads


def _at(when: float, fn) -> threading.Thread:
    def run() -> None:
        time.sleep(max(0.0, when - time.monotonic()))
        fn()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _figures(out, load: Load, wall: float) -> Measured:
    done = sorted((r for r in out if r[2] and r[1].ok), key=lambda r: r[0])
    warm = load.users if load.kind == "closed" else len(done) // 10
    steady = done[warm:len(done) - warm] or done
    m = Measured(wall_s=wall, tokens=sum(r.completion_tokens for _, r, _ in out if r.ok),
                 slowest_s=max((r.duration_s for _, r, _ in done), default=0.0))
    for arrival, r, _ in steady:
        m.ttft.append(r.ttft_s)
        m.tpot.append(r.tpot_s)
        m.e2e.append(r.duration_s)
    return m


# ---------------------------------------------------------------- the prediction

@cache
def host() -> Gpu:
    """This CPU as `llmc detect` finds it (cores, measured bandwidth), planned as a spec that states it is, with
    the vector instructions the llama-server under test uses."""
    from tests.support.tools import LLAMA_SERVER_ISA

    found = probe_cpu()
    return stated_host(open_catalog()[0].cpu_host, "llmc detect on this machine", found.cores,
                       found.bandwidth_bytes_per_s, LLAMA_SERVER_ISA)


def _step(gguf: Path, correction: Correction = PRIOR):
    local = import_local(gguf)
    weights = weights_from_tensors(local.model, local.tensors, local.format)
    return step_model(local.model, weights, F16, "llama.cpp", HardwareView(cpu=host()), ParallelView(),
                      correction=correction)


def predict(gguf: Path, correction: Correction, case: Case, slots: int = SLOTS) -> LoadFigures:
    return simulate(_step(gguf, correction), profile("llama.cpp").scheduler, Budget(2048, slots, None), case.load)


def fit_host(gguf: Path, ones: list[Measured], case: Case) -> Correction:
    """This machine as llmc's calibration learns it (estimate/calibration.py) from one-user runs: the records
    `llmc smoke` would write of them, fitted together as a build fits a store's records."""
    step = _step(gguf)
    load = case.load
    speed = simulate(step, profile("llama.cpp").scheduler, Budget(2048, SLOTS, None), load)
    parts = unloaded_speed(step, "llama.cpp", prompt_tokens=load.prompt, output_tokens=load.output,
                           concurrency=1).step_parts
    key = Key("llama.cpp", "", "this CPU", "cpu", "", bandwidth_basis="measured")
    records = [Record(key, parts, ONE, predicted={"ttft_s": speed.ttft_s.mean, "tpot_s": speed.tpot_s.mean},
                      measured={"ttft_s": one.mean("ttft"), "tpot_s": one.mean("tpot")}, output_tokens=load.output)
               for one in ones]
    return fit(records, key.prior_sigmas)


def measure(binary: Path, gguf: Path, port: int, cases=CASES) -> list[Run]:
    """Each case in turn, after a one-user run of the first case (the first is its own); a long prompt's
    arrival is set from the measured latency of the same users without it."""
    out: list[Run] = []
    with llama_server(binary, gguf, port) as endpoint:
        for case in cases:
            # its own name, so its prompts are new to the slots' caches
            reference = drive(endpoint, replace(cases[0], name=f"{cases[0].name} before {case.name}"))
            if case.load.extra:
                wave = next(r.measured.mean("e2e") for r in out
                            if not r.case.load.extra and r.case.load.users == case.load.users)
                extra = tuple((WAVES_IN * wave, prompt, output) for _, prompt, output in case.load.extra)
                case = replace(case, load=replace(case.load, extra=extra))
            measured = reference if case == cases[0] else drive(endpoint, case)
            out.append(Run(case, measured, reference))
    return out


def compare(gguf: Path, runs: list[Run], reference: Case = CASES[0]) -> list[Row]:
    """Fit the host to all the one-user runs, predict every case."""
    correction = fit_host(gguf, [r.reference for r in runs], reference)
    return [Row(r.case, r.measured, predict(gguf, correction, r.case), r.reference) for r in runs]


def error(ours: float, theirs: float) -> float:
    return ours / theirs - 1


def table(rows) -> list[str]:
    lines = [f"{'case':<26} {'TTFT meas':>10} {'pred':>8} {'err':>6}  {'TPOT meas':>10} {'pred':>8} {'err':>6}  "
             f"{'TTFT p99':>9} {'pred':>8}  {'1-user TPOT before':>18}"]
    for r in rows:
        m, p = r.measured, r.predicted
        lines.append(f"{r.case.name:<26} {m.mean('ttft'):>10.3f} {p.ttft_s.mean:>8.3f} "
                     f"{error(p.ttft_s.mean, m.mean('ttft')):>+6.0%}  {m.mean('tpot'):>10.4f} {p.tpot_s.mean:>8.4f} "
                     f"{error(p.tpot_s.mean, m.mean('tpot')):>+6.0%}  {m.p99('ttft'):>9.3f} {p.ttft_s.p99:>8.3f}  "
                     f"{r.reference.mean('tpot'):>18.4f}")
    return lines


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.support import tools

    gguf = tools.gemma_gguf()
    rows = compare(gguf, measure(tools.llama_server(), gguf, 18990))
    print("\n".join(table(rows)))
    out = [abs(error(getattr(r.predicted, f"{name}_s").mean, r.measured.mean(name)))
           for r in rows[1:] for name in ("ttft", "tpot")]
    print(f"\nout of the fit (rows 2-{len(rows)}): median |error| {statistics.median(out):.0%}, worst {max(out):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
