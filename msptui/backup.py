"""Online backups with SQLite's backup API.

``sqlite3.Connection.backup`` copies a consistent snapshot page by page while
other engineers keep writing (it restarts a step when the source changes), so
a backup never needs anyone to stop. The copy is written to a temporary file
beside DEST, checked (integrity_check + chain verify) and only then renamed
into place: a backup that does not verify is not a backup.

Restore = copy the backup file over the DB path while no msptui runs (or point
--db / MSPTUI_DB at it); README.md shows the commands.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from . import paths
from .errors import UserError
from .store import Store
from .verify import verify


def backup(store: Store, dest: Path | str, *, pages_per_step: int = 1024) -> tuple[Path, int]:
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"{store.path.stem}-backup.db"
    if dest.resolve() == store.path.resolve():
        raise UserError("the backup destination is the database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, paths.file_mode())
    os.close(fd)
    try:
        target = sqlite3.connect(tmp)
        try:
            store.conn.backup(target, pages=pages_per_step, sleep=0.005)
            target.execute("PRAGMA journal_mode = DELETE")
            target.commit()
        finally:
            target.close()
        with Store.open(tmp) as copy:
            if copy.conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise UserError(f"{dest}: the backup copy failed SQLite's integrity check; nothing was written")
            result = verify(copy)
            if not result.ok:
                raise UserError(f"{dest}: the backup copy does not verify ({result.problem}); nothing was written")
        os.replace(tmp, dest)
        return dest, result.events
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if leftover.exists():
                leftover.unlink()
