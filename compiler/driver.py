"""Wiring: run the stages in order and stop after the first one that reports errors.

read → parse → lower → checks (the front end), then per deployment: resolve against the
catalog → solve → emit every target → write atomically. Exit-code semantics live here so
every command agrees: 2 when the input is unreadable or malformed (E0xx–E3xx: syntax,
spec semantics, catalog records, local files, unknown GPU; E401 unknown model), 1 for a
valid spec that fails later (infeasible, drift, a locked plan that would change, a
target that cannot express the plan under --strict), 0 otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .artifacts import Artifact, ensure_replaceable, write_atomically
from .catalog import Catalog, load_catalog
from .checks import check as check_spec
from .diagnostics import Diagnostic, DiagnosticsError, Label, define_code, error, has_errors
from .estimate.calibration import Calibration
from .drift import drift, lock_violations, orphaned_builds
from .files import read_bounded
from .lower import lower
from .parse import parse
from .plan import Plan
from .smoke.store import default_paths, read_store
from .solve import solve
from .source import SourceFile
from .spec import Deployment, Spec
from .targets import emit_all, plan_artifacts

E_UNREADABLE = define_code("E001", "Cannot read the input file", __name__)
E_NOT_TEXT = define_code("E002", "Input file is not UTF-8 text", __name__)
E_TOO_MANY = define_code("E231", "Too many deployments in one file", __name__)
# Each deployment is solved on its own (up to seconds): a bound on the work one file can ask for.
MAX_DEPLOYMENTS = 100

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


@dataclass
class Loaded:
    """One input after the front end."""

    path: str
    source: SourceFile | None
    spec: Spec | None
    diagnostics: list[Diagnostic]
    malformed: bool  # unreadable, or any front-end error

    @property
    def sources(self) -> dict[str, SourceFile]:
        return {self.source.path: self.source} if self.source else {}


# A spec is a few kilobytes; far beyond that a path names something else (a model file, /dev/zero).
MAX_SPEC_BYTES = 8 << 20


def read(path: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    try:
        data = read_bounded(path, MAX_SPEC_BYTES)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return None, [error(E_UNREADABLE, f"cannot read `{path}`: {reason.lower()}", file=path,
                            help="check the path and its permissions")]
    except ValueError as exc:
        return None, [error(E_UNREADABLE, f"`{path}` is not a spec file: {exc}", file=path,
                            help="give the path of a .llmspec file")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [error(E_NOT_TEXT, f"`{path}` is not UTF-8 text (byte {exc.start})", file=path,
                            help="save the file as UTF-8")]
    return SourceFile(path=path, text=text), []


def load_source(source: SourceFile) -> tuple[Spec | None, list[Diagnostic], bool]:
    """parse → lower → checks on text already read; returns (spec, diagnostics, malformed)."""
    tree, diagnostics = parse(source)
    if tree is None or has_errors(diagnostics):
        return None, diagnostics, True
    spec, lowered = lower(source, tree)
    diagnostics += lowered
    if has_errors(lowered):   # the checks still run on the deployments that lowered cleanly
        return None, diagnostics + check_spec(spec), True
    if len(spec.deployments) > MAX_DEPLOYMENTS:
        extra = spec.deployments[MAX_DEPLOYMENTS]
        return None, diagnostics + [error(
            E_TOO_MANY, f"{len(spec.deployments)} deployments in one file; llmc plans at most {MAX_DEPLOYMENTS}",
            span=extra.name_span, label=f"deployment {MAX_DEPLOYMENTS + 1}",
            help="split the file, one per team or environment; `llmc check` takes several files")], True
    return spec, diagnostics + check_spec(spec), False


def load_one(path: str) -> Loaded:
    source, diagnostics = read(path)
    if source is None:
        return Loaded(path, None, None, diagnostics, True)
    spec, more, malformed = load_source(source)
    return Loaded(path, source, spec, diagnostics + more, malformed or has_errors(more))


INPUT_ERROR_CODES = ("E0", "E1", "E2", "E3", "E401")


def exit_code(diagnostics: list[Diagnostic]) -> int:
    errors = [d for d in diagnostics if d.is_error]
    if any(d.code.startswith(INPUT_ERROR_CODES) for d in errors):
        return EXIT_INPUT
    return EXIT_FAILED if errors else EXIT_OK


@dataclass
class Compiled:
    """One deployment: its plan (None when infeasible) and every artifact of its build directory."""

    deployment: Deployment
    plan: Plan | None
    artifacts: list[Artifact]


@dataclass
class Compilation:
    loaded: Loaded
    deployments: list[Compiled] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    calibration: Calibration | None = None     # the measured runs the plans learnt from

    @property
    def sources(self) -> dict[str, SourceFile]:
        return self.loaded.sources

    @property
    def exit_code(self) -> int:
        return exit_code(self.diagnostics)


def open_catalog(catalog_dirs=()) -> tuple[Catalog, list[Diagnostic]]:
    return load_catalog([Path(d) for d in catalog_dirs])


def open_calibration(spec_path: str, paths: Sequence[str] | None) -> tuple[Calibration, list[Diagnostic]]:
    """The measured runs a build of this spec learns from: the files or directories named (none for an
    empty list), else the project's and the user's stores (llmc.smoke.store)."""
    spec_dir = Path(spec_path).resolve().parent
    chosen = [Path(p) for p in paths] if paths is not None else default_paths(spec_dir)
    try:
        return read_store(chosen, spec_dir).calibration, []
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Calibration(), [error(E_UNREADABLE, f"cannot read the calibration records in {exc.filename or chosen}",
                                     detail=why, help="name a JSON-lines file or a directory of them "
                                                      "(`llmc calibration show` lists what a build reads)")]


def compile_file(path: str, catalog_dirs=(), strict: bool = False, catalog: Catalog | None = None,
                 out_dir: str = "build", calibration: Sequence[str] | None = None) -> Compilation:
    """Front end, then solve and emit each deployment for `out_dir/<deployment>`. Nothing is written.
    `calibration`: the record files or directories to learn from (None: the default stores)."""
    loaded = load_one(path)
    result = Compilation(loaded=loaded, diagnostics=list(loaded.diagnostics))
    if loaded.malformed or loaded.spec is None:
        return result
    if catalog is None:
        catalog, catalog_diags = open_catalog(catalog_dirs)
        result.diagnostics += catalog_diags
        if has_errors(catalog_diags):
            return result
    runs, calibration_diags = open_calibration(path, calibration)
    result.diagnostics += calibration_diags
    if has_errors(calibration_diags):
        return result
    result.calibration = runs
    base = Path(path).resolve().parent
    for deployment in loaded.spec.deployments:
        plan, diags = solve(deployment, catalog, base, runs)
        result.diagnostics += diags
        artifacts: list[Artifact] = []
        if plan is not None:
            plan = _with_spec_dir(plan, base, Path(out_dir) / deployment.name)
            emitted, target_diags = emit_all(plan, strict=strict)
            result.diagnostics += [_at(d, deployment.name_span) for d in target_diags]
            artifacts = plan_artifacts(plan) + emitted
        result.deployments.append(Compiled(deployment, plan, artifacts))
    return result


def _with_spec_dir(plan: Plan, spec_dir: Path, build_dir: Path) -> Plan:
    """A plan that loads a local model by a relative path records where the spec is, seen from its build."""
    if plan.model.source != "local" or os.path.isabs(plan.model.path or "/"):
        return plan
    return plan.model_copy(update={"spec_dir": Path(os.path.relpath(spec_dir, build_dir.resolve())).as_posix()})


def _at(diagnostic: Diagnostic, span) -> Diagnostic:
    return diagnostic if diagnostic.span else diagnostic.model_copy(update={"span": span})


def build(path: str, out_dir: str, catalog_dirs=(), strict: bool = False, locked: bool = False,
          calibration: Sequence[str] | None = None) -> Compilation:
    """Compile, then write every deployment's directory atomically; write nothing if anything failed."""
    return build_all([path], out_dir, catalog_dirs, strict, locked, calibration)[0]


