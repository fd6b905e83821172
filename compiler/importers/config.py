"""What `llmc import` and `llmc lint` read out of a hand-written config: servers, their settings, their
containers. Every value keeps the span it was written at, so a finding points into the user's file."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..runtimes import RuntimeProfile
from ..runtimes.flags import Flag
from ..source import SourceFile, Span


VISIBLE_DEVICES = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")


@dataclass(frozen=True)
class Value:
    """One setting as written: its text (None for a bare flag), where, and how it was written."""

    text: str | None
    span: Span
    written: str               # the flag, variable or key as the user wrote it: `-c`, `OLLAMA_NUM_PARALLEL`
    symbolic: bool = False     # an expansion ($VAR) that llmc cannot resolve

    def number(self) -> float | None:
        try:
            return float(self.text) if self.text is not None and not self.symbolic else None
        except ValueError:
            return None

    def integer(self) -> int | None:
        n = self.number()
        return int(n) if n is not None and n == int(n) else None

    def flag_on(self) -> bool:
        """A boolean setting: a bare flag is on; `--no-x`, `false`, `0`, `off` are off."""
        if self.text is None:
            return not self.written.lstrip("-").startswith(("no-", "disable-"))
        return self.text.strip().lower() not in ("0", "false", "off", "no", "")


@dataclass
class Port:
    host_ip: str | None        # None: every interface of the host
    host_port: int | None
    container_port: int
    span: Span


@dataclass(frozen=True)
class Mount:
    target: str              # the path in the container
    span: Span
    host: str | None = None  # a bind mount's host path, as written (None: a named volume, a PVC ...)

    def host_path(self, path: str) -> str | None:
        """Where `path` (in the container) is on the host, through this bind mount; None if it is not."""
        target = self.target.rstrip("/")
        if self.host is None or not (path == target or path.startswith(target + "/")):
            return None
        return self.host.rstrip("/") + path[len(target):]


@dataclass
class Container:
    """A compose service or a Kubernetes container."""

    name: str
    span: Span                          # the service / container name
    image: Value | None = None
    gpus: int | None = None             # reserved GPUs; None: none reserved
    gpus_all: bool = False              # `count: all`, `--gpus all`
    gpu_span: Span | None = None
    device_ids: tuple[str, ...] = ()
    shared_memory: bool = False         # ipc: host, shm_size, a /dev/shm emptyDir
    mounts: list[Mount] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    liveness: Span | None = None
    startup: Span | None = None
    service_links: bool = True          # Kubernetes injects <SERVICE>_PORT variables
    host_network: Span | None = None    # shares the host's network (where it says so): its bind address is the host's
    labels: dict[str, str] = field(default_factory=dict)   # the pod's labels (what a Service selects)
    group: int = 1                      # pods that run one server together (a LeaderWorkerSet's size)
    exclusive_gpus: bool = False        # its counted GPUs are its own (a Kubernetes device plugin's)


@dataclass(frozen=True)
class Service:
    """A Kubernetes Service: its name (it injects <NAME>_PORT variables) and how far it exposes its pods."""

    name: str
    span: Span
    type: str                           # ClusterIP, NodePort, LoadBalancer
    selector: dict[str, str]
    type_span: Span

    def selects(self, container: Container) -> bool:
        return bool(self.selector) and all(container.labels.get(k) == v for k, v in self.selector.items())


@dataclass
class Server:
    """One runtime process as the config starts it."""

    runtime: RuntimeProfile
    span: Span                                          # the command word, the service, the FROM line
    settings: dict[str, Value] = field(default_factory=dict)   # llmc's setting name (Knob.setting) -> value
    env: dict[str, Value] = field(default_factory=dict)
    unknown: list[Value] = field(default_factory=list)  # flags the pinned release does not have
    flags: list[tuple[Flag, Value]] = field(default_factory=list)   # every flag the release has, as written
    dropped: list[Value] = field(default_factory=list)  # what the runtime reads and ignores without a word
    container: Container | None = None
    version: Value | None = None                        # the image tag
    template: bool = False                              # a Modelfile TEMPLATE

    def visible_gpus(self) -> tuple[int | None, Span | None]:
        """(GPUs the config gives the server, where it says so): a *_VISIBLE_DEVICES variable, else its
        container's reservation; None when the config does not say (`count: all` included)."""
        for name in VISIBLE_DEVICES:
            value = self.env.get(name)
            if value is not None and value.text and not value.symbolic and value.text not in ("all", "none"):
                return len([d for d in value.text.split(",") if d.strip()]), value.span
        c = self.container
        if c is not None and c.gpus is not None:
            return c.gpus * c.group, c.gpu_span
        return None, c.gpu_span if c is not None and c.gpus_all else None

    def value(self, setting: str) -> Value | None:
        return self.settings.get(setting)

    @property
    def model(self) -> Value | None:
        """What names the model: the model argument or file, or a repository to download (-hf)."""
        return self.settings.get("model") or self.settings.get("hf_repo")

    @property
    def api_key(self) -> Value | None:
        """The key as set: on the command line or in a variable, or a file of keys (llama-server)."""
        return self.settings.get("api_key") or self.settings.get("api_key_file")

    def flag(self, setting: str) -> bool | None:
        """A boolean setting, None when not written; an inverted flag (--disable-x) reads as its setting."""
        v = self.settings.get(setting)
        if v is None:
            return None
        knob = self.runtime.knob(setting)
        return v.flag_on() != bool(knob and knob.invert)

    def integer(self, setting: str) -> int | None:
        v = self.settings.get(setting)
        return v.integer() if v else None


@dataclass
class ConfigFile:
    source: SourceFile
    kind: str                                   # shell, compose, kubernetes, modelfile, config-yaml (a runtime's --config)
    servers: list[Server] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)    # Kubernetes Services
    diagnostics: list[Diagnostic] = field(default_factory=list)      # what reading it found wrong


__all__ = ["ConfigFile", "Container", "Mount", "Port", "Server", "Service", "Value"]
