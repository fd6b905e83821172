"""What a build directory gives a smoke run: its plan, its launcher, and the environment to start it in."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from ..diagnostics import Diagnostic, DiagnosticsError, error
from ..files import read_bounded
from ..plan import MAX_PLAN_BYTES, Plan
from ..runtimes import profile
from . import codes

COMPOSE_FILES = ("compose/compose.yaml", "compose.yaml", "compose/docker-compose.yaml", "docker-compose.yaml")
LOG_VERBOSITY_ENV = "LLAMA_ARG_LOG_VERBOSITY"   # llama.cpp common/arg.cpp: the env twin of -lv
LLAMA_BUFFER_VERBOSITY = 4                       # library INFO lines (the buffer sizes) print at 4 and above


def load_plan(build_dir: Path) -> Plan:
    path = build_dir / "plan.json"
    try:
        text = read_bounded(path, MAX_PLAN_BYTES).decode("utf-8")
    except (OSError, ValueError) as exc:
        raise DiagnosticsError([error(codes.E601, f"cannot read {path}", detail=str(exc),
                                      help="pass the directory `llmc build` wrote (it holds plan.json)")])
    try:
        plan = Plan.from_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DiagnosticsError([error(codes.E601, f"{path} is not a plan this llmc understands",
                                      detail=f"{'.'.join(map(str, first['loc'])) or 'plan'}: {first['msg']}",
                                      help="rebuild it with this version of llmc: `llmc build SPEC`")])
    port = plan.serving.port
    if not 1 <= port <= 65535:
        raise DiagnosticsError([error(codes.E601, f"{path} names port {port}, which is not a TCP port",
                                      detail="serving.port must be 1 to 65535",
                                      help="set `port` in the spec's serve block and rebuild: `llmc build SPEC`")])
    return plan


def native_script(build_dir: Path, plan: Plan) -> Path:
    relative = profile(plan.runtime.name).launcher   # the same path README.md names
    script = build_dir / relative if relative else None
    if script is None or not script.is_file():
        raise DiagnosticsError([error(
            codes.E602, f"no native launcher for {plan.runtime.name} in {build_dir}",
            detail=f"looked for {relative or 'a launch script'}; llmc smoke runs the script the build emitted",
            help="build with the runtime's target, or use --compose to start the compose file")])
    if not os.access(script, os.X_OK):
        raise DiagnosticsError([error(codes.E602, f"{script} is not executable",
                                      help=f"chmod +x {script} (or rebuild)")])
    return script


def compose_file(build_dir: Path) -> Path:
    for relative in COMPOSE_FILES:
        if (build_dir / relative).is_file():
            return build_dir / relative
    raise DiagnosticsError([error(codes.E602, f"no compose file in {build_dir}",
                                  detail="looked for " + ", ".join(COMPOSE_FILES),
                                  help="build with the compose target, or drop --compose to run the native script")])


def server_env(plan: Plan, env: Mapping[str, str]) -> dict[str, str]:
    """The environment the server starts with: ours, plus llama.cpp log verbosity 4 for its buffer lines."""
    out = dict(env)
    if profile(plan.runtime.name).llama_log_verbosity:
        current = out.get(LOG_VERBOSITY_ENV, "")
        if not (current.isdigit() and int(current) >= LLAMA_BUFFER_VERBOSITY):
            out[LOG_VERBOSITY_ENV] = str(LLAMA_BUFFER_VERBOSITY)
    return out


def docker_compose(env: Mapping[str, str]) -> list[str] | Diagnostic:
    """`docker compose` when the CLI, the plugin and a daemon are all there; else why not."""
    docker = shutil.which("docker", path=env.get("PATH"))
    if docker is None:
        return error(codes.E610, "docker is not installed (not on PATH)",
                     help="install Docker with the compose plugin, or drop --compose to run the native script")
    for args, what in ((["compose", "version"], "the compose plugin"), (["info"], "the Docker daemon")):
        result = subprocess.run([docker, *args], capture_output=True, text=True, env=dict(env),
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            return error(codes.E610, f"{what} is not available", detail=(result.stderr or result.stdout).strip()[-300:],
                         help="start Docker (and install its compose plugin), or drop --compose")
    return [docker, "compose"]


def compose_override(plan: Plan, file: Path, scratch: Path) -> Path | None:
    """A compose file merged over the build's, giving llama.cpp services log verbosity 4 (their buffer lines)."""
    if not profile(plan.runtime.name).compose_log_override:
        return None
    from ruamel.yaml import YAML

    try:
        services = (YAML(typ="safe").load(file.read_text(encoding="utf-8")) or {}).get("services") or {}
    except Exception:  # a malformed file: `docker compose up` will report it in its own words
        return None
    if not isinstance(services, dict) or not all(isinstance(name, str) for name in services):
        return None
    override = {"services": {name: {"environment": {LOG_VERBOSITY_ENV: str(LLAMA_BUFFER_VERBOSITY)}}
                             for name in sorted(services)}}
    path = scratch / "smoke-override.yaml"
    with open(path, "w", encoding="utf-8") as out:
        YAML(typ="safe").dump(override, out)  # service names are data: the dumper quotes them
    return path