def build_all(paths: list[str], out_dir: str, catalog_dirs=(), strict: bool = False,
              locked: bool = False, calibration: Sequence[str] | None = None) -> list[Compilation]:
    """`llmc build` of several specs into one directory: every file compiles (and its directories are
    writable) or nothing is written; a deployment name used in two files is E208, as within one."""
    from .lower import E_DUPLICATE_DEPLOYMENT

    results = [compile_file(path, catalog_dirs, strict, out_dir=out_dir, calibration=calibration) for path in paths]
    seen: dict[str, Compiled] = {}
    for result in results:
        for item in result.deployments:
            first = seen.setdefault(item.deployment.name, item)
            if first is not item:
                result.diagnostics.append(error(
                    E_DUPLICATE_DEPLOYMENT, f"deployment `{item.deployment.name}` is defined in two of the files built",
                    span=item.deployment.name_span, labels=(Label(span=first.deployment.name_span,
                                                                  message="first defined here"),),
                    detail="Each deployment becomes its own directory of the output: two with one name would write "
                           "over each other.", help="rename one of them"))
    if any(has_errors(r.diagnostics) for r in results):
        return results
    out = Path(out_dir)
    if locked:
        for result in results:
            for item in result.deployments:
                result.diagnostics += lock_violations(out / item.deployment.name, item.plan, item.deployment.name_span)
        if any(has_errors(r.diagnostics) for r in results):
            return results
    # Every directory is checked before any is written: a refused one leaves the others untouched too.
    if all(_each_directory(r, out, lambda directory, _: ensure_replaceable(directory)) for r in results):
        for result in results:
            _each_directory(result, out, lambda directory, item: write_atomically(directory, item.artifacts))
    return results


