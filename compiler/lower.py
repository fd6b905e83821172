"""Lark tree → `Spec` (llmc.spec), plus diagnostics.

The grammar accepts any `name = value`, `name <= value` and `name { ... }`; this module
knows the schema: which names exist in which block, what kind of value each takes, and
the closed sets of words (tasks, runtimes, formats, licenses ...). Every lowered value
keeps the span it came from. Unknown names get a did-you-mean from llmc.suggest.
Converting one value (a token count, a GPU list, `any [...]`) lives in values.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lark import Tree
from pydantic import ValidationError

from .catalog import format_ids, kv_type_ids
from .diagnostics import Diagnostic, Label, define_code, error, has_errors, warning
from .names import DNS_LABEL, INTERFACE, RESOURCE, as_dns_label
from .pins import lower_settings
from .runtimes import PROFILES
from .runtimes import names as runtime_names
from .source import SourceFile, Span
from .spec import (
    CPU_ISA,
    LINKS,
    PREFERENCES,
    TASKS,
    THINKING,
    Deployment,
    Hardware,
    Latency,
    Serve,
    Spec,
    Workload,
)
from .suggest import did_you_mean
from .units import Kind
from .values import (
    E_COMPARISON,
    E_WRONG_KIND,
    LOWER_BOUND,
    UPPER_BOUND,
    Ctx,
    Stmt,
    bound_of,
    choice_of,
    grammar_text,
    closed_word,
    lower_api_key,
    lower_bandwidth,
    lower_bool,
    lower_bytes,
    lower_emit,
    lower_fraction,
    lower_gpu,
    lower_host,
    lower_int,
    lower_license,
    lower_model,
    lower_served_name,
    lower_request_rate,
    lower_tokens,
    unquote,
    word_list_of,
)

__all__ = ["lower"]

E_UNKNOWN_FIELD = define_code("E201", "Unknown field", __name__)
E_UNKNOWN_BLOCK = define_code("E202", "Unknown block", __name__)
E_BLOCK_OR_FIELD = define_code("E203", "Block written as a field, or a field as a block", __name__)
E_REPEATED = define_code("E204", "Field set twice", __name__)
E_BAD_NAME = define_code("E207", "Invalid deployment name", __name__)
E_DUPLICATE_DEPLOYMENT = define_code("E208", "Deployment name used twice", __name__)
E_NO_DEPLOYMENT = define_code("E209", "No deployment in the file", __name__)
E_MISSING = define_code("E210", "Required field missing", __name__)
E_OUTSIDE = define_code("E214", "Field outside a deployment block", __name__)
W_ALWAYS_MET = define_code("W230", "Lower bound of zero", __name__)



def lower(source: SourceFile, tree: Tree) -> tuple[Spec, list[Diagnostic]]:
    """Lower a parsed file: every statement is lowered and every error reported, as rustc and ruff do (a
    bad deployment name does not hide the errors inside its block). The Spec holds the deployments whose
    blocks lowered without an error, so the semantic checks run on them in the same pass; a file with any
    error is still malformed (the caller builds nothing)."""
    ctx = Ctx(source)
    deployments = _lower_file(ctx, [_stmt(s) for s in tree.children])
    diagnostics = sorted(ctx.diagnostics, key=lambda d: (d.span.line, d.span.col) if d.span else (0, 0))
    return Spec(file=source.path, deployments=tuple(deployments)), diagnostics



def clean_spec(source: SourceFile) -> tuple[Tree, Spec] | None:
    """The tree and spec of a text llmc wrote itself (an imported config, a --hardware block): None when it
    does not parse or lower without an error, or holds no deployment (lower returns the clean part of a file)."""
    from .parse import parse

    tree, diagnostics = parse(source)
    if tree is None or has_errors(diagnostics):
        return None
    spec, lowered = lower(source, tree)
    return None if has_errors(lowered) or not spec.deployments else (tree, spec)

def _stmt(node: Tree) -> Stmt:
    children = node.children
    if node.data == "attribute":
        return Stmt("attribute", children[0], node, value=children[2])
    if node.data == "bound":
        qualifier = children[1].children[0] if children[1].data == "percentile" else None
        return Stmt("bound", children[0], node, value=children[-1], op=children[-2].children[0].value,
                    qualifier=qualifier)
    label = next((c.children[0] for c in children if isinstance(c, Tree) and c.data == "label"), None)
    body = [c for c in children if isinstance(c, Tree) and c.data != "label"]
    return Stmt("block", children[0], node, label=label, body=body)


# ---------------------------------------------------------------------------
# The file and its deployments
# ---------------------------------------------------------------------------

def _lower_file(ctx: Ctx, statements: list[Stmt]) -> list[Deployment]:
    deployments: list[Deployment] = []
    seen: dict[str, Span] = {}
    for stmt in statements:
        if not _is_deployment(ctx, stmt):
            continue
        name = _deployment_name(ctx, stmt, seen)
        before = len(ctx.diagnostics)
        deployment = _lower_deployment(ctx, stmt, name or UNNAMED)
        if deployment is not None and not has_errors(ctx.diagnostics[before:]):
            deployments.append(deployment)
    if not statements:
        ctx.report(error(E_NO_DEPLOYMENT, "no deployment in this file", span=ctx.source.span_at(0, 1),
                         detail="A .llmspec file holds one or more `deployment \"NAME\" { ... }` blocks.",
                         help='start with `deployment "my-service" { hardware { gpu = 1 x "RTX 4090" } }`'))
    return deployments


def _is_deployment(ctx: Ctx, stmt: Stmt) -> bool:
    if stmt.form == "block" and stmt.name.value == "deployment":
        return True
    if stmt.form == "block":
        ctx.report(error(E_UNKNOWN_BLOCK, f"unknown block `{stmt.name.value}`", span=ctx.span(stmt.name),
                         label="unknown block", detail="At the top of a file only `deployment \"NAME\" { ... }` "
                         "blocks are allowed.", help=did_you_mean(stmt.name.value, ["deployment"])
                         or _home_help(stmt.name.value)))
        return False
    ctx.report(error(E_OUTSIDE, f"`{stmt.name.value}` is outside any deployment block", span=ctx.span(stmt.name),
                     label="not inside a deployment", detail="Every field belongs to a `deployment \"NAME\" { ... }` "
                     "block.", help=_home_help(stmt.name.value) or "move it inside a deployment block"))
    return False


def _deployment_name(ctx: Ctx, stmt: Stmt, seen: dict[str, Span]) -> str | None:
    if stmt.label is None:
        ctx.report(error(E_BAD_NAME, "a deployment needs a name", span=ctx.span(stmt.name), label="no name",
                         help='write `deployment "my-service" {`'))
        return None
    name, span = unquote(stmt.label.value), ctx.span(stmt.label)
    if not DNS_LABEL.fullmatch(name):
        fixed = as_dns_label(name) or "my-service"
        ctx.report(error(E_BAD_NAME, f"`{name}` is not a valid deployment name", span=span,
                         label="invalid name", detail="Deployment names are lower-case letters, digits and `-`, "
                         "starting with a letter, ending with a letter or digit, at most 63 characters (an RFC "
                         "1035 label): they name directories, containers and Kubernetes objects as they are.",
                         help=f'write "{fixed}"'))
        return None
    if name in seen:
        ctx.report(error(E_DUPLICATE_DEPLOYMENT, f"deployment `{name}` is defined twice", span=span,
                         label="defined again here", labels=(Label(span=seen[name], message="first defined here"),),
                         detail="Deployment names are unique per file: each becomes its own output directory.",
                         help="rename one of them"))
        return None
    seen[name] = span
    return name


# The name a deployment with an invalid one is lowered under: its block's errors are still reported.
UNNAMED = "unnamed"


def _lower_deployment(ctx: Ctx, stmt: Stmt, name: str) -> Deployment | None:
    fields = _collect(ctx, stmt.body, DEPLOYMENT_SCHEMA, "deployment")
    values: dict[str, Any] = {}
    for key, handler in DEPLOYMENT_LOWERERS.items():
        if key in fields:
            value = handler(ctx, fields[key])
            if value is not None:
                values[key] = value
    if "settings" in fields:
        found = fields["settings"]
        pinned = lower_settings(ctx, found, [_stmt(n) for n in found.body], values.get("runtime"))
        if pinned is not None:
            values["settings"], values["runtime_version"] = pinned
    if "hardware" not in fields or values.get("hardware") is None:
        if "hardware" not in fields:
            _missing(ctx, stmt, "hardware.gpu")
        return None
    name_span = ctx.span(stmt.label) if stmt.label is not None else ctx.span(stmt.name)
    return _build(ctx, Deployment, stmt, name=name, name_span=name_span, span=ctx.span(stmt.node), **values)


def _missing(ctx: Ctx, stmt: Stmt, what: str) -> None:
    ctx.report(error(E_MISSING, f"`{what}` is required", span=ctx.span(stmt.label or stmt.name),
                     label=f"no `{what}` here", detail="llmc needs to know the GPUs it plans for.",
                     help='add `hardware { gpu = 1 x "RTX 4090" }`, or `gpu = none` for a CPU-only host'))


def _build(ctx: Ctx, node_type: type, stmt: Stmt, **values: Any) -> Any:
    """Construct a spec node; a validation failure (a bug in this module) becomes a diagnostic, not a traceback."""
    try:
        return node_type(**values)
    except ValidationError as exc:
        for problem in exc.errors():
            ctx.report(error(E_WRONG_KIND, f"invalid `{'.'.join(str(p) for p in problem['loc'])}`: {problem['msg']}",
                             span=ctx.span(stmt.name)))
        return None


# ---------------------------------------------------------------------------
# Bodies: names, forms and repeats
# ---------------------------------------------------------------------------

def _collect(ctx: Ctx, body: list[Tree], schema: dict[str, str], where: str) -> dict[str, Stmt]:
    """The statements of a body by name, after checking each name, its form and that it is not repeated."""
    found: dict[str, Stmt] = {}
    for stmt in (_stmt(node) for node in body):
        name = stmt.name.value
        if name not in schema:
            _unknown_field(ctx, stmt, schema, where)
        elif name in found:
            _repeated(ctx, stmt, found[name])
        elif _form_ok(ctx, stmt, schema[name], where):
            found[name] = stmt
    return found


def _unknown_field(ctx: Ctx, stmt: Stmt, schema: dict[str, str], where: str) -> None:
    name = stmt.name.value
    code = E_UNKNOWN_BLOCK if stmt.form == "block" else E_UNKNOWN_FIELD
    noun = "block" if stmt.form == "block" else "field"
    home = FIELD_HOME.get(name)
    hint = did_you_mean(name, schema)
    if home and home != where:
        hint = f"`{name}` belongs in the `{home}` block" if home != "deployment" else \
            f"`{name}` belongs directly in the deployment block"
    ctx.report(error(code, f"unknown {noun} `{name}` in `{where}`", span=ctx.span(stmt.name), label=f"unknown {noun}",
                     detail=f"`{where}` accepts: " + ", ".join(sorted(schema)) + ".", help=hint))


def _repeated(ctx: Ctx, stmt: Stmt, first: Stmt) -> None:
    name = stmt.name.value
    ctx.report(error(E_REPEATED, f"`{name}` is set twice", span=ctx.span(stmt.name), label="set again here",
                     labels=(Label(span=ctx.span(first.name), message="first set here"),),
                     detail="Each field appears at most once in a block, so a spec cannot say two things at once.",
                     help="remove one of them"))


def _form_ok(ctx: Ctx, stmt: Stmt, form: str, where: str) -> bool:
    name = stmt.name.value
    if stmt.form == form:
        if form == "block" and stmt.label is not None:
            ctx.report(error(E_BLOCK_OR_FIELD, f"the `{name}` block takes no name", span=ctx.span(stmt.label),
                             label="unexpected name", help=f"write `{name} {{`"))
            return False
        return True
    if form == "block":
        ctx.report(error(E_BLOCK_OR_FIELD, f"`{name}` is a block, not a field", span=ctx.span(stmt.name),
                         label="a block", help=f"write `{name} {{ ... }}`"))
    elif form == "bound":
        op = "<=" if name in ("ttft", "tpot") else ">="
        ctx.report(error(E_COMPARISON, f"`{name}` is a bound: write it with `{op}`", span=ctx.span(stmt.name),
                         label="a bound", detail="Latency targets are limits: `ttft <= 1.5s`, `tpot <= 50ms`, "
                         "`decode >= 20 tok/s`, `throughput >= 400 tok/s`.", help=f"write `{name} {op} ...`"))
    elif stmt.form == "block":
        ctx.report(error(E_BLOCK_OR_FIELD, f"`{name}` is a field, not a block", span=ctx.span(stmt.name),
                         label="a field", help=f"write `{name} = ...`"))
    else:
        ctx.report(error(E_COMPARISON, f"`{name}` is set with `=`, not `{stmt.op}`", span=ctx.span(stmt.name),
                         label="a field", detail="Only the latency bounds are comparisons.",
                         help=f"write `{name} = ...`"))
    return False


def _block_values(ctx: Ctx, stmt: Stmt, schema: dict[str, str], lowerers: dict[str, Callable], where: str) -> dict:
    fields = _collect(ctx, stmt.body, schema, where)
    values: dict[str, Any] = {"span": ctx.span(stmt.node)}
    for key, found in fields.items():
        value = lowerers[key](ctx, found)
        if value is not None:
            values[key] = value
    return values


# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------

WORKLOAD_SCHEMA = {"task": "attribute", "concurrency": "attribute", "rate": "attribute", "prompt": "attribute",
                   "output": "attribute", "spread": "attribute", "thinking": "attribute"}
WORKLOAD_LOWERERS = {"task": closed_word(TASKS, "task"), "concurrency": lower_int, "rate": lower_request_rate,
                     "prompt": lower_tokens, "output": lower_tokens, "spread": lower_fraction,
                     "thinking": closed_word(THINKING, "thinking mode")}
LATENCY_SCHEMA = {"ttft": "bound", "tpot": "bound", "decode": "bound", "throughput": "bound"}
LATENCY_LOWERERS = {"ttft": bound_of(UPPER_BOUND, Kind.DURATION, percentiles=True),
                    "tpot": bound_of(UPPER_BOUND, Kind.DURATION, percentiles=True),
                    "decode": bound_of(LOWER_BOUND, Kind.RATE), "throughput": bound_of(LOWER_BOUND, Kind.RATE)}
HARDWARE_SCHEMA = {"gpu": "attribute", "memory": "attribute", "nodes": "attribute", "link": "attribute",
                   "p2p": "attribute", "headless": "attribute", "interface": "attribute", "rdma": "attribute",
                   "cores": "attribute", "memory_bandwidth": "attribute", "isa": "attribute"}
HARDWARE_LOWERERS = {"gpu": lower_gpu, "memory": lower_bytes, "nodes": lower_int,
                     "link": closed_word(LINKS, "link"), "p2p": lower_bool, "headless": lower_bool,
                     "interface": grammar_text(INTERFACE, "a network interface name", "eth0"),
                     "rdma": grammar_text(RESOURCE, "a Kubernetes resource name", "rdma/hca"),
                     "cores": lower_int, "memory_bandwidth": lower_bandwidth,
                     "isa": word_list_of(CPU_ISA, "instruction set", "avx2, avx512")}
SERVE_SCHEMA = {"port": "attribute", "host": "attribute", "api_key": "attribute", "name": "attribute"}
SERVE_LOWERERS = {"port": lower_int, "host": lower_host, "api_key": lower_api_key, "name": lower_served_name}


def lower_workload(ctx: Ctx, stmt: Stmt) -> Workload | None:
    return _build(ctx, Workload, stmt, **_block_values(ctx, stmt, WORKLOAD_SCHEMA, WORKLOAD_LOWERERS, "workload"))


def lower_latency(ctx: Ctx, stmt: Stmt) -> Latency | None:
    values = _block_values(ctx, stmt, LATENCY_SCHEMA, LATENCY_LOWERERS, "latency")
    for name in ("decode", "throughput"):
        bound = values.get(name)
        if bound is not None and bound.value.tok_s == 0:
            ctx.report(warning(W_ALWAYS_MET, f"`{name} {bound.op} 0 tok/s` is always met", span=bound.span,
                               label="no constraint", detail="Any server decodes faster than 0 tok/s, so this "
                               "bound is ignored.", help=f"remove it, or give `{name}` the speed you need"))
            del values[name]
    return _build(ctx, Latency, stmt, **values)


def lower_hardware(ctx: Ctx, stmt: Stmt) -> Hardware | None:
    reported = len(ctx.diagnostics)
    values = _block_values(ctx, stmt, HARDWARE_SCHEMA, HARDWARE_LOWERERS, "hardware")
    gpu_stmt = next((_stmt(n) for n in stmt.body if _stmt(n).name.value == "gpu"), None)
    if gpu_stmt is None:
        if len(ctx.diagnostics) == reported:  # a misspelt `gpu` was already reported; say it once
            _missing(ctx, stmt, "hardware.gpu")
        return None
    if "gpu" not in values:
        return None
    values["gpu_span"] = ctx.span(gpu_stmt.value)
    if values["gpu"] == "none":
        values["gpu"] = None
    return _build(ctx, Hardware, stmt, **values)


def lower_serve(ctx: Ctx, stmt: Stmt) -> Serve | None:
    values = _block_values(ctx, stmt, SERVE_SCHEMA, SERVE_LOWERERS, "serve")
    if "api_key" in values:
        values["api_key_env"] = values.pop("api_key")
    return _build(ctx, Serve, stmt, **values)


DEPLOYMENT_SCHEMA = {"workload": "block", "latency": "block", "hardware": "block", "serve": "block",
                     "settings": "block",
                     "context": "attribute", "license": "attribute", "model": "attribute", "quantization": "attribute",
                     "kv_cache": "attribute", "runtime": "attribute", "prefer": "attribute", "min_quality": "attribute",
                     "emit": "attribute"}
DEPLOYMENT_LOWERERS: dict[str, Callable[[Ctx, Stmt], Any]] = {
    "workload": lower_workload, "context": lower_tokens, "latency": lower_latency, "license": lower_license,
    "hardware": lower_hardware, "model": lower_model,
    "quantization": choice_of(format_ids, "quantization", fold=True),
    "kv_cache": choice_of(kv_type_ids, "KV-cache type", fold=True), "runtime": choice_of(runtime_names, "runtime"),
    "prefer": closed_word(PREFERENCES, "preference"), "min_quality": lower_int, "emit": lower_emit,
    "serve": lower_serve,
}

# Where each name lives, so a field in the wrong block gets "`task` belongs in the `workload` block".
FIELD_HOME = {
    **{name: "workload" for name in WORKLOAD_SCHEMA}, **{name: "latency" for name in LATENCY_SCHEMA},
    **{name: "hardware" for name in HARDWARE_SCHEMA}, **{name: "serve" for name in SERVE_SCHEMA},
    **{k.name: "settings" for runtime in PROFILES.values() for k in runtime.knobs if k.pin},
    **{name: "deployment" for name in DEPLOYMENT_SCHEMA},
}


def _home_help(name: str) -> str | None:
    home = FIELD_HOME.get(name)
    if home is None:
        return None
    if home == "deployment":
        return f'`{name}` belongs inside a `deployment "NAME" {{ ... }}` block'
    return f'`{name}` belongs in the `{home}` block of a deployment'
