"""An Ollama Modelfile (`FROM`, `PARAMETER name value`, `TEMPLATE`), and `OLLAMA_*` variables files.

Ollama's own parser (parser/parser.go) takes one instruction per line, case-insensitive, with values
optionally in double or triple double quotes; PARAMETER names are api.Options' JSON names (api/types.go).
"""

from __future__ import annotations

import re

from ..runtimes import PROFILES, RuntimeProfile
from ..source import SourceFile, Span
from .config import ConfigFile, Server, Value

INSTRUCTION = re.compile(r"^[ \t]*(FROM|PARAMETER|TEMPLATE|SYSTEM|ADAPTER|LICENSE|MESSAGE|REQUIRES)\b[ \t]*(.*)$",
                         re.IGNORECASE | re.MULTILINE)


def modelfile_runtime() -> RuntimeProfile | None:
    """The runtime whose knobs are Modelfile parameters."""
    return next((r for r in PROFILES.values() if any(k.parameter for k in r.knobs)), None)


DOCKERFILE = re.compile(r"^[ \t]*(RUN|CMD|ENTRYPOINT|COPY|WORKDIR|EXPOSE|ENV)\b", re.IGNORECASE | re.MULTILINE)


def looks_like_modelfile(text: str) -> bool:
    """A `FROM` line and none of a Dockerfile's instructions (a Dockerfile starts `FROM image` too)."""
    text = _outside_quotes(text)
    return re.search(r"^[ \t]*FROM[ \t]+\S", text, re.IGNORECASE | re.MULTILINE) is not None and \
        not re.search(r"^[ \t]*(services|apiVersion)\s*:", text, re.MULTILINE) and not DOCKERFILE.search(text)


def _outside_quotes(text: str) -> str:
    """The text with triple-quoted bodies (TEMPLATE, SYSTEM, MESSAGE) blanked, offsets kept: a line inside
    them that starts "From now on ..." is no instruction."""
    return re.sub(r'"""(.*?)"""', lambda m: '"""' + re.sub(r"[^\n]", " ", m.group(1)) + '"""', text, flags=re.S)


def read_modelfile(source: SourceFile) -> ConfigFile:
    config = ConfigFile(source=source, kind="modelfile")
    runtime = modelfile_runtime()
    if runtime is None:
        return config
    by_parameter = {k.parameter.lower(): k for k in runtime.knobs if k.parameter}
    server: Server | None = None
    for m in INSTRUCTION.finditer(_outside_quotes(source.text)):
        word, rest = m.group(1).upper(), source.text[m.start(2):m.end(2)].strip()
        span = _span(source, m.start(1), len(m.group(1)))
        if word == "FROM":
            server = Server(runtime=runtime, span=span)
            server.settings["model"] = Value(rest, _span(source, m.start(2), len(rest)), "FROM")
            config.servers.append(server)
        elif server is None:
            continue
        elif word == "PARAMETER":
            name, _, value = rest.partition(" ")
            knob = by_parameter.get(name.lower())
            if knob is not None:
                server.settings[knob.setting] = Value(value.strip().strip('"'), _span(source, m.start(2), len(rest)),
                                                      name)
        elif word == "TEMPLATE":
            server.template = True
    return config


def _span(source: SourceFile, offset: int, length: int) -> Span:
    start = source.span_at(offset)
    return start.model_copy(update={"end_col": start.col + max(1, length)})


__all__ = ["looks_like_modelfile", "modelfile_runtime", "read_modelfile"]
