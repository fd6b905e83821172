"""Text → lark tree, plus syntax diagnostics.

The grammar (llmc.grammar/llmspec.lark) is generic; this module turns lark's exceptions
into coded diagnostics. Known mistakes are recognised by example (lark's `match_examples`:
a table of small bad snippets, each mapped to a message), the rest get
"unexpected X, expected Y" with terminals named in words. After a successful parse, a
lexical pass checks what the grammar leaves open: number suffixes and string escapes.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from dataclasses import dataclass

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostic, Label, define_code, error
from .source import SourceFile, Span
from .suggest import did_you_mean
from .units import TOKEN_SCALE, TOKEN_UNITS, UNIT_KIND

E_SYNTAX = define_code("E101", "Syntax error", __name__)
E_MISSING_EQ = define_code("E102", "Missing `=` between a field and its value", __name__)
E_COLON = define_code("E103", "`:` used instead of `=`", __name__)
E_UNCLOSED = define_code("E104", "Unclosed bracket", __name__)
MAX_SYNTAX_ERRORS = 20   # reported in one run; past them the file is likely not a spec
E_UNTERMINATED = define_code("E105", "Unterminated string", __name__)
E_NUMBER = define_code("E106", "Malformed number", __name__)
E_STRAY_UNIT = define_code("E107", "Unit where none belongs", __name__)
E_NEEDS_STRING = define_code("E108", "Bare word where a quoted string is needed", __name__)
E_CHARACTER = define_code("E109", "Unexpected character", __name__)
E_ESCAPE = define_code("E110", "Invalid escape in string", __name__)
E_DEPTH = define_code("E111", "Nesting too deep", __name__)

MAX_DEPTH = 32  # real specs nest three levels; the limit keeps every later stage's recursion safe

# Terminal names in words, for "expected ..." lists.
TERMINAL_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a quoted string", "UNIT": "a unit",
    "X": "`x`", "EQ": "`=`", "LE": "`<=`", "LT": "`<`", "GE": "`>=`", "GT": "`>`",
    "LBRACE": "`{`", "RBRACE": "`}`", "LSQB": "`[`", "RSQB": "`]`", "LPAR": "`(`", "RPAR": "`)`",
    "COMMA": "`,`", "PERCENTILE": "a percentile", "$END": "the end of the file",
}
CLOSERS = {"LBRACE": "}", "LSQB": "]", "LPAR": ")"}
OPENERS = {"RBRACE": "LBRACE", "RSQB": "LSQB", "RPAR": "LPAR"}

# Units that may be glued to a number (`1.5s`, `128GiB`) or written apart (`128 GiB`).
UNITS = tuple(UNIT_KIND)
SCALES = tuple(s for s in TOKEN_SCALE if s)
NUMBER_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(.*)", re.S)


@functools.lru_cache(maxsize=1)
def grammar() -> Lark:
    """The LALR parser, built once from the grammar shipped in the installed package."""
    text = importlib.resources.files("llmc.grammar").joinpath("llmspec.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def split_number(text: str) -> tuple[str, str]:
    """'32k' → ('32', 'k'); '1.5s' → ('1.5', 's'); '16' → ('16', '')."""
    match = NUMBER_RE.fullmatch(text)
    return (match.group(1), match.group(2)) if match else (text, "")


def token_span(source: SourceFile, token: Token) -> Span:
    return Span(file=source.path, line=token.line, col=token.column,
                end_line=token.end_line or token.line, end_col=token.end_column or token.column + 1)


def node_span(source: SourceFile, node: Tree | Token) -> Span:
    if isinstance(node, Token):
        return token_span(source, node)
    meta = node.meta
    return Span(file=source.path, line=meta.line, col=meta.column, end_line=meta.end_line, end_col=meta.end_column)


def parse(source: SourceFile) -> tuple[Tree | None, list[Diagnostic]]:
    """Parse one file. On syntax errors the tree is None and each is reported: after one, its line is
    blanked (when it holds no bracket, so the blocks around it stay as they are) and parsing goes on, so
    the independent mistakes of a file come back in one run, as rustc and ruff report them."""
    text, diagnostics = source.text, []
    while True:
        try:
            tree = grammar().parse(text)
            break
        except UnexpectedInput as exc:
            found = _syntax_error(SourceFile(path=source.path, text=text), exc)
            diagnostics.append(found)
            text = _without_line(text, found.span) if len(diagnostics) < MAX_SYNTAX_ERRORS else None
            if text is None:
                return None, diagnostics
    if diagnostics:
        return None, diagnostics
    too_deep = _too_deep(tree)
    if too_deep is not None:
        return None, [error(E_DEPTH, f"blocks and lists nest more than {MAX_DEPTH} levels deep",
                            span=node_span(source, too_deep), label="too deep",
                            help="a spec needs at most three levels: deployment, block, list")]
    return tree, check_lexemes(source, tree)


def _without_line(text: str, span: Span | None) -> str | None:
    """`text` with the error's line blanked (offsets kept), or None when recovering there would guess: the
    line holds a bracket, or is blank already."""
    if span is None:
        return None
    start = 0
    for _ in range(span.line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    line = text[start:end]
    if not line.strip() or any(c in line for c in "{}[]()"):
        return None
    return text[:start] + " " * len(line) + text[end:]


def _too_deep(tree: Tree) -> Tree | None:
    """The first node nested deeper than MAX_DEPTH, found without recursion."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return None


