"""Command-line options as data, so one list renders a shell command and a config file."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .base import number
from .escape import Escaped, sh


class Raw(str):
    """A shell word the target writes itself (a "$VARIABLE" reference), never quoted: never user data."""


def word(token: str) -> Escaped:
    return Escaped(token) if isinstance(token, Raw) else sh(token)


@dataclass(frozen=True)
class Option:
    flag: str                                  # long flag with dashes, e.g. --max-model-len
    value: object = True                       # True/False (boolean flags), int, float, str, dict, list
    comment: str = ""                          # why, for the non-obvious ones

    @property
    def key(self) -> str:
        return self.flag.lstrip("-")

    def argv(self) -> list[str]:
        """The tokens on a command line (BooleanOptionalAction style for booleans)."""
        if self.value is True:
            return [self.flag]
        if self.value is False:
            return ["--no-" + self.key]
        if isinstance(self.value, dict):
            return [self.flag, json.dumps(self.value, sort_keys=True, separators=(",", ":"))]
        if isinstance(self.value, (list, tuple)):
            return [self.flag, *[str(v) for v in self.value]]
        if isinstance(self.value, float):
            return [self.flag, number(self.value)]
        if isinstance(self.value, Raw):
            return [self.flag, self.value]
        return [self.flag, str(self.value)]

    def shell(self) -> Escaped:
        return Escaped(" ".join(word(t) for t in self.argv()))


def argv(options: list[Option]) -> list[str]:
    return [token for option in options for token in option.argv()]
