"""Source files and spans: where in the user's text a value came from."""

from __future__ import annotations

from functools import cached_property

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A range in one source file. Lines and columns are 1-based; `end_col` is exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to(self, other: "Span") -> "Span":
        """The span from the start of this one to the end of `other`."""
        return Span(file=self.file, line=self.line, col=self.col, end_line=other.end_line, end_col=other.end_col)


class SourceFile(BaseModel):
    """The text of one input, kept so renderers can show the offending line."""

    model_config = ConfigDict(frozen=True)

    path: str
    text: str

    @cached_property
    def _lines(self) -> list[str]:
        # "\n" alone ends a line, as spans count lines (splitlines would also split at \x0c, \x85, U+2028 ...)
        return [line.removesuffix("\r") for line in self.text.split("\n")]

    def line(self, number: int) -> str:
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""

    def span_at(self, offset: int, length: int = 1) -> Span:
        """A span from a character offset, for errors that only know an offset."""
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Span(file=self.path, line=line, col=col, end_line=line, end_col=col + max(length, 1))
