"""A Modelfile checker that follows Ollama v0.33's own rules (parser/parser.go, api/types.go).

Instructions are case-insensitive; PARAMETER names are exactly the JSON tags of api.Options,
an unknown name is an error (`unknown parameter '<name>'`), deprecated ones are dropped with a
warning, and a value must parse as the option's type.
"""

from __future__ import annotations

import re

INSTRUCTIONS = ("from", "parameter", "template", "system", "adapter", "license", "message", "requires",
                "draft", "renderer", "parser")
INT, FLOAT, BOOL, STRINGS = "int", "float", "bool", "string list"
PARAMETERS = {
    "num_ctx": INT, "num_batch": INT, "num_gpu": INT, "main_gpu": INT, "use_mmap": BOOL, "num_thread": INT,
    "draft_num_predict": INT, "num_keep": INT, "seed": INT, "num_predict": INT, "top_k": INT,
    "repeat_last_n": INT, "top_p": FLOAT, "min_p": FLOAT, "typical_p": FLOAT, "temperature": FLOAT,
    "repeat_penalty": FLOAT, "presence_penalty": FLOAT, "frequency_penalty": FLOAT, "stop": STRINGS,
}
DEPRECATED = ("mirostat", "mirostat_tau", "mirostat_eta", "use_mlock", "low_vram", "f16_kv", "penalize_newline",
              "logits_all", "vocab_only")
ROLES = ("system", "user", "assistant")
_BOOL_WORDS = ("1", "t", "true", "0", "f", "false")  # Go strconv.ParseBool


def check(text: str) -> list[str]:
    """Errors Ollama would raise for this Modelfile (empty = `ollama create` accepts it)."""
    return _check(text)[0]


def warnings_of(text: str) -> list[str]:
    return _check(text)[1]


def _check(text: str) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    has_from = False
    for number, (instruction, args) in enumerate(_commands(text, errors), 1):
        name = instruction.lower()
        if name not in INSTRUCTIONS:
            errors.append(f"command must be one of {', '.join(repr(i) for i in INSTRUCTIONS)}: got {instruction!r}")
            continue
        if not args.strip():
            errors.append(f"missing value for [{instruction}]")
            continue
        has_from |= name == "from"
        if name == "parameter":
            _check_parameter(args, errors, warnings)
        elif name == "message":
            role = args.split(None, 1)[0].lower()
            if role not in ROLES:
                errors.append(f"message role must be one of {ROLES}: got {role!r}")
        elif name == "requires" and not re.fullmatch(r"v?\d+(\.\d+){0,2}(-[\w.]+)?", args.strip()):
            errors.append(f"REQUIRES needs a semantic version: got {args.strip()!r}")
    if not has_from:
        errors.append("no FROM line")
    return errors, warnings


def _check_parameter(args: str, errors: list[str], warnings: list[str]) -> None:
    parts = args.strip().split(None, 1)
    if len(parts) != 2:
        errors.append(f"PARAMETER needs a name and a value: {args.strip()!r}")
        return
    name, value = parts[0].lower(), _unquote(parts[1])
    if name in DEPRECATED:
        warnings.append(f"parameter {name!r} is deprecated and ignored")
        return
    kind = PARAMETERS.get(name)
    if kind is None:
        errors.append(f"unknown parameter '{name}'")
    elif kind == INT and not re.fullmatch(r"[+-]?\d+", value):
        errors.append(f"invalid int value [{value}] for {name}")
    elif kind == FLOAT and not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value):
        errors.append(f"invalid float value [{value}] for {name}")
    elif kind == BOOL and value.lower() not in _BOOL_WORDS:
        errors.append(f"invalid bool value [{value}] for {name}")


def _unquote(value: str) -> str:
    """parser.go `unquote`: strip one pair of triple or of single double-quotes; no escapes inside."""
    value = value.strip()
    for quote in ('"""', '"'):
        if value.startswith(quote) and len(value) >= 2 * len(quote) and value.endswith(quote):
            return value[len(quote):-len(quote)]
    return value


def _commands(text: str, errors: list[str]):
    """Yield (instruction, arguments), joining \"\"\"multi-line\"\"\" values."""
    lines = iter(text.splitlines())
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        instruction, _, args = stripped.partition(" ")
        if args.count('"""') == 1:
            collected = [args]
            for more in lines:
                collected.append(more)
                if '"""' in more:
                    break
            else:
                errors.append(f"unterminated \"\"\" in {instruction}")
            args = "\n".join(collected)
        yield instruction, args


def instructions(text: str) -> list[tuple[str, str]]:
    """(instruction in lower case, value as Ollama reads it) for every instruction."""
    return [(name.lower(), _unquote(args)) for name, args in _commands(text, [])]


def parameters(text: str) -> dict[str, list[str]]:
    """PARAMETER values by name (for tests and the equivalent llama-server command)."""
    found: dict[str, list[str]] = {}
    for instruction, args in _commands(text, []):
        if instruction.lower() == "parameter":
            name, _, value = args.strip().partition(" ")
            found.setdefault(name.lower(), []).append(_unquote(value))
    return found


__all__ = ["check", "instructions", "parameters", "warnings_of", "PARAMETERS"]
