"""A server as configured, through the memory and speed model: `llmc import` writes its spec with every
choice pinned, the solver evaluates that one candidate (llmc.solve.evaluate_pinned)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import has_errors
from ..importers.config import Server
from ..importers.to_spec import import_spec
from ..lower import lower
from ..parse import parse
from ..solve import evaluate_pinned
from ..source import SourceFile


@dataclass(frozen=True)
class Verdict:
    evaluation: object | None     # llmc.solve.evaluate.Evaluation of the pinned candidate
    rejections: tuple = ()        # why there is no candidate (a pin the model or GPUs rule out)
    spec: str = ""                # the imported spec it was evaluated from


def evaluate(ctx, server: Server) -> Verdict | None:
    """None when llmc cannot evaluate it: the model is not in the catalog, or no `--hardware` names the GPUs."""
    if ctx.model(server) is None or not ctx.gpus:
        return None
    count, _ = ctx.visible_gpus(server)
    text = import_spec(server, ctx.catalog, ctx.hardware, gpus=count)
    source = SourceFile(path="imported.llmspec", text=text)
    tree, diagnostics = parse(source)
    spec, _ = lower(source, tree) if tree is not None and not has_errors(diagnostics) else (None, [])
    if spec is None:
        return None
    evaluation, rejections, _ = evaluate_pinned(spec.deployments[0], ctx.catalog, Path(server.span.file).parent)
    return Verdict(evaluation, tuple(rejections), text)


__all__ = ["Verdict", "evaluate"]
