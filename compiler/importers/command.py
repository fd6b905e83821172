"""A server's command line (and its environment) → `Server`: which runtime, and each flag as a setting.

The runtime is recognised by its profile's `commands` (`vllm serve`, `python -m sglang.launch_server`,
`llama-server`, `ollama serve`) or, in a container, by its image; flags are looked up in the pinned
release's own flag table, so an alias (`-tp`, `-ngl`, `--tensor-parallel-size=2`) is the same setting and a
flag the release lacks is reported, never guessed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from ..names import split_image
from ..runtimes import PROFILES, RuntimeProfile
from ..source import SourceFile, Span
from .config import Server, Value
from ..runtimes.flags import flag_table
from .shell import Word, resolve

PYTHON = re.compile(r"python[0-9.]*")

SpanOf = Callable[[Word], Span]


def offset_span(source: SourceFile) -> SpanOf:
    """Spans for words whose offsets are offsets into `source`."""
    def span(word: Word) -> Span:
        start = source.span_at(word.start)
        end = source.span_at(max(word.start, word.end - 1))
        return start.model_copy(update={"end_line": end.line, "end_col": end.col + 1})
    return span


def recognise(words: Sequence[Word]) -> tuple[RuntimeProfile, int] | None:
    """The runtime a command starts and how many words name it (`vllm serve` is 2)."""
    names = [_program(w.text) if i == 0 else w.text for i, w in enumerate(words)]
    for runtime in PROFILES.values():
        for start in runtime.commands:
            if tuple(names[:len(start)]) == tuple(_program(p) if i == 0 else p for i, p in enumerate(start)):
                return runtime, len(start)
    return None


def _program(word: str) -> str:
    base = os.path.basename(word)
    return "python" if PYTHON.fullmatch(base) else base


def runtime_of_image(image: str) -> RuntimeProfile | None:
    """`docker.io/vllm/vllm-openai:v0.33.0` → vLLM: the repository without registry and tag."""
    repo = split_image(image)[0]
    return next((r for r in PROFILES.values() if repo in r.images), None)


def image_tag(image: str) -> str | None:
    return split_image(image)[1]


def image_defaults(runtime: RuntimeProfile, env: dict[str, Word], at: Word) -> dict[str, Word]:
    """A container's environment: its image's own (Runtime.image_env) under what the config sets."""
    return {**{name: Word(f"{name}={value}", at.start, at.end) for name, value in runtime.image_env}, **env}


def server_from_args(runtime: RuntimeProfile, args: Sequence[Word], env: dict[str, Word], span: Span,
                     span_of: SpanOf, variables: dict[str, Word] | None = None) -> Server:
    """The settings a runtime's arguments and environment give; the flag wins over the variable, as it
    does in llama.cpp (common/arg.cpp: "the command line takes precedence") and in vLLM. `variables` are
    what the words may expand (the script's own, exported or not); `env` is what the process inherits."""
    server = Server(runtime=runtime, span=span)
    _read_env(server, env, span_of)
    _read_flags(server, [resolve(w, variables if variables is not None else env) for w in args], span_of)
    return server


def _read_env(server: Server, env: dict[str, Word], span_of: SpanOf) -> None:
    by_env = {k.env: k for k in server.runtime.knobs if k.env}
    for name, word in env.items():
        if not name.isidentifier():   # $0, the script's own path
            continue
        value = Value(word.text.partition("=")[2], span_of(word), name, word.symbolic)
        server.env[name] = value
        if name in by_env:
            server.settings[by_env[name].setting] = value


def _read_flags(server: Server, args: list[Word], span_of: SpanOf) -> None:
    rt = server.runtime
    table = flag_table(rt)
    by_key = {table.key_of(k.flag): k for k in server.runtime.knobs if k.flag and table and table.key_of(k.flag)}
    i = 0
    while i < len(args):
        word = args[i]
        written, eq, inline = word.text.partition("=")
        flag = table.lookup(written, rt.flag_prefixes, rt.flag_underscores) if table and written.startswith("-") \
            else None
        if not word.text.startswith("-"):
            if server.runtime.model_positional and "model" not in server.settings:
                server.settings["model"] = Value(word.text, span_of(word), "the model argument", word.symbolic)
            i += 1
            continue
        if flag is None:
            server.unknown.append(Value(None, span_of(word), written, word.symbolic))
            i += 1 + _skip_value(args, i, eq)
            continue
        values: list[Word] = []
        if flag.takes_value and eq:
            values = [Word(inline, word.start + len(written) + 1, word.end, word.symbolic)]
        elif flag.takes_value:
            while i + 1 < len(args) and (not args[i + 1].text.startswith("-") or _is_number(args[i + 1].text)):
                i += 1
                values.append(args[i])
                if not flag.many:
                    break
        knob = by_key.get(flag.key)
        text = " ".join(v.text for v in values) if values else None
        if text and knob is not None and knob.kind == "tokens" and rt.human_readable_ints:
            text = human_readable_int(text)
        value = Value(text, span_of(word).to(span_of(values[-1] if values else word)), written,
                      any(v.symbolic for v in values))
        server.flags.append((flag, value))
        if knob is not None:
            server.settings[knob.setting] = value
        i += 1


def human_readable_int(text: str) -> str:
    """vLLM's human_readable_int (utils/argparse_utils.py): `32k` is 32,000 and `32K` is 32,768."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgGtT])", text.strip())
    if not m:
        return text
    number, suffix = m.groups()
    scale = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}.get(suffix) or {"K": 2**10, "M": 2**20, "G": 2**30,
                                                                             "T": 2**40}[suffix]
    return str(int(float(number) * scale))


def _skip_value(args: list[Word], i: int, eq: str) -> int:
    """An unknown flag: the word after it is taken for its value (most flags take one), not for the model."""
    if eq or i + 1 >= len(args):
        return 0
    nxt = args[i + 1].text
    return 1 if not nxt.startswith("-") or _is_number(nxt) else 0


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) is not None


__all__ = ["image_defaults", "image_tag", "offset_span", "recognise", "runtime_of_image", "server_from_args"]
