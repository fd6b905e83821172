"""Runtime profiles: one home for what llmc knows about each runtime.

`PROFILES` is the registry, in the spec's order; `profile(name)` looks one up (an unknown name
raises `UnknownRuntime`, a ValueError naming the known ones); `names()` is the spec's word list.
Every stage reads these instead of keeping its own per-runtime list or name branch.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from .base import KV_LLAMA, KV_PAGED, Efficiency, Pin, RuntimeProfile, Scheduler, by_memory
from .llamacpp import PROFILE as LLAMACPP
from .ollama import PROFILE as OLLAMA
from .sglang import PROFILE as SGLANG
from .vllm import PROFILE as VLLM

PROFILES: dict[str, RuntimeProfile] = {p.name: p for p in (VLLM, LLAMACPP, OLLAMA, SGLANG)}


class UnknownRuntime(ValueError):
    def __init__(self, name: object) -> None:
        self.name = name
        self.known = names()
        super().__init__(f"unknown runtime {name!r}; known runtimes: {', '.join(self.known)}")


def profile(name: str) -> RuntimeProfile:
    found = PROFILES.get(name) if isinstance(name, str) else None
    if found is None:
        raise UnknownRuntime(name)
    return found


def names() -> tuple[str, ...]:
    return tuple(PROFILES)


def known(name: object) -> bool:
    return isinstance(name, str) and name in PROFILES


def check_name(name: str) -> str:
    """A pydantic AfterValidator: the name of a registered runtime (UnknownRuntime is a ValueError,
    so pydantic reports it as a validation error, never a KeyError)."""
    profile(name)
    return name


def name_schema() -> dict:
    """The JSON schema of a runtime name: one of the registered names."""
    return {"enum": list(names()), "type": "string"}


# A field holding a runtime name (plan.runtime.name, a catalog runtime record's name).
RuntimeName = Annotated[str, AfterValidator(check_name), WithJsonSchema(name_schema())]

__all__ = [
    "Efficiency",
    "by_memory",
    "KV_LLAMA",
    "KV_PAGED",
    "PROFILES",
    "Pin",
    "RuntimeName",
    "RuntimeProfile",
    "Scheduler",
    "UnknownRuntime",
    "check_name",
    "known",
    "name_schema",
    "names",
    "profile",
]
