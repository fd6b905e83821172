"""The canonical form of a `.llmspec` file (`llmc fmt`).

Two-space indent; within a run of fields not broken by a blank line or a block, the `=`
(and `<=`, `>=` ...) line up, and so do trailing comments. Comments are kept: a comment on
a statement's last line stays after it; any other comment goes on its own line before the
next statement. At most one blank line is kept where the source had some; top-level blocks
are separated by exactly one. Formatting a formatted file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Tree

from .diagnostics import Diagnostic, has_errors
from .parse import Comment, comments, parse, split_number
from .source import SourceFile

INDENT = "  "


def format_source(source: SourceFile) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text, or None (with the syntax diagnostics) when the file does not parse."""
    tree, diagnostics = parse(source)
    if tree is None or has_errors(diagnostics):
        return None, diagnostics
    return format_tree(source.text, tree), diagnostics


def format_tree(text: str, tree: Tree) -> str:
    writer = _Writer(text)
    writer.body(tree.children, depth=0, lo=0, top=True)
    writer.dangling(after=writer.last, before=len(writer.lines) + 1, depth=0)
    return "\n".join(writer.out).strip("\n") + "\n" if writer.out else ""


# ---------------------------------------------------------------------------
# Values: always on one line, single spaces
# ---------------------------------------------------------------------------

def value_text(node: Tree) -> str:
    kind = node.data
    tokens = [c for c in node.children if isinstance(c, Token)]
    items = [value_text(c) for c in node.children if isinstance(c, Tree)]
    if kind in ("word", "string"):
        return tokens[0].value
    if kind == "number":
        return " ".join(t.value for t in tokens)
    if kind == "gpu_count":
        return _gpu_count_text(tokens)
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    if kind == "qualified_list":
        return f"{tokens[0].value} {items[0]}"
    if kind == "call":
        return f"{tokens[0].value}(" + ", ".join(items) + ")"
    raise ValueError(f"unknown value node {kind}")


def _gpu_count_text(tokens: list[Token]) -> str:
    count, name = tokens[0].value, tokens[-1].value
    units = [t.value for t in tokens if t.type == "UNIT"]
    magnitude, suffix = split_number(count)
    if suffix == "x" and not any(t.type == "X" for t in tokens):
        count = magnitude
    return " ".join([count, *units, "x", name])


# ---------------------------------------------------------------------------
# Statements and comments
# ---------------------------------------------------------------------------

@dataclass
class _Line:
    name: str
    op: str
    value: str


