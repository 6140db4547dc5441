"""Evidence files: stream-hash them and record them with chain of custody.

Hashing reads fixed-size chunks (constant memory on a 40 GB image), reports
progress, can be cancelled between chunks, and refuses a file that changed
while it was being read (size, mtime or inode differ before and after): a
hash of a moving target is worse than no hash, because it looks like proof.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import UserError
from .filesafety import open_regular

CHUNK = 4 * 1024 * 1024


class HashCancelled(UserError):
    """The user cancelled hashing; nothing was recorded."""


@dataclass(frozen=True)
class FileHash:
    path: Path
    sha256: str
    size: int


def _fingerprint(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def hash_file(
    path: Path | str,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    chunk: int = CHUNK,
) -> FileHash:
    """SHA-256 of a file, streamed. ``progress(done, total)`` after each chunk."""
    path = Path(path)
    handle = open(open_regular(path), "rb", buffering=0)  # no symlink followed, no FIFO blocked on
    with handle:
        before = _fingerprint(os.fstat(handle.fileno()))
        total, done = before[0], 0
        digest = hashlib.sha256()
        buffer = bytearray(chunk)
        view = memoryview(buffer)
        while True:
            if cancelled is not None and cancelled():
                raise HashCancelled(f"{path}: hashing cancelled after {done} of {total} bytes; nothing recorded")
            n = handle.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
            done += n
            if progress is not None:
                progress(done, total)
        after = _fingerprint(os.fstat(handle.fileno()))
    if after != before or done != before[0] or _fingerprint(os.stat(path)) != before:
        raise UserError(f"{path}: the file changed while it was being hashed; acquire a stable copy and hash that")
    return FileHash(path, digest.hexdigest(), done)
