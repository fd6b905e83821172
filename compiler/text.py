"""Text that reaches a terminal, a one-line context or Markdown: control characters shown, never acted on.

Values from specs, catalog records and model files (a GGUF's `general.name`) may hold newlines,
ANSI escapes or bidirectional overrides. Shown raw, they clear a terminal, end a comment line in a
generated script, or reorder what a reviewer reads. `printable` writes each such character as a
visible escape (`\\x1b`, `\\n`, `\\u202e`); every other character, non-ASCII letters included, stays.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidi embedding,
# override and isolate controls ("Trojan Source", CVE-2021-42574).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}.get(code) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 user`, `2 users` (`plural` for the irregular ones)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def printable(text: str, keep: str = "\n\t") -> str:
    """`text` with every control character outside `keep` written as a visible escape."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def one_line(text: str) -> str:
    """`text` on one line: no character of it can end a comment or a shell line."""
    return printable(text, keep="")


# Markdown a value could use to take over a document: HTML (`<!--` hides the rest), table cells (`|`),
# code spans (backticks), links and images (`[...](...)`), and the escape character itself.
_MARKDOWN = re.compile(r"([\\`|<>\[\]])")


def md_text(text: str) -> str:
    """`text` as Markdown prose or a table cell: one line, its markup shown as written."""
    return _MARKDOWN.sub(r"\\\1", one_line(text))


def md_code(text: str) -> str:
    """`text` as one inline code span, delimited by more backticks than it holds (CommonMark 6.1)."""
    text = one_line(text)
    ticks = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_fence(lines: list[str]) -> list[str]:
    """`lines` as a fenced code block whose fence no line can close."""
    lines = [one_line(line) for line in lines]
    fence = "`" * max(3, max((len(run) for line in lines for run in re.findall("`+", line)), default=0) + 1)
    return [fence, *lines, fence]


# Provenance notes for llmc's maintainers, kept beside a figure in the catalog (a copy found in a code index,
# a section of the internal reference notes) but of no use to a user, who cannot follow them.
_INTERNAL_NOTE = re.compile(r"\s*\([^()]*(?:code-corpus|code corpus|find_string|read_file id|runtimes\.md|"
                            r"shared/reference|\bids? \d{6,})[^()]*\)")


def public_source(text: str) -> str:
    """A source as a user reads it: the paper, repository path or page it names, without internal notes."""
    return _INTERNAL_NOTE.sub("", text)
