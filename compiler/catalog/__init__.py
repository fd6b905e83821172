"""The knowledge base: models, GPUs, weight formats, KV types and runtimes, from YAML, validated on load.

`load_catalog()` reads the built-in data (compiler/catalog/data/*.yaml), then each user catalog
directory (`--catalog DIR`, `LLMC_CATALOG`) over it: a user record with the key of a built-in one
overrides the fields it names, a new key adds a record. A record that does not validate becomes a
diagnostic naming its file and record, and is left out; the rest of the catalog still loads.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..diagnostics import Diagnostic, define_code, error
from ..suggest import closest, normalize
from . import yamlcache
from .gpu_names import GpuNames
from .schema import Format, GgmlType, Gpu, KvType, Model, Runtime

E301 = define_code("E301", "Unknown GPU", "catalog")
E302 = define_code("E302", "Invalid catalog record", "catalog")
E303 = define_code("E303", "Unreadable catalog file", "catalog")
E304 = define_code("E304", "Catalog data for an unknown model", "catalog")

DATA_DIR = Path(__file__).parent / "data"
BUILTIN_FILES = ("models", "gpus", "formats", "kv_types", "runtimes", "variants", "serving")

# section name -> (schema, key field)
SECTIONS: dict[str, tuple[type, str]] = {
    "models": (Model, "id"),
    "gpus": (Gpu, "name"),
    "cpu_hosts": (Gpu, "name"),
    "formats": (Format, "id"),
    "ggml_types": (GgmlType, "id"),
    "kv_types": (KvType, "id"),
    "runtimes": (Runtime, "name"),
}
OVERLAYS = ("variants", "serving")  # keyed by model id, merged into Model records
SERVING_FIELDS = ("chat_template", "parsers", "thinking", "quality")


@dataclass
class Catalog:
    models: dict[str, Model]
    gpus: dict[str, Gpu]
    formats: dict[str, Format]
    kv_types: dict[str, KvType]
    runtimes: dict[str, Runtime]
    cpu_host: Gpu
    cpu_hosts: dict[str, Gpu] = field(default_factory=dict)
    ggml_types: dict[str, GgmlType] = field(default_factory=dict)

    @functools.cached_property
    def _gpu_index(self) -> dict[str, Gpu]:
        index: dict[str, Gpu] = {}
        for gpu in [*self.gpus.values(), *self.cpu_hosts.values()]:
            for name in (gpu.name, *gpu.aliases):
                index.setdefault(normalize(name), gpu)
        return index

    @functools.cached_property
    def _gpu_names(self) -> GpuNames:
        return GpuNames([*self.gpus.values(), *self.cpu_hosts.values()])

    def find_gpu(self, name: str) -> Gpu | None:
        """A name or alias, case- and punctuation-insensitive ("rtx4090" = "GeForce RTX 4090"), or the way a
        driver or a shop writes it ("NVIDIA GeForce RTX 3090", "L40S 48GB": llmc.catalog.gpu_names)."""
        return self._gpu_index.get(normalize(name)) or self._gpu_names.find(name)

    def gpu_suggestions(self, name: str) -> list[str]:
        """Catalog GPU names close to `name`, best first (for did-you-mean)."""
        return GpuNames(self.gpus.values()).suggest(name)

    def find_model(self, name_or_id: str) -> Model | None:
        """By HF id, short name or alias, case-insensitively."""
        if name_or_id in self.models:
            return self.models[name_or_id]
        key = normalize(name_or_id)
        for model in self.models.values():
            if key in {normalize(model.id), normalize(model.name), *(normalize(a) for a in model.aliases)}:
                return model
        return None

    def model_suggestions(self, name: str) -> list[str]:
        names = {n: m.id for m in self.models.values() for n in (m.id, m.name, *m.aliases)}
        return list(dict.fromkeys(names[hit] for hit in closest(name, names)))


def unknown_gpu(catalog: Catalog, name: str, **kwargs: Any) -> Diagnostic:
    """The E301 diagnostic for a GPU name the catalog does not know, with suggestions."""
    hits = catalog.gpu_suggestions(name)
    hint = ("did you mean " + " or ".join(f"'{h}'" for h in hits) + "?") if hits else \
        "run `llmc gpus` for the known names, or add the GPU with --catalog DIR"
    return error(E301, f"unknown GPU '{name}'", help=hint, **kwargs)


# ---------------------------------------------------------------- loading

@dataclass
class _Raw:
    """Records by section and key, each with the file it came from."""

    records: dict[str, dict[str, tuple[dict, str]]] = field(default_factory=dict)
    overlays: dict[str, dict[str, tuple[Any, str]]] = field(default_factory=dict)

    def copy(self) -> _Raw:
        return _Raw({s: dict(r) for s, r in self.records.items()}, {s: dict(r) for s, r in self.overlays.items()})


def load_catalog(extra_dirs: Sequence[Path] = ()) -> tuple[Catalog, list[Diagnostic]]:
    """The built-in catalog with user catalogs (`extra_dirs`, then LLMC_CATALOG) merged over it."""
    dirs = [Path(d) for d in extra_dirs] + _env_dirs()
    if not dirs:
        catalog, diagnostics = _builtin()
        return catalog, list(diagnostics)
    raw, diagnostics = _builtin_raw()
    raw = raw.copy()
    diagnostics = list(diagnostics)
    for directory in dirs:
        diagnostics += _merge_dir(raw, directory)
    catalog, more = _build(raw)
    return catalog, diagnostics + more


def _env_dirs() -> list[Path]:
    value = os.environ.get("LLMC_CATALOG", "")
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


@functools.cache
def _builtin() -> tuple[Catalog, tuple[Diagnostic, ...]]:
    raw, diagnostics = _builtin_raw()
    catalog, more = _build(raw)
    return catalog, (*diagnostics, *more)


@functools.cache
def _builtin_raw() -> tuple[_Raw, tuple[Diagnostic, ...]]:
    raw = _Raw()
    diagnostics: list[Diagnostic] = []
    for name in BUILTIN_FILES:
        path = DATA_DIR / f"{name}.yaml"
        if path.exists():
            diagnostics += _merge_file(raw, path, override=False)
    return raw, tuple(diagnostics)


def _merge_dir(raw: _Raw, directory: Path) -> list[Diagnostic]:
    if not directory.is_dir():
        return [error(E303, f"catalog directory '{directory}' does not exist", detail="given with --catalog or LLMC_CATALOG",
                      help="pass a directory that holds *.yaml catalog files", file=str(directory))]
    diagnostics: list[Diagnostic] = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        diagnostics += _merge_file(raw, path, override=True)
    return diagnostics


def _merge_file(raw: _Raw, path: Path, *, override: bool) -> list[Diagnostic]:
    try:
        document = yamlcache.load(path, cache=not override)  # user files are small and change often
    except (OSError, ValueError) as exc:
        return [error(E303, f"cannot read catalog file '{path}'", detail=str(exc), file=str(path))]
    if document is None:
        return []
    if not isinstance(document, dict):
        return [error(E303, f"catalog file '{path}' must be a mapping of sections",
                      detail=f"known sections: {', '.join([*SECTIONS, *OVERLAYS])}", file=str(path))]
    diagnostics: list[Diagnostic] = []
    for section, body in document.items():
        if section in SECTIONS:
            diagnostics += _merge_records(raw, section, body, path, override)
        elif section in OVERLAYS:
            diagnostics += _merge_overlay(raw, section, body, path, override)
        else:
            diagnostics.append(error(E302, f"unknown catalog section '{section}' in '{path}'",
                                     help=f"known sections: {', '.join([*SECTIONS, *OVERLAYS])}",
                                     file=str(path), record=str(section)))
    return diagnostics


def _merge_records(raw: _Raw, section: str, body: Any, path: Path, override: bool) -> list[Diagnostic]:
    _, key_field = SECTIONS[section]
    if not isinstance(body, list):
        return [error(E302, f"section '{section}' in '{path}' must be a list of records", file=str(path), record=section)]
    table = raw.records.setdefault(section, {})
    diagnostics = []
    for index, record in enumerate(body):
        if not isinstance(record, dict) or not isinstance(record.get(key_field), str):
            diagnostics.append(error(E302, f"{section}[{index}] in '{path}' has no '{key_field}'",
                                     help=f"every {section} record needs a '{key_field}' and a 'source'",
                                     file=str(path), record=f"{section}[{index}]"))
            continue
        key = record[key_field]
        if override and key in table:
            base, _ = table[key]
            record = {**base, **record}
        table[key] = (record, str(path))
    return diagnostics


def _merge_overlay(raw: _Raw, section: str, body: Any, path: Path, override: bool) -> list[Diagnostic]:
    if not isinstance(body, dict):
        return [error(E302, f"section '{section}' in '{path}' must map model ids to data", file=str(path), record=section)]
    table = raw.overlays.setdefault(section, {})
    for model_id, value in body.items():
        model_id = str(model_id)
        if override and section == "variants" and model_id in table:
            value = _more_variants(table[model_id][0], value)
        table[model_id] = (value, str(path))
    return []


def _more_variants(base: Any, extra: Any) -> Any:
    """A user catalog's variants join the built-in ones; one for the same file (repo, file, format) replaces it."""
    if not isinstance(base, list) or not isinstance(extra, list):
        return extra
    def key(v):
        return (v.get("repo"), v.get("file"), v.get("format")) if isinstance(v, dict) else id(v)
    added = {key(v) for v in extra}
    return [v for v in base if key(v) not in added] + extra


