"""The lint-rule registry: each rule is one function in its own module under `llmc.lint.rules`, registered
under a diagnostic code with `@rule`; docs/diagnostics/<CODE>.md documents it (a test keeps them in sync)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..diagnostics import Diagnostic, Severity, define_code


@dataclass(frozen=True)
class Rule:
    code: str          # E8xx fails at start or exposes the server; W8xx degrades it silently
    name: str          # the failure mode's id in shared/reference/lint-rules.md (VLLM-CTX-FIT ...)
    title: str
    evidence: str      # the issues and source lines it comes from
    check: Callable[..., Iterable[Diagnostic]]
    scope: str = "server"   # server: check(server, ctx); file: check(config, ctx), across its servers

    @property
    def severity(self) -> Severity:
        return Severity.ERROR if self.code.startswith("E") else Severity.WARNING


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, title: str, evidence: str, scope: str = "server"):
    def register(check: Callable[..., Iterable[Diagnostic]]) -> Callable[..., Iterable[Diagnostic]]:
        define_code(code, title, check.__module__)
        RULES[code] = Rule(code, name, title, evidence, check, scope)
        return check
    return register


__all__ = ["RULES", "Rule", "rule"]
