"""Values of the `.llmspec` language: tree nodes → typed, span-carrying Spec values.

Used by lower.py, which knows which field takes which kind of value. Each `lower_*`
function takes the statement and returns the value or None after reporting why not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lark import Token, Tree

from .catalog.schema import LICENSE_IDS
from .diagnostics import Diagnostic, define_code, error
from .names import is_env_name, is_host, is_served_name, looks_like_secret
from .parse import node_span, split_number, token_span
from .source import SourceFile, Span
from .spec import (
    Bandwidth,
    EMITS,
    LICENSE_CLASSES,
    Bool,
    Bound,
    Bytes,
    Choice,
    Duration,
    Fraction,
    GpuGroup,
    Int,
    Licenses,
    ModelChoice,
    Rate,
    RequestRate,
    Text,
    Tokens,
    Word,
)
from .suggest import did_you_mean
from .units import (BANDWIDTH_UNITS, BYTE_UNITS, DURATION_UNITS, RATE_UNITS, REQUEST_RATE_UNITS, TOKEN_SCALE,
                    TOKEN_UNITS, Kind)

E_WRONG_KIND = define_code("E205", "Value of the wrong kind", __name__)
E_UNKNOWN_WORD = define_code("E206", "Unknown value", __name__)
E_COMPARISON = define_code("E211", "Wrong comparison for a bound", __name__)
E_CALL = define_code("E212", "Unknown function or wrong arguments", __name__)
E_INLINE_SECRET = define_code("E215", "API key written inline", __name__)
E_NOT_WHOLE = define_code("E216", "Not a whole number", __name__)
E_ENV_NAME = define_code("E217", "Not an environment variable name", __name__)
E_HOST = define_code("E218", "Not a host address or name", __name__)
E_SERVED_NAME = define_code("E219", "Invalid served model name", __name__)
E_TOO_LONG = define_code("E213", "String too long", __name__)
MAX_NAME = 256    # a model id, a GPU name, a variable name: each is far shorter
MAX_PATH = 4096   # PATH_MAX on Linux, for local("...")

UPPER_BOUND, LOWER_BOUND = ("<=", "<"), (">=", ">")

KIND_WORDS = {Kind.TOKENS: "a token count", Kind.BYTES: "a size in bytes", Kind.DURATION: "a duration",
              Kind.RATE: "a rate", Kind.REQUEST_RATE: "a request rate", Kind.BANDWIDTH: "a bandwidth",
              Kind.NUMBER: "a plain number"}
VALUE_WORDS = {"word": "a name", "string": "a quoted string", "list": "a list", "qualified_list": "an `any [...]` list",
               "call": "a function call", "gpu_count": "a GPU count"}


@dataclass
class Stmt:
    """One statement of a body, whatever its form."""

    form: str  # attribute | bound | block
    name: Token
    node: Tree
    value: Tree | None = None
    op: str = "="
    qualifier: Token | None = None    # a bound's percentile: `ttft p99 <= 2s`
    label: Token | None = None
    body: list[Tree] = field(default_factory=list)


@dataclass
class Ctx:
    source: SourceFile
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def span(self, node: Tree | Token) -> Span:
        return node_span(self.source, node) if isinstance(node, Tree) else token_span(self.source, node)

    def report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)


# Values
# ---------------------------------------------------------------------------

def unquote(text: str) -> str:
    """The value of a STRING token: drop the quotes, resolve \\" and \\\\."""
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _describe(node: Tree) -> str:
    if node.data == "number":
        kind = _quantity(node)[0]
        return KIND_WORDS.get(kind, "a number") if kind else "a number"
    return VALUE_WORDS.get(node.data, "a value")


def _wrong_kind(ctx: Ctx, stmt: Stmt, expected: str, help: str | None = None, node: Tree | None = None) -> None:
    node = node if node is not None else stmt.value
    got = _describe(node)
    ctx.report(error(E_WRONG_KIND, f"`{stmt.name.value}` takes {expected}, not {got}", span=ctx.span(node),
                     label=f"this is {got}", help=help))


