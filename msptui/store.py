"""The SQLite store: open safely, append events, read records.

One rule holds everything together: records are only ever changed by
appending an event and applying it to the projection, both inside one
``BEGIN IMMEDIATE`` transaction. The write lock is taken before the chain
head is read, so several processes appending at once queue up behind each
other instead of forking the chain, and a crash leaves either the whole
change or none of it.

Connections are per thread (sqlite3's rule): the TUI's workers each open
their own ``Store``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, TypeVar

from . import environment, migrations, paths
from .chain import CURRENT_VERSION, GENESIS, Event, canonical, parse_stamp, utc_stamp
from .errors import UserError
from .filesafety import check_database_files

# The models (pydantic) and sqlite-utils are imported where first needed, not
# here: opening a database and reading rows must not pay for them (CLI start-up,
# the TUI's first paint).
if TYPE_CHECKING:
    import sqlite_utils

    from .models import Record

R = TypeVar("R", bound="Record")
BUSY_TIMEOUT_S = 60.0
#: how far this machine's clock may be behind the last event before a write is refused
CLOCK_SKEW_TOLERANCE_S = 300.0
#: the kind of the first event of a demo database (msptui.demo writes it)
DEMO_KIND = "database.demo"


def table_of(record: "Record") -> str:
    return type(record).TABLE


def _create_private(path: Path) -> None:
    """Create the DB file (and its folder) owner-only before SQLite touches it.

    SQLite gives the -wal and -shm files the permissions of the DB file, so
    getting the first file right keeps every file private.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=paths.dir_mode())
        os.chmod(folder, paths.dir_mode())
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, paths.file_mode())
    os.close(fd)
    os.chmod(path, paths.file_mode())


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Store:
    """An open msptui database."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool = False):
        self.path = path
        self.conn = conn
        self.readonly = readonly
        self._db: "sqlite_utils.Database | None" = None

    @property
    def db(self) -> "sqlite_utils.Database":
        """The connection as a sqlite-utils Database (for table introspection and counts)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, create: bool = False, readonly: bool = False) -> "Store":
        """Open (and upgrade) the DB at ``path``.

        ``create=False`` refuses a missing file: a command run in the wrong
        directory or with the wrong MSPTUI_DB must not quietly start an empty
        database where the user expected their clients. ``readonly=True``
        opens for reading only (no write lock, no upgrade): the database must
        already be at this msptui's schema version.
        """
        path = Path(path)
        check_database_files(path)  # refuse a DB, -wal or -shm that others may write (msptui.filesafety)
        if readonly:
            return cls._open_readonly(path)
        if not path.exists():
            if not create:
                raise UserError(
                    f"no database at {path}: run 'msptui demo' or 'msptui import FILE' to create it, "
                    "or point --db / MSPTUI_DB at the right file"
                )
            _create_private(path)
        elif path.is_dir():
            raise UserError(f"{path} is a directory, not a database file")
        try:
            conn = connect(path)
            migrations.migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"cannot open {path} as an msptui database: {exc}") from None
        except RuntimeError as exc:
            raise UserError(f"{path}: {exc}") from None
        return cls(path, conn)

    @classmethod
    def _open_readonly(cls, path: Path) -> "Store":
        if not path.exists():
            raise UserError(f"no database at {path}: run 'msptui demo' or 'msptui import FILE' to create it")
        if path.is_dir():
            raise UserError(f"{path} is a directory, not a database file")
        try:
            conn = connect(path, readonly=True)
            version = migrations.current_version(conn)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"cannot open {path} as an msptui database: {exc}") from None
        if version != migrations.LATEST:
            conn.close()
            raise UserError(f"{path} has schema version {version}, this msptui reads {migrations.LATEST}: "
                            "open it once for writing (any msptui command that changes it, or the TUI) to upgrade")
        return cls(path, conn, readonly=True)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from the start."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise UserError(f"{self.path} stayed locked by another msptui for {BUSY_TIMEOUT_S:.0f} s; try again") from None
                time.sleep(0.05)
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def append_in_transaction(self, kind: str, payload: dict) -> Event:
        """Append inside an open transaction: read head, seal, insert, project.

        The recorded time comes from this machine's clock, so a clock set
        days back would write history out of order (a back-dated note before
        the incident it belongs to): a write whose clock reads earlier than
        the last event by more than CLOCK_SKEW_TOLERANCE_S is refused.
        When something *happened* is the act's own ``at``, never this.
        """
        row = self.conn.execute("SELECT id, hash, at FROM events ORDER BY id DESC LIMIT 1").fetchone()
        prev_id, prev_hash = (row["id"], row["hash"]) if row else (0, GENESIS)
        now = utc_stamp()
        if row is not None:
            behind = (parse_stamp(row["at"]) - parse_stamp(now)).total_seconds()
            if behind > CLOCK_SKEW_TOLERANCE_S:
                raise UserError(
                    f"this machine's clock reads {now[:19]}Z, {behind / 3600:.1f} h before the last recorded event "
                    f"({row['at'][:19]}Z): fix the clock (NTP) and try again; nothing was written"
                )
        from . import identity
        from .projection import apply, subject_of_payload

        payload = json.loads(canonical(payload))
        event = Event(
            id=prev_id + 1,
            at=now,
            tz=environment.local_zone(),
            actor=environment.actor(),
            kind=kind,
            payload=payload,
            prev_hash=prev_hash,
            v=CURRENT_VERSION,
            operator=identity.event_operator(),
            subject=subject_of_payload(kind, payload),
        ).sealed()
        self.conn.execute(
            "INSERT INTO events (id, at, tz, actor, kind, payload, prev_hash, hash, v, operator, subject, body_sha256) "
            "VALUES (:id, :at, :tz, :actor, :kind, :payload, :prev_hash, :hash, :v, :operator, :subject, :body_sha256)",
            event.as_row(),
        )
        apply(self.conn, event)
        self.conn.execute(
            "INSERT INTO chain_head (one, event_id, hash) VALUES (1, ?, ?) "
            "ON CONFLICT(one) DO UPDATE SET event_id=excluded.event_id, hash=excluded.hash",
            (event.id, event.hash),
        )
        return event

    def append(self, kind: str, payload: dict) -> Event:
        """Append one history-only or record event in its own transaction."""
        with self.transaction():
            return self.append_in_transaction(kind, payload)

    def put_in_transaction(self, record: "Record") -> Event | None:
        from .projection import record_event_kind

        table = table_of(record)
        data = record.model_dump(mode="json")
        current = self.conn.execute(f"SELECT data FROM {table} WHERE id = ?", (record.id,)).fetchone()
        if current is not None and current["data"] == canonical(data):
            return None
        return self.append_in_transaction(record_event_kind(table), {"type": table, "id": record.id, "record": data})

    def put(self, record: "Record") -> Event | None:
        """Create or replace a record; returns its event, or None if nothing changed."""
        with self.transaction():
            return self.put_in_transaction(record)

    def put_many(self, records: list["Record"]) -> list[Event]:
        """All-or-nothing: every changed record gets an event, in one transaction."""
        with self.transaction():
            return [e for e in (self.put_in_transaction(r) for r in records) if e is not None]

    # -- reading ---------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read several things as of one instant (a read transaction; nested use joins the outer one)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def get(self, model: type[R], record_id: str) -> R | None:
        table = model.TABLE
        row = self.conn.execute(f"SELECT data FROM {table} WHERE id = ?", (record_id,)).fetchone()
        return model.model_validate_json(row["data"]) if row else None

    def all(self, model: type[R], *, client_id: str | None = None, incident_id: str | None = None) -> list[R]:
        table = model.TABLE
        where, args = [], []
        if client_id is not None:
            where.append("client_id = ?")
            args.append(client_id)
        if incident_id is not None:
            where.append("incident_id = ?")
            args.append(incident_id)
        sql = f"SELECT data FROM {table}" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [model.model_validate_json(r["data"]) for r in self.conn.execute(sql, args)]

    def raw_records(self, table: str) -> list[dict]:
        """Record JSON exactly as stored (for dump: no re-validation, no reformatting)."""
        return [json.loads(r["data"]) for r in self.conn.execute(f"SELECT data FROM {table} ORDER BY id")]

    def count(self, table: str) -> int:
        return self.db[table].count

    def exists(self, table: str, record_id: str) -> bool:
        return self.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (record_id,)).fetchone() is not None

    def is_demo(self) -> bool:
        """Whether this database holds the fictional demo (its first event is the demo marker): one indexed read."""
        row = self.conn.execute("SELECT kind FROM events WHERE id = 1").fetchone()
        return row is not None and row["kind"] == DEMO_KIND

    def head(self) -> tuple[int, str]:
        row = self.conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        return (row["id"], row["hash"]) if row else (0, GENESIS)

    def events(self, *, after: int = 0) -> Iterator[Event]:
        for row in self.conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id", (after,)):
            yield Event.from_row(dict(row))

    def events_about(self, client_id: str) -> Iterator[Event]:
        """Every event whose subject is this client, in chain order (indexed: no full scan)."""
        for row in self.conn.execute("SELECT * FROM events WHERE subject = ? ORDER BY id", (client_id,)):
            yield Event.from_row(dict(row))

    def record_events(self, table: str, record_id: str) -> list[Event]:
        """Every event that changed one record, oldest first (its history)."""
        from .projection import record_event_kind

        rows = self.conn.execute(
            "SELECT * FROM events WHERE kind IN (?, ?) AND json_extract(payload, '$.id') = ? "
            "AND json_extract(payload, '$.type') = ? ORDER BY id",
            (record_event_kind(table), record_event_kind(table, "delete"), record_id, table),
        )
        return [Event.from_row(dict(r)) for r in rows]
