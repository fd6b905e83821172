"""The hardware as a graph: the kinds of GPU in a node, and the links between them.

Tensor parallelism only spans GPUs of one node; the link between them (NVLink,
PCIe with peer-to-peer, PCIe through host memory) decides its cost and what the
runtime needs (vLLM's NCCL_P2P_DISABLE=1).

Identical cards are one vertex with a count (a self-loop links two of them), and
every node has the same cards, so the graph stays as small as the number of GPU
models however many GPUs and nodes a spec names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
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
    node: tuple[Device, ...]      # the devices of node 0, in device order; every node has the same cards
    nodes: int
    graph: "nx.Graph | None"      # None when no node has two GPUs: there are no links to describe
    cpu_host: Gpu | None = None   # the host's CPU: on a CPU-only host, or where the spec describes it

    @property
    def cpu_only(self) -> bool:
        return not self.node

    @property
    def gpus_per_node(self) -> int:
        return len(self.node)

    def node_devices(self, node: int = 0) -> tuple[Device, ...]:
        if node == 0:
            return self.node
        first = node * len(self.node)
        return tuple(replace(d, index=first + d.local, node=node) for d in self.node)

    @cached_property
    def devices(self) -> tuple[Device, ...]:
        """Every device of every node, built on first use: only a layout that spans all nodes needs them."""
        return tuple(device for node in range(self.nodes) for device in self.node_devices(node))

    @cached_property
    def distinct_cards(self) -> tuple[Gpu, ...]:
        """The distinct cards of a node, in device order of first appearance."""
        return tuple(dict.fromkeys(d.gpu for d in self.node))

    def backend(self, runtime: str, pinned: str | None = None) -> str | None:
        """The backend `runtime` serves every card of the node through ("cpu" on a CPU-only host): the pinned
        one (`settings { backend = ... }`) or else the first that each card lists for it; None when the cards
        share none (or not the pinned one)."""
        if not self.distinct_cards:
            return "cpu" if pinned in (None, "cpu") else None
        shared = [b for b in self.distinct_cards[0].backends_for(runtime)
                  if all(b in card.backends_for(runtime) for card in self.distinct_cards[1:])]
        if pinned is not None:
            return pinned if pinned in shared else None
        return shared[0] if shared else None

    @property
    def homogeneous(self) -> bool:
        return len(self.distinct_cards) <= 1

    @property
    def memory_bytes(self) -> int:
        """GPU memory of all nodes together, as the runtimes see it (each card's visible memory)."""
        return sum(d.gpu.visible_memory_bytes for d in self.node) * self.nodes

    @cached_property
    def _link_kinds(self) -> frozenset[str]:
        if self.graph is None:
            return frozenset()
        return frozenset(data["link"].kind for *_, data in self.graph.edges(data=True))

    @property
    def p2p(self) -> bool:
        return "pcie-host" not in self._link_kinds

    @property
    def link_kind(self) -> str:
        kinds = self._link_kinds
        if not kinds:
            return "none"
        return "nvlink" if kinds == {"nvlink"} else "pcie"


def build_topology(gpus: list[Gpu], nodes: int, *, link: str | None = None, p2p: bool | None = None,
                   cpu_host: Gpu | None = None) -> Topology:
    """`gpus` are the cards of one node in device order; every node has the same cards."""
    node = tuple(Device(index=local, node=0, local=local, gpu=gpu) for local, gpu in enumerate(gpus))
    graph = _link_graph(Counter(gpus), link, p2p) if len(gpus) > 1 else None
    return Topology(node=node, nodes=nodes, graph=graph, cpu_host=cpu_host)


def _link_graph(counts: Counter[Gpu], link: str | None, p2p: bool | None) -> "nx.Graph":
    # Imported here: networkx costs ~0.2 s to import, and a single card (or a CPU host) has no links.
    import networkx as nx

    graph = nx.Graph()
    for gpu, count in counts.items():
        graph.add_node(gpu.name, gpu=gpu, count=count)
    kinds = list(counts)
    for i, a in enumerate(kinds):
        for b in kinds[i:]:
            if a != b or counts[a] > 1:
                graph.add_edge(a.name, b.name, link=_link_between(a, b, link, p2p))
    return graph


def _link_between(a: Gpu, b: Gpu, link: str | None, p2p: bool | None) -> Link:
    if link == "nvlink" or (link is None and a.nvlink and b.nvlink and a.name == b.name):
        gbps = min(a.nvlink_gbps or 300.0, b.nvlink_gbps or 300.0)
        return Link("nvlink", gbps)
    peer = p2p if p2p is not None else (a.p2p and b.p2p)
    pcie = min(a.pcie_gbps or PCIE_P2P_GBPS, b.pcie_gbps or PCIE_P2P_GBPS)
    return Link("pcie-p2p", pcie) if peer else Link("pcie-host", min(pcie, PCIE_HOST_GBPS))


def tensor_split(devices: tuple[Device, ...]) -> tuple[float, ...] | None:
    """Proportions by visible memory for uneven cards (llama.cpp -ts); None when they round to equal."""
    sizes = [d.gpu.visible_memory_bytes for d in devices]
    split = tuple(round(s / min(sizes), 2) for s in sizes)
    return split if len(set(split)) > 1 else None