def _quantity(node: Tree) -> tuple[Kind | None, Decimal]:
    """The kind and the value (in tokens, bytes, seconds or tok/s) of a `number` node."""
    magnitude, suffix = split_number(node.children[0].value)
    unit = node.children[1].value if len(node.children) > 1 else ""
    try:
        value = Decimal(magnitude)
    except InvalidOperation:
        return None, Decimal(0)
    if suffix in TOKEN_SCALE and suffix and unit in ("", *TOKEN_UNITS):
        return Kind.TOKENS, value * TOKEN_SCALE[suffix]
    written = unit or suffix
    if suffix and unit:
        return None, value
    if not written:
        return Kind.NUMBER, value
    for kind, table in ((Kind.TOKENS, TOKEN_UNITS), (Kind.BYTES, BYTE_UNITS), (Kind.DURATION, DURATION_UNITS),
                        (Kind.RATE, RATE_UNITS), (Kind.REQUEST_RATE, REQUEST_RATE_UNITS),
                        (Kind.BANDWIDTH, BANDWIDTH_UNITS)):
        if written in table:
            return kind, value * Decimal(str(table[written]))
    return None, value


def _number(ctx: Ctx, stmt: Stmt, accept: tuple[Kind, ...], expected: str, help: str | None = None):
    node = stmt.value
    if node.data != "number":
        _wrong_kind(ctx, stmt, expected, help)
        return None
    kind, value = _quantity(node)
    if kind not in accept:
        _wrong_kind(ctx, stmt, expected, help)
        return None
    return value


def _whole(ctx: Ctx, stmt: Stmt, value: Decimal, what: str) -> int | None:
    if value != value.to_integral_value():
        unit = f" of {what}" if what else ""
        ctx.report(error(E_NOT_WHOLE, f"`{stmt.name.value}` must be a whole number{unit}, not {value.normalize():f}",
                         span=ctx.span(stmt.value), label="not whole",
                         help=f"write {int(value)} or {int(value) + 1}"))
        return None
    return int(value)


def lower_int(ctx: Ctx, stmt: Stmt) -> Int | None:
    value = _number(ctx, stmt, (Kind.NUMBER,), "a plain number", help="write a count without a unit, e.g. `16`")
    whole = None if value is None else _whole(ctx, stmt, value, "")
    return None if whole is None else Int(value=whole, span=ctx.span(stmt.value))


def lower_tokens(ctx: Ctx, stmt: Stmt) -> Tokens | None:
    value = _number(ctx, stmt, (Kind.TOKENS, Kind.NUMBER), "a token count",
                    help="write a token count such as `32k` or `4096 tokens`")
    whole = None if value is None else _whole(ctx, stmt, value, "tokens")
    return None if whole is None else Tokens(value=whole, span=ctx.span(stmt.value))


def lower_request_rate(ctx: Ctx, stmt: Stmt) -> RequestRate | None:
    value = _number(ctx, stmt, (Kind.REQUEST_RATE,), "a request rate",
                    help="write arrivals per second such as `5 req/s` or `0.5 req/s`")
    if value is None:
        return None
    return RequestRate(per_s=float(value), span=ctx.span(stmt.value))


def lower_fraction(ctx: Ctx, stmt: Stmt) -> Fraction | None:
    value = _number(ctx, stmt, (Kind.NUMBER,), "a fraction", help="write a plain number from 0 to 1, e.g. `0.5`")
    return None if value is None else Fraction(value=float(value), span=ctx.span(stmt.value))


def lower_bandwidth(ctx: Ctx, stmt: Stmt) -> Bandwidth | None:
    value = _number(ctx, stmt, (Kind.BANDWIDTH,), "a bandwidth", help="write bytes per second such as `89.6 GB/s`")
    return None if value is None else Bandwidth(bytes_per_s=float(value), span=ctx.span(stmt.value))


def lower_bytes(ctx: Ctx, stmt: Stmt) -> Bytes | None:
    zero_ok = stmt.value.data == "number" and _quantity(stmt.value) == (Kind.NUMBER, Decimal(0))
    accept = (Kind.BYTES, Kind.NUMBER) if zero_ok else (Kind.BYTES,)
    value = _number(ctx, stmt, accept, "a size in bytes", help="write a size such as `128 GiB` or `64 GB`")
    return None if value is None else Bytes(value=int(value.to_integral_value()), span=ctx.span(stmt.value))


