"""Reading a file whose path comes from the user: a regular file only, never more than a limit.

A path may name a FIFO (opening it would wait for a writer), a device (/dev/zero never ends) or a huge
file by mistake. Every reader of specs, catalogs, model metadata and committed plans goes through here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_bounded(path: Path | str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. OSError when it cannot be opened; ValueError
    when it is not a regular file or is larger."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: a FIFO opens at once; no effect on a file
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        with open(fd, "rb", closefd=False) as f:
            # read() allocates what it is asked for: ask for the size (one more byte tells growth apart)
            data = b"" if info.st_size > limit else f.read(info.st_size + 1)
    finally:
        os.close(fd)
    if info.st_size > limit or len(data) > limit:
        raise ValueError(f"larger than {limit // 2**20} MiB" if limit >= 2**20 else f"larger than {limit} bytes")
    return data
