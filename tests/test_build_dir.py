"""A build owns only what it wrote.

The marker lists llmc's files; a rebuild replaces those and keeps the user's; a directory llmc did not
write is refused. The swap survives a kill at every step and concurrent builds; an output that cannot be
written is a coded error (exit 2) that changes nothing. `llmc fmt` writes through symlinks.
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import signal
import stat
import traceback
from pathlib import Path

import pytest

from llmc import artifacts, cli
from llmc.artifacts import MARKER, Artifact, read_marker, write_atomically
from llmc.diagnostics import DiagnosticsError
from tests.support.tools import REPO

EXAMPLE = REPO / "examples" / "chat-16gb.llmspec"  # one deployment, "home-chat"

OLD = [Artifact(path="plan.json", content='{"v": 1}\n'), Artifact(path="run.sh", content="#!/bin/sh\n", mode=0o755),
       Artifact(path="sub/a.txt", content="a1\n"), Artifact(path="gone/x.txt", content="x\n")]
NEW = [Artifact(path="plan.json", content='{"v": 2}\n'), Artifact(path="run.sh", content="#!/bin/sh\n:\n", mode=0o755),
       Artifact(path="sub/a.txt", content="a2\n"), Artifact(path="added/y.txt", content="y\n")]
# What a user adds: a note, a model download, a file in a generated folder and in one the new build drops.
USER = {"notes.md": "mine\n", "models/m.gguf": "weights\n", "sub/local.txt": "tweak\n", "gone/keep.txt": "kept\n",
        "smoke.json": "{}\n"}


def files(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): p.read_text() for p in sorted(directory.rglob("*"))
            if p.is_file() and p.name != MARKER}


def state(directory: Path) -> tuple[dict[str, str], set[str] | None]:
    return files(directory), read_marker(directory)


def complete(build: list[Artifact]) -> tuple[dict[str, str], set[str]]:
    return {a.path: a.content for a in build} | USER, {a.path for a in build}


def old_build_with_user_files(parent: Path) -> Path:
    directory = parent / "x"
    write_atomically(directory, OLD)
    for path, text in USER.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(text)
    (parent / "keep.txt").write_text("beside the build\n")
    return directory


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name not in ("x", "keep.txt"))


def test_a_rebuild_replaces_only_llmcs_files(tmp_path):
    directory = old_build_with_user_files(tmp_path)
    write_atomically(directory, NEW)
    assert state(directory) == complete(NEW)
    assert stat.S_IMODE((directory / "run.sh").stat().st_mode) == 0o755
    assert leftovers(tmp_path) == []


def test_an_empty_directory_is_built_into(tmp_path):
    (tmp_path / "x").mkdir()
    write_atomically(tmp_path / "x", NEW)
    assert read_marker(tmp_path / "x") == {a.path for a in NEW}


@pytest.mark.parametrize("make", [
    lambda d: (d.mkdir(), (d / "main.py").write_text("print()\n")),
    lambda d: (d.mkdir(), (d / MARKER).write_text("not json\n")),
    lambda d: d.write_text("a file\n"),
    lambda d: (d.with_name("elsewhere").mkdir(), d.symlink_to("elsewhere")),
    lambda d: d.symlink_to("missing"),
], ids=["foreign-directory", "damaged-marker", "file", "symlink", "dangling-symlink"])
def test_what_llmc_did_not_write_is_refused_and_left_alone(tmp_path, make):
    directory = tmp_path / "x"
    make(directory)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(DiagnosticsError) as raised:
        write_atomically(directory, NEW)
    assert [d.code for d in raised.value.diagnostics] == ["E003"]
    assert f"`{directory}`" in raised.value.diagnostics[0].summary
    assert sorted(tmp_path.rglob("*")) == before


def test_a_user_file_where_the_new_build_writes_is_e005_and_changes_nothing(tmp_path):
    directory = old_build_with_user_files(tmp_path)
    (directory / "added").mkdir()
    (directory / "added" / "y.txt").write_text("the user's\n")
    before = state(directory)
    with pytest.raises(DiagnosticsError) as raised:
        write_atomically(directory, NEW)
    assert [d.code for d in raised.value.diagnostics] == ["E005"]
    assert state(directory) == before and leftovers(tmp_path) == []


def test_a_longest_name_fits_and_a_longer_one_is_e004(tmp_path):
    directory = old_build_with_user_files(tmp_path / "p")
    longest = directory.with_name("a" * 255)
    directory.rename(longest)
    write_atomically(longest, NEW)  # the staging and lock names stay short
    assert state(longest) == complete(NEW)
    with pytest.raises(DiagnosticsError) as raised:
        write_atomically(tmp_path / ("a" * 256), NEW)
    assert [d.code for d in raised.value.diagnostics] == ["E004"]


FS_CALLS = ("open", "write", "mkdir", "rename", "replace", "link", "symlink", "unlink", "rmdir", "chmod")


def _no_exchange(a, b):
    raise OSError(errno.ENOSYS, "renameat2 is not available")


def _fork(work) -> int:
    """Run work() in a child process, which exits 0 when it returns; returns the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def _killed_at(step: int, directory: Path) -> bool:
    """Write NEW in a child that SIGKILLs itself instead of making its step-th file-system call.

    True when it was killed, False when it finished first.
    """
    calls = itertools.count(1)

    def gate(call):
        def gated(*args, **kwargs):
            if next(calls) == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return call(*args, **kwargs)
        return gated

    def work():
        for name in FS_CALLS:
            setattr(os, name, gate(getattr(os, name)))
        artifacts._exchange = gate(artifacts._exchange)
        write_atomically(directory, NEW)

    _, status = os.waitpid(_fork(work), 0)
    assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 0
    return os.WIFSIGNALED(status)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_build_killed_at_any_step_leaves_a_complete_build_and_the_next_recovers(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(artifacts, "_exchange", _no_exchange)
    for step in itertools.count(1):
        parent = tmp_path / str(step)
        directory = old_build_with_user_files(parent)
        if not _killed_at(step, directory):
            break
        if exchange or directory.exists():
            assert state(directory) in (complete(OLD), complete(NEW)), step
        else:  # killed between the two renames: the previous build is parked, and put back next time
            [parked] = parent.glob(".llmc-old-*")
            assert state(parked) == complete(OLD), step
        write_atomically(directory, NEW)
        assert state(directory) == complete(NEW), step
        assert leftovers(parent) == [], step
    assert step > 40  # a build makes this many file-system calls, and each was a kill point
    assert state(directory) == complete(NEW) and leftovers(parent) == []


def _build_five_times(directory: Path, build: list[Artifact]) -> None:
    for _ in range(5):
        write_atomically(directory, build)


def test_concurrent_builds_into_one_directory_all_succeed(tmp_path):
    directory = old_build_with_user_files(tmp_path)
    children = [_fork(functools.partial(_build_five_times, directory, NEW if i % 2 else OLD)) for i in range(12)]
    assert [os.waitpid(pid, 0)[1] for pid in children] == [0] * 12
    assert state(directory) in (complete(OLD), complete(NEW))
    assert leftovers(tmp_path) == []


# Through the CLI: the exit code and the diagnostic, never a traceback.

def _spec(tmp_path: Path, name: str = "home-chat") -> Path:
    spec = tmp_path / "svc.llmspec"
    spec.write_text(EXAMPLE.read_text().replace('deployment "home-chat"', f'deployment "{name}"'))
    return spec


def test_build_into_the_users_source_folder_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _spec(tmp_path, "src")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("print('mine')\n")
    assert cli.main(["build", "svc.llmspec", "-o", "."]) == 2
    err = capsys.readouterr().err
    assert "E003" in err and "`src`" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["main.py", "src", "svc.llmspec"]


def test_cli_rebuild_keeps_what_the_user_added(tmp_path):
    spec, out = _spec(tmp_path), tmp_path / "build"
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    built = out / "home-chat"
    generated = set(files(built))
    assert read_marker(built) == generated
    for path in ("notes.md", "models/m.gguf", "llama.cpp/local.env", "smoke.json", "smoke.log"):
        (built / path).parent.mkdir(parents=True, exist_ok=True)
        (built / path).write_text(path)
    before = files(built)
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    assert files(built) == before and read_marker(built) == generated
    assert sorted(p.name for p in out.iterdir()) == ["home-chat"]


def _full_disk(fd, data):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _refuse_creating_in(monkeypatch, directory: Path, code: int) -> None:
    """What the OS answers in a read-only directory; root would not get it from the mode bits."""
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path):
        if Path(path).parent == directory:
            raise OSError(code, os.strerror(code), str(path))

    def opener(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        refuse(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", opener)
    monkeypatch.setattr(os, "mkdir", mkdir)


@pytest.mark.parametrize("failure", ["read-only", "full-disk", "parent-is-a-file"])
def test_an_unwritable_output_is_e004_and_keeps_the_previous_build(tmp_path, capsys, monkeypatch, failure):
    spec, out = _spec(tmp_path), tmp_path / "build"
    assert cli.main(["build", str(spec), "-o", str(out)]) == 0
    before = sorted((p.relative_to(tmp_path), p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*"))
    if failure == "read-only":
        _refuse_creating_in(monkeypatch, out, errno.EROFS)
        reason = "read-only file system"
    elif failure == "full-disk":
        monkeypatch.setattr(os, "write", _full_disk)
        reason = "no space left on device"
    else:
        out = spec
        reason = "a file is in the way"
    capsys.readouterr()
    assert cli.main(["build", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "E004" in err and reason in err and "Traceback" not in err
    monkeypatch.undo()
    after = sorted((p.relative_to(tmp_path), p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*"))
    assert after == before


MESSY, CANONICAL = 'deployment "a" {\n    context = 1k\n}\n', 'deployment "a" {\n  context = 1k\n}\n'


def test_fmt_through_a_symlink_formats_the_target_and_keeps_the_link(tmp_path):
    (tmp_path / "specs").mkdir()
    target = tmp_path / "specs" / "real.llmspec"
    target.write_text(MESSY)
    target.chmod(0o640)
    link = tmp_path / "link.llmspec"
    link.symlink_to("specs/real.llmspec")
    assert cli.main(["fmt", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == "specs/real.llmspec"
    assert target.read_text() == CANONICAL and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["link.llmspec", "real.llmspec", "specs"]


@pytest.mark.parametrize("failure", ["read-only", "full-disk"])
def test_fmt_that_cannot_write_is_e004_and_changes_nothing(tmp_path, capsys, monkeypatch, failure):
    path = tmp_path / "a.llmspec"
    path.write_text(MESSY)
    if failure == "read-only":
        path.chmod(0o444)
    else:
        monkeypatch.setattr(os, "write", _full_disk)
    assert cli.main(["fmt", str(path)]) == 2
    err = capsys.readouterr().err
    assert "E004" in err and "Traceback" not in err
    assert path.read_text() == MESSY and sorted(p.name for p in tmp_path.iterdir()) == ["a.llmspec"]


def test_a_parked_build_is_not_dropped_when_the_directory_was_made_anew(tmp_path):
    """Killed between the fallback's two renames, then someone recreates the directory by hand: the parked
    build (which may hold their files) is kept, and the build says what to move."""
    directory = old_build_with_user_files(tmp_path)
    parked = artifacts._backup(directory)
    os.rename(directory, parked)
    directory.mkdir()
    (directory / "new.txt").write_text("made by hand\n")
    with pytest.raises(DiagnosticsError) as refused:
        write_atomically(directory, NEW)
    assert refused.value.diagnostics[0].code == "E003"
    assert files(parked) == {a.path: a.content for a in OLD} | USER
    assert files(directory) == {"new.txt": "made by hand\n"}


def test_a_rebuild_keeps_the_directorys_permissions(tmp_path):
    directory = old_build_with_user_files(tmp_path)
    directory.chmod(0o750)
    write_atomically(directory, NEW)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o750
