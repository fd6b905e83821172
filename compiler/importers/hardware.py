"""`--hardware`: the machine a hand-written config runs on, as a spec's `hardware` block says it.

Either the value of `gpu =` (`'2 x "RTX 4090"'`) or whole statements (`'gpu = 1 x "RTX 4090" memory = 64 GiB'`),
read by the spec's own front end, so the names, units and diagnostics are the language's.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import Catalog, unknown_gpu
from ..catalog.schema import Gpu
from ..diagnostics import Diagnostic, define_code, error
from ..lower import clean_spec
from ..source import SourceFile

E_HARDWARE = define_code("E839", "Unusable --hardware", __name__)


@dataclass(frozen=True)
class HardwareArg:
    gpus: tuple[Gpu, ...]            # the cards of one node, in order; () for `gpu = none`, a CPU host
    statements: tuple[str, ...]      # the other statements (memory, nodes, link ...), as written

    def block(self, count: int | None = None) -> tuple[str, ...]:
        """The spec's hardware statements, with `count` of the first card when the config gives the server
        fewer (or more) GPUs than the machine has."""
        if not self.gpus:
            gpu = "gpu = none"
        elif count and count != len(self.gpus):
            gpu = f'gpu = {count} x "{self.gpus[0].name}"'
        else:
            names = [g.name for g in self.gpus]
            groups = [(n, names.count(n)) for n in dict.fromkeys(names)]
            gpu = "gpu = " + (f'{groups[0][1]} x "{groups[0][0]}"' if len(groups) == 1 else
                              "[" + ", ".join(f'{c} x "{n}"' for n, c in groups) + "]")
        return (gpu, *self.statements)

    @property
    def memory_bytes(self) -> int:
        return sum(g.visible_memory_bytes for g in self.gpus)


def parse_hardware(text: str, catalog: Catalog) -> tuple[HardwareArg | None, list[Diagnostic]]:
    body = text if "=" in text else f"gpu = {text}"
    source = SourceFile(path="--hardware", text=f'deployment "hardware" {{\nhardware {{\n{body}\n}}\n}}\n')
    clean = clean_spec(source)
    tree, spec = clean if clean is not None else (None, None)
    groups = spec.deployments[0].hardware.gpu if spec is not None else None
    if spec is None or groups == ():
        return None, [error(E_HARDWARE, f"--hardware {text!r} names no GPUs llmc can read",
                            detail="It takes what a spec's `gpu =` takes, or the statements of a `hardware` block.",
                            help="write e.g. --hardware '2 x \"RTX 4090\"' or --hardware 'gpu = 1 x \"L40S\" "
                                 "memory = 64 GiB'")]
    gpus, problems = [], []
    for group in groups or ():
        gpu = catalog.find_gpu(group.name)
        if gpu is None:
            problems.append(unknown_gpu(catalog, group.name))
        else:
            gpus += [gpu] * group.count
    if problems:
        return None, problems
    statements = tuple(source.text[s.meta.start_pos:s.meta.end_pos] for s in _hardware_statements(tree)
                       if s.children[0].value != "gpu")
    return HardwareArg(tuple(gpus), statements), []


def _hardware_statements(tree):
    deployment = tree.children[0]
    block = next(c for c in deployment.children if getattr(c, "data", None) == "block")
    return [c for c in block.children if getattr(c, "data", None) in ("attribute", "bound")]


__all__ = ["E_HARDWARE", "HardwareArg", "parse_hardware"]
