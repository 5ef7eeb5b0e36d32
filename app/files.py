"""Local state under ``var/`` is private to the service's user: folders 0700, files 0600.

Keys, the SQLite database (and its WAL and shared-memory files, which SQLite creates with the
database file's mode) and the mail outbox hold secrets and personal data.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it is missing, and make it 0600 either way."""
    _new_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a file that is 0600 from its first byte (no window in which others may read it)."""
    _new_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    _tighten(path, FILE_MODE)


def private_sqlite(path: Path) -> None:
    """Make a SQLite database and its companions 0600 before SQLite opens them."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            _tighten(companion, FILE_MODE)


def _new_dir(path: Path) -> None:
    """A missing folder is created 0700; an existing one the operator chose is left as it is."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def _tighten(path: Path, mode: int) -> None:
    """Older versions created these world-readable: take the extra bits away."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except PermissionError:  # not ours (a shared folder): leave it, the file itself is private
        pass
