"""`llmc smoke`: launch a build, wait for health, send the workload, measure, compare with the plan.

Order of a run: read plan.json -> check the port is free -> start the native script (or
`docker compose up -d`) -> wait for health -> read the runtime's memory report -> send streaming
requests -> read /metrics and NVML -> tear down -> write smoke.json (and the calibration record).
Teardown runs in a `finally` with the interrupting signals ignored, so success, failure, timeout,
Ctrl-C and SIGTERM all end with what this run started stopped, and nothing else touched.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

from ..diagnostics import Diagnostic, error
from ..estimate.serving import Load, length_draws, request_lengths
from ..names import client_url
from ..plan import Plan
from ..runtimes import profile
from ..text import printable
from . import codes
from .build_dir import (LOG_VERBOSITY_ENV, compose_file, compose_override, docker_compose, load_plan, native_script,
                        server_env)
from .deadline import Deadline, DeadlinePassed, within
from .launch import (ComposeProject, Interrupted, Launched, open_log, port_free, shielded, signals_raise,
                     start_process)
from .load import MAX_BODY_BYTES, Endpoint, LoadResult, read_head, run_load
from .measure import GpuSampler, MemoryFigure, prometheus_values, runtime_figures, runtime_memory
from .probe import HealthResult, Progress, tail_lines, wait_healthy
from .report import FAIL, PASS, SKIP, Check, SmokeReport, plan_choice, write_json
from .store import append, record_line, write_path
from .verdict import latency_checks, latency_summary, memory_checks, predicted_figures, measured_figures

LOG_TAIL_LINES = 40
SMOKE_JSON, SMOKE_LOG = "smoke.json", "smoke.log"
METRICS_TIMEOUT_S = 5.0
REDACTED = "<redacted>"


@dataclass
class SmokeOptions:
    build_dir: Path
    timeout_s: float = 300.0
    requests: int | None = None
    keep_running: bool = False
    compose: bool = False
    record: Path | None = None       # None: the calibration store (llmc.smoke.store)
    no_record: bool = False
    origin: str = "smoke"            # what the calibration record says made it
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    progress: TextIO | None = None


class Session:
    """One smoke run: owns what it started and the report it fills in."""

    def __init__(self, plan: Plan, opts: SmokeOptions):
        self.plan, self.opts = plan, opts
        self.build_dir = opts.build_dir.resolve()
        self.log_path = self.build_dir / SMOKE_LOG
        self.progress = Progress(opts.progress)
        self.report = SmokeReport(build_dir=str(self.build_dir), plan_choice=plan_choice(plan),
                                  runtime=f"{plan.runtime.name} {plan.runtime.version}", log_path=str(self.log_path))
        self.process: Launched | None = None
        self.project: ComposeProject | None = None
        self.gpus: GpuSampler | None = None
        self.load: LoadResult | None = None
        self.figures: list[MemoryFigure] = []
        self.metrics_text = ""
        self._scratch: Path | None = None
        self.launch_target: Path | None = None
        self.deadline = Deadline.after(opts.timeout_s)   # one for the health wait and the requests together

    # --- the steps --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return client_url(self.plan.serving.host, self.plan.serving.port)

    def run(self) -> None:
        self.launch_target = (compose_file(self.build_dir) if self.opts.compose
                              else native_script(self.build_dir, self.plan))
        if not self.check_port():
            return
        self.gpus = GpuSampler()
        self.gpus.start()
        if not self.start():
            return
        health = self.wait()
        if not health.healthy:
            return
        self.figures = runtime_figures(self.plan, self.log_text())
        self.report.runtime_memory = runtime_memory(self.plan, self.log_text())
        if not self.send():
            return
        self.metrics_text = self.read_metrics()
        if profile(self.plan.runtime.name).metrics_figures:
            self.figures = runtime_figures(self.plan, self.log_text(), self.metrics_text)
        self.finish_checks()

    def check_port(self) -> bool:
        s = self.plan.serving
        try:
            if port_free(s.host or None, s.port):
                return True
        except OSError as exc:
            self.fail("started", codes.E603, f"cannot listen on {s.host} port {s.port}: {exc.strerror or exc}",
                      detail="the plan's serving.host is not an address of this machine, or the port is reserved",
                      help="serve on an address of this machine (127.0.0.1, ::1, 0.0.0.0, ::) and rebuild")
            return False
        self.fail("started", codes.E603, f"port {s.port} on {s.host} is already in use",
                  detail="another process listens there; llmc smoke starts nothing and stops nothing it did not start",
                  help=f"stop what listens on port {s.port} (e.g. `ss -ltnp 'sport = :{s.port}'` shows it), "
                       "or change the port in the spec and rebuild")
        return False

    def start(self) -> bool:
        env = server_env(self.plan, self.opts.env)
        if self.opts.compose:
            return self.start_compose(env)
        script = self.launch_target
        try:
            self.process = start_process([str(script)], cwd=self.build_dir, env=env, log_path=self.log_path)
        except OSError as exc:
            self.fail("started", codes.E604, f"cannot run {script}: {exc.strerror}",
                      help="check the script's first line (#!) and that it is executable")
            return False
        self.report.launch = {"mode": "native", "command": [str(script)], "pid": self.process.pid,
                              "pgid": self.process.pgid, "subreaper": self.process.subreaper,
                              "log_verbosity_env": env.get(LOG_VERBOSITY_ENV)}
        self.say(f"started {script} (pid {self.process.pid}, process group {self.process.pgid}); "
                 f"log: {self.log_path}")
        return True

    def start_compose(self, env: dict[str, str]) -> bool:
        file = self.launch_target
        docker = docker_compose(env)
        if isinstance(docker, Diagnostic):
            self.report.add(Check("started", FAIL, docker.summary, code=docker.code))
            self.report.diagnostics.append(docker)
            return False
        open_log(self.log_path).close()
        self.project = ComposeProject(docker, file, f"llmc-smoke-{os.getpid()}-{secrets.token_hex(3)}", self.log_path,
                                      override=compose_override(self.plan, file, self.scratch()))
        self.report.launch = {"mode": "compose", "file": str(file), "project": self.project.project}
        self.say(f"docker compose -p {self.project.project} up -d ({file})")
        result = self.project.up(env)
        if result.returncode != 0:
            self.fail("started", codes.E604, "docker compose up failed", detail=result.stderr.strip()[-400:],
                      help="read the compose output above; the project was taken down again")
            return False
        return True

    def wait(self) -> HealthResult:
        url = self.base_url + self.plan.runtime.health_path
        health = wait_healthy(url, deadline=self.deadline, exit_code=self.exit_code,
                              log_path=self.log_path, progress=self.progress)
        self.report.launch["health"] = {"url": url, "elapsed_s": round(health.elapsed_s, 3),
                                        "last_answer": health.last_answer}
        if health.reason == "exited":
            self.fail("started", codes.E604, f"the server exited with code {health.exit_code} "
                      f"{health.elapsed_s:.1f}s after it started", detail="its last log lines are below",
                      help="fix what the log names (a bad flag, a missing model file, not enough memory) and rebuild")
            self.report.add(Check("healthy", SKIP, "the server is not running"))
        elif health.reason == "deadline":
            self.report.add(Check("started", PASS, f"pid {self.pid_text()}"))
            self.fail("healthy", codes.E605, f"{url} did not answer 200 within {self.opts.timeout_s:g}s",
                      detail=f"last answer: {health.last_answer}",
                      help="raise --timeout if the model is still loading (large downloads count), "
                           "or read the log tail for why it never became ready")
        else:
            self.report.add(Check("started", PASS, f"pid {self.pid_text()}"))
            self.report.add(Check("healthy", PASS, f"{url} after {health.elapsed_s:.1f}s",
                                  measured=f"{health.elapsed_s:.1f}s"))
        return health

    def send(self) -> bool:
        w = self.plan.workload
        concurrency = max(1, w.concurrency)
        count = self.opts.requests or max(4, 2 * concurrency)
        prompt_tokens, note = fit_prompt(self.plan)
        endpoint = Endpoint(self.base_url, self.plan.serving.served_name, self.plan.runtime.name,
                            api_key_for(self.plan, self.opts.env))
        self.say(f"sending {count} streaming chat requests, {concurrency} at a time, "
                 f"~{prompt_tokens} prompt tokens, {w.output_tokens} output tokens each")
        start = time.monotonic()
        self.load = run_load(endpoint, requests=count, concurrency=concurrency, prompt_tokens=prompt_tokens,
                             max_tokens=w.output_tokens, deadline=self.deadline,
                             lengths=request_lengths_for(self.plan, prompt_tokens, count),
                             on_progress=lambda done, total: self.progress.update(
                                 time.monotonic() - start, f"requests finished: {done}/{total}", state=done))
        self.progress.done()
        self.report.load = load_summary(self.load, note)
        errors = self.load.errors
        code = self.exit_code_after_errors() if errors > self.load.cut else self.exit_code()
        if code is not None:
            self.fail("answered", codes.E606, f"the server exited with code {code} during the requests",
                      detail=f"{errors} of {count} requests failed; first error: {first_error(self.load)}",
                      help="the log tail below shows why it stopped (out of memory, a crash, or it was killed)")
            return False
        if self.load.cut:
            self.fail("answered", codes.E606, f"the --timeout deadline ({self.opts.timeout_s:g}s) passed with "
                      f"{self.load.cut} of {count} requests unfinished",
                      detail=f"--timeout bounds the health wait and the requests together; the server was "
                             f"healthy after {self.report.launch['health']['elapsed_s']:g}s",
                      help="raise --timeout if the server is just slow (count the load time and every request), "
                           "or read the log for why it answers so slowly")
            return True
        if errors:
            self.fail("answered", codes.E606, f"{errors} of {count} requests failed",
                      detail=f"first error: {first_error(self.load)}",
                      help="read the server log; a context overflow or a timeout names its cause there")
            return True
        self.report.add(Check("answered", PASS, f"{count} of {count} requests, "
                              f"{sum(r.completion_tokens for r in self.load.ok)} tokens"))
        return True

    def finish_checks(self) -> None:
        if self.gpus is not None:
            self.gpus.stop()
            self.figures += self.gpus.figures(self.plan)
        self.extend(*memory_checks(self.plan, self.figures))
        self.report.memory = [figure_dict(f) for f in self.figures]
        if self.load is not None and not self.load.errors:
            self.extend(*latency_checks(self.plan, self.load))
            self.report.latency = latency_summary(self.plan, self.load)
        self.report.runtime_metrics = prometheus_values(self.metrics_text, profile(self.plan.runtime.name).metrics)

    def read_metrics(self) -> str:
        """The runtime's /metrics page; empty when it has none, or it does not come by the deadline."""
        headers = {"Accept-Encoding": "identity",
                   **Endpoint(self.base_url, "", "", api_key_for(self.plan, self.opts.env)).headers()}

        def fetch() -> str:
            with (httpx.Client(timeout=METRICS_TIMEOUT_S, headers=headers, trust_env=False) as client,
                  client.stream("GET", self.base_url + "/metrics") as response):
                page = read_head(response, MAX_BODY_BYTES)
            ok = response.status_code == 200 and len(page) <= MAX_BODY_BYTES
            return page.decode("utf-8", "replace") if ok else ""

        try:
            return within(self.deadline.sooner(METRICS_TIMEOUT_S), fetch)
        except (DeadlinePassed, httpx.HTTPError):
            return ""

    # --- interruption, teardown, output ----------------------------------------------------------

    def interrupted(self, exc: Interrupted) -> None:
        self.progress.done()
        self.fail("interrupted", codes.E609, f"llmc smoke received {exc} and stopped",
                  detail="what it had started was torn down; checks not reached are not reported",
                  help="run it again to completion; use --timeout to bound the wait instead of interrupting")

    def teardown(self) -> None:
        if self.gpus is not None:
            self.gpus.stop()
            self.report.gpu = self.gpus.describe()
        if self.opts.keep_running and self.report.passed and self.running():
            self.report.kept_running = self.kept_running_info()
            return
        if self.process is not None:
            self.process.stop()
            self.report.launch["exit_code"] = self.process.popen.returncode
        if self.project is not None:
            self.project.stop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def kept_running_info(self) -> dict:
        if self.process is not None:
            return {"url": self.base_url, "pgid": self.process.pgid, "stop": f"kill -TERM -- -{self.process.pgid}"}
        p = self.project
        return {"url": self.base_url, "pgid": None, "stop": " ".join([*p.base(), "down"])}

    def finish(self) -> SmokeReport:
        if not self.report.passed and (self.process is not None or self.project is not None):
            self.report.log_tail = redact(tail_lines(self.log_path, LOG_TAIL_LINES),
                                          api_key_for(self.plan, self.opts.env))
        if not self.opts.no_record and self.load is not None and self.load.requests and not self.load.errors:
            self.record()
        if self.build_dir.is_dir():
            write_json(self.report, self.build_dir / SMOKE_JSON)
        return self.report

    def record(self) -> None:
        """The run as a calibration record, for the next build of this device and runtime to learn from."""
        line = record_line(self.plan, self.report.plan_choice, predicted_figures(self.plan),
                           measured_figures(self.figures, self.load), self.opts.origin, self.report.passed)
        if line is None:
            return
        path = self.opts.record or write_path(self.build_dir, self.opts.env)
        try:
            append(path, line)
        except OSError as exc:
            self.say(f"could not record the run in {path}: {exc.strerror or exc}")
            return
        self.report.recorded = str(path)

    # --- helpers -----------------------------------------------------------------------------------

    def exit_code(self) -> int | None:
        if self.process is not None:
            return self.process.exit_code()
        if self.project is not None:
            return None if self.project.running() else 1
        return None

    def exit_code_after_errors(self, wait_s: float = 2.0) -> int | None:
        """The exit code, giving a dying server a moment: its sockets close before it shows as exited."""
        deadline = time.monotonic() + wait_s
        code = self.exit_code()
        while code is None and time.monotonic() < deadline:
            time.sleep(0.05)
            code = self.exit_code()
        return code

    def running(self) -> bool:
        return self.exit_code() is None and (self.process is not None or self.project is not None)

    def log_text(self) -> str:
        if self.project is not None:
            self.project.refresh_log()
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def scratch(self) -> Path:
        """A private directory for files the run needs outside the build (removed at teardown)."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="llmc-smoke-"))
        return self._scratch

    def pid_text(self) -> str:
        if self.process is not None:
            return f"{self.process.pid}, process group {self.process.pgid}"
        return f"compose project {self.project.project}" if self.project else "-"

    def extend(self, checks: list[Check], diagnostics: list[Diagnostic]) -> None:
        self.report.checks += checks
        self.report.diagnostics += diagnostics

    def fail(self, name: str, code: str, summary: str, *, detail: str = "", help: str | None = None) -> None:
        self.report.add(Check(name, FAIL, summary, code=code))
        self.report.diagnostics.append(error(code, summary, detail=detail, help=help))

    def say(self, text: str) -> None:
        stream = self.opts.progress or sys.stderr
        stream.write(f"llmc smoke: {printable(text)}\n")
        stream.flush()


def fit_prompt(plan: Plan) -> tuple[int, str]:
    """The prompt length to send: the workload's, shortened when it and the output would not fit a sequence."""
    w = plan.workload
    room = plan.context - w.output_tokens - 64   # plan.context is per sequence; 64: the chat template's own tokens
    if w.prompt_tokens <= room:
        return max(1, w.prompt_tokens), ""
    prompt = max(1, room)
    return prompt, (f"prompt shortened from {w.prompt_tokens} to {prompt} tokens: a sequence holds {plan.context} "
                    f"tokens and {w.output_tokens} are for the answer")


