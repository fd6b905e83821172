"""Spec + Catalog → what the spec names, resolved to catalog records (or diagnostics).

Unknown GPUs, pinned models that the catalog does not know, and a pinned model
whose license the spec does not allow are reported here, at the spec's own spans.
"""

from __future__ import annotations

from dataclasses import dataclass
import dataclasses
import posixpath
from pathlib import Path

from ..catalog.schema import Gpu, Model
from ..estimate.speed import cpu_tflops
from ..catalog import license_allows, license_words, unknown_gpu
from ..catalog.hf_cache import import_cached
from ..diagnostics import Diagnostic, DiagnosticsError, Label, define_code, error
from ..spec import Deployment
from ..suggest import did_you_mean
from .topology import Topology, build_topology

UNKNOWN_MODEL = define_code("E401", "Unknown model")
LICENSE_CONFLICT = define_code("E402", "Pinned model's license is not allowed")
CPU_MEMORY_MISSING = define_code("E403", "CPU-only host without its memory")
MISSING_WEIGHTS = define_code("E404", "Local model folder without weight files")


@dataclass(frozen=True)
class Resolved:
    deployment: Deployment
    topology: Topology
    models: tuple[Model, ...]          # candidates after pinning (all of the catalog for `auto`)
    local: object | None = None        # llmc.catalog.local.LocalModel for local("path")


def license_allowed(deployment: Deployment, model: Model) -> bool:
    rule = deployment.license
    return license_allows(model, [w.value for w in rule.ids] if rule.kind == "list" else [rule.kind])


