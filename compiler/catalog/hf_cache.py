"""Models in the user's Hugging Face cache, read without the network.

The hub library keeps a download of `org/name` at `$HF_HUB_CACHE` (default `$HF_HOME/hub`, default
`~/.cache/huggingface/hub`) as `models--org--name/snapshots/<commit>/`, its files symlinks into `blobs/`, and
`refs/<branch>` holding the commit a branch pointed at when it was fetched (huggingface_hub file_download.py,
constants.py). A snapshot is read like a local folder or GGUF (llmc.catalog.local); the plan then names the
model by its repo and that exact commit, so the runtime loads the same files from the same cache.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from ..files import read_bounded
from ..names import is_repo_id
from .local import LocalModel, import_gguf, import_local
from .schema import LICENSE_IDS, License, Variant

COMMIT = re.compile(r"[0-9a-f]{40}")
MAX_README_BYTES = 1 << 20


def hub_cache() -> Path:
    if cache := os.environ.get("HF_HUB_CACHE"):
        return Path(cache).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def snapshot(repo_id: str, cache: Path | None = None) -> tuple[Path, str] | None:
    """(snapshot folder, commit) of `repo_id` in the cache: the commit `refs/main` names, else the only
    snapshot there is; None when the model was never downloaded (or several snapshots leave it ambiguous)."""
    if not is_repo_id(repo_id):
        return None
    root = (cache or hub_cache()) / ("models--" + repo_id.replace("/", "--"))
    try:
        ref = (root / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        ref = ""
    if COMMIT.fullmatch(ref) and (root / "snapshots" / ref).is_dir():
        return root / "snapshots" / ref, ref
    try:
        commits = sorted(p.name for p in (root / "snapshots").iterdir() if p.is_dir() and COMMIT.fullmatch(p.name))
    except OSError:
        return None
    return (root / "snapshots" / commits[0], commits[0]) if len(commits) == 1 else None


def import_cached(repo_id: str, quantization: tuple[str, ...] = (), cache: Path | None = None) -> LocalModel | None:
    """The cached model, read from its snapshot, with one variant: the repo at its commit (and its GGUF file:
    the one the spec's quantization names, else the first). None when it is not in the cache."""
    found = snapshot(repo_id, cache)
    if found is None:
        return None
    folder, commit = found
    ggufs = _ggufs(folder)
    wanted = [g for g in ggufs if any(q.lower() in g.name.lower() for q in quantization)]
    if ggufs and not (folder / "config.json").exists():
        gguf = (wanted or ggufs)[0]
        local = import_gguf(gguf)
        file = gguf.relative_to(folder).as_posix()
    else:
        local, file = import_local(folder), None
    variant = Variant(format=local.format, repo=repo_id, file=file, revision=commit, verified=True,
                      source=(f"Hugging Face cache: {folder}",))
    model = local.model.model_copy(update={
        "id": repo_id, "name": repo_id.rsplit("/", 1)[-1], "variants": (variant,), "license": _license(folder),
        "source": (f"hf-cache:{repo_id}@{commit}",), "notes": f"read from the Hugging Face cache at {folder}"})
    return dataclasses.replace(local, model=model)


def _ggufs(folder: Path) -> list[Path]:
    """GGUF files of a snapshot (quantizers keep them at the top or in one folder per type), the first shard
    of a split file only."""
    files = sorted(p for p in folder.rglob("*.gguf") if not re.search(r"-0*(?:[2-9]|\d{2,})-of-\d+\.gguf$", p.name))
    return [p for p in files if p.is_file()]


def _license(folder: Path) -> License:
    """The model card's front matter `license:` (README.md), verified when it is one llmc knows."""
    try:
        text = read_bounded(folder / "README.md", MAX_README_BYTES).decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    front = text.split("---", 2)[1] if text.startswith("---") and text.count("---") >= 2 else ""
    match = re.search(r"^license:\s*['\"]?([A-Za-z0-9.\-]+)", front, re.MULTILINE)
    found = match.group(1).lower() if match else ""
    if found in LICENSE_IDS and found != "other":
        return License(id=found, notes=f"model card front matter in {folder / 'README.md'}")
    return License(id="other", verified=False,
                   notes=f"the model card says {found!r}" if found else "no license in the cached model card")
