"""Files that hold what only the server's user may read: created once, mode 0600, durable."""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["fsync_directory", "write_new_private_file"]


def write_new_private_file(path: Path, data: bytes) -> None:
    """Create `path` (mode 0600) holding `data`, on disk before this returns; never over an
    existing file. O_EXCL makes creation and the existence check one step, so two writers
    racing cannot both write, and a symlink planted at `path` is refused rather than followed.
    Raises FileExistsError, or OSError (a half-written file is removed first)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        # The umask can only clear bits, but say 0600 outright rather than trust the mode arg.
        os.fchmod(fd, 0o600)
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a directory's new entries durable (best effort where directories cannot be
    opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF):  # filesystems without dir fsync
            raise
    finally:
        os.close(fd)
