"""Where a server can be reached from: what its bind address and published ports expose."""

from __future__ import annotations

from dataclasses import dataclass

from ..importers.config import Server
from ..names import is_loopback, split_host_port
from ..source import Span


@dataclass(frozen=True)
class Exposure:
    span: Span
    how: str       # "binds 0.0.0.0", "publishes 8000 on every host interface"


def exposure(server: Server) -> Exposure | None:
    """How the server is reachable beyond this machine, or None. In a container the bind address is the
    container's own (0.0.0.0 is needed there); what the host publishes decides."""
    c = server.container
    if c is not None:
        for port in c.ports:
            if port.host_port is not None and (port.host_ip is None or not is_loopback(port.host_ip)):
                where = port.host_ip or "every host interface"
                return Exposure(port.span, f"publishes port {port.host_port} on {where}")
        return None
    host = server.value("host")
    if host is None:
        if server.runtime.listens_on_all:
            return Exposure(server.span, f"binds every interface ({server.runtime.name} with no host setting)")
        return None
    if host.symbolic or host.text is None:
        return None
    address = split_host_port(host.text)[0]
    if is_loopback(address) or address.endswith(".sock"):
        return None
    return Exposure(host.span, f"binds {address or 'every interface'}")


__all__ = ["Exposure", "exposure"]
