"""Artifacts: files a target emits, and the writers that put them on disk.

A build directory carries MARKER, the list of files llmc wrote into it. A rebuild replaces those
files and keeps every other one (notes, downloaded models, smoke results); a directory without the
marker is never touched. The new build is staged beside the old one, the user's files are hard-linked
into it, and one renameat2(RENAME_EXCHANGE) swaps it into place, so the directory is at every moment
either the previous build or the new one. Builds into one parent directory take turns (LOCK).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

from .diagnostics import DiagnosticsError, define_code, error

E_NOT_A_BUILD = define_code("E003", "Output directory is not an llmc build", __name__)
E_CANNOT_WRITE = define_code("E004", "Cannot write the output", __name__)
E_IN_THE_WAY = define_code("E005", "A file llmc did not write is in the way", __name__)

MARKER = ".llmc-build"
MARKER_SCHEMA = "llmc.build/1"
# What llmc puts beside a build directory: short names whatever the deployment's (NAME_MAX is 255 bytes).
PREFIX = ".llmc-"
LOCK = PREFIX + "lock"
STAGING = PREFIX + "tmp-"

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2
_NO_EXCHANGE = (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP)  # old kernel or libc, or a file system without it
_NO_HARD_LINKS = (errno.EPERM, errno.EMLINK, errno.ENOTSUP)  # then copy; never across devices (EXDEV)
_libc = ctypes.CDLL(None, use_errno=True)


class Artifact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str  # relative to the deployment's build directory, '/' separated
    content: str
    mode: int = 0o644

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


def write_atomically(directory: Path, artifacts: list[Artifact]) -> None:
    """Write a complete build into `directory`, replacing only what an earlier build wrote there.

    An interrupted or failed build leaves the previous one untouched. Raises DiagnosticsError
    (E003, E004, E005) when the directory is not llmc's or cannot be written.
    """
    directory = Path(directory)
    try:
        _make_parent(directory.parent)
        with _locked(directory.parent):
            _clean_up(directory)
            _replace(directory, artifacts, _owned_files(directory))
    except OSError as exc:
        raise _cannot_write(directory, exc, "check that the output directory's parent is writable and has free "
                                            "space; the previous build, if any, is unchanged") from exc


def ensure_replaceable(directory: Path) -> None:
    """Raise DiagnosticsError (E003, E004) now when `write_atomically` would refuse `directory`: lets a
    build with several deployments check every directory before it writes any."""
    try:
        _owned_files(Path(directory))
    except OSError as exc:
        raise _cannot_write(Path(directory), exc, "check the output directory and its permissions") from exc


def read_marker(directory: Path) -> set[str] | None:
    """The files an llmc build wrote into `directory`, or None when it carries no valid marker."""
    try:
        data = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) and data.get("schema") == MARKER_SCHEMA else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files)


def write_file_atomically(path: Path, text: str) -> None:
    """Replace a file's text in one rename, keeping its mode; through a symlink, its target is replaced.

    Raises DiagnosticsError (E004) when the file is read-only or cannot be written; never half-writes.
    """
    target = Path(os.path.realpath(path))
    try:
        if target.exists():
            mode = stat.S_IMODE(target.stat().st_mode)
            if not mode & 0o222 or not os.access(target, os.W_OK):
                raise PermissionError(errno.EACCES, "the file is read-only")
        else:   # a new file gets the user's umask, as any editor would create it
            mode = 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=PREFIX + "fmt-", dir=target.parent)
        try:
            _write_all(fd, text)
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise _cannot_write(Path(path), exc, "make the file and its directory writable; the file is unchanged") from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_parent(parent: Path) -> None:
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise OSError(errno.ENOTDIR, f"a file is in the way of the directory `{parent}`") from exc


@contextmanager
def _locked(parent: Path) -> Iterator[None]:
    """Hold an exclusive flock on parent/LOCK; the holder removes the file when done."""
    path = parent / LOCK
    fd = _lock(path)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _lock(path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _is_at(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder removed this file while we waited: lock the one there now


def _is_at(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _backup(directory: Path) -> Path:
    """Where the fallback swap parks the previous build."""
    return directory.parent / f"{PREFIX}old-{hashlib.sha256(directory.name.encode()).hexdigest()[:16]}"


def _recover(directory: Path) -> None:
    """Finish a fallback swap that was interrupted: put the previous build back, or drop it."""
    backup = _backup(directory)
    if not os.path.lexists(backup):
        return
    if not os.path.lexists(directory):
        os.rename(backup, directory)
    elif read_marker(directory) is not None:  # a complete build came after it: it holds the user's files too
        shutil.rmtree(backup, ignore_errors=True)
    else:  # someone made the directory anew since: the parked build may hold the only copy of their files
        raise _not_a_build(directory, f"was made anew while the previous build waited in `{backup.name}`; "
                                      "move one of them away")


def _clean_up(directory: Path) -> None:
    """Undo what a killed build left behind; under the lock, no staging directory is in use."""
    _recover(directory)
    for stale in directory.parent.glob(STAGING + "*"):
        shutil.rmtree(stale, ignore_errors=True)


def _owned_files(directory: Path) -> set[str] | None:
    """What an earlier build wrote into `directory` (None: no directory); E003 when it is not llmc's."""
    if directory.is_symlink():
        raise _not_a_build(directory, "is a symbolic link")
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise _not_a_build(directory, "is a file")
    files = read_marker(directory)
    if files is None:
        if any(directory.iterdir()):
            raise _not_a_build(directory, f"exists and has no `{MARKER}`: llmc did not write it")
        return set()
    return files | {MARKER}


