"""`llmc models [--task T] [--license L] [--fits "GPU"] [--ram SIZE] [--json]`: the models in the catalog, best
for the task first; with `--fits`, each with the best checkpoint that fits.

"Which model is best for my card?" is `llmc models --task code --fits "RTX 4090"`: its first row."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..catalog import Catalog, license_allows, license_words, model_tasks, unknown_gpu
from ..catalog.params import param_counts
from ..catalog.schema import LICENSE_IDS, Model
from ..catalog.tables import text_table, wrapped
from ..diagnostics import define_code, error
from ..estimate.weights import weight_bytes
from ..solve.objective import TASK_SUITES, format_loss, model_quality
from ..spec import LICENSE_CLASSES
from ..suggest import did_you_mean
from ..units import BYTE_UNITS, format_bytes, format_tokens
from ._catalog_args import add_catalog_options, open_catalog, print_json
from ._report import emit, out, report, terminal_width

E309 = define_code("E309", "Unknown value for a command-line option", "commands")

TASKS = ("chat", "code", "reasoning", "agent", "long-context", "multimodal")
# Weights may use this share of the GPUs' memory for `--fits`: the rest is KV cache, activations, CUDA context.
FITS_SHARE = 0.9


def register(sub) -> None:
    p = sub.add_parser("models", help="list the models in the catalog")
    p.add_argument("--task", choices=TASKS, help="only models suited to this workload task")
    p.add_argument("--license", metavar="L", action="append", default=[],
                   help="only models under this license id, or 'permissive' / 'commercial' / 'any' (repeatable)")
    p.add_argument("--fits", metavar='"GPU"', help='only models whose weights fit, e.g. "RTX 4090" or "2 x RTX 4090"')
    p.add_argument("--ram", metavar="SIZE", help="with --fits: host RAM the server may use for offloaded layers "
                                                 "(llama.cpp, Ollama: GGUF checkpoints), e.g. 64GiB")
    add_catalog_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    catalog = open_catalog(args)
    if (problem := _bad_license(args.license)) is not None:
        emit([problem], {}, "full")
        return 2
    budget = None
    if args.fits:
        budget = _parse_fits(catalog, args.fits, args.ram)
        if budget is None:
            return 2
    task = args.task or "chat"
    rows = []
    for model in catalog.models.values():
        if args.task and args.task not in model_tasks(model):
            continue
        if args.license and not license_allows(model, args.license):
            continue
        checkpoint = _checkpoint(model, catalog, budget)
        if budget is not None and checkpoint is None:
            continue
        rows.append((model, checkpoint, model_quality(model, task)))
    rows.sort(key=lambda row: (-row[2][0], row[0].id.lower()))
    if args.json:
        print_json([_as_json(m, c, q, task) for m, c, q in rows])
    else:
        width = terminal_width()
        report(text_table(["MODEL", f"QUALITY ({TASK_SUITES[task]})", "PARAMS", "CONTEXT", "ATTENTION", "NATIVE",
                        "FITS AS" if budget is not None else "SMALLEST", "LICENSE", "VERIFIED"],
                       [_row(m, c, q) for m, c, q in rows], width,
                       ("VERIFIED", "NATIVE", "ATTENTION", "LICENSE", "CONTEXT")), table=True)
        out(wrapped("QUALITY: the model's published score on the task's suite; ~ marks llmc's conservative prior "
                    "where it has none (see `llmc explain`).\n", width))
    return 0


def _bad_license(given: list[str]):
    known = (*LICENSE_CLASSES, *LICENSE_IDS)
    for word in given:
        if word.lower() not in known:
            return error(E309, f"unknown license '{word}' in --license",
                         help=did_you_mean(word, known) or f"known: {', '.join(known)}")
    return None


@dataclass(frozen=True)
class Budget:
    gpu: int        # bytes weights may take on the GPUs
    host: int       # and, for an offloadable (GGUF) checkpoint, in host RAM besides


def _parse_fits(catalog: Catalog, text: str, ram: str | None) -> Budget | None:
    """'2 x RTX 4090' (+ --ram 64GiB) -> what weights may take; None after printing an error."""
    match = re.fullmatch(r"\s*(?:(\d+)\s*[x×*]\s*)?(.+?)\s*", text)
    count, name = int(match.group(1) or 1), match.group(2).strip('"')
    gpu = catalog.find_gpu(name)
    if gpu is None:
        emit([unknown_gpu(catalog, name)], {}, "full")
        return None
    host = 0
    if ram is not None:
        size = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)\s*", ram)
        if size is None:
            emit([error(E309, f"--ram '{ram}' is not a size", help="write it with a unit, e.g. --ram 64GiB")], {},
                 "full")
            return None
        host = int(float(size.group(1)) * BYTE_UNITS[size.group(2)] * FITS_SHARE)
    return Budget(int(gpu.visible_memory_bytes * count * FITS_SHARE), host)


def _checkpoints(model: Model, catalog: Catalog) -> list[tuple[str, int, bool]]:
    """(format, bytes, is a GGUF file) per checkpoint: a variant's published size where known, else the estimate
    for its format."""
    out = {}
    for variant in model.variants:
        fmt = catalog.formats.get(variant.format)
        if fmt is None:
            continue
        size = variant.size_bytes or weight_bytes(model, fmt, catalog.formats).total_bytes
        key = (variant.format, variant.file is not None)
        out[key] = min(size, out.get(key, size))
    if not out and (fmt := catalog.formats.get(model.native_format)):
        out[(fmt.id, False)] = weight_bytes(model, fmt, catalog.formats).total_bytes
    return sorted((fid, size, gguf) for (fid, gguf), size in out.items())


def _checkpoint(model: Model, catalog: Catalog, budget: Budget | None) -> tuple[str, int] | None:
    """Without a budget, the lightest checkpoint; with one, the least lossy that fits (host RAM counts for a
    GGUF, which llama.cpp and Ollama offload by layers)."""
    found = _checkpoints(model, catalog)
    if budget is None:
        return min(((f, s) for f, s, _ in found), key=lambda c: c[1], default=None)
    fitting = [(f, s) for f, s, gguf in found if s <= budget.gpu + (budget.host if gguf else 0)]
    return min(fitting, key=lambda c: (format_loss(catalog.formats[c[0]]), c[1]), default=None)


def _attention(model: Model) -> str:
    kinds = model.layer_kinds()
    parts = []
    for kind in ("full", "sliding", "linear", "mla"):
        n = kinds.count(kind)
        if n:
            label = f"sliding {model.attention.sliding_window}" if kind == "sliding" else kind
            parts.append(f"{n} {label}")
    return ", ".join(parts)


def _params(model: Model) -> str:
    total, active = param_counts(model)
    return f"{total / 1e9:.1f}B/{active / 1e9:.1f}B" if model.moe else f"{total / 1e9:.1f}B"


def _is_prior(q: tuple[float, str]) -> bool:
    """The score is llmc's size prior, not a published one (objective.model_quality says so in its source)."""
    return "prior" in q[1]


def _quality(q: tuple[float, str]) -> str:
    return f"~{q[0]:.0f}" if _is_prior(q) else f"{q[0]:.1f}"


def _row(model: Model, checkpoint: tuple[str, int] | None, q: tuple[float, str]) -> list[str]:
    shown = f"{checkpoint[0]} {format_bytes(checkpoint[1])}" if checkpoint else "-"
    return [model.id, _quality(q), _params(model), format_tokens(model.max_context), _attention(model),
            model.native_format, shown, license_words(model),
            "yes" if model.verified else "no"]


def _as_json(model: Model, checkpoint: tuple[str, int] | None, q: tuple[float, str], task: str) -> dict:
    total, active = param_counts(model)
    data = model.model_dump(mode="json")
    data.update(params_total=total, params_active=active, tasks=list(model_tasks(model)),
                layer_kinds=list(model.layer_kinds()),
                quality={"task": task, "score": q[0], "source": q[1], "prior": _is_prior(q)})
    if checkpoint:
        data["checkpoint"] = {"format": checkpoint[0], "bytes": checkpoint[1]}
    return data