def request_lengths_for(plan: Plan, prompt_tokens: int, count: int) -> list[tuple[int, int]] | None:
    """Each request's (prompt, answer) tokens when the workload's lengths spread: the draws the plan's load
    estimate made (estimate/serving.py), so the run measures the load that was predicted."""
    spread = plan.workload.spread
    if not spread:
        return None
    load = Load("closed", prompt_tokens, plan.workload.output_tokens, prompt_spread=spread, output_spread=spread,
                longest=plan.context - 64)
    draws = length_draws()
    return [request_lengths(load, draws) for _ in range(count)]


def api_key_for(plan: Plan, env: Mapping[str, str]) -> str | None:
    """The key smoke sends in its Authorization header; the server reads it from its environment
    (the launcher hands it on as a file or an environment variable), never from smoke's argv."""
    name = plan.serving.api_key_env
    return env.get(name) if name else None


def redact(lines: list[str], secret: str | None) -> list[str]:
    """`lines` with `secret` blanked out: a runtime may print its API key (SGLang logs its server_args)."""
    return [line.replace(secret, REDACTED) for line in lines] if secret else lines


def first_error(load: LoadResult) -> str:
    return next((r.error for r in load.requests if r.error), "none")


def load_summary(load: LoadResult, note: str) -> dict:
    out = {"requests": len(load.requests), "concurrency": load.concurrency, "errors": load.errors,
           "prompt_tokens_target": load.target_prompt_tokens, "prompt_text_tokens": load.prompt_text_tokens,
           "prompt_tokens_measured": load.prompt_tokens_seen(), "max_tokens": load.max_tokens,
           "warmup_prompt_tokens": load.warmup_prompt_tokens,
           "completion_tokens": sum(r.completion_tokens for r in load.ok), "wall_s": round(load.wall_s, 3)}
    if note:
        out["note"] = note
    return out


def figure_dict(f: MemoryFigure) -> dict:
    return {"device": f.device, "part": f.part, "unit": f.unit, "predicted": f.predicted, "measured": f.measured,
            "low": f.low, "high": f.high, "within": f.within, "source": f.source}


def run_smoke(opts: SmokeOptions) -> SmokeReport:
    """Run one smoke test. Raises DiagnosticsError only for an unusable build directory (nothing started)."""
    plan = load_plan(opts.build_dir)
    session = Session(plan, opts)
    with signals_raise():
        try:
            session.run()
        except Interrupted as exc:
            session.interrupted(exc)
        finally:
            shielded(session.teardown)
    return session.finish()
