"""A runtime's settings as its users write them: `Knob`.

One knob is one setting with its runtime's own name, the flag (or environment variable, or Modelfile
PARAMETER) that sets it, and what it means to llmc: the plan field it pins (`setting`). Three stages read
the same table: the language (a spec's `settings { ... }` block accepts the knobs with `pin`), `llmc import`
(flags, variables and parameters of a hand-written config become pins or language fields) and `llmc lint`
(rules ask for `server.value("context")`, whatever the runtime calls it). This module is a leaf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The GPU programming stacks a runtime may be built on (a catalog GPU lists, per runtime, those that serve it),
# and the CPU a host without a GPU runs on.
GPU_BACKENDS = ("cuda", "rocm", "vulkan", "metal", "sycl", "xpu")
BACKENDS = (*GPU_BACKENDS, "cpu")

Kind = Literal["int", "fraction", "bool", "word", "text", "tokens", "duration", "flag"]

# What a knob pins when it is not a `settings` entry: a field of the language (import writes it there).
LANGUAGE_FIELDS = ("model", "context", "kv_cache", "kv_cache_v", "quantization", "host", "port", "api_key",
                   "served_name")


@dataclass(frozen=True)
class Knob:
    setting: str                  # llmc's name: a plan field (tensor, slots, gpu_memory_utilization ...) or a
    #                               LANGUAGE_FIELDS entry, or a behaviour lint reads (tool_call_parser ...)
    name: str                     # the runtime's own name, as a spec's `settings` block writes it
    kind: Kind
    flag: str | None = None       # the long flag; its aliases come from the runtime's flag table
    env: str | None = None        # an environment variable that sets it
    parameter: str | None = None  # an Ollama Modelfile PARAMETER
    invert: bool = False          # the flag says the opposite of the setting (--disable-radix-cache)
    pin: bool = True              # a spec may pin it in `settings { ... }` (else it has a language field)
    choices: tuple[str, ...] = () # the values it takes when no flag table says (the backend)

    @property
    def language_field(self) -> bool:
        return self.setting in LANGUAGE_FIELDS


@dataclass(frozen=True)
class Tunable:
    """A setting `llmc tune` searches near the plan's value on the target machine (Knob.setting names it).
    Rules: `scale` tries half and double; `step` the value 2 below and above; `threads` the machine's cores,
    half of them and one fewer (ggml's threads contend with the server's own thread)."""

    setting: str
    rule: Literal["scale", "step", "threads"]
    default: int | None = None    # the runtime's value when the plan leaves the setting unset
    minimum: int = 1
    needs_gpu: bool = False       # only a host with GPUs has it (layers on the GPU)


def backend_knob() -> Knob:
    """The build or image the runtime runs on: not a flag, the stack (`llmc.solve` checks the GPU has it)."""
    return Knob("backend", "backend", "word", choices=BACKENDS)


def knob(setting: str, name: str, kind: Kind, **kw) -> Knob:
    pin = kw.pop("pin", True) and setting not in LANGUAGE_FIELDS
    return Knob(setting, name, kind, pin=pin, **kw)


__all__ = ["BACKENDS", "GPU_BACKENDS", "LANGUAGE_FIELDS", "Kind", "Knob", "Tunable", "backend_knob", "knob"]
