"""YAML loading with a content-addressed JSON cache: parsing YAML costs ~0.1 s per build, JSON ~1 ms.

The cache lives in $LLMC_CACHE (default ~/.cache/llmc/yaml); a file that cannot be written is simply
not cached. The key is the SHA-256 of the YAML bytes, so an edited file is always re-parsed.

User catalogs are untrusted input: a file is read only up to MAX_FILE_BYTES and nested at most
MAX_DEPTH deep, so neither a huge file nor 10^5 nested `[` can exhaust memory or the stack.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

from ..files import read_bounded

# 20x all the built-in catalog data together (~190 KiB).
MAX_FILE_BYTES = 4 * 2**20
# Levels of nesting, scalars included: the built-in files reach 6 (models > record > attention > linear > field).
MAX_DEPTH = 32


def cache_dir() -> Path:
    return Path(os.environ.get("LLMC_CACHE", Path.home() / ".cache" / "llmc")) / "yaml"


def load(path: Path, cache: bool = True) -> Any:
    """The parsed document; raises OSError (unreadable) or ValueError (too large, or not valid YAML)."""
    data = read_bounded(path, MAX_FILE_BYTES)
    if not cache:
        return parse(data.decode("utf-8", errors="replace"), str(path))
    cached = cache_dir() / (hashlib.sha256(data).hexdigest() + ".json")
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    document = parse(data.decode("utf-8", errors="replace"), str(path))
    _store(cached, document)
    return document


def parse(text: str, name: str = "<yaml>") -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import ReusedAnchorWarning

    # The pure-Python loader honours max_depth; the C one composes recursively with no limit.
    yaml = YAML(typ="safe", pure=True)
    yaml.max_depth = MAX_DEPTH
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            document = yaml.load(text)
        _check_text(document)
        return document
    # Malformed input raises more than YAMLError (IndexError, ValueError from int() or datetime,
    # UnicodeEncodeError from _check_text), and RecursionError before ruamel.yaml 0.19.1 (no max_depth):
    # all of them mean the file cannot be read.
    except Exception as exc:
        raise ValueError(f"{name}: {exc}") from None


def _check_text(document: Any) -> None:
    """Raise for a lone surrogate (a "\\uD800" escape): it is no text, and printing it fails later."""
    stack, seen = [document], set()
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, (list, tuple, dict)) and id(item) not in seen:  # aliases share one object
            seen.add(id(item))
            stack.extend([*item.keys(), *item.values()] if isinstance(item, dict) else item)


def _store(target: Path, document: Any) -> None:
    try:
        text = json.dumps(document)
    except (TypeError, ValueError):
        return  # dates and other non-JSON scalars: parse each time
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError:
        pass