def _word(ctx: Ctx, stmt: Stmt, node: Tree, allowed: tuple[str, ...], what: str, fold: bool = False) -> Word | None:
    if node.data != "word":
        _wrong_kind(ctx, stmt, f"one of: {', '.join(allowed)}", node=node,
                    help=f"write a bare word, e.g. `{stmt.name.value} = {allowed[0]}`")
        return None
    value = node.children[0].value
    value = value.lower() if fold else value
    if value not in allowed:
        ctx.report(error(E_UNKNOWN_WORD, f"unknown {what} `{node.children[0].value}`", span=ctx.span(node),
                         label=f"not a known {what}", detail=f"Known {what}s: {', '.join(allowed)}.",
                         help=did_you_mean(value, allowed)))
        return None
    return Word(value=value, span=ctx.span(node))


def lower_bool(ctx: Ctx, stmt: Stmt) -> Bool | None:
    word = _word(ctx, stmt, stmt.value, ("true", "false"), "boolean")
    return None if word is None else Bool(value=word.value == "true", span=word.span)


def lower_text(ctx: Ctx, stmt: Stmt, node: Tree | None = None, limit: int = MAX_NAME) -> Text | None:
    node = node if node is not None else stmt.value
    if node.data != "string":
        shown = node.children[0].value if node.data == "word" else "..."
        _wrong_kind(ctx, stmt, "a quoted string", node=node, help=f'write "{shown}"')
        return None
    value = _bounded(ctx, node, limit)
    return None if value is None else Text(value=value, span=ctx.span(node))


def _bounded(ctx: Ctx, node: Tree | Token, limit: int = MAX_NAME) -> str | None:
    """The value of a string, or None after E213 when it is longer than the name or path it stands for can be."""
    token = node if isinstance(node, Token) else node.children[0]
    value = unquote(token.value)
    if len(value) <= limit:
        return value
    what = "a path" if limit == MAX_PATH else "a name"
    ctx.report(error(E_TOO_LONG, f"a string of {len(value)} characters where {what} of at most {limit} belongs",
                     span=ctx.span(node), label="too long", detail=f"Names (model ids, GPU names, variable names) "
                     f"are at most {MAX_NAME} characters, paths at most {MAX_PATH} (PATH_MAX on Linux).",
                     help="check that the quotes are where you meant them"))
    return None


def _items(node: Tree) -> list[Tree]:
    return [c for c in node.children if isinstance(c, Tree)]


def _word_list(ctx: Ctx, stmt: Stmt, node: Tree, allowed: tuple[str, ...], what: str,
               fold: bool = False) -> tuple[Word, ...] | None:
    words = [_word(ctx, stmt, item, allowed, what, fold) for item in _items(node)]
    return None if any(w is None for w in words) else tuple(words)


def _any_list(ctx: Ctx, stmt: Stmt) -> Tree | None:
    """The list of `any [...]`, after checking the qualifier and that the list is not empty."""
    qualifier = stmt.value.children[0]
    if qualifier.value != "any":
        ctx.report(error(E_UNKNOWN_WORD, f"unknown list qualifier `{qualifier.value}`", span=ctx.span(qualifier),
                         label="expected `any`", help=did_you_mean(qualifier.value, ["any"]) or "write `any [...]`"))
        return None
    inner = stmt.value.children[1]
    if not _items(inner):
        ctx.report(error(E_WRONG_KIND, f"`{stmt.name.value} = any []` allows nothing", span=ctx.span(stmt.value),
                         label="empty list", help=f"list at least one choice, or write `{stmt.name.value} = auto`"))
        return None
    return inner


def choice_of(choices: tuple[str, ...] | Callable[[], tuple[str, ...]], what: str,
              fold: bool = False) -> Callable[[Ctx, Stmt], Choice | None]:
    """`auto`, one word or `any [...]` of `choices`; a callable is read on each use (a registry)."""
    def lower_choice(ctx: Ctx, stmt: Stmt) -> Choice | None:
        allowed = choices() if callable(choices) else choices
        node, span = stmt.value, ctx.span(stmt.value)
        if node.data == "word" and node.children[0].value == "auto":
            return Choice(kind="auto", span=span)
        if node.data == "qualified_list":
            inner = _any_list(ctx, stmt)
            words = None if inner is None else _word_list(ctx, stmt, inner, allowed, what, fold)
            return None if words is None else Choice(kind="any", values=words, span=span)
        if node.data == "list":
            _wrong_kind(ctx, stmt, f"`auto`, one {what} or `any [...]`", help=f"write `{stmt.name.value} = any [...]`")
            return None
        word = _word(ctx, stmt, node, ("auto", *allowed), what, fold)
        return None if word is None else Choice(kind="one", values=(word,), span=span)
    return lower_choice