def _replace(directory: Path, artifacts: list[Artifact], owned: set[str] | None) -> None:
    staging = directory.parent / (STAGING + secrets.token_hex(8))
    os.mkdir(staging)
    if owned is not None:
        os.chmod(staging, stat.S_IMODE(os.stat(directory).st_mode))  # the build keeps its permissions
    try:
        _write_build(staging, artifacts)
        if owned is not None:
            _carry_user_files(directory, staging, owned)
        _put_in_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _recover(directory)  # interrupted between the fallback's two renames
        raise


def _write_build(staging: Path, artifacts: list[Artifact]) -> None:
    for artifact in sorted(artifacts, key=lambda a: a.path):
        _write_file(staging / artifact.path, artifact.content, artifact.mode)
    listing = {"files": sorted(a.path for a in artifacts), "schema": MARKER_SCHEMA}
    _write_file(staging / MARKER, json.dumps(listing, indent=2, sort_keys=True) + "\n", 0o644)


def _write_file(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    _write_all(fd, text)
    os.chmod(path, mode)


def _write_all(fd: int, text: str) -> None:
    """Write and close; os.write so that every short write is retried (and ENOSPC surfaces)."""
    try:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def _carry_user_files(old: Path, new: Path, owned: set[str]) -> None:
    """Hard-link into `new` everything in `old` that no build wrote: the user's files survive the swap."""
    owned_dirs = {parent.as_posix() for path in owned for parent in PurePosixPath(path).parents}

    def fail(exc: OSError) -> None:
        raise exc  # an unreadable directory would otherwise be skipped, and its files lost

    for root, dirs, files in os.walk(old, onerror=fail):
        here = Path(root).relative_to(old)
        for name in list(dirs):
            # Descend into a directory a build made, old or new; carry any other one whole.
            built = (here / name).as_posix() in owned_dirs or (new / here / name).is_dir()
            if os.path.islink(Path(root, name)) or not built:
                dirs.remove(name)
                _carry(Path(root, name), new / here / name, new)
        for name in files:
            if (here / name).as_posix() not in owned:
                _carry(Path(root, name), new / here / name, new)


def _carry(src: Path, dst: Path, new: Path) -> None:
    if os.path.lexists(dst):
        raise DiagnosticsError([error(
            E_IN_THE_WAY, f"`{src}` was not written by llmc, and the new build writes `{dst.relative_to(new)}`",
            detail="A rebuild replaces only the files an earlier build wrote; it keeps yours, so it "
                   "cannot put a generated file where one of yours is.",
            help=f"move `{src}` elsewhere, then build again", path=str(src))])
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link)
    else:
        _link(src, dst)


def _link(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        shutil.copy2(src, dst, follow_symlinks=False)


def _put_in_place(staging: Path, directory: Path) -> None:
    if not os.path.lexists(directory):
        os.rename(staging, directory)
        return
    previous = _swap(staging, directory)
    shutil.rmtree(previous, ignore_errors=True)  # a leftover is removed by the next build


def _swap(staging: Path, directory: Path) -> Path:
    """Put `staging` at `directory`; returns where the previous build is now."""
    try:
        _exchange(staging, directory)
        return staging
    except OSError as exc:
        if exc.errno not in _NO_EXCHANGE:
            raise
    # Two renames: an interruption between them leaves the previous build at _backup, which
    # _recover puts back on the next run.
    backup = _backup(directory)
    os.rename(directory, backup)
    os.rename(staging, directory)
    return backup


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths in one step: renameat2(RENAME_EXCHANGE), Linux 3.15+ with glibc 2.28+."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a), None, str(b))


def _not_a_build(directory: Path, what: str) -> DiagnosticsError:
    return DiagnosticsError([error(
        E_NOT_A_BUILD, f"`{directory}` {what}", path=str(directory),
        detail=f"llmc replaces a directory only when it carries `{MARKER}`, the list of the files a build "
               "wrote there, and then only those files.",
        help=f"choose another output directory with -o, or move `{directory}` away")])


def _cannot_write(path: Path, exc: OSError, help: str) -> DiagnosticsError:
    reason = (exc.strerror or str(exc)).rstrip(".")
    return DiagnosticsError([error(E_CANNOT_WRITE, f"cannot write `{path}`: {reason[:1].lower()}{reason[1:]}",
                                   path=str(path), help=help)])