def spec_files(paths: list[str]) -> list[str]:
    """The files to build: each path as given, a directory as the .llmspec files under it (sorted)."""
    out: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            out += sorted(str(p) for p in Path(path).rglob("*.llmspec"))
        else:
            out.append(path)
    return out


def _each_directory(result: Compilation, out: Path, action) -> bool:
    """Run `action(directory, item)` for every deployment; its diagnostics go to `result`. True if all succeeded."""
    for item in result.deployments:
        try:
            action(out / item.deployment.name, item)
        except DiagnosticsError as exc:
            result.diagnostics += [_at(d, item.deployment.name_span) for d in exc.diagnostics]
    return not has_errors(result.diagnostics)


def check(paths: list[str], against: str | None = None, catalog_dirs=(), strict: bool = False,
          calibration: Sequence[str] | None = None) -> list[Compilation]:
    """The pre-deploy gate: parse, validate and solve every file; with `against`, compare committed builds."""
    catalog, catalog_diags = open_catalog(catalog_dirs)
    results = []
    for path in paths:
        if has_errors(catalog_diags):
            result = Compilation(loaded=load_one(path))
            result.diagnostics += catalog_diags
        else:
            result = compile_file(path, strict=strict, catalog=catalog, out_dir=against or "build",
                                  calibration=calibration)
        if against is not None and not has_errors(result.diagnostics):
            for item in result.deployments:
                result.diagnostics += drift(Path(against) / item.deployment.name, item.plan, item.artifacts,
                                            item.deployment.name_span, item.deployment)
        results.append(result)
    if against is not None and results and all(r.loaded.spec is not None for r in results):
        names = {item.deployment.name for r in results for item in r.deployments}
        results[-1].diagnostics += orphaned_builds(Path(against), names)
    return results


@dataclass
class Linted:
    """`llmc lint`: every finding, the files they point into, and what was understood."""

    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]
    configs: list
    unusable: bool

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return EXIT_INPUT
        return EXIT_FAILED if has_errors(self.diagnostics) else EXIT_OK


def lint(paths: list[str], hardware: str | None = None, catalog_dirs=()) -> Linted:
    """Read every file (an unreadable one is E001/E002, exit 2), then lint them together: rules that look
    across files (servers sharing a GPU) see them all."""
    from .importers.hardware import parse_hardware
    from .lint import lint_sources

    catalog, diagnostics = open_catalog(catalog_dirs)
    machine, problems = parse_hardware(hardware, catalog) if hardware else (None, [])
    if problems:
        return Linted(diagnostics + problems, {}, [], True)
    sources, unreadable = [], False
    for path in paths:
        source, problems = read(path)
        diagnostics += problems
        unreadable |= source is None
        if source is not None:
            sources.append(source)
    run = lint_sources(sources, catalog, machine)
    return Linted(diagnostics + run.diagnostics, {s.path: s for s in sources}, run.configs,
                  unreadable or run.unusable or has_errors(diagnostics))


@dataclass
class Imported:
    text: str | None                  # the spec; None when the file cannot be read or understood
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]


def import_config(paths: list[str], hardware: str | None = None, catalog_dirs=()) -> Imported:
    """Configs → a spec with a deployment per server they start (an env file or Modelfile joins its server),
    checked by the spec's own front end so that what could not be inferred (the GPUs) is reported."""
    from .importers import merge_servers, read_config
    from .importers.hardware import parse_hardware
    from .importers.to_spec import import_specs
    from .lint import not_understood

    catalog, diagnostics = open_catalog(catalog_dirs)
    machine, unusable = parse_hardware(hardware, catalog) if hardware else (None, [])
    if unusable:
        return Imported(None, diagnostics + unusable, {})
    sources, configs = {}, []
    for path in paths:
        source, problems = read(path)
        if source is None:
            return Imported(None, diagnostics + problems, sources)
        sources[source.path] = source
        config = read_config(source)
        if config.diagnostics:
            return Imported(None, diagnostics + config.diagnostics, sources)
        if not config.servers:
            return Imported(None, diagnostics + [not_understood(config)], sources)
        configs.append(config)
    merge_servers(configs)
    text, notes = import_specs(configs, catalog, machine)
    return Imported(text, diagnostics + notes, sources)