def _build(raw: _Raw) -> tuple[Catalog, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    tables: dict[str, dict[str, Any]] = {}
    overlay_errors = _apply_overlays(raw, diagnostics)
    for section, (schema, _) in SECTIONS.items():
        tables[section] = {}
        for key, (record, path) in raw.records.get(section, {}).items():
            if section == "models" and key in overlay_errors:
                continue
            try:
                tables[section][key] = schema.model_validate(record)
            except ValidationError as exc:
                diagnostics.append(_invalid(section, key, path, exc))
    cpu_hosts = tables["cpu_hosts"]
    cpu_host = next(iter(cpu_hosts.values()), None) or _fallback_cpu_host()
    catalog = Catalog(models=tables["models"], gpus=tables["gpus"], formats=tables["formats"],
                      kv_types=tables["kv_types"], runtimes=tables["runtimes"], cpu_host=cpu_host,
                      cpu_hosts=cpu_hosts, ggml_types=tables["ggml_types"])
    return catalog, diagnostics


def _apply_overlays(raw: _Raw, diagnostics: list[Diagnostic]) -> set[str]:
    """Merge variants.yaml / serving.yaml into the model records; returns models whose overlay is broken."""
    models = raw.records.setdefault("models", {})
    broken: set[str] = set()
    for section, table in raw.overlays.items():
        for model_id, (value, path) in table.items():
            if model_id not in models:
                hits = closest(model_id, models)
                diagnostics.append(error(E304, f"{section} for unknown model '{model_id}' in '{path}'",
                                         help=("did you mean " + " or ".join(f"'{h}'" for h in hits) + "?") if hits
                                         else "add the model under `models:` first",
                                         file=path, record=model_id))
                continue
            try:
                fields = _overlay_fields(section, value)
            except ValueError as exc:
                broken.add(model_id)
                diagnostics.append(error(E302, f"{section} entry for '{model_id}' in '{path}' is malformed",
                                         detail=str(exc), file=path, record=model_id))
                continue
            problems = _overlay_problems(fields)
            if problems:
                broken.add(model_id)
                diagnostics.append(error(E302, f"{section} entry for '{model_id}' in '{path}' is invalid",
                                         detail=problems, file=path, record=model_id))
                continue
            record, origin = models[model_id]
            models[model_id] = ({**record, **fields}, origin)
    return broken


def _overlay_problems(fields: dict[str, Any]) -> str | None:
    """Each overlay field validated alone, so that an error names the overlay's file, not the model's."""
    for name, value in fields.items():
        try:
            _model_field(name).validate_python(value)
        except ValidationError as exc:
            return _problems(exc, name)
    return None


@functools.cache
def _model_field(name: str) -> TypeAdapter:
    return TypeAdapter(Model.model_fields[name].annotation)


def _overlay_fields(section: str, value: Any) -> dict[str, Any]:
    if section == "variants":
        if not isinstance(value, list):
            raise ValueError("expected a list of variants")
        return {"variants": value}
    if not isinstance(value, dict):
        raise ValueError("expected a mapping with chat_template, parsers, thinking, quality")
    return {key: value[key] for key in SERVING_FIELDS if key in value}


def _invalid(section: str, key: str, path: str, exc: ValidationError) -> Diagnostic:
    return error(E302, f"invalid {section[:-1] if section.endswith('s') else section} record '{key}' in '{path}'",
                 detail=_problems(exc), help="fix the fields named above; every record needs a non-empty `source`",
                 file=path, record=key)


def _problems(exc: ValidationError, *field: str) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in (*field, *e['loc'])) or '(record)'}: {e['msg']}"
                     for e in exc.errors()[:6])