def closed_word(allowed: tuple[str, ...], what: str) -> Callable[[Ctx, Stmt], Word | None]:
    return lambda ctx, stmt: _word(ctx, stmt, stmt.value, allowed, what)


def word_list_of(allowed: tuple[str, ...], what: str, example: str) -> Callable[[Ctx, Stmt], tuple[Word, ...] | None]:
    """A word from `allowed`, or a list of them (`emit = [compose]`, `isa = [avx2, avx512]`)."""
    def lower_list(ctx: Ctx, stmt: Stmt) -> tuple[Word, ...] | None:
        node = stmt.value
        if node.data == "word":
            word = _word(ctx, stmt, node, allowed, what)
            return None if word is None else (word,)
        if node.data != "list":
            _wrong_kind(ctx, stmt, f"a list of {what}s", help=f"write `{stmt.name.value} = [{example}]`")
            return None
        return _word_list(ctx, stmt, node, allowed, what)
    return lower_list


lower_emit = word_list_of(EMITS, "emit target", "compose")


def lower_license(ctx: Ctx, stmt: Stmt) -> Licenses | None:
    node, span = stmt.value, ctx.span(stmt.value)
    if node.data == "word" and node.children[0].value in LICENSE_CLASSES:
        return Licenses(kind=node.children[0].value, span=span)
    if node.data == "word":
        word = _word(ctx, stmt, node, (*LICENSE_CLASSES, *LICENSE_IDS), "license", fold=True)
        return None if word is None else Licenses(kind="list", ids=(word,), span=span)
    if node.data != "list" or not _items(node):
        _wrong_kind(ctx, stmt, "a list of license ids or one of any, permissive, commercial",
                    help="write `license = [apache-2.0, mit]` or `license = permissive`")
        return None
    for item in _items(node):
        if item.data == "word" and item.children[0].value in LICENSE_CLASSES:
            ctx.report(error(E_WRONG_KIND, f"`{item.children[0].value}` is a class of licenses, not a license id",
                             span=ctx.span(item), label="a class", help=f"write `license = {item.children[0].value}`"))
            return None
    ids = _word_list(ctx, stmt, node, LICENSE_IDS, "license", fold=True)
    return None if ids is None else Licenses(kind="list", ids=ids, span=span)


def _call(ctx: Ctx, stmt: Stmt, function: str) -> Text | None:
    """The one quoted argument of `function("...")`."""
    node = stmt.value
    name = node.children[0]
    if name.value != function:
        ctx.report(error(E_CALL, f"unknown function `{name.value}` here", span=ctx.span(name), label="unknown function",
                         detail=f"`{stmt.name.value}` accepts `{function}(\"...\")`.",
                         help=did_you_mean(name.value, [function]) or f"write `{function}(\"...\")`"))
        return None
    args = _items(node)
    if len(args) != 1 or args[0].data != "string":
        ctx.report(error(E_CALL, f"`{function}` takes one quoted string", span=ctx.span(node), label="wrong arguments",
                         help=f"write `{function}(\"...\")`"))
        return None
    return lower_text(ctx, stmt, args[0], limit=MAX_PATH if function == "local" else MAX_NAME)


def lower_model(ctx: Ctx, stmt: Stmt) -> ModelChoice | None:
    node, span = stmt.value, ctx.span(stmt.value)
    if node.data == "word" and node.children[0].value == "auto":
        return ModelChoice(kind="auto", span=span)
    if node.data == "string":
        text = lower_text(ctx, stmt)
        return None if text is None else ModelChoice(kind="id", ids=(text,), span=span)
    if node.data == "call":
        path = _call(ctx, stmt, "local")
        return None if path is None else ModelChoice(kind="local", path=path, span=span)
    if node.data == "qualified_list":
        inner = _any_list(ctx, stmt)
        ids = None if inner is None else [lower_text(ctx, stmt, item) for item in _items(inner)]
        return None if ids is None or None in ids else ModelChoice(kind="any", ids=tuple(ids), span=span)
    shown = node.children[0].value if node.data == "word" else "org/model"
    _wrong_kind(ctx, stmt, '`auto`, a quoted model id, `any ["...", ...]` or `local("path")`',
                help=f'write `model = "{shown}"`')
    return None


