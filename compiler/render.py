"""Diagnostics → text: `full`, `concise`, `json`, `sarif`, `github`.

The renderers only read Diagnostics and the SourceFiles they point into; they never
decide anything. Colour (ANSI) only when the caller asks (a TTY).
"""

from __future__ import annotations

import importlib.resources
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from . import __version__
from .diagnostics import CODES, Diagnostic, Severity
from .source import SourceFile, Span
from .text import one_line, printable

FORMATS = ("full", "concise", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TAB = "    "

_COLOURS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m", "bold": "\x1b[1m",
            "gutter": "\x1b[1;34m", "reset": "\x1b[0m"}

Sources = Mapping[str, SourceFile]
_CHOICE = re.compile(r"^(  [+~-] )([^=:]+?)( = |: )")


@dataclass(frozen=True)
class Paint:
    on: bool

    def __call__(self, style: str, text: str) -> str:
        return f"{_COLOURS[style]}{text}{_COLOURS['reset']}" if self.on and text else text


def paint_report(text: str, colour: bool, table: bool = False) -> str:
    """`llmc explain` / `estimate` text (or a catalog `table`) for a terminal: headings (lines that start in
    the first column; a table's header row) in bold, the names of choices, alternatives and ruled-out
    families highlighted. The words are unchanged; without colour the text is returned as it is."""
    if not colour:
        return text
    paint = Paint(True)
    out = []
    for i, line in enumerate(text.split("\n")):
        if line and (i == 0 if table else not line[0].isspace()):
            line = paint("bold", line)
        else:
            line = _CHOICE.sub(lambda m: m.group(1) + paint("note", m.group(2)) + m.group(3), line, count=1)
        out.append(line)
    return "\n".join(out)


def render(diagnostics: Sequence[Diagnostic], sources: Sources, fmt: str = "full", colour: bool = False) -> str:
    """All diagnostics in one format; the empty string when there are none (except json/sarif)."""
    renderer: Callable[..., str] = {"full": render_full, "concise": render_concise, "json": render_json,
                                    "sarif": render_sarif, "github": render_github}[fmt]
    return renderer(diagnostics, sources, colour=colour) if fmt in ("full", "concise") else renderer(diagnostics)


# ---------------------------------------------------------------------------
# full: like rustc and ruff
# ---------------------------------------------------------------------------

def render_full(diagnostics: Sequence[Diagnostic], sources: Sources, colour: bool = False) -> str:
    return "".join(full_one(d, sources, colour) + "\n" for d in diagnostics)


def _clean(d: Diagnostic) -> Diagnostic:
    """The diagnostic with every text that may quote the input made safe for a terminal."""
    labels = tuple(lb.model_copy(update={"message": one_line(lb.message)}) for lb in d.labels)
    extra = {**d.extra, "label": one_line(str(d.extra["label"]))} if "label" in d.extra else d.extra
    return d.model_copy(update={"summary": one_line(d.summary), "detail": printable(d.detail, keep="\n"),
                                "help": one_line(d.help) if d.help else d.help, "labels": labels, "extra": extra})


def full_one(d: Diagnostic, sources: Sources, colour: bool = False) -> str:
    paint = Paint(colour)
    d = _clean(d)
    sev = d.severity.value
    lines = [paint(sev, f"{sev}[{d.code}]") + paint("bold", f": {d.summary}")]
    spans = [s for s in [d.span, *(label.span for label in d.labels)] if s is not None]
    width = max((len(str(s.line)) for s in spans), default=1)
    pad = " " * width
    if d.span is not None:
        lines.append(f"{pad}{paint('gutter', '-->')} {one_line(str(d.span))}")
        lines += _snippet(d, sources, width, paint)
    elif d.extra.get("file"):
        lines.append(f"{pad}{paint('gutter', '-->')} {one_line(str(d.extra['file']))}")
    notes = [("note", d.detail), ("help", d.help or "")]
    if any(text for _, text in notes):
        lines.append(f"{pad} {paint('gutter', '|')}")
        for kind, text in notes:
            first = f"{pad} {paint('gutter', '=')} {paint('bold', kind + ':')} "
            rest = f"{pad}   {' ' * (len(kind) + 2)}"
            for i, part in enumerate(t for t in text.splitlines() if t):
                lines.append((first if i == 0 else rest) + part)
    return "\n".join(lines)


@dataclass(frozen=True)
class _Mark:
    span: Span
    message: str
    primary: bool


def _snippet(d: Diagnostic, sources: Sources, width: int, paint: Paint) -> list[str]:
    marks = [_Mark(d.span, str(d.extra.get("label", "")), True)]
    marks += [_Mark(label.span, label.message, False) for label in d.labels]
    out: list[str] = []
    for file in dict.fromkeys(m.span.file for m in marks):
        in_file = [m for m in marks if m.span.file == file]
        if file != d.span.file:
            out.append(f"{' ' * width}{paint('gutter', ':::')} {one_line(str(in_file[0].span))}")
        if file in sources:  # a span into a file we do not have (say, a catalog) shows only its location
            out += _file_snippet(in_file, sources[file], width, paint)
    return out


def _file_snippet(marks: list[_Mark], source: SourceFile, width: int, paint: Paint) -> list[str]:
    bar = paint("gutter", "|")
    out = [f"{' ' * width} {bar}"]
    previous = None
    for line in sorted({m.span.line for m in marks}):
        if previous is not None and line > previous + 1:
            out.append(paint("gutter", "..."))
        text = source.line(line)
        shown = "".join(_cell(c) for c in text)
        out.append(f"{paint('gutter', str(line).rjust(width))} {bar}" + (f" {shown}" if shown else ""))
        for mark in sorted((m for m in marks if m.span.line == line), key=lambda m: (not m.primary, m.span.col)):
            out.append(f"{' ' * width} {bar} " + _underline(mark, text, paint).rstrip())
        previous = line
    return out


def _underline(mark: _Mark, text: str, paint: Paint) -> str:
    start = _display_col(text, mark.span.col)
    end_col = mark.span.end_col if mark.span.end_line == mark.span.line else len(text) + 1
    end = max(_display_col(text, end_col), start + 1)
    char, style = ("^", "error") if mark.primary else ("-", "gutter")
    return " " * start + paint(style, char * (end - start) + (f" {mark.message}" if mark.message else ""))


def _cell(char: str) -> str:
    """How one source character is shown: a tab as four spaces, a control character as its escape."""
    return TAB if char == "\t" else one_line(char)


def _display_col(text: str, col: int) -> int:
    """0-based display offset of a 1-based column: each character as `_cell` shows it, wide ones as two cells."""
    before = "".join(_cell(c) for c in text[: max(col - 1, 0)])
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in before) + max(col - 1 - len(text), 0)