def _fallback_cpu_host() -> Gpu:
    return Gpu(name="CPU host", kind="cpu", vendor="generic", memory_bytes=64 * 2**30, bandwidth_gbps=89.6,
               arch="x86-64", p2p=False, source=("built-in fallback: dual-channel DDR5-5600 = 89.6 GB/s",))


def model_tasks(model: Model) -> tuple[str, ...]:
    """The workload tasks a model is a candidate for (spec `workload.task`)."""
    tasks = ["chat"]
    scores = model.quality.scores if model.quality else {}
    if "code" in scores or "coder" in model.id.lower():
        tasks.append("code")
    if "reasoning" in scores or any(p.reasoning for p in model.parsers.values()):
        tasks.append("reasoning")
    if "agent" in scores or any(p.tool_call for p in model.parsers.values()):
        tasks.append("agent")
    if model.max_context >= 128_000:
        tasks.append("long-context")
    if model.has_vision:
        tasks.append("multimodal")
    return tuple(tasks)


def license_allows(model: Model, allowed: Iterable[str]) -> bool:
    """Spec `license = [...]`: ids, or the classes `any`, `permissive`, `commercial`. A license not verified for
    this model satisfies only `any`."""
    allowed = {a.lower() for a in allowed}
    lic = model.license
    if "any" in allowed:
        return True
    return lic.verified and (lic.id in allowed or ("permissive" in allowed and lic.permissive)
                             or ("commercial" in allowed and lic.commercial))


def license_words(model: Model) -> str:
    """The license as a rejection names it."""
    return model.license.id if model.license.verified else f"{model.license.id} (not verified for this model)"


def format_ids() -> tuple[str, ...]:
    """The weight formats a spec may name (`quantization = ...`): the built-in catalog's."""
    return _builtin_ids("formats")


def kv_type_ids() -> tuple[str, ...]:
    """The KV-cache types a spec may name (`kv_cache = ...`): the built-in catalog's."""
    return _builtin_ids("kv_types")


@functools.cache
def _builtin_ids(section: str) -> tuple[str, ...]:
    raw, _ = _builtin_raw()
    return tuple(sorted(raw.records.get(section, {})))


__all__ = ["Catalog", "load_catalog", "unknown_gpu", "model_tasks", "license_allows", "license_words", "format_ids",
           "kv_type_ids", "E301", "E302", "E303", "E304"]