class _Writer:
    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.blank = {n for n, line in enumerate(self.lines, start=1) if not line.strip()}
        self.pool: dict[int, Comment] = {c.line: c for c in comments(text)}
        self.out: list[str] = []
        self.last = 0  # the last source line accounted for

    # -- comments and blank lines -------------------------------------------------

    def take(self, lo: int, hi: int) -> list[Comment]:
        """Comments on lines lo <= line < hi, removed from the pool."""
        return [self.pool.pop(n) for n in sorted(self.pool) if lo <= n < hi]

    def blank_between(self, a: int, b: int) -> bool:
        return any(n in self.blank for n in range(a + 1, b))

    def comment_lines(self, found: list[Comment], depth: int, previous: int) -> int:
        for comment in found:
            if self.out and self.blank_between(previous, comment.line) and self.out[-1] != "":
                self.out.append("")
            self.out.append(INDENT * depth + comment.text)
            previous = comment.line
        return previous

    def dangling(self, after: int, before: int, depth: int) -> None:
        """Comments after the last statement of a body, before its closing line."""
        found = self.take(after + 1, before)
        if found and self.blank_between(after, found[0].line) and self.out and not self.out[-1].endswith("{"):
            self.out.append("")
        self.comment_lines(found, depth, found[0].line if found else after)

    # -- bodies --------------------------------------------------------------------

    def body(self, items: list[Tree], depth: int, lo: int, top: bool = False, closing: int = 0) -> None:
        """Statements of one block; `closing` is the line of its `}`, whose trailing comment belongs to the `}`."""
        simple = [item.data != "block" for item in items]
        breaks = [i == 0 or not simple[i - 1] or not simple[i]
                  or self.blank_between(items[i - 1].meta.end_line, items[i].meta.line) for i in range(len(items))]
        group_of, groups = [], -1
        for brk in breaks:
            groups += brk
            group_of.append(groups)
        rendered = [self.simple_line(item) if simple[i] else None for i, item in enumerate(items)]
        widths: dict[int, int] = {}
        for i, line in enumerate(rendered):
            if line is not None:
                widths[group_of[i]] = max(widths.get(group_of[i], 0), len(line.name))
        previous = lo
        for i, item in enumerate(items):
            lead = self.take(previous + 1, item.meta.line)
            first = lead[0].line if lead else item.meta.line
            if i > 0 and (top or self.blank_between(previous, first)):
                self.out.append("")
            previous = self.comment_lines(lead, depth, previous if i > 0 else first)
            if lead and self.blank_between(previous, item.meta.line):
                self.out.append("")
            if simple[i]:
                self.statement(item, rendered[i], widths[group_of[i]], depth, items, i, group_of, closing)
            else:
                self.block(item, depth, items, i, closing)
            previous = item.meta.end_line
        self.last = previous

    def simple_line(self, item: Tree) -> _Line:
        name, op_node, value = item.children
        op = op_node.value if isinstance(op_node, Token) else op_node.children[0].value
        return _Line(name.value, op, value_text(value))

    def statement(self, item: Tree, line: _Line, width: int, depth: int, items: list[Tree], i: int,
                  group_of: list[int], closing: int) -> None:
        self.comment_lines(self.take(item.meta.line, item.meta.end_line), depth, item.meta.line)
        text = INDENT * depth + f"{line.name.ljust(width)} {line.op} {line.value}"
        comment = self.trailing(items, i, item.meta.end_line, closing)
        if comment is not None:
            text = text.ljust(self.comment_column(items, i, group_of, width, depth)) + comment.text
        self.out.append(text)

    def comment_column(self, items: list[Tree], i: int, group_of: list[int], width: int, depth: int) -> int:
        """Trailing comments of a group line up two spaces after its longest statement."""
        members = [self.simple_line(items[j]) for j, g in enumerate(group_of) if g == group_of[i]]
        return max(len(INDENT * depth) + width + len(m.op) + len(m.value) + 2 for m in members) + 2

    def trailing(self, items: list[Tree], i: int, line: int, closing: int) -> Comment | None:
        """The comment on a statement's last line, unless the next statement or the enclosing `}` is on it too."""
        if (i + 1 < len(items) and items[i + 1].meta.line == line) or line == closing:
            return None
        return self.pool.pop(line, None)

    def block(self, item: Tree, depth: int, items: list[Tree], i: int, closing: int) -> None:
        name = item.children[0].value
        label = next((c.children[0].value for c in item.children if isinstance(c, Tree) and c.data == "label"), None)
        body = [c for c in item.children if isinstance(c, Tree) and c.data != "label"]
        lbrace = next(c for c in item.children if isinstance(c, Token) and c.type == "LBRACE")
        rbrace = item.children[-1]
        self.comment_lines(self.take(item.meta.line, lbrace.line), depth, item.meta.line)
        header = INDENT * depth + name + (f" {label}" if label else "") + " {"
        header_comment = None
        if not body or body[0].meta.line > lbrace.line:
            header_comment = self.pool.pop(lbrace.line, None)
        inside = any(lbrace.line < n < rbrace.line for n in self.pool)
        if not body and not inside and header_comment is None:
            self.out.append(header[:-1] + "{}" + self._closing_comment(items, i, rbrace.line, closing))
            return
        self.out.append(header + (f"  {header_comment.text}" if header_comment else ""))
        self.body(body, depth + 1, lo=lbrace.line, closing=rbrace.line)
        self.dangling(after=self.last if body else lbrace.line, before=rbrace.line, depth=depth + 1)
        self.out.append(INDENT * depth + "}" + self._closing_comment(items, i, rbrace.line, closing))

    def _closing_comment(self, items: list[Tree], i: int, line: int, closing: int) -> str:
        comment = self.trailing(items, i, line, closing)
        return f"  {comment.text}" if comment else ""