# The percentiles a latency bound may name (`ttft p99 <= 2s`); without one it bounds the mean.
PERCENTILES = ("mean", "p50", "p90", "p99")


def bound_of(allowed_ops: tuple[str, ...], kind: Kind, percentiles: bool = False) -> Callable[[Ctx, Stmt], Bound | None]:
    def lower_bound(ctx: Ctx, stmt: Stmt) -> Bound | None:
        if stmt.op not in allowed_ops:
            direction = "an upper bound" if allowed_ops == UPPER_BOUND else "a lower bound"
            comparator = next(c for c in stmt.node.children if isinstance(c, Tree) and c.data == "comparator")
            ctx.report(error(E_COMPARISON, f"`{stmt.name.value}` is {direction}: use `{allowed_ops[0]}` or "
                             f"`{allowed_ops[1]}`", span=ctx.span(comparator), label=f"`{stmt.op}` here",
                             help=f"write `{stmt.name.value} {allowed_ops[0]} ...`"))
            return None
        percentile = _percentile(ctx, stmt, percentiles)
        if percentile is False:
            return None
        example = "`1.5s` or `50ms`" if kind is Kind.DURATION else "`20 tok/s`"
        value = _number(ctx, stmt, (kind,), KIND_WORDS[kind], help=f"write a {kind.value} such as {example}")
        if value is None:
            return None
        span = ctx.span(stmt.value)
        if kind is Kind.DURATION:
            typed: Duration | Rate = Duration(seconds=float(value), span=span)
        else:
            typed = Rate(tok_s=float(value), span=span)
        return Bound(op=stmt.op, value=typed, percentile=percentile, span=ctx.span(stmt.node))
    return lower_bound


def _percentile(ctx: Ctx, stmt: Stmt, allowed: bool) -> str | None | bool:
    """The bound's percentile (None: the mean), or False after reporting a wrong one."""
    word = stmt.qualifier
    if word is None:
        return None
    name = stmt.name.value
    if not allowed:
        ctx.report(error(E_UNKNOWN_WORD, f"`{name}` takes no percentile", span=ctx.span(word),
                         label=f"`{word.value}` here", detail="Throughput and decode speed are averages over the "
                         "run; only `ttft` and `tpot` can bound a percentile.", help=f"write `{name} {stmt.op} ...`"))
        return False
    if word.value not in PERCENTILES:
        ctx.report(error(E_UNKNOWN_WORD, f"unknown percentile `{word.value}`", span=ctx.span(word),
                         label="not a known percentile", detail=f"Known percentiles: {', '.join(PERCENTILES)}.",
                         help=did_you_mean(word.value, PERCENTILES)))
        return False
    return None if word.value == "mean" else word.value


def lower_gpu(ctx: Ctx, stmt: Stmt) -> tuple[GpuGroup, ...] | str | None:
    """The GPU groups, or "none" for `gpu = none`."""
    node = stmt.value
    if node.data == "word" and node.children[0].value == "none":
        return "none"
    groups = _items(node) if node.data == "list" else [node]
    if not groups or any(g.data != "gpu_count" for g in groups):
        shown = next((g.children[0].value for g in groups if g.data in ("string", "word")), "RTX 4090")
        _wrong_kind(ctx, stmt, '`N x "GPU NAME"`, a list of those, or `none`',
                    help=f'write `gpu = 1 x "{unquote(shown) if shown.startswith(chr(34)) else shown}"`')
        return None
    lowered = [_gpu_group(ctx, stmt, g) for g in groups]
    return None if None in lowered else tuple(lowered)


