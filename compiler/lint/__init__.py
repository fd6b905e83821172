"""`llmc lint`: hand-written configs checked against the failure modes users hit (shared/reference/
lint-rules.md), with the same memory and speed model `llmc build` plans with.

Each file is read by llmc.importers; every rule of the registry (llmc.lint.rules, one module each) runs on
each server it starts, on each file, and on the whole run (servers sharing GPUs across files); a finding
points at the flag, variable or key it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..catalog import Catalog
from ..diagnostics import Diagnostic, define_code, error
from ..importers import ConfigFile, merge_servers, read_config
from ..importers.hardware import HardwareArg
from ..runtimes import PROFILES
from ..source import SourceFile
from . import rules as _rules  # noqa: F401  (registers every rule)
from .context import LintContext
from .registry import RULES, Rule

E_NOT_UNDERSTOOD = define_code("E836", "A file llmc does not understand", __name__)

KINDS = ("a shell script or command line (" + ", ".join(" ".join(r.commands[0]) for r in PROFILES.values() if r.commands)
         + ", docker run), a runtime's --config YAML, an Ollama Modelfile or env file, a compose file, Kubernetes "
           "manifests")


@dataclass
class LintRun:
    configs: list[ConfigFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unusable: bool = False            # an input could not be read or understood (exit 2)


def lint_sources(sources: Sequence[SourceFile], catalog: Catalog, hardware: HardwareArg | None = None,
                 rules: Sequence[Rule] | None = None) -> LintRun:
    run = LintRun()
    configs = [read_config(source) for source in sources]
    serving = any(c.servers for c in configs)
    for config in configs:
        run.diagnostics += config.diagnostics
        # manifests without a server (a Service, a PVC) and env files belong to the servers of the run's others
        if config.servers or (serving and config.kind in ("kubernetes", "env")):
            run.configs.append(config)
            continue
        run.unusable = True
        if not config.diagnostics:   # one that does not parse says so itself
            run.diagnostics.append(not_understood(config))
    merge_servers(run.configs)
    ctx = LintContext(catalog=catalog, hardware=hardware, configs=run.configs)
    for rule in rules if rules is not None else [RULES[code] for code in sorted(RULES)]:
        run.diagnostics += list(_apply(rule, ctx))
    unique = {(d.code, d.span, d.summary): d for d in run.diagnostics}
    run.diagnostics = sorted(unique.values(), key=lambda d: (d.span.file, d.span.line, d.span.col, d.code)
                             if d.span else ("", 0, 0, d.code))
    return run


def _apply(rule: Rule, ctx: LintContext):
    if rule.scope == "run":
        yield from rule.check(ctx.configs, ctx)
        return
    for config in ctx.configs:
        if rule.scope == "file":
            yield from rule.check(config, ctx)
        else:
            for server in config.servers:
                yield from rule.check(server, ctx)


def not_understood(config: ConfigFile) -> Diagnostic:
    """E836: a file that starts no server llmc knows (lint and import say it the same way)."""
    return error(E_NOT_UNDERSTOOD, f"llmc found no LLM server in `{config.source.path}`",
                 span=config.source.span_at(0),
                 detail=f"It reads {KINDS}; this file looks like {_looks_like(config)}, and none of what it starts "
                        "is a runtime llmc knows.",
                 help="give the file that starts the server, or name the runtime's command or image in it")


def _looks_like(config: ConfigFile) -> str:
    return {"yaml": "YAML of another kind", "shell": "a script or text", "compose": "a compose file",
            "kubernetes": "Kubernetes manifests", "modelfile": "a Modelfile", "env": "an env file"
            }.get(config.kind, config.kind)


__all__ = ["E_NOT_UNDERSTOOD", "KINDS", "LintRun", "lint_sources", "not_understood"]
