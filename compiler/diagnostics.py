"""Diagnostics as data: every problem llmc reports is a `Diagnostic` value.

Stages return `(result, diagnostics)`; renderers (render.py) turn them into text.
Every code is registered once with `define_code`, and each has a page in
docs/diagnostics/<CODE>.md (a test keeps the two in sync).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Label(BaseModel):
    """A secondary span with a short message ("first defined here")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    span: Span
    message: str


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    severity: Severity = Severity.ERROR
    summary: str
    detail: str = ""
    span: Span | None = None
    labels: tuple[Label, ...] = ()
    help: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class CodeInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    title: str
    module: str


CODES: dict[str, CodeInfo] = {}


def define_code(code: str, title: str, module: str = "") -> str:
    """Register a diagnostic code (E### error, W### warning) and return it."""
    if code in CODES and CODES[code].title != title:
        raise ValueError(f"diagnostic code {code} defined twice")
    CODES[code] = CodeInfo(code=code, title=title, module=module)
    return code


def error(code: str, summary: str, *, span: Span | None = None, detail: str = "", help: str | None = None,
          labels: tuple[Label, ...] = (), **extra: Any) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, summary=summary, detail=detail, span=span,
                      help=help, labels=labels, extra=extra)


def warning(code: str, summary: str, *, span: Span | None = None, detail: str = "", help: str | None = None,
            labels: tuple[Label, ...] = (), **extra: Any) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.WARNING, summary=summary, detail=detail, span=span,
                      help=help, labels=labels, extra=extra)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


class DiagnosticsError(Exception):
    """Raised by code that cannot return diagnostics (deep helpers); the driver catches it."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.summary for d in diagnostics))
        self.diagnostics = diagnostics