# ---------------------------------------------------------------------------
# Lexical checks on a parsed tree
# ---------------------------------------------------------------------------

def check_lexemes(source: SourceFile, tree: Tree) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for node in tree.iter_subtrees_topdown():
        if node.data == "number":
            diagnostics += _check_number(source, node.children)
        elif node.data == "gpu_count":
            diagnostics += _check_gpu_count(source, node.children)
    for token in tree.scan_values(lambda t: isinstance(t, Token) and t.type == "STRING"):
        diagnostics += _check_escapes(source, token)
    return diagnostics


def _check_number(source: SourceFile, children: list) -> list[Diagnostic]:
    token, units = children[0], children[1:]
    magnitude, suffix = split_number(token.value)
    if suffix and suffix not in SCALES and suffix not in UNITS:
        return [_bad_suffix(source, token, magnitude, suffix)]
    if not units:
        return []
    if suffix in UNITS or len(units) > 1:
        extra = units[0] if suffix in UNITS else units[1]
        written = token.value if suffix in UNITS else f"{token.value} {units[0].value}"
        return [_stray_unit(source, extra, f"`{written}` already has a unit; `{extra.value}` does not belong here")]
    unit = units[0]
    if suffix in SCALES and unit.value not in TOKEN_UNITS:
        return [error(E_NUMBER, f"the scale `{suffix}` is for token counts, not `{unit.value}`",
                      span=token_span(source, token), label="token scale",
                      detail="`k` (×1024) and `M` (×1024²) scale token counts only. Byte sizes carry their "
                             "own prefix: KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).",
                      help=f"write `{float(magnitude) * TOKEN_SCALE[suffix]:g} {unit.value}`")]
    return []


def _stray_unit(source: SourceFile, unit: Token, summary: str) -> Diagnostic:
    return error(E_STRAY_UNIT, summary, span=token_span(source, unit), label="unexpected unit",
                 detail="A unit follows a number once (`32k tokens`, `128 GiB`, `1.5s`); counts such as "
                        "`concurrency`, `nodes`, `port` or a GPU count take none.",
                 help=f"remove `{unit.value}`")


def _bad_suffix(source: SourceFile, token: Token, magnitude: str, suffix: str) -> Diagnostic:
    hint = did_you_mean(suffix, (*SCALES, *UNITS))
    return error(E_NUMBER, f"`{token.value}` is not a number with a known unit", span=token_span(source, token),
                 label=f"unknown suffix `{suffix}`",
                 detail="A number may carry a token scale (`k` = ×1024, `M` = ×1024²) or one unit: "
                        "tokens; B, KB, MB, GB, TB, KiB, MiB, GiB, TiB; us, ms, s, min; tok/s; req/s.",
                 help=hint)