def resolve(deployment: Deployment, catalog, base_dir: Path) -> tuple[Resolved | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    topology = _resolve_hardware(deployment, catalog, diags)
    models, local = _resolve_models(deployment, catalog, base_dir, diags)
    if diags:
        return None, diags
    return Resolved(deployment=deployment, topology=topology, models=models, local=local), []


def missing_weights(deployment: Deployment, local) -> list[Diagnostic]:
    """A folder with config.json and no weight files: its figures are estimated from the architecture (and
    the spec's quantization), but no runtime could load it, so the plan cannot be built."""
    if local is None or local.kind != "hf" or local.tensors:
        return []
    written = deployment.model.path or deployment.model.ids[0]
    return [error(MISSING_WEIGHTS, f"'{local.model.id}' has a config.json but no weight files",
                  span=written.span, label="no *.safetensors here",
                  detail="The memory and speed figures are estimated from config.json and the spec's quantization; "
                         "a runtime started on this folder would find nothing to load, so nothing is built.",
                  help="download the weights into the folder (`hf download ORG/NAME --local-dir DIR`), or name "
                       "the model by its id (`model = \"ORG/NAME\"`) to plan from the catalog or your Hugging Face "
                       "cache")]


def _resolve_hardware(deployment: Deployment, catalog, diags: list[Diagnostic]) -> Topology | None:
    hw = deployment.hardware
    if hw.gpu is None:
        if hw.memory is None:
            diags.append(error(CPU_MEMORY_MISSING, "a CPU-only host needs `hardware.memory`", span=hw.gpu_span,
                               label="`gpu = none` here", detail="On a host without a GPU the model, its KV cache "
                               "and its buffers all live in RAM, and llmc plans against the amount you give; it does "
                               "not guess one (the host that compiles is rarely the one that serves).",
                               help="add `memory = 32 GiB` (the RAM the server may use) to `hardware`"))
            return None
        return build_topology([], 1, cpu_host=described_host(catalog.cpu_host, hw))
    gpus: list[Gpu] = []
    for group in hw.gpu:
        gpu = catalog.find_gpu(group.name)
        if gpu is None:
            diags.append(unknown_gpu(catalog, group.name, span=group.span,
                                     detail="GPU names are matched against the catalog, ignoring case and "
                                            "punctuation. Run `llmc gpus` for the list, or add the card with "
                                            "`--catalog DIR`."))
            continue
        gpus.extend([gpu] * group.count)
    if diags:
        return None
    return build_topology(gpus, deployment.nodes,
                          link=hw.link.value if hw.link else None,
                          p2p=hw.p2p.value if hw.p2p else None,
                          cpu_host=described_host(catalog.cpu_host, hw) if _describes_host(hw) else None)


def _describes_host(hw) -> bool:
    return bool(hw.cores or hw.memory_bandwidth or hw.isa)


def described_host(default: Gpu, hw) -> Gpu:
    """The host's CPU as the spec states it (`cores`, `memory_bandwidth`, `isa`), over the catalog's default
    host: its bandwidth as written (a sustained read, as `llmc detect` measures it), its dense rate from the
    cores and their vectors (estimate.speed)."""
    if not _describes_host(hw):
        return default
    return stated_host(default, f"{hw.span.file}: hardware", hw.cores.value if hw.cores else None,
                       hw.memory_bandwidth.bytes_per_s if hw.memory_bandwidth else None,
                       tuple(w.value for w in hw.isa))


def stated_host(default: Gpu, said_in: str, cores: int | None, bandwidth_bytes_per_s: float | None,
                isa: tuple[str, ...]) -> Gpu:
    """The default host with what is known of this one: a bandwidth measured as sustained, a dense rate from
    the cores and their vectors."""
    update: dict = {"name": "CPU host (as the spec states it)", "source": (said_in, *default.source)}
    if bandwidth_bytes_per_s:
        update |= {"bandwidth_gbps": bandwidth_bytes_per_s / 1e9, "sustained_bandwidth": True}
    if cores:
        update["bf16_tflops"] = cpu_tflops(cores, isa)
    return default.model_copy(update=update)


def _resolve_models(deployment: Deployment, catalog, base_dir: Path, diags: list[Diagnostic]):
    choice = deployment.model
    if choice.kind == "local":
        from ..catalog.local import import_local

        written = choice.path.value
        try:
            local = import_local(base_dir / written)  # an absolute path stays as it is
        except DiagnosticsError as exc:
            diags.extend(_at(d, choice.path.span) for d in exc.diagnostics)
            return (), None
        local = _as_written(local, written)
        return (local.model,), local
    if choice.kind == "auto":
        return tuple(catalog.models[k] for k in sorted(catalog.models)), None
    models, cached = [], None
    for text in choice.ids:
        model = catalog.find_model(text.value)
        if model is None and len(choice.ids) == 1:
            try:
                cached = import_cached(text.value, deployment.quantization.allowed or ())
            except DiagnosticsError as exc:
                diags.extend(_at(d, text.span) for d in exc.diagnostics)
                return (), None
            model = cached.model if cached else None
        if model is None:
            diags.append(error(
                UNKNOWN_MODEL, f"unknown model '{text.value}'", span=text.span,
                detail="A pinned model must be in the catalog (`llmc models`), downloaded into your Hugging Face "
                       "cache ($HF_HUB_CACHE, else $HF_HOME/hub), or be loaded with local(\"path\") from a GGUF "
                       "file or a Hugging Face folder.",
                help=did_you_mean(text.value, catalog.model_suggestions(text.value))))
            continue
        if not license_allowed(deployment, model):
            labels = (Label(span=deployment.license.span, message="licenses allowed here"),) \
                if deployment.license.span else ()
            diags.append(error(
                LICENSE_CONFLICT, f"{model.name} is under the '{license_words(model)}' license, which this spec does not allow",
                span=text.span, labels=labels,
                detail="The spec pins a model whose license is outside its `license` list."
                       + ("" if model.license.verified else " Its license has not been read for this model and size, "
                          "so it satisfies only `license = any`."),
                help=f"add {model.license.id} to `license`, or pin another model" if model.license.verified
                else "read the model's license yourself and write `license = any`, or pin another model"))
            continue
        models.append(model)
    return tuple(models), cached


def _as_written(local, written: str):
    """The local model named by its path as the spec wrote it (relative to the spec's directory), not as
    resolved on this machine: plans and artifacts then build byte-identically from any checkout."""
    name = written if posixpath.isabs(written) else posixpath.normpath(written)
    model = local.model.model_copy(update={"id": name, "source": (name,)})
    return dataclasses.replace(local, model=model)


def _at(diag: Diagnostic, span) -> Diagnostic:
    return diag if diag.span is not None else diag.model_copy(update={"span": span})
