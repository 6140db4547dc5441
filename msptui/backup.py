"""Online backups with SQLite's backup API.

``sqlite3.Connection.backup`` copies a consistent snapshot page by page while
other engineers keep writing (it restarts a step when the source changes), so
a backup never needs anyone to stop. The copy is written to a temporary file
beside DEST, checked (integrity_check + chain verify) and only then renamed
into place: a backup that does not verify is not a backup.

Restore with ``msptui restore --from FILE --to PATH`` (README "Disaster
recovery"): it refuses a database in use and verifies before anyone uses it.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from . import leftovers, paths
from .errors import UserError
from .store import Store
from .verify import verify


def backup(store: Store, dest: Path | str, *, pages_per_step: int = 1024, full: bool = False) -> tuple[Path, int]:
    """Copy, check and rename into place; returns (path, events).

    The copy is verified like ``verify --since-last``: from the last verified
    head recorded in the database (in constant memory), or the whole chain
    when none is recorded or ``full`` is set.
    """
    dest = Path(dest)
    if dest.is_dir():  # a folder of backups keeps every one: each is named for the instant it was taken
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        dest = dest / f"{store.path.stem}-backup-{stamp}.db"
    if dest.resolve() == store.path.resolve():
        raise UserError("the backup destination is the database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    leftovers.sweep(dest.parent)  # hidden partial copies left by a killed backup
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.tmp-", suffix=".partial", dir=dest.parent)
    tmp = Path(name)
    os.fchmod(fd, paths.file_mode())
    os.close(fd)
    leftovers.claim(tmp)  # held until this process ends: a later sweep leaves a running backup alone
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
            result = verify(copy, since_last=not full, record=False)
            if not result.ok:
                raise UserError(f"{dest}: the backup copy does not verify ({result.problem}); nothing was written")
        os.replace(tmp, dest)
        return dest, result.events
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if leftover.exists():
                leftover.unlink()
        leftovers.release(tmp)