def _check_gpu_count(source: SourceFile, children: list) -> list[Diagnostic]:
    count, name = children[0], children[-1]
    units = [c for c in children if c.type == "UNIT"]
    if units:
        return [_stray_unit(source, units[0], f"a GPU count takes no unit; `{units[0].value}` does not belong here")]
    magnitude, suffix = split_number(count.value)
    has_x = any(c.type == "X" for c in children)
    if (has_x and not suffix) or (not has_x and suffix == "x"):
        return []
    if not has_x and not suffix:
        return [error(E_SYNTAX, "expected `x` between the GPU count and the GPU name",
                      span=token_span(source, count), label="count without `x`",
                      help=f"write `{count.value} x {name.value}`")]
    return [error(E_NUMBER, f"`{count.value}` is not a GPU count", span=token_span(source, count),
                  label=f"unexpected suffix `{suffix}`", help=f"write `{magnitude} x {name.value}`")]


def _check_escapes(source: SourceFile, token: Token) -> list[Diagnostic]:
    for match in re.finditer(r"\\(.)", token.value[1:-1]):
        if match.group(1) not in "\"\\":
            offset = token.start_pos + 1 + match.start()
            return [error(E_ESCAPE, f"unknown escape `\\{match.group(1)}` in a string",
                          span=source.span_at(offset, 2), label="unknown escape",
                          detail="Strings know two escapes: `\\\"` for a quote and `\\\\` for a backslash.",
                          help="write `\\\\` for a literal backslash")]
    return []


# ---------------------------------------------------------------------------
# Syntax errors
# ---------------------------------------------------------------------------

# Small bad inputs; the parser state each one fails in identifies the mistake.
EXAMPLES = {
    "missing-eq": ['deployment chat', 'deployment "a" { task chat }', 'deployment "a" { task "x" y }',
                   'deployment "a" { context 32k }',
                   'deployment "a" { license [mit] }', 'deployment "a" { workload { task chat } }'],
    "gpu-name": ['deployment "a" { hardware { gpu = 2 x RTX4090 } }'],
    "string-arg": ['deployment "a" { model = local(a b) }'],
    "block-label": ['deployment "a" "b" { }', 'deployment "a" { workload "b" "c" }'],
    "value": ['deployment "a" { task = }', 'deployment "a" { task = = }', 'deployment "a" { ttft <= }'],
    "list-item": ['deployment "a" { license = [mit mit] }', 'deployment "a" { license = [, ] }'],
}


@functools.lru_cache(maxsize=1)
def _example_states() -> dict[tuple[int, frozenset[str]], str]:
    """(LALR state, acceptable terminals) → mistake, learnt by parsing the examples once.

    Lark's own `match_examples` compares whole parser states, stack depth included, so an
    example at one nesting depth would not match the same mistake one block deeper; keying
    on the automaton state alone makes one example cover every depth.
    """
    table: dict[tuple[int, frozenset[str]], str] = {}
    for label, snippets in EXAMPLES.items():
        for snippet in snippets:
            try:
                grammar().parse(snippet)
            except UnexpectedToken as exc:
                table.setdefault(_state_key(exc), label)
    return table


def _state_key(exc: UnexpectedToken) -> tuple[int, frozenset[str]]:
    position = getattr(exc.state, "position", None)
    return (position if isinstance(position, int) else -1, frozenset(exc.accepts or exc.expected))


