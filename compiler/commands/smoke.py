"""`llmc smoke BUILD_DIR`: launch a build, measure it, and compare with its plan (exit 0 only if all checks hold)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..diagnostics import DiagnosticsError
from ._report import emit, out

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
MAX_TIMEOUT_S = 7 * 24 * 3600
MAX_REQUESTS = 100_000


def register(sub) -> None:
    p = sub.add_parser("smoke", help="launch a build, send its workload, measure it against the plan",
                       description="Start the build's server (native script, or docker compose with --compose), "
                                   "wait for health, send streaming chat requests at the workload's prompt length "
                                   "and concurrency, and compare memory and latency with the plan. Writes "
                                   "BUILD_DIR/smoke.json and BUILD_DIR/smoke.log. Always stops what it started.")
    p.add_argument("build_dir", metavar="BUILD_DIR", type=Path, help="a directory written by `llmc build`")
    p.add_argument("--timeout", type=_seconds, default=300.0, metavar="S",
                   help="seconds for the whole run: the wait for health and all the requests (default 300)")
    p.add_argument("--requests", type=_count, default=None, metavar="N",
                   help="requests to send (default: twice the workload's concurrency, at least 4)")
    p.add_argument("--keep-running", action="store_true",
                   help="leave the server running when every check passes (it is stopped on failure)")
    p.add_argument("--compose", action="store_true", help="start the compose file with `docker compose up -d`")
    p.add_argument("--format", choices=("full", "json"), default="full", help="report format on stdout")
    record = p.add_mutually_exclusive_group()
    record.add_argument("--record", type=Path, default=None, metavar="FILE",
                        help="append the run's calibration record to FILE instead of the calibration store "
                             "(the project's .llmc/calibration/ above BUILD_DIR, else the user's)")
    record.add_argument("--no-record", action="store_true", help="do not record the run for calibration")
    p.set_defaults(func=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (0 < value <= MAX_TIMEOUT_S):   # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0 and at most {MAX_TIMEOUT_S} (a week)")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_REQUESTS:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 to {MAX_REQUESTS}")
    return value


def run(args) -> int:
    # Imported here: the HTTP client is only needed when a smoke test runs, not by every llmc command.
    from ..smoke.report import render_table
    from ..smoke.run import SmokeOptions, run_smoke

    opts = SmokeOptions(build_dir=args.build_dir, timeout_s=args.timeout, requests=args.requests,
                        keep_running=args.keep_running, compose=args.compose, record=args.record,
                        no_record=args.no_record)
    try:
        report = run_smoke(opts)
    except DiagnosticsError as exc:  # an unusable build directory: nothing was started
        emit(exc.diagnostics, {}, args.format)
        return EXIT_INPUT
    out(report.to_json() if args.format == "json" else render_table(report))
    sys.stdout.flush()
    return EXIT_OK if report.passed else EXIT_FAILED
