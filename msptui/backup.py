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
    db = store.path.resolve()
    if dest.resolve() in (db, *(db.with_name(db.name + side) for side in ("-wal", "-shm", "-journal"))):
        raise UserError("the backup destination is the database itself")
    check_overwrite(store, dest)
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


SQLITE_HEADER = b"SQLite format 3\x00"


def check_overwrite(store: Store, dest: Path) -> None:
    """A backup may replace an older backup of this database, nothing else.

    The copy is renamed over DEST, so whatever DEST was is gone: a FIFO or device was
    replaced by a regular file, another file (a PDF, a JSON dump) or *another* msptui
    database (a different client's history) was destroyed without a word. Refused, with
    the reason, before anything is written.
    """
    if not (dest.exists() or dest.is_symlink()):
        return
    if dest.is_symlink() or not dest.is_file():
        raise UserError(f"{dest} exists and is not a regular file: give the path of a backup file or a folder; "
                        "nothing was written")
    try:
        with open(dest, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise UserError(f"{dest}: cannot read what is there ({exc.strerror}); nothing was written") from None
    if not header:
        return  # an empty file (e.g. made by mktemp) holds nothing to lose
    if header != SQLITE_HEADER:
        raise UserError(f"{dest} exists and is not a database (no SQLite header): refusing to overwrite it; "
                        "choose another name")
    from .replica import chain_root, in_use

    if in_use(dest):
        raise UserError(f"{dest} is in use by another process (msptui, the TUI or a replicator has it open): "
                        "refusing to overwrite it")
    row = store.conn.execute("SELECT hash FROM events WHERE id = 1").fetchone()
    try:
        theirs = chain_root(dest)
    except sqlite3.DatabaseError:
        theirs = None  # damaged or not msptui's: not this database's backup either
    if theirs is None or row is None or theirs != row[0]:
        raise UserError(f"{dest} holds a different database than {store.path} (another history): refusing to "
                        "overwrite it; back up to a new file or folder")