def _syntax_error(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_character(source, exc)
    if not isinstance(exc, UnexpectedToken):  # UnexpectedEOF: lark's LALR reports `$END` tokens instead
        return error(E_SYNTAX, "unexpected end of file", span=_eof_span(source), label="the file ends here")
    token = exc.token
    if token.type == "$END":
        return _unclosed(source, exc)
    if token.type in OPENERS and _unmatched_closer(source, token):
        return error(E_SYNTAX, f"unexpected `{token.value}`: nothing to close here", span=token_span(source, token),
                     label="no matching opening bracket", help="remove it, or add the opening bracket it closes")
    if token.type == "UNIT":
        return _stray_unit(source, token, f"the unit `{token.value}` does not belong here")
    opener = _open_bracket_before(source, token)
    if opener is not None and opener.type in ("LSQB", "LPAR") and opener.line < token.line:
        return _unclosed_at(source, opener, token_span(source, token), f"expected `{CLOSERS[opener.type]}` before this")
    kind = _match_example(exc)
    if kind == "missing-eq" and _next_token_type(source, token) == "LBRACE":
        kind = "block-label"
    if kind == "missing-eq":
        return _missing_eq(source, exc)
    if kind == "block-label" and token.type == "NAME":
        before = _tokens_before(source, token)   # `context = 8 k` + `hardware {`: `k` read as a block name
        if len(before) >= 2 and before[-1].type == "NAME" and before[-2].type == "NUMBER" \
                and before[-1].line == before[-2].line:
            return _not_a_unit(source, before[-2], before[-1])
    if kind == "gpu-name" or (kind == "block-label" and token.type == "NAME"):
        return _needs_string(source, token, kind)
    if kind == "string-arg" and token.type == "NAME":
        return _needs_string(source, token, kind)
    if kind == "value":
        return error(E_SYNTAX, f"expected a value, found {_describe(token)}", span=token_span(source, token),
                     label="a value goes here", detail="A value is a name (chat), a number with its unit (32k, "
                     "1.5s), a quoted string, a list in `[ ]` or a call such as local(\"path\").")
    if kind == "list-item":
        return error(E_SYNTAX, f"unexpected {_describe(token)} in a list", span=token_span(source, token),
                     label=f"expected {_expected(exc)}", help="separate list items with `,`")
    return _generic(source, exc)


def _match_example(exc: UnexpectedToken) -> str | None:
    return _example_states().get(_state_key(exc))


def _expected(exc: UnexpectedToken) -> str:
    names = sorted({TERMINAL_WORDS.get(t, t) for t in (exc.accepts or exc.expected)})
    if not names:
        return "nothing more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    word = TERMINAL_WORDS.get(token.type, token.type)
    return f"`{token.value}`" if token.type in ("NAME", "NUMBER", "UNIT", "STRING", "X") else word


def _generic(source: SourceFile, exc: UnexpectedToken) -> Diagnostic:
    token = exc.token
    return error(E_SYNTAX, f"unexpected {_describe(token)}, expected {_expected(exc)}",
                 span=token_span(source, token), label=f"expected {_expected(exc)}")


def _missing_eq(source: SourceFile, exc: UnexpectedToken) -> Diagnostic:
    before = _tokens_before(source, exc.token)
    if len(before) >= 2 and before[-1].type == "NAME" and before[-2].type == "NUMBER" \
            and before[-1].line == before[-2].line:
        return _not_a_unit(source, before[-2], before[-1])
    value = exc.token
    if len(before) >= 2 and before[-1].type == "STRING" and before[-2].type == "NAME":
        before, value = before[:-1], before[-1]  # `task "x" y`: the string was read as a block label
    name = before[-1] if before else exc.token
    rest = source.line(value.line)[value.column - 1:]
    shown = (rest.split("#")[0].strip() if value.type != "STRING" else value.value) or value.value
    return error(E_MISSING_EQ, f"missing `=` after `{name.value}`", span=token_span(source, name),
                 label="`=` expected after this name",
                 detail="A field is set with `name = value`; a latency bound is written `name <= value`; "
                        "a block opens with `name {`.",
                 help=f"write `{name.value} = {shown}`")


# Units as people write them elsewhere, and the language's spelling.
UNIT_ALIASES = {"sec": "s", "secs": "s", "second": "s", "seconds": "s", "msec": "ms", "msecs": "ms",
                "millisecond": "ms", "milliseconds": "ms", "usec": "us", "mins": "min", "minute": "min",
                "minutes": "min", "gb": "GB", "gib": "GiB", "mb": "MB", "mib": "MiB", "tok": "tokens"}


def _not_a_unit(source: SourceFile, number: Token, word: Token) -> Diagnostic:
    """`ttft <= 1 sec`, `context = 8 k`: a word after a number that is meant as its unit."""
    units = [*UNITS, *SCALES]
    if word.value in TOKEN_SCALE:   # `8 k`: a scale is part of the number
        return error(E_NUMBER, f"`{word.value}` must touch its number: `{number.value}{word.value}`",
                     span=token_span(source, word), label="apart from the number",
                     detail="`k` and `M` scale a token count (32k = 32,768) only when written against the number.",
                     help=f"write `{number.value}{word.value}`")
    alias = UNIT_ALIASES.get(word.value.lower())
    hint = f"did you mean '{alias}'?" if alias else did_you_mean(word.value, units)
    return error(E_NUMBER, f"`{word.value}` is not a unit", span=token_span(source, word), label="not a unit",
                 detail="Units: tokens (`32k`, `2k tokens`), bytes (`GiB`, `GB`), durations (`us`, `ms`, `s`, "
                        "`min`), rates (`tok/s`, `req/s`), bandwidths (`GB/s`).",
                 help=hint or "write one of the units above after the number")


def _needs_string(source: SourceFile, token: Token, kind: str) -> Diagnostic:
    what = {"gpu-name": "a GPU name", "block-label": "a deployment name", "string-arg": "this argument"}[kind]
    return error(E_NEEDS_STRING, f"{what} must be a quoted string", span=token_span(source, token),
                 label="bare word", detail="Names that may contain spaces or slashes are written in double quotes.",
                 help=f"write \"{token.value}\"" + (" (the full name, spaces included)" if kind == "gpu-name" else ""))


def _unexpected_character(source: SourceFile, exc: UnexpectedCharacters) -> Diagnostic:
    char = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else ""
    span = source.span_at(exc.pos_in_stream, 1)
    if char == ":":
        return error(E_COLON, "`:` used instead of `=`", span=span, label="use `=` here",
                     detail="Fields are set with `name = value`, as in HCL, not `name: value` as in YAML.",
                     help="replace `:` with `=`")
    if char == '"':
        end = source.text.find("\n", exc.pos_in_stream)
        end = len(source.text) if end < 0 else end
        span = source.span_at(exc.pos_in_stream, end - exc.pos_in_stream)
        return error(E_UNTERMINATED, "unterminated string", span=span,
                     label="this string has no closing `\"`",
                     detail="A string opens and closes with `\"` on the same line.", help="add the closing `\"`")
    shown = repr(char)[1:-1] if char and not char.isprintable() else char
    return error(E_CHARACTER, f"unexpected character `{shown}`", span=span, label="not part of the language",
                 detail="Values are names (chat, q4_k_m), numbers with units (32k, 1.5s, 128 GiB), "
                        "quoted strings, lists in `[ ]`, or calls like local(\"path\").",
                 help=_character_help(source, exc.pos_in_stream, char))


def _character_help(source: SourceFile, pos: int, char: str) -> str | None:
    line_start = source.text.rfind("\n", 0, pos) + 1
    before = source.text[line_start:pos]
    if char in ".:/" and re.search(r"[0-9A-Za-z_]$", before):
        word = re.search(r"[^\s=\[,(]*$", before).group(0)
        rest = re.match(r"[^\s\],)#]*", source.text[pos:]).group(0)
        return f"quote it: \"{word}{rest}\""
    if char == ";":
        return "statements are separated by newlines; remove the `;`"
    if source.text.startswith(("//", "/*"), pos):
        return "comments start with `#`: write `# ...`"
    if char == "'":
        return "strings use double quotes"
    return None


def _unclosed(source: SourceFile, exc: UnexpectedToken) -> Diagnostic:
    opener = _unmatched_opener(source)
    eof = _eof_span(source)
    if opener is None:
        return error(E_SYNTAX, f"unexpected end of file, expected {_expected(exc)}", span=eof,
                     label=f"expected {_expected(exc)}")
    return _unclosed_at(source, opener, eof, f"the file ends here; expected `{CLOSERS[opener.type]}`")


def _unclosed_at(source: SourceFile, opener: Token, where: Span, message: str) -> Diagnostic:
    close = CLOSERS[opener.type]
    what = {"}": "block", "]": "list", ")": "call"}[close]
    return error(E_UNCLOSED, f"unclosed `{opener.value}`", span=token_span(source, opener),
                 label=f"this `{opener.value}` is never closed", labels=(Label(span=where, message=message),),
                 help=f"add `{close}` where the {what} ends")


def _eof_span(source: SourceFile) -> Span:
    text = source.text.rstrip()
    return source.span_at(len(text), 1)


def _tokens(source: SourceFile) -> list[Token]:
    """The tokens of a file as far as it lexes (the basic lexer, no parser state)."""
    out: list[Token] = []
    try:
        lexer = grammar().lex(source.text, dont_ignore=False)
        for token in lexer:
            out.append(token)
    except UnexpectedInput:
        pass
    return out


def _unmatched_opener(source: SourceFile, tokens: list[Token] | None = None) -> Token | None:
    """The bracket left open at the end. When a `}` closed a block whose line is indented deeper than its
    own, that block is the one left open (its `}` was the outer block's, as the indentation says), not the
    outermost one the counting finds."""
    stack: list[Token] = []
    suspect: Token | None = None
    for token in _tokens(source) if tokens is None else tokens:
        if token.type in CLOSERS:
            stack.append(token)
        elif token.type in OPENERS and stack and stack[-1].type == OPENERS[token.type]:
            opener = stack.pop()
            if suspect is None and _indent(source, token) < _indent(source, opener):
                suspect = opener
    if not stack:
        return None
    return suspect or stack[-1]


def _indent(source: SourceFile, token: Token) -> int:
    """Columns of whitespace before the first character of the token's line."""
    start = source.text.rfind("\n", 0, token.start_pos) + 1
    line = source.text[start:token.start_pos + 1]
    return len(line) - len(line.lstrip(" \t"))


def _unmatched_closer(source: SourceFile, closer: Token) -> bool:
    depth = 0
    for token in _tokens(source):
        if token.start_pos >= closer.start_pos:
            break
        if token.type == OPENERS[closer.type]:
            depth += 1
        elif token.type == closer.type:
            depth -= 1
    return depth <= 0


def _tokens_before(source: SourceFile, token: Token) -> list[Token]:
    return [t for t in _tokens(source) if t.start_pos < token.start_pos]


def _open_bracket_before(source: SourceFile, token: Token) -> Token | None:
    return _unmatched_opener(source, _tokens_before(source, token))


def _next_token_type(source: SourceFile, token: Token) -> str | None:
    for candidate in _tokens(source):
        if candidate.start_pos > token.start_pos:
            return candidate.type
    return None


# ---------------------------------------------------------------------------
# Comments (for the formatter): the grammar ignores them, so find them here
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Comment:
    line: int
    col: int  # 1-based column of the `#`
    text: str  # from `#` to the end of the line, right-stripped


def comments(text: str) -> list[Comment]:
    """Every `#` comment outside a string. Strings never span lines, so a per-line scan is exact."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        in_string, escaped = False, False
        for index, char in enumerate(line):
            if in_string:
                escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
            elif char == '"':
                in_string = True
            elif char == "#":
                found.append(Comment(line=number, col=index + 1, text=line[index:].rstrip()))
                break
    return found
