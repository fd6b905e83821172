"""Context-aware escaping: the one place each output context is written.

Every value a template interpolates comes from a spec, a catalog record or a model file, so it is
untrusted. The template environment (`Target.__init__`, its `finalize`) refuses to interpolate a plain
string: each value passes through the filter of its context, which returns an `Escaped` string.

| filter | context | rule |
| --- | --- | --- |
| `sh` | a shell word | POSIX single quotes (`shlex.quote`); NUL cannot be represented |
| `line` | a `#` comment (shell, Modelfile) | one line, control characters escaped |
| `md`, `md_code` | Markdown prose or a table cell; an inline code span | one line; markup escaped, or the span delimited by more backticks than the value holds |
| `envname` | a shell variable name | validated `[A-Za-z_][A-Za-z0-9_]*`, never escaped |
| `modelfile` | an Ollama Modelfile value | quoted the way Ollama's parser/parser.go unquotes |
| `json_sh` | JSON as one shell word (`curl -d`) | `json.dumps`, then `sh` |

YAML scalars are written by ruamel.yaml (targets/yamlout.py), which quotes as YAML needs; the
interpolation languages inside YAML (Compose `${}`, Kubernetes `$()`) are escaped by
`compose_literal` and `kubernetes_literal` below.
"""

from __future__ import annotations

import json
import shlex

from ..names import is_env_name
from ..text import md_code, md_text, one_line


class Escaped(str):
    """A string already written for its output context."""


class UnsafeValue(ValueError):
    """A value that no escaping can write in its context (a NUL byte in a shell word)."""


def sh(value: object) -> Escaped:
    text = str(value)
    if "\x00" in text:
        raise UnsafeValue(f"a NUL byte cannot be part of a shell word: {text!r}")
    return Escaped(shlex.quote(text))


def line(value: object) -> Escaped:
    return Escaped(one_line(str(value)))


def envname(value: object) -> Escaped:
    text = str(value)
    if not is_env_name(text):
        raise UnsafeValue(f"{text!r} is not an environment variable name")
    return Escaped(text)


def json_sh(value: object) -> Escaped:
    return sh(json.dumps(value, ensure_ascii=False))


def modelfile(value: object, quoted: bool = False) -> Escaped:
    """A Modelfile value. Ollama reads a value to the end of the line, trims it, and strips one pair
    of `"` or `\"\"\"` (no escapes inside); it drops non-printable characters."""
    text = str(value)
    # Ollama keeps only runes strconv.IsPrint accepts: a value with any other would change silently.
    if '"""' in text or any(not ch.isprintable() and ch not in "\t\n" for ch in text):
        raise UnsafeValue(f"{text!r} cannot be written as a Modelfile value")
    needs_quotes = quoted or not text or "\n" in text or text != text.strip() or text[0] == '"'
    if not needs_quotes:
        return Escaped(text)
    return Escaped(f'"""{text}"""' if '"' in text or "\n" in text else f'"{text}"')


def compose_literal(value: str) -> str:
    """A string Compose must not interpolate: `$` is written `$$`."""
    return value.replace("$", "$$")


def kubernetes_literal(value: str) -> str:
    """A command, argument or env value the kubelet must not expand: `$(X)` is written `$$(X)`."""
    return value.replace("$", "$$")


def md(value: object) -> Escaped:
    return Escaped(md_text(str(value)))


def code(value: object) -> Escaped:
    return Escaped(md_code(str(value)))


FILTERS = {"sh": sh, "line": line, "envname": envname, "json_sh": json_sh, "modelfile": modelfile, "md": md,
           "md_code": code}


def finalize(value: object) -> object:
    """Jinja's `finalize`: only escaped strings and numbers reach a template's output."""
    if isinstance(value, Escaped) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise UnsafeValue(f"template interpolated {value!r} without an escaping filter")
