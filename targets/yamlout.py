"""Deterministic YAML with comments (ruamel.yaml): insertion-ordered maps, no timestamps."""

from __future__ import annotations

import io
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

# Words a YAML 1.1 reader (and some Go decoders) takes for booleans or null: always quote them.
AMBIGUOUS = {"y", "yes", "n", "no", "on", "off", "true", "false", "null", "~", ""}


def _safe(value: object) -> object:
    if isinstance(value, str) and value.lower() in AMBIGUOUS:
        return SingleQuotedScalarString(value)
    if isinstance(value, CommentedMap):
        for key in value:
            value[key] = _safe(value[key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _safe(item)
    return value


def cmap(*pairs: tuple[str, object], comments: dict[str, str] | None = None) -> CommentedMap:
    """A map from (key, value) pairs; `comments` puts an end-of-line comment on a key."""
    out = CommentedMap()
    for key, value in pairs:
        out[key] = value
    for key, text in (comments or {}).items():
        out.yaml_add_eol_comment(text, key)
    return out


def script(text: str) -> LiteralScalarString:
    """A multi-line shell script as a YAML literal block (|), readable as written."""
    return LiteralScalarString(text.rstrip("\n") + "\n")


def flow(items: list | tuple) -> CommentedSeq:
    """A one-line [a, b] list when every item is a plain word; block style otherwise (readers disagree
    on ':' and quotes inside flow collections)."""
    seq = CommentedSeq(items)
    if all(isinstance(i, str) and re.fullmatch(r"[\w./-]+", i) for i in items):
        seq.fa.set_flow_style()
    return seq


def dump(data: object, header: str = "") -> str:
    yaml = YAML()
    yaml.width = 4096          # long commands stay on one line
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    if header:
        out.write("".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()))
    yaml.dump(_safe(data), out)
    return out.getvalue()


def dump_all(documents: list, header: str = "") -> str:
    return "---\n".join(dump(doc, header if i == 0 else "") for i, doc in enumerate(documents))
