"""Which catalog model and checkpoint a config names: a Hugging Face repo (`Qwen/Qwen3-8B`, an AWQ export of
it), a GGUF file (`/models/Qwen3-8B-Q4_K_M.gguf`, `-hf org/repo:Q4_K_M`), or a local folder named like one."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from ..catalog import Catalog
from ..catalog.schema import Model, Variant


@dataclass(frozen=True)
class Identified:
    model: Model
    variant: Variant | None    # None: the original repo, no catalog variant record
    format: str                # the weight format id (bf16, q4_k_m, awq ...)
    how: str                   # what matched, for the spec's comment


def identify(catalog: Catalog, text: str, quant: str | None = None) -> Identified | None:
    """The model `text` names, or None. `quant` is a `-hf repo:QUANT` suffix."""
    text = text.strip().strip("'\"")
    if ":" in text and "/" in text and not text.startswith(("/", ".")) and quant is None:
        text, _, quant = text.partition(":")
    base = posixpath.basename(text.rstrip("/"))
    for model in sorted(catalog.models.values(), key=lambda m: m.id):
        for variant in model.variants:
            if variant.file and base.lower() == variant.file.lower():
                return Identified(model, variant, variant.format, f"GGUF file {variant.file}")
    for model in sorted(catalog.models.values(), key=lambda m: m.id):
        for variant in model.variants:
            if variant.repo.lower() == text.lower() and _quant_matches(variant, quant):
                return Identified(model, variant, variant.format, f"repository {variant.repo}")
    model = catalog.find_model(text) or catalog.find_model(base)
    if model is not None:
        variant = next((v for v in model.variants if v.repo == model.id and not v.file), None)
        return Identified(model, variant, variant.format if variant else model.native_format, f"model {model.id}")
    for model in sorted(catalog.models.values(), key=lambda m: m.id):
        for variant in model.variants:
            if not variant.file and posixpath.basename(variant.repo).lower() == base.lower():
                return Identified(model, variant, variant.format, f"folder named like {variant.repo}")
    return None


def _quant_matches(variant: Variant, quant: str | None) -> bool:
    if quant is None:
        return True
    return variant.file is not None and re.search(re.escape(quant), variant.file, re.IGNORECASE) is not None


__all__ = ["Identified", "identify"]
