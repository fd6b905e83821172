"""The pinned runtime's own flag table (generated from its parser: scripts/gen_*_flags.py), read as
`FlagTable`: which written flag is which setting, whether it takes a value, what values it allows."""

from __future__ import annotations

import functools
import importlib.resources
import json
from dataclasses import dataclass

from .base import RuntimeProfile


@dataclass(frozen=True)
class Flag:
    key: str                       # the table's identity for the setting: vLLM/SGLang dest, llama.cpp long flag
    takes_value: bool
    many: bool = False             # nargs '+': every word up to the next flag
    choices: tuple[str, ...] = ()
    optional: bool = False         # nargs '?': the value may be left out (vLLM --hf-token)


class FlagTable:
    def __init__(self, raw: dict, llama_style: bool) -> None:
        self._flags: dict[str, Flag] = {}
        for name, entry in raw["flags"].items():
            choices = tuple(entry.get("choices") or ())
            if llama_style:
                for alias in entry["aliases"]:
                    self._flags[alias] = Flag(name, entry["takes_value"], False, choices)
            else:
                self._flags[name] = Flag(entry["dest"], entry["takes_value"], entry.get("nargs") == "+", choices,
                                         entry.get("nargs") == "?")

    def get(self, written: str) -> Flag | None:
        return self._flags.get(written)

    def lookup(self, written: str, prefixes: bool = False, underscores: bool = False) -> Flag | None:
        """The flag a parser takes `written` for: itself; with `_` read as `-` (vLLM); or the one long option
        it is a prefix of (argparse's abbreviations; several make it ambiguous, which the parser rejects)."""
        found = self._flags.get(written)
        if found is None and underscores and written.startswith("--"):
            written = "--" + written[2:].replace("_", "-")
            found = self._flags.get(written)
        if found is None and prefixes and written.startswith("--") and len(written) > 2:
            options = {name: flag for name, flag in self._flags.items() if name.startswith(written)}
            keys = {flag.key for flag in options.values()}
            found = next(iter(options.values())) if len(keys) == 1 else None
        return found

    def key_of(self, long_flag: str) -> str | None:
        found = self._flags.get(long_flag)
        return found.key if found else None

    def names(self) -> list[str]:
        return sorted(self._flags)


@functools.cache
def flag_table(runtime: RuntimeProfile) -> FlagTable | None:
    """None for a runtime without a command line of its own (Ollama: variables and a Modelfile)."""
    name = runtime.pin.flags_file
    if name is None or not runtime.target_package:
        return None
    text = (importlib.resources.files(f"llmc.targets.{runtime.target_package}") / name).read_text(encoding="utf-8")
    raw = json.loads(text)
    return FlagTable(raw, llama_style=all("aliases" in e for e in raw["flags"].values()))


__all__ = ["Flag", "FlagTable", "flag_table"]