def _gpu_group(ctx: Ctx, stmt: Stmt, node: Tree) -> GpuGroup | None:
    magnitude, _ = split_number(node.children[0].value)
    value = Decimal(magnitude)
    if value != value.to_integral_value():
        ctx.report(error(E_NOT_WHOLE, f"a GPU count must be whole, not {magnitude}", span=ctx.span(node.children[0]),
                         label="not whole", help=f"write {int(value) or 1} x ..."))
        return None
    name = _bounded(ctx, node.children[-1])
    return None if name is None else GpuGroup(count=int(value), name=name, span=ctx.span(node))


def lower_api_key(ctx: Ctx, stmt: Stmt) -> Text | None:
    if stmt.value.data == "string":
        ctx.report(error(E_INLINE_SECRET, "an API key is written into the spec", span=ctx.span(stmt.value),
                         label="secret in plain text", detail="Specs are committed and reviewed; a key written here "
                         "leaks. llmc reads keys only from the environment (or a secret file the environment names).",
                         help='write `api_key = env("LLMC_API_KEY")` and export LLMC_API_KEY'))
        return None
    if stmt.value.data != "call":
        _wrong_kind(ctx, stmt, '`env("NAME")`', help='write `api_key = env("LLMC_API_KEY")`')
        return None
    name = _call(ctx, stmt, "env")
    if name is None:
        return None
    if looks_like_secret(name.value):
        ctx.report(error(E_INLINE_SECRET, "`env(...)` holds what looks like the API key itself", span=name.span,
                         label="a secret, not a variable name", detail="`env(\"NAME\")` names the environment "
                         "variable that holds the key; the key itself never belongs in a spec, which is committed "
                         "and reviewed.", help='revoke the key, then write `api_key = env("LLMC_API_KEY")` and '
                         'export LLMC_API_KEY'))
        return None
    if not is_env_name(name.value):
        fixed = re.sub(r"[^A-Za-z0-9_]", "_", name.value).lstrip("0123456789") or "LLMC_API_KEY"
        ctx.report(error(E_ENV_NAME, f"`{name.value}` is not an environment variable name", span=name.span,
                         label="not a variable name", detail="A variable name is letters, digits and `_`, not "
                         "starting with a digit (POSIX); a shell reads `LLMC-API-KEY` as `$LLMC` followed by text.",
                         help=f'write `env("{fixed}")`'))
        return None
    return name


def checked_text(ok: Callable[[str], bool], code: str, what: str, label: str, help_for: Callable[[str, str], str],
                 detail: str = "") -> Callable[[Ctx, Stmt], Text | None]:
    """A quoted string that `ok` accepts; otherwise `code`: "`VALUE` is not WHAT", with the help
    `help_for(value, field)` gives."""
    def lower(ctx: Ctx, stmt: Stmt) -> Text | None:
        text = lower_text(ctx, stmt)
        if text is None or ok(text.value):
            return text
        ctx.report(error(code, f"`{text.value}` is not {what}", span=text.span, label=label, detail=detail,
                         help=help_for(text.value, stmt.name.value)))
        return None
    return lower


def _host_help(value: str, _field: str) -> str:
    shown = value.strip("[]")
    return f'write "{shown}" (without brackets)' if is_host(shown) else \
        'write an address such as "127.0.0.1" or "0.0.0.0"'


def _served_name_help(value: str, _field: str) -> str:
    return f'write "{re.sub(r"[^A-Za-z0-9_.:/-]+", "-", value).strip("-_.:/")[:128] or "my-model"}"'


def grammar_text(pattern, what: str, example: str) -> Callable[[Ctx, Stmt], Text | None]:
    """A quoted string that must match `pattern` (E205 naming `what` otherwise)."""
    return checked_text(lambda v: bool(pattern.fullmatch(v)), E_WRONG_KIND, what, f"not {what}",
                        lambda _v, field: f'write e.g. `{field} = "{example}"`')


lower_host = checked_text(
    is_host, E_HOST, "an IP address or a host name", "not an address", _host_help,
    detail="`host` is the address the server binds: an IPv4 or IPv6 address, or a host name of letters, digits, "
           "`-` and `.`.")
lower_served_name = checked_text(
    is_served_name, E_SERVED_NAME, "a served model name", "invalid name", _served_name_help,
    detail="Clients send this name as `model`; every runtime must accept it: letters, digits and `_ . : / -`, "
           "starting with a letter or digit, at most 128 characters.")


# ---------------------------------------------------------------------------
