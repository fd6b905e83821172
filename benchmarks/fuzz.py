"""Fuzz llmc with hostile input and count what goes wrong: tracebacks, hangs, unregistered codes.

    .venv/bin/python benchmarks/fuzz.py [--front-end N] [--compile N] [--seed S]

Suites (strategies in tests/support/fuzz.py, shared with the property tests):
- front end: any text, language-like noise, and hostile specs through parse → lower → checks, then
  every renderer (full, concise, json, sarif, github);
- compile: hostile specs, and valid specs with a hostile `serve` value, through the whole compile path
  (catalog, solve, every target).

An input that takes more than 5 s is a hang (stopped at 60 s). Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from llmc.diagnostics import CODES  # noqa: E402
from llmc.driver import load_source, open_catalog  # noqa: E402
from llmc.render import FORMATS, render  # noqa: E402
from llmc.source import SourceFile  # noqa: E402

from tests.support.fuzz import compile_text, hostile_specs, served_specs  # noqa: E402

HANG_S = 5.0    # an input that takes longer counts as a hang
ABORT_S = 60.0  # and one still running then is stopped
NOISE = st.text(alphabet=st.sampled_from(list('deployment"{}[]()=<>#,:.x kMGiBs tok/\n\t\\0123456789-_aé')),
                max_size=300)


class Hang(Exception):
    pass


@dataclass
class Tally:
    name: str
    inputs: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    tracebacks: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    exits: Counter = field(default_factory=Counter)  # compile suites: how far inputs got (0 = built)

    def run(self, check: Callable[[object], None], example: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, ABORT_S)
        start = time.perf_counter()
        try:
            check(example)
        except Hang:
            pass
        except Exception:  # noqa: BLE001 - counting them is the point
            self.tracebacks.append(f"{repr(example)[:300]}\n{traceback.format_exc(limit=4)}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            spent = time.perf_counter() - start
            self.inputs += 1
            self.seconds += spent
            self.slowest = max(self.slowest, spent)
            if spent > HANG_S:
                self.hangs.append(f"{spent:.1f} s: {repr(example)[:300]}")


def drive(tally: Tally, strategy, check, count: int, seed: int) -> None:
    """Feed `count` generated examples to `check` (generation only: no shrinking, no example database)."""
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(example):
        tally.run(check, example)
    one._hypothesis_internal_use_seed = seed
    one()


def front_end(text: str) -> None:
    source = SourceFile(path="fuzz.llmspec", text=text)
    _, diagnostics, _ = load_source(source)
    unknown = [d.code for d in diagnostics if d.code not in CODES]
    if unknown:
        raise AssertionError(f"unregistered codes {unknown}")
    for fmt in FORMATS:
        render(diagnostics, {source.path: source}, fmt)


def compile_check(tally: Tally, catalog, directory: Path) -> Callable[[object], None]:
    def check(example) -> None:
        text = example[0] if isinstance(example, tuple) else example
        result = compile_text(text, directory, catalog)
        tally.exits[result.exit_code] += 1
        unknown = [d.code for d in result.diagnostics if d.code not in CODES]
        if unknown or result.exit_code not in (0, 1, 2):
            raise AssertionError(f"exit {result.exit_code}, unregistered codes {unknown}")
    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--front-end", type=int, default=100_000, help="inputs per front-end run (split 3 ways)")
    parser.add_argument("--compile", type=int, default=6_000, help="inputs through the compile path (split 2 ways)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    def on_alarm(*_):
        raise Hang()
    signal.signal(signal.SIGALRM, on_alarm)

    tallies = []
    per = args.front_end // 3
    for name, strategy in (("front end: any text", st.text(max_size=300)), ("front end: noise", NOISE),
                           ("front end: hostile specs", hostile_specs())):
        tallies.append(Tally(name))
        drive(tallies[-1], strategy, front_end, per, args.seed)
    catalog = open_catalog()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for name, strategy in (("compile: edge numbers", hostile_specs(strings=False)),
                               ("compile: hostile serve", served_specs())):
            tallies.append(Tally(name))
            drive(tallies[-1], strategy, compile_check(tallies[-1], catalog, Path(tmp)), args.compile // 2, args.seed)
    report(tallies)


def report(tallies: list[Tally]) -> None:
    print("| suite | inputs | seconds | inputs/s | slowest ms | tracebacks | hangs | built / infeasible / rejected |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for t in [*tallies, total(tallies)]:
        rate = t.inputs / t.seconds if t.seconds else 0
        exits = " / ".join(str(t.exits[c]) for c in (0, 1, 2)) if t.exits else ""
        print(f"| {t.name} | {t.inputs} | {t.seconds:.1f} | {rate:.0f} | {t.slowest * 1000:.0f} | "
              f"{len(t.tracebacks)} | {len(t.hangs)} | {exits} |")
    for t in tallies:
        for problem in (t.tracebacks + t.hangs)[:3]:
            print(f"\n{t.name}:\n{problem}")


def total(tallies: list[Tally]) -> Tally:
    out = Tally("all")
    for t in tallies:
        out.inputs += t.inputs
        out.seconds += t.seconds
        out.slowest = max(out.slowest, t.slowest)
        out.tracebacks += t.tracebacks
        out.hangs += t.hangs
    return out


if __name__ == "__main__":
    main()
