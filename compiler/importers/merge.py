"""Files that configure one server together: an env file or a Modelfile beside the server they belong to."""

from __future__ import annotations

from .config import ConfigFile, Server


def merge_servers(configs: list[ConfigFile]) -> None:
    """Join what describes one server across the files of a run, in place:
    - an env file (a server started by variables alone) lends its variables to the servers of its runtime
      that run outside a container (a container has its own environment);
    - a Modelfile (`ollama create -f`) belongs to the one container of its runtime, when there is exactly one:
      its FROM and PARAMETERs are that server's model and options (they override the server's defaults).
    A server merged into another is not linted or imported twice."""
    servers = [s for c in configs for s in c.servers]
    merged: list[Server] = []
    for donor in (s for s in servers if s.container is None and "model" not in s.settings and s.env):
        takers = [s for s in servers if s.runtime is donor.runtime and s.container is None and s is not donor
                  and "model" in s.settings]
        for server in takers:
            for name, value in donor.env.items():
                server.env.setdefault(name, value)
            for setting, value in donor.settings.items():
                server.settings.setdefault(setting, value)
        merged += [donor] if takers else []
    for config in configs:
        if config.kind != "modelfile":
            continue
        for modelfile in config.servers:
            hosts = [s for s in servers if s.runtime is modelfile.runtime and s.container is not None]
            if len(hosts) == 1:
                hosts[0].settings.update(modelfile.settings)
                hosts[0].template |= modelfile.template
                merged.append(modelfile)
    for config in configs:
        config.servers[:] = [s for s in config.servers if not any(s is m for m in merged)]


__all__ = ["merge_servers"]
