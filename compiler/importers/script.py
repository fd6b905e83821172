"""A shell script or one command line: the servers it starts, directly or with `docker run`."""

from __future__ import annotations

import re

from ..source import SourceFile
from ..units import parse_size
from .command import image_defaults, image_tag, offset_span, recognise, runtime_of_image, server_from_args
from .config import ConfigFile, Container, Mount, Port, Value
from ..runtimes import PROFILES
from ..runtimes.flags import flag_table
from .shell import Command, Word, assignments, commands, resolve

# `docker run` options that take a value (docker/cli cli/command/container/opts.go), the rest are switches.
DOCKER_VALUE_OPTIONS = {
    "-p", "--publish", "-v", "--volume", "-e", "--env", "--name", "--gpus", "--ipc", "--shm-size", "--env-file",
    "--runtime", "-w", "--workdir", "--network", "--net", "--entrypoint", "--device", "--mount", "-u", "--user",
    "--restart", "--ulimit", "--cpus", "-m", "--memory", "-l", "--label", "-h", "--hostname", "--add-host",
    "--platform", "--pull", "--cap-add", "--cap-drop", "--security-opt", "--log-driver", "--log-opt",
    "--health-cmd", "--health-interval", "--health-timeout", "--health-retries", "--health-start-period",
    "--memory-swap", "--cpuset-cpus", "--group-add", "--tmpfs", "--dns", "--stop-signal", "--stop-timeout",
    "--expose", "--ulimit", "--log-opt", "--mount", "--pid", "--uts", "--cgroupns", "--device-cgroup-rule",
    "--label-file", "--cidfile", "--volumes-from", "--link", "--ip", "--ip6", "--mac-address", "--shm-size",
}


def read_script(source: SourceFile) -> ConfigFile:
    config = ConfigFile(source=source, kind="shell")
    span_of = offset_span(source)
    for command in commands(source.text, script=source.path):
        words = [resolve(w, command.variables) for w in command.words]
        if len(words) > 2 and words[0].text in ("docker", "podman", "nerdctl") and words[1].text == "run":
            _docker_run(config, command, words[2:], span_of)
            continue
        found = recognise(words)
        if found is not None:
            runtime, n = found
            span = span_of(words[0]).to(span_of(words[n - 1]))
            config.servers.append(server_from_args(runtime, words[n:], command.env, span, span_of, command.variables))
    if not config.servers and not commands(source.text) and assignments(source.text):
        config.kind = "env"
        _environment_only(config, span_of)
    return config


def _environment_only(config: ConfigFile, span_of) -> None:
    """A file of variables only (an `ollama.env`): the server of the runtime configured by variables alone
    (it has no command line of its own) whose variables it sets; for the others an env file is not a server."""
    env = assignments(config.source.text)
    for runtime in PROFILES.values():
        hits = [w for name, w in env.items() if name in {k.env for k in runtime.knobs if k.env}]
        if hits and flag_table(runtime) is None:
            config.servers.append(server_from_args(runtime, [], env, span_of(hits[0]), span_of))
            return


def _docker_run(config: ConfigFile, command: Command, words: list[Word], span_of) -> None:
    """The container's environment is what `-e` gives it (and the image's own), never the host shell's: the
    host's variables only expand `$VAR` and fill `-e NAME`."""
    env: dict[str, Word] = {}
    i = 0
    opts: list[tuple[str, Word | None, Word]] = []
    while i < len(words) and words[i].text.startswith("-"):
        name, eq, inline = words[i].text.partition("=")
        if eq:
            value = Word(inline, words[i].start + len(name) + 1, words[i].end, words[i].symbolic)
        elif name in DOCKER_VALUE_OPTIONS and i + 1 < len(words):
            i += 1
            value = words[i]
        else:
            value = None
        opts.append((name, value, words[i]))
        i += 1
    if i >= len(words):
        return
    image, args = words[i], words[i + 1:]
    runtime = runtime_of_image(image.text)
    found = recognise(args)
    if found is not None:
        runtime, n = found
        args = args[n:]
    if runtime is None:
        return
    container = Container(name=image.text, span=span_of(image), image=Value(image.text, span_of(image), "image"))
    for name, value, word in opts:
        _docker_option(container, env, command.variables, name, value, word, span_of)
    server = server_from_args(runtime, args, image_defaults(runtime, env, image), span_of(image), span_of,
                              command.variables)
    server.container = container
    tag = image_tag(image.text)
    server.version = Value(tag, span_of(image), "image") if tag else None
    config.servers.append(server)


def _docker_option(container: Container, env: dict[str, Word], host: dict[str, Word], name: str, value: Word | None,
                   word: Word, span_of) -> None:
    if value is None:
        if name == "--privileged":
            container.gpus_all = container.gpus_all or container.gpus is None
        return
    text = value.text
    if name in ("-e", "--env"):
        variable = text.partition("=")[0]
        if "=" not in text:   # `-e NAME` passes the host's value on
            passed = host.get(text)
            value = Word(passed.text if passed else f"{text}=${{{text}}}", value.start, value.end,
                         passed.symbolic if passed else True)
        env[variable] = value
    elif name == "--runtime" and text == "nvidia":   # the NVIDIA runtime: NVIDIA_VISIBLE_DEVICES, else every GPU
        container.gpus_all, container.gpu_span = True, span_of(word)
    elif name == "--device" and re.match(r"(nvidia\.com/gpu|amd\.com/gpu|/dev/kfd|/dev/dri)", text):   # CDI, ROCm
        container.gpus_all, container.gpu_span = True, span_of(value)
    elif name in ("--network", "--net") and text == "host":
        container.host_network = span_of(word)
    elif name == "--gpus":
        container.gpu_span = span_of(value)
        count = text.removeprefix("count=")
        if "all" in count:
            container.gpus_all = True
        elif count.isdigit():
            container.gpus = int(count)
        elif "device=" in text:
            ids = text.split("device=", 1)[1].strip("'\"").split(",")
            container.device_ids, container.gpus = tuple(ids), len(ids)
    elif name == "--ipc" and text == "host":
        container.shared_memory = True
    elif name == "--shm-size":   # ignored with --ipc host
        container.shared_memory |= (parse_size(text) or 0) >= 1 << 30
    elif name in ("-v", "--volume") and ":" in text:
        source, target = text.split(":")[:2]
        container.mounts.append(Mount(target, span_of(value), source if source.startswith(("/", ".", "~")) else None))
    elif name in ("-p", "--publish"):
        port = parse_port(text, span_of(value))
        if port:
            container.ports.append(port)


def parse_port(text: str, span) -> Port | None:
    """`8000`, `8000:8000`, `127.0.0.1:8000:8000`, `[::1]:8000:8000/tcp`."""
    text = text.split("/")[0].strip()
    host_ip = None
    if text.startswith("["):
        host_ip, _, text = text[1:].partition("]")
        text = text.lstrip(":")
    parts = text.split(":")
    if len(parts) == 3:
        host_ip, parts = parts[0], parts[1:]
    try:
        if len(parts) == 2:
            return Port(host_ip or None, int(parts[0]) if parts[0] else None, int(parts[1]), span)
        return Port(None, None, int(parts[0]), span)
    except ValueError:
        return None


__all__ = ["parse_port", "read_script"]
