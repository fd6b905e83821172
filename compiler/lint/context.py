"""What every rule may ask about a server beyond its own settings: the model it serves (catalog), the GPUs
it has (the config's reservations, `--hardware`), and the memory and speed model's verdict on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import Catalog
from ..catalog.schema import Gpu
from ..diagnostics import Diagnostic, Label, error, warning
from ..importers.config import ConfigFile, Server, Value
from ..importers.hardware import HardwareArg
from ..importers.models import Identified, identify
from ..solve.evaluate import Evaluation
from ..source import Span
from .evaluate import evaluate


@dataclass
class LintContext:
    catalog: Catalog
    hardware: HardwareArg | None = None   # --hardware
    configs: list[ConfigFile] = field(default_factory=list)   # every file of this run (cross-file rules)
    _models: dict[int, Identified | None] = field(default_factory=dict)
    _evaluations: dict[int, Evaluation | None] = field(default_factory=dict)

    def model(self, server: Server) -> Identified | None:
        key = id(server)
        if key not in self._models:
            value = server.model
            self._models[key] = identify(self.catalog, value.text) if value and value.text and not value.symbolic \
                else None
        return self._models[key]

    @property
    def services(self) -> list:
        """Every Kubernetes Service of the run (a Service and its Deployment are often separate files)."""
        return [s for c in self.configs for s in c.services]

    @property
    def gpus(self) -> tuple[Gpu, ...]:
        """The cards of one node as --hardware names them; () when it is not given."""
        return self.hardware.gpus if self.hardware else ()

    def hardware_text(self, count: int | None = None) -> str:
        """`--hardware` as a spec's `gpu = ...`, with the GPUs this server sees when the config says."""
        return self.hardware.block(count)[0].removeprefix("gpu = ") if self.hardware else "no GPUs given"

    def gpu(self) -> Gpu | None:
        """The card type, when --hardware names one (mixed cards: the first)."""
        return self.gpus[0] if self.gpus else None

    def visible_gpus(self, server: Server) -> tuple[int | None, Span | None]:
        """(GPUs the server can see, where that is said): what the config gives it, else --hardware."""
        count, span = server.visible_gpus()
        if count is not None:
            return count, span
        return (len(self.gpus), span) if self.gpus else (None, None)

    def evaluation(self, server: Server) -> Evaluation | None:
        """The memory model's estimate of this server as configured (llmc.lint.evaluate), cached."""
        key = id(server)
        if key not in self._evaluations:
            self._evaluations[key] = evaluate(self, server)
        return self._evaluations[key]


def finding(code: str, summary: str, at: Value | Span, *, detail: str = "", help: str | None = None,
            label: str = "", also: tuple[tuple[Span, str], ...] = ()) -> Diagnostic:
    """A rule's diagnostic: an E code is an error, a W code a warning."""
    span = at.span if isinstance(at, Value) else at
    make = error if code.startswith("E") else warning
    labels = tuple(Label(span=s, message=m) for s, m in also)
    return make(code, summary, span=span, detail=detail, help=help, labels=labels, **({"label": label} if label else {}))


__all__ = ["LintContext", "finding"]
