"""`settings { ... }`: runtime settings pinned under the runtime's own names.

The names and kinds are the pinned runtime's knobs (llmc.runtimes.knobs, `Knob.pin`); a word with a fixed
set of values is checked against the runtime's own flag table (targets/*/flags_*.json). A pin is a
constraint for the solver (a fully pinned spec is evaluated, not searched) and is emitted as written.
"""

from __future__ import annotations

from decimal import Decimal

from .diagnostics import define_code, error
from .runtimes import PROFILES, names, profile
from .runtimes.flags import flag_table
from .runtimes.knobs import Knob
from .spec import Choice, Setting, Text
from .suggest import did_you_mean
from .units import DURATION_UNITS, Kind
from .values import (E_UNKNOWN_WORD, E_WRONG_KIND, Ctx, Stmt, _number, lower_bool, lower_int,
                     lower_text, lower_tokens)

E_NO_RUNTIME = define_code("E233", "Settings without one runtime", __name__)
E_UNKNOWN_SETTING = define_code("E234", "Unknown runtime setting", __name__)
E_VERSION = define_code("E235", "Runtime version llmc does not emit", __name__)
E_SETTING_RANGE = define_code("E236", "Runtime setting out of range", __name__)

# The most any setting may be (a count, a token budget): far past real deployments, as the spec's ranges.
MAX_SETTING = 16 * 1024 * 1024


def lower_settings(ctx: Ctx, stmt: Stmt, items: list[Stmt],
                   runtime: Choice | None) -> tuple[tuple[Setting, ...], Text | None] | None:
    """The block's pins and its `version`; None after an error that leaves nothing to lower."""
    if runtime is None or runtime.kind != "one":
        ctx.report(error(E_NO_RUNTIME, "`settings` needs the runtime they belong to", span=ctx.span(stmt.name),
                         label="settings of which runtime?",
                         detail="Settings use the runtime's own names (vLLM's max_num_seqs is SGLang's "
                                "max_running_requests), so the spec must pin one runtime.",
                         help=f"add `runtime = {names()[0]}` (or {', '.join(names()[1:])})"))
        return None
    rt = profile(runtime.values[0].value)
    knobs = {k.name: k for k in rt.knobs if k.pin}
    out: list[Setting] = []
    version = None
    seen: set[str] = set()
    for item in items:
        name = item.name.value
        if item.form != "attribute" or name in seen:
            ctx.report(error(E_WRONG_KIND, f"`{name}` is written `{name} = value` once", span=ctx.span(item.name)))
            continue
        seen.add(name)
        if name == "version":
            version = _version(ctx, item, rt)
            continue
        knob = knobs.get(name)
        if knob is None:
            _unknown(ctx, item, rt, knobs)
            continue
        value = _value(ctx, item, knob, rt)
        if value is not None:
            out.append(Setting(name=name, setting=knob.setting, value=value, span=ctx.span(item.value)))
    return tuple(out), version


def _unknown(ctx: Ctx, item: Stmt, rt, knobs: dict[str, Knob]) -> None:
    name = item.name.value
    elsewhere = [(r.name, k) for r in PROFILES.values() if r is not rt for k in r.knobs if k.name == name and k.pin]
    mine = rt.knob(elsewhere[0][1].setting) if elsewhere else None
    hint = did_you_mean(name, sorted(knobs))
    if mine is not None and mine.pin:
        hint = f"`{name}` is {elsewhere[0][0]}'s name; {rt.name} calls it `{mine.name}`"
    language = next((k for k in rt.knobs if k.name == name and not k.pin), None)
    if language is not None and language.language_field:
        hint = f"`{name}` is not a setting here: write the spec's `{language.setting}` field"
    ctx.report(error(E_UNKNOWN_SETTING, f"{rt.name} has no setting `{name}` that llmc pins", span=ctx.span(item.name),
                     label="unknown setting", detail=f"{rt.name} settings: " + ", ".join(sorted(knobs)) + ".",
                     help=hint))


def _value(ctx: Ctx, item: Stmt, knob: Knob, rt) -> bool | int | float | str | None:
    kind = knob.kind
    if kind == "bool":
        b = lower_bool(ctx, item)
        return None if b is None else b.value != knob.invert   # `disable_radix_cache = true`: no prefix caching
    if kind == "text":
        t = lower_text(ctx, item)
        return None if t is None else t.value
    if kind == "word":
        return _choice(ctx, item, knob, rt)
    if kind == "duration":
        return _duration(ctx, item)
    if kind == "fraction":
        value = _number(ctx, item, (Kind.NUMBER,), "a fraction between 0 and 1", help="write e.g. `0.9`")
        if value is None:
            return None
        if not Decimal(0) < value <= Decimal(1):
            ctx.report(error(E_SETTING_RANGE, f"`{knob.name}` is a fraction of GPU memory: above 0 and at most 1",
                             span=ctx.span(item.value), label="out of range", help="write e.g. `0.9`"))
            return None
        return float(value)
    lowered = lower_tokens(ctx, item) if kind == "tokens" else lower_int(ctx, item)
    if lowered is None:
        return None
    if not 0 <= lowered.value <= MAX_SETTING or (lowered.value == 0 and knob.setting not in ZERO_OK):
        ctx.report(error(E_SETTING_RANGE, f"`{knob.name} = {lowered.value}` is out of range", span=lowered.span,
                         label="out of range", help=f"write a value from {0 if knob.setting in ZERO_OK else 1} "
                                                    f"to {MAX_SETTING}"))
        return None
    return lowered.value


# 0 is meaningful: no layers on the GPU (all on the CPU), no experts kept on the CPU, every thread.
ZERO_OK = ("gpu_layers", "n_cpu_moe", "threads")


def _choice(ctx: Ctx, item: Stmt, knob: Knob, rt) -> str | None:
    node = item.value
    if node.data not in ("word", "number"):
        ctx.report(error(E_WRONG_KIND, f"`{knob.name}` takes a word", span=ctx.span(node), label="not a word"))
        return None
    value = node.children[0].value
    table = flag_table(rt)
    flag = table.get(knob.flag) if table and knob.flag else None
    choices = flag.choices if flag else knob.choices
    if choices and value not in choices:
        ctx.report(error(E_UNKNOWN_WORD, f"`{value}` is not a value {rt.name} {rt.pin.version} takes for "
                         f"{knob.flag or knob.name}", span=ctx.span(node), label="not accepted",
                         detail="Accepted (the runtime's own parser): " + ", ".join(choices) + ".",
                         help=did_you_mean(value, list(choices))))
        return None
    return value


def _duration(ctx: Ctx, item: Stmt) -> float | None:
    node = item.value
    if node.data == "word" and node.children[0].value == "forever":
        return -1.0
    value = _number(ctx, item, (Kind.DURATION,), "a duration or `forever`",
                    help=f"write e.g. `30 min` or `forever` ({', '.join(DURATION_UNITS)})")
    return None if value is None else float(value)


def _version(ctx: Ctx, item: Stmt, rt) -> Text | None:
    text = lower_text(ctx, item)
    if text is None:
        return None
    if text.value.lstrip("v") != rt.pin.version.lstrip("v"):
        ctx.report(error(E_VERSION, f"llmc emits {rt.name} {rt.pin.version}, not {text.value}", span=text.span,
                         label="another release",
                         detail="Flags, defaults and memory rules differ between releases (vLLM V0 and V1 profile "
                                "memory differently); llmc models and emits one pinned release per runtime.",
                         help=f'write `version = "{rt.pin.version}"`, or remove it'))
        return None
    return text


__all__ = ["lower_settings"]
