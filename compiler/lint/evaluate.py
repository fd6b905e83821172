"""A server as configured, through the memory and speed model: `llmc import` writes its spec with every
choice pinned, the solver evaluates that one candidate (llmc.solve.evaluate_pinned)."""

from __future__ import annotations

from pathlib import Path

from ..importers.config import Server
from ..importers.to_spec import import_spec
from ..lower import clean_spec
from ..solve import evaluate_pinned
from ..solve.evaluate import Evaluation
from ..source import SourceFile


def evaluate(ctx, server: Server) -> Evaluation | None:
    """The pinned candidate's Evaluation (feasible or not); None when llmc cannot evaluate it: the model is not in
    the catalog, no `--hardware` names the GPUs, or the model or GPUs rule the configuration out altogether."""
    if ctx.model(server) is None or not ctx.gpus:
        return None
    count, _ = ctx.visible_gpus(server)
    text = import_spec(server, ctx.catalog, ctx.hardware, gpus=count)
    source = SourceFile(path="imported.llmspec", text=text)
    clean = clean_spec(source)
    if clean is None:
        return None
    evaluation, _, _ = evaluate_pinned(clean[1].deployments[0], ctx.catalog, Path(server.span.file).parent)
    return evaluation


__all__ = ["evaluate"]
