"""The hardware as a graph: GPUs per node, and the links between them.

Tensor parallelism only spans GPUs of one node; the link between them (NVLink,
PCIe with peer-to-peer, PCIe through host memory) decides its cost and what the
runtime needs (NCCL_P2P_DISABLE=1, llama.cpp's row split).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from typing import TYPE_CHECKING

from ..catalog.schema import Gpu

if TYPE_CHECKING:
    import networkx as nx

# Effective per-direction bandwidth between two GPUs when no catalog figure exists (GB/s).
# PCIe 4.0 x16 is 32 GB/s raw per direction, about 25 GB/s delivered; without P2P,
# copies bounce through host memory and roughly halve that (NCCL SHM transport).
PCIE_P2P_GBPS = 25.0
PCIE_HOST_GBPS = 12.0


@dataclass(frozen=True)
class Device:
    index: int      # global device index
    node: int
    local: int      # index within its node (CUDA device id)
    gpu: Gpu

    @property
    def label(self) -> str:
        prefix = f"node{self.node}/" if self.node else ""
        return f"{prefix}gpu{self.local} ({self.gpu.name})"


@dataclass(frozen=True)
class Link:
    kind: str       # nvlink | pcie-p2p | pcie-host
    gbps: float


@dataclass(frozen=True)
class Topology:
    devices: tuple[Device, ...]
    nodes: int
    graph: "nx.Graph | None"      # None when no node has two GPUs: there are no links to describe
    cpu_host: Gpu | None = None   # set on a CPU-only host

    @property
    def cpu_only(self) -> bool:
        return not self.devices

    @property
    def gpus_per_node(self) -> int:
        return len(self.devices) // self.nodes if self.devices else 0

    def node_devices(self, node: int = 0) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.node == node)

    @cached_property
    def homogeneous(self) -> bool:
        return len({d.gpu.name for d in self.devices}) <= 1

    def link(self, a: int, b: int) -> Link:
        return self.graph.edges[a, b]["link"]

    def _link_kinds(self) -> set[str]:
        if self.graph is None:
            return set()
        return {data["link"].kind for *_, data in self.graph.edges(data=True)}

    def slowest_link(self, devices: tuple[Device, ...]) -> Link | None:
        """The weakest link inside a group: it sets the pace of every all-reduce."""
        links = [self.link(x.index, y.index) for i, x in enumerate(devices) for y in devices[i + 1:]]
        return min(links, key=lambda l: l.gbps) if links else None

    @property
    def p2p(self) -> bool:
        return "pcie-host" not in self._link_kinds()

    @property
    def link_kind(self) -> str:
        kinds = self._link_kinds()
        if not kinds:
            return "none"
        return "nvlink" if kinds == {"nvlink"} else "pcie"


def build_topology(gpus: list[Gpu], nodes: int, *, link: str | None = None, p2p: bool | None = None,
                   cpu_host: Gpu | None = None) -> Topology:
    """`gpus` are the cards of one node in device order; every node has the same cards."""
    devices = tuple(Device(index=node * len(gpus) + local, node=node, local=local, gpu=gpu)
                    for node in range(nodes) for local, gpu in enumerate(gpus))
    graph = _link_graph(devices, link, p2p) if len(gpus) > 1 else None
    return Topology(devices=devices, nodes=nodes, graph=graph, cpu_host=None if gpus else cpu_host)


def _link_graph(devices: tuple[Device, ...], link: str | None, p2p: bool | None) -> "nx.Graph":
    # Imported here: networkx costs ~0.2 s to import, and a single card (or a CPU host) has no links.
    import networkx as nx

    graph = nx.Graph()
    for device in devices:
        graph.add_node(device.index, device=device)
    for a in devices:
        for b in devices:
            if a.index < b.index and a.node == b.node:
                graph.add_edge(a.index, b.index, link=_link_between(a.gpu, b.gpu, link, p2p))
    return graph


def _link_between(a: Gpu, b: Gpu, link: str | None, p2p: bool | None) -> Link:
    if link == "nvlink" or (link is None and a.nvlink and b.nvlink and a.name == b.name):
        gbps = min(a.nvlink_gbps or 300.0, b.nvlink_gbps or 300.0)
        return Link("nvlink", gbps)
    peer = p2p if p2p is not None else (a.p2p and b.p2p)
    pcie = min(a.pcie_gbps or PCIE_P2P_GBPS, b.pcie_gbps or PCIE_P2P_GBPS)
    return Link("pcie-p2p", pcie) if peer else Link("pcie-host", min(pcie, PCIE_HOST_GBPS))


def tensor_split(devices: tuple[Device, ...]) -> tuple[float, ...] | None:
    """Proportions by memory for uneven cards (llama.cpp -ts); None when all cards are equal."""
    sizes = [d.gpu.memory_bytes for d in devices]
    if len(set(sizes)) <= 1:
        return None
    smallest = min(sizes)
    return tuple(round(s / smallest, 2) for s in sizes)
