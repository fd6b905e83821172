"""`llmc models [--task T] [--license L] [--fits "GPU"] [--json]`: the models in the catalog."""

from __future__ import annotations

import re

from ..catalog import Catalog, license_allows, model_tasks, unknown_gpu
from ..catalog.params import param_counts
from ..catalog.schema import Model
from ..catalog.tables import text_table
from ..estimate.weights import weight_bytes
from ..units import format_bytes, format_tokens
from ._catalog_args import add_catalog_options, open_catalog, print_json
from ._report import emit, out

TASKS = ("chat", "code", "reasoning", "agent", "long-context", "multimodal")
# Weights may use this share of the GPUs' memory for `--fits`: the rest is KV cache, activations, CUDA context.
FITS_SHARE = 0.9


def register(sub) -> None:
    p = sub.add_parser("models", help="list the models in the catalog")
    p.add_argument("--task", choices=TASKS, help="only models suited to this workload task")
    p.add_argument("--license", metavar="L", action="append", default=[],
                   help="only models under this license id, or 'permissive' / 'commercial' / 'any' (repeatable)")
    p.add_argument("--fits", metavar='"GPU"', help='only models whose weights fit, e.g. "RTX 4090" or "2 x RTX 4090"')
    add_catalog_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    catalog = open_catalog(args)
    fits = None
    if args.fits:
        fits = _parse_fits(catalog, args.fits)
        if fits is None:
            return 2
    rows = []
    for model in sorted(catalog.models.values(), key=lambda m: m.id.lower()):
        if args.task and args.task not in model_tasks(model):
            continue
        if args.license and not license_allows(model, args.license):
            continue
        smallest = _smallest_weights(model, catalog)
        if fits is not None and (smallest is None or smallest[1] > fits):
            continue
        rows.append((model, smallest))
    if args.json:
        print_json([_as_json(m, s) for m, s in rows])
    else:
        out(text_table(["MODEL", "PARAMS", "CONTEXT", "ATTENTION", "NATIVE", "SMALLEST", "LICENSE", "VERIFIED"],
                                    [_row(m, s) for m, s in rows]))
    return 0


def _parse_fits(catalog: Catalog, text: str) -> int | None:
    """'2 x RTX 4090' -> the bytes weights may take on those GPUs; None after printing an error."""
    match = re.fullmatch(r"\s*(?:(\d+)\s*[x×*]\s*)?(.+?)\s*", text)
    count, name = int(match.group(1) or 1), match.group(2).strip('"')
    gpu = catalog.find_gpu(name)
    if gpu is None:
        emit([unknown_gpu(catalog, name)], {}, "full")
        return None
    return int(gpu.visible_memory_bytes * count * FITS_SHARE)


def _formats_for(model: Model) -> list[str]:
    return sorted({model.native_format, *(v.format for v in model.variants)})


def _smallest_weights(model: Model, catalog: Catalog) -> tuple[str, int] | None:
    """The lightest checkpoint: a variant's published file size where known, else the estimate for its format."""
    published: dict[str, int] = {}
    for variant in model.variants:
        if variant.size_bytes:
            published[variant.format] = min(variant.size_bytes, published.get(variant.format, variant.size_bytes))
    sizes = []
    for fid in _formats_for(model):
        fmt = catalog.formats.get(fid)
        if fid in published:
            sizes.append((fid, published[fid]))
        elif fmt is not None:
            sizes.append((fid, weight_bytes(model, fmt, catalog.formats).total_bytes))
    return min(sizes, key=lambda s: s[1]) if sizes else None


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


def _row(model: Model, smallest: tuple[str, int] | None) -> list[str]:
    small = f"{smallest[0]} {format_bytes(smallest[1])}" if smallest else "-"
    return [model.id, _params(model), format_tokens(model.max_context), _attention(model), model.native_format,
            small, model.license.id, "yes" if model.verified else "no"]


def _as_json(model: Model, smallest: tuple[str, int] | None) -> dict:
    total, active = param_counts(model)
    data = model.model_dump(mode="json")
    data.update(params_total=total, params_active=active, tasks=list(model_tasks(model)),
                layer_kinds=list(model.layer_kinds()))
    if smallest:
        data["smallest_weights"] = {"format": smallest[0], "bytes": smallest[1]}
    return data
