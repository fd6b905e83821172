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


# An Ollama library reference: `qwen3:8b`, `llama3.1:8b-instruct-q8_0` (no namespace, a tag).
LIBRARY = re.compile(r"(?P<name>[a-z0-9][a-z0-9._-]*):(?P<tag>[A-Za-z0-9._-]+)")
# The library's size tags point at Q4_K_M builds (ollama.com/library: `8b` = `8b-q4_K_M`); assumed per model.
LIBRARY_DEFAULT_QUANT = "q4_k_m"


def identify(catalog: Catalog, text: str, quant: str | None = None) -> Identified | None:
    """The model `text` names, or None. `quant` is a `-hf repo:QUANT` suffix."""
    text = re.sub(r"^(https?://)?(hf\.co|huggingface\.co)/", "", text.strip().strip("'\""))
    library = LIBRARY.fullmatch(text)
    if library is not None:
        return _library(catalog, library.group("name"), library.group("tag"))
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


def _library(catalog: Catalog, name: str, tag: str) -> Identified | None:
    size, *rest = tag.split("-")
    # the library names the chat model of a family plainly: `llama3.1:8b` is Llama-3.1-8B-Instruct
    model = next(filter(None, (catalog.find_model(f"{name}-{size}{suffix}") for suffix in ("", "-instruct", "-it"))),
                 None)
    rest = [w for w in rest if w.lower() not in ("instruct", "it")]
    if model is None:
        return None
    words = [w.lower() for w in rest]
    fmt = next((w for w in words if w in catalog.formats), None) or next(
        ("_".join(words[i:]) for i in range(len(words)) if "_".join(words[i:]) in catalog.formats),
        LIBRARY_DEFAULT_QUANT)
    variant = next((v for v in model.variants if v.file and v.format == fmt), None)
    if variant is None:
        return None
    return Identified(model, variant, fmt, f"Ollama library tag {name}:{tag} (a {fmt} GGUF; the library's default "
                                           "quantization is Q4_K_M)")


def _quant_matches(variant: Variant, quant: str | None) -> bool:
    if quant is None:
        return True
    return variant.file is not None and re.search(re.escape(quant), variant.file, re.IGNORECASE) is not None


__all__ = ["Identified", "identify"]
