"""One did-you-mean helper for every name lookup."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def normalize(name: str) -> str:
    """Case- and punctuation-insensitive form used for matching names ("RTX-4090" == "rtx4090")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def closest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The valid names nearest to `word`, best first; empty when nothing is close."""
    pool = sorted(set(candidates))
    by_norm: dict[str, str] = {}
    for c in pool:
        by_norm.setdefault(normalize(c), c)
    hits = difflib.get_close_matches(normalize(word), list(by_norm), n=limit, cutoff=0.6)
    prefix = [c for n, c in by_norm.items() if normalize(word) and n.startswith(normalize(word)) and n not in hits]
    return [by_norm[h] for h in hits] + prefix[: max(0, limit - len(hits))]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """`did you mean 'chat'?` or None."""
    hits = closest(word, candidates)
    if not hits:
        return None
    if len(hits) == 1:
        return f"did you mean '{hits[0]}'?"
    return "did you mean " + ", ".join(f"'{h}'" for h in hits[:-1]) + f" or '{hits[-1]}'?"
