"""What the targets write for a plan, by path: the one helper the tests read emitted files through."""

from __future__ import annotations

from llmc.targets import emit_all


def files(plan) -> dict[str, str]:
    return {a.path: a.content for a in emit_all(plan)[0]}
