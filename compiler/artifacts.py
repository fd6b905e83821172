"""Artifacts: files a target emits, and the atomic writer for a build directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Artifact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str  # relative to the deployment's build directory, '/' separated
    content: str
    mode: int = 0o644

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


def write_atomically(directory: Path, artifacts: list[Artifact]) -> None:
    """Write every artifact into a fresh temporary directory, then swap it into place.

    An interrupted or failed build leaves the previous directory untouched.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for artifact in sorted(artifacts, key=lambda a: a.path):
            target = staging / artifact.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(artifact.content, encoding="utf-8")
            os.chmod(target, artifact.mode)
        backup = None
        if directory.exists():
            backup = directory.with_name(f".{directory.name}.old")
            if backup.exists():
                shutil.rmtree(backup)
            directory.rename(backup)
        staging.rename(directory)
        if backup is not None:
            shutil.rmtree(backup)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
