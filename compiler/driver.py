"""Wiring: run the stages in order and stop after the first one that reports errors.

Initial version (front end only): read → parse → lower → checks. Exit-code semantics
live here so every command agrees: 2 when the input is unreadable or malformed (any
error from read, parse, lower or the catalog-free checks: E0xx, E1xx, E2xx), 1 for a
valid spec that fails later (infeasible, drift), 0 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .checks import check
from .diagnostics import Diagnostic, define_code, error, has_errors
from .lower import lower
from .parse import parse
from .source import SourceFile
from .spec import Spec

E_UNREADABLE = define_code("E001", "Cannot read the input file", __name__)
E_NOT_TEXT = define_code("E002", "Input file is not UTF-8 text", __name__)
E_NO_SOLVER = define_code("E400", "No solver yet", __name__)

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


@dataclass
class Loaded:
    """One input after the front end."""

    path: str
    source: SourceFile | None
    spec: Spec | None
    diagnostics: list[Diagnostic]
    malformed: bool  # unreadable, or any front-end error


@dataclass
class FrontEnd:
    files: list[Loaded] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    @property
    def sources(self) -> dict[str, SourceFile]:
        return {f.source.path: f.source for f in self.files if f.source is not None}

    @property
    def exit_code(self) -> int:
        if any(f.malformed for f in self.files):
            return EXIT_INPUT
        return EXIT_FAILED if has_errors(self.diagnostics) else EXIT_OK


def read(path: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return None, [error(E_UNREADABLE, f"cannot read `{path}`: {reason.lower()}", file=path,
                            help="check the path and its permissions")]
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
    if spec is None:
        return None, diagnostics, True
    return spec, diagnostics + check(spec), False


def load(path: str) -> tuple[SourceFile | None, Spec | None, list[Diagnostic]]:
    source, diagnostics = read(path)
    if source is None:
        return None, None, diagnostics
    spec, more, _ = load_source(source)
    return source, spec, diagnostics + more


def load_one(path: str) -> Loaded:
    source, diagnostics = read(path)
    if source is None:
        return Loaded(path, None, None, diagnostics, True)
    spec, more, malformed = load_source(source)
    return Loaded(path, source, spec, diagnostics + more, malformed or has_errors(more))


def front_end(paths: list[str]) -> FrontEnd:
    return FrontEnd([load_one(p) for p in paths])


def no_solver(spec: Spec) -> Diagnostic:
    """Until the solver is wired in, `build` ends here."""
    first = spec.deployments[0] if spec.deployments else None
    return error(E_NO_SOLVER, "no solver yet: this build of llmc checks specs but cannot plan them",
                 span=first.name_span if first else None, file=spec.file,
                 detail="The front end accepted the spec; choosing a model, quantization and runtime is not "
                        "available in this version.", help="run `llmc check` to validate specs meanwhile")
