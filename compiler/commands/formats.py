"""`llmc formats [--json]`: weight formats and KV-cache types, with bits per weight, runtimes and quality loss."""

from __future__ import annotations

import sys

from ..catalog.tables import fmt_num, text_table, wrapped
from ._catalog_args import add_catalog_options, open_catalog, print_json
from ._report import report, terminal_width


def register(sub) -> None:
    p = sub.add_parser("formats", help="list weight formats and KV-cache types")
    add_catalog_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    catalog = open_catalog(args)
    formats = [catalog.formats[k] for k in sorted(catalog.formats)]
    kv_types = [catalog.kv_types[k] for k in sorted(catalog.kv_types)]
    if args.json:
        print_json({"formats": [f.model_dump(mode="json") for f in formats],
                    "kv_types": [k.model_dump(mode="json") for k in kv_types],
                    "ggml_types": [{**t.model_dump(mode="json"), "bits_per_weight": t.bits_per_weight}
                                   for t in (catalog.ggml_types[k] for k in sorted(catalog.ggml_types))]})
        return 0
    out = sys.stdout
    width = terminal_width()
    out.write(wrapped("Weight formats (bits per weight include block scales; mixes list their higher-precision "
                      "tensors)\n", width))
    report(text_table(["FORMAT", "FAMILY", "BPW", "MIX", "RUNTIMES", "MIN CC", "PPL +%"],
                         [[f.id, f.family, f"{f.bits_per_weight:g}", _mix(f), ", ".join(f.runtimes),
                           "-" if f.min_compute_capability is None else f"{f.min_compute_capability:.1f}",
                           fmt_num(f.ppl_increase_pct, 1)] for f in formats], width, ("MIX", "MIN CC")), table=True)
    out.write("\nKV-cache types\n")
    report(text_table(["KV TYPE", "BITS", "RUNTIMES", "FLASH ATTN", "MIN CC"],
                         [[k.id, f"{k.bits:g}", ", ".join(f"{r}={v}" for r, v in sorted(k.runtimes.items())),
                           "required" if k.needs_flash_attention else "-",
                           "-" if k.min_compute_capability is None else f"{k.min_compute_capability:.1f}"]
                          for k in kv_types], width, ("MIN CC",)), table=True)
    out.write("\n" + wrapped("PPL +%: Llama-3-8B Wikitext-2 perplexity increase over FP16 (seed guide, ch. 11); "
                             "'-' = no figure.\n", width))
    return 0


def _mix(fmt) -> str:
    return ", ".join(f"{r.group}={r.type}" + (f"@{r.fraction:g}" if r.fraction != 1 else "") for r in fmt.rules) or "-"