# ---------------------------------------------------------------------------
# concise, json, sarif, github
# ---------------------------------------------------------------------------

def _where(d: Diagnostic) -> str:
    return str(d.span) if d.span is not None else str(d.extra.get("file", "llmc"))


def render_concise(diagnostics: Sequence[Diagnostic], sources: Sources | None = None, colour: bool = False) -> str:
    paint = Paint(colour)
    return "".join(f"{one_line(_where(d))}: {paint(d.severity.value, d.code)} {one_line(d.summary)}\n"
                   for d in diagnostics)


def _span_dict(span: Span | None) -> dict | None:
    return None if span is None else span.model_dump()


def as_dict(d: Diagnostic) -> dict:
    return {"code": d.code, "severity": d.severity.value, "summary": d.summary, "detail": d.detail, "help": d.help,
            "span": _span_dict(d.span),
            "labels": [{"span": _span_dict(lb.span), "message": lb.message} for lb in d.labels],
            "extra": {k: v for k, v in sorted(d.extra.items())}}


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2, sort_keys=True, default=str) + "\n"


def _sarif_location(span: Span) -> dict:
    return {"physicalLocation": {"artifactLocation": {"uri": span.file},
                                 "region": {"startLine": span.line, "startColumn": span.col,
                                            "endLine": span.end_line, "endColumn": span.end_col}}}


def _sarif_result(d: Diagnostic) -> dict:
    text = d.summary + (f"\n{d.detail}" if d.detail else "") + (f"\nhelp: {d.help}" if d.help else "")
    result: dict = {"ruleId": d.code, "level": {"error": "error", "warning": "warning"}.get(d.severity.value, "note"),
                    "message": {"text": text}}
    if d.span is not None:
        result["locations"] = [_sarif_location(d.span)]
    if d.labels:
        result["relatedLocations"] = [{**_sarif_location(lb.span), "message": {"text": lb.message}} for lb in d.labels]
    return result


def render_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    codes = sorted({d.code for d in diagnostics})
    rules = [{"id": c, "shortDescription": {"text": CODES[c].title if c in CODES else c}} for c in codes]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "llmc", "version": __version__, "rules": rules}},
                     "results": [_sarif_result(d) for d in diagnostics]}]}
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def _gh_escape(text: str, property: bool = False) -> str:
    text = printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"), keep="")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    out = []
    for d in diagnostics:
        command = {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(d.severity, "notice")
        props = []
        if d.span is not None:
            props = [f"file={_gh_escape(d.span.file, True)}", f"line={d.span.line}", f"col={d.span.col}",
                     f"endLine={d.span.end_line}", f"endColumn={d.span.end_col}"]
        elif d.extra.get("file"):
            props = [f"file={_gh_escape(str(d.extra['file']), True)}"]
        props.append(f"title={_gh_escape(d.code, True)}")
        # what full and sarif say: the detail (drift's changed choices, a lint finding's numbers) and the fix
        message = "%0A".join(_gh_escape(part) for part in (f"{d.code} {d.summary}", d.detail, d.help and f"help: {d.help}")
                             if part)
        out.append(f"::{command} {','.join(props)}::{message}\n")
    return "".join(out)


# ---------------------------------------------------------------------------
# docs pages
# ---------------------------------------------------------------------------

def docs_page(code: str) -> str | None:
    """The text of docs/diagnostics/<CODE>.md shipped in the package, or None if there is none."""
    if not code or not code.isalnum():
        return None
    page = _docs_root() / "diagnostics" / f"{code.upper()}.md"
    return page.read_text(encoding="utf-8") if page.is_file() else None


def _docs_root() -> Traversable:
    """The docs/ folder, installed as the package `llmc.docs`."""
    return importlib.resources.files("llmc.docs")


def documented_codes() -> list[str]:
    """Every code that has a docs page, sorted."""
    folder = _docs_root() / "diagnostics"
    if not folder.is_dir():
        return []
    return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".md"))
