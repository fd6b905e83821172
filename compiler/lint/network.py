"""Where a server can be reached from: what its bind address and published ports expose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..importers.config import Server, Service
from ..names import is_loopback, split_host_port
from ..source import Span


@dataclass(frozen=True)
class Exposure:
    span: Span
    how: str       # "binds 0.0.0.0", "publishes 8000 on every host interface"


def exposure(server: Server, services: Sequence[Service] = ()) -> Exposure | None:
    """How the server is reachable beyond this machine, or None. In a container the bind address is the
    container's own (0.0.0.0 is needed there): what the host publishes decides, a port without a host port
    being published on a random one; a Kubernetes Service of type LoadBalancer or NodePort that selects the
    pod exposes it; on the host's network the bind address is the host's."""
    if server.value("uds") is not None:
        return None   # a Unix socket only (vLLM --uds: launchers/launcher.py)
    c = server.container
    if c is not None and c.host_network is None:
        if not _binds_beyond_loopback(server):
            return None   # the published port reaches nothing (it is unreachable, not exposed)
        for port in c.ports:
            if port.host_ip is None or not is_loopback(port.host_ip):
                where = port.host_ip or "every host interface"
                number = port.host_port if port.host_port is not None else f"{port.container_port} (a random host port)"
                return Exposure(port.span, f"publishes port {number} on {where}")
        for service in services:
            if service.type in ("LoadBalancer", "NodePort") and service.selects(c):
                return Exposure(service.type_span, f"is exposed by the {service.type} Service `{service.name}`")
        return None
    host = server.value("host")
    if host is None:
        if server.runtime.listens_on_all:
            where = "of the host (host networking)" if c is not None else f"({server.runtime.name} with no host setting)"
            return Exposure(c.host_network if c is not None else server.span, f"binds every interface {where}")
        return None
    if host.symbolic or host.text is None:
        return None
    address = split_host_port(host.text)[0]
    if is_loopback(address) or address.endswith(".sock"):
        return None
    return Exposure(host.span, f"binds {address or 'every interface'}")


def _binds_beyond_loopback(server: Server) -> bool:
    host = server.value("host")
    if host is None:
        return server.runtime.listens_on_all
    return host.symbolic or not host.text or not is_loopback(split_host_port(host.text)[0])


__all__ = ["Exposure", "exposure"]
