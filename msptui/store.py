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
from typing import TYPE_CHECKING, Iterator, NamedTuple, TypeVar

from . import environment, migrations, paths
from .chain import CURRENT_VERSION, GENESIS, Event, canonical, parse_stamp, sha256_text, subject_hash, utc_stamp
from .errors import RECOVER, DamagedDatabase, UserError, describe_os_error, describe_sqlite_error
from .filesafety import check_database_files

if TYPE_CHECKING:  # the models (pydantic) load only when a command reads or writes records
    from .models import Record

R = TypeVar("R", bound="Record")
BUSY_TIMEOUT_S = 60.0
#: how far this machine's clock may be behind the last event before a write is refused
CLOCK_SKEW_TOLERANCE_S = 300.0
#: the history-only event that records, by a named person, that the clock is right and the last events' clock was
#: fast: the one write allowed to step back in recorded time (``msptui clock-step``); later writes count from it
CLOCK_STEP_KIND = "clock.stepped_back"
#: the kind of the first event of a demo database (msptui.demo writes it)
DEMO_KIND = "database.demo"


def table_of(record: Record) -> str:
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


SQLITE_HEADER = b"SQLite format 3\x00"


def _pragmas(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


def connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    _pragmas(conn)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def connect_readonly(path: Path | str, *, immutable: bool = False, same_thread: bool = True) -> sqlite3.Connection:
    """A read-only connection (``mode=ro``, or ``immutable=1``: no locks, no -shm, no -wal)."""
    from urllib.parse import quote

    flag = "immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?{flag}", uri=True, timeout=BUSY_TIMEOUT_S,
                           isolation_level=None, check_same_thread=same_thread)
    _pragmas(conn)
    conn.execute("PRAGMA query_only = ON")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def _check_file(path: Path, *, create: bool) -> None:
    """Refuse what is not an SQLite database before SQLite touches it (an empty file is not "0 events")."""
    try:
        size = path.stat().st_size
        head = b""
        if size:
            with open(path, "rb") as handle:
                head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise UserError(describe_os_error(exc, path).replace("; nothing was written", "")) from None
    if size == 0 and not create:
        raise DamagedDatabase(f"cannot open {path}: not an msptui database (the file is empty, 0 bytes); point --db / "
                              f"MSPTUI_DB at the right file, or {RECOVER}")
    if size and head != SQLITE_HEADER:
        raise DamagedDatabase(f"cannot open {path} as an msptui database: not an SQLite file (no SQLite header); {RECOVER}")


def _stale_shm(path: Path) -> bool:
    """A -shm no process holds (no SQLite lock on it) beside an empty or missing -wal: safe to remove."""
    import fcntl
    import struct

    shm, wal = Path(f"{path}-shm"), Path(f"{path}-wal")
    if not shm.exists() or (wal.exists() and wal.stat().st_size > 0):
        return False
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return False
    try:
        # SQLite locks bytes 120..128 of the -shm (the WAL locks and the dead-man switch) while it has the DB open
        probe = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 120, 9, 0)
        held = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, probe))[0] != fcntl.F_UNLCK
    except OSError:
        return False
    finally:
        os.close(fd)
    return not held


class Page(NamedTuple):
    """One page of records in the order they were recorded (see ``Store.page``)."""

    records: list
    #: the event id that last set each record (its sequence number), parallel to ``records``
    event_ids: list[int]
    #: pass as ``before`` (newest first) or ``after`` (oldest first) for the next page; None: no more
    next: int | None
    #: how many records match in all (only with ``count=True``; else None)
    total: int | None


class Store:
    """An open msptui database.

    ``mode`` says how it was opened: "rw" (normal), "ro" (read-only: a
    read-only file, folder or mount) or "immutable" (read-only and no -shm
    could be used; only safe because there was no -wal content). Writes on a
    read-only store fail with one line naming the path.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, mode: str = "rw"):
        self.path = path
        self.conn = conn
        self.mode = mode
        self._tx: dict | None = None
        self._db = None

    @property
    def readonly(self) -> bool:
        return self.mode != "rw"

    @property
    def db(self):
        """The connection as a sqlite-utils Database (table introspection), made on first use."""
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
        database where the user expected their clients. An empty (0-byte)
        file or one without the SQLite header is "not an msptui database".

        A database that cannot be opened for writing (read-only file, folder
        or mount; a stale -shm left by another user) is opened read-only so
        every read command and ``verify`` still work; a stale -shm that no
        process holds, beside an empty or missing -wal, is removed first.
        Every failure is a ``UserError`` (one line naming the file), never a
        traceback.

        ``readonly=True`` opens for reading only (no write lock, no upgrade; the
        TUI's reads): the database must already be at this msptui's schema.
        """
        path = Path(path)
        check_database_files(path)  # refuse a DB, -wal or -shm that others may write (msptui.filesafety)
        if readonly and path.exists() and not path.is_dir():
            return cls._open_readonly(path)
        if not path.exists():
            if not create:
                raise UserError(
                    f"no database at {path}: run 'msptui demo' or 'msptui import FILE' to create it, "
                    "or point --db / MSPTUI_DB at the right file"
                )
            try:
                _create_private(path)
            except OSError as exc:
                raise UserError(describe_os_error(exc)) from None
        elif path.is_dir():
            raise UserError(f"{path} is a directory, not a database file")
        _check_file(path, create=create)
        conn, mode = cls._connect(path)
        try:
            if mode == "rw":
                migrations.migrate(conn)
            else:
                version = migrations.current_version(conn)
                if version > migrations.LATEST:
                    raise RuntimeError(f"database schema version {version} is newer than this msptui ({migrations.LATEST})")
                if version < migrations.LATEST:
                    raise UserError(f"{path} was written by an older msptui (schema {version}) and is read-only here, "
                                    "so it cannot be upgraded: open it once where it is writable")
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone():
                raise DamagedDatabase(f"cannot open {path} as an msptui database: it has no event chain; {RECOVER}")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DamagedDatabase(describe_sqlite_error(path, exc)) from None
        except RuntimeError as exc:
            conn.close()
            raise UserError(f"{path}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        return cls(path, conn, mode)

    @classmethod
    def _open_readonly(cls, path: Path) -> "Store":
        _check_file(path, create=False)
        try:
            conn = connect_readonly(path)
        except sqlite3.DatabaseError as exc:
            raise DamagedDatabase(describe_sqlite_error(path, exc)) from None
        version = migrations.current_version(conn)
        if version != migrations.LATEST:
            conn.close()
            raise UserError(f"{path} has schema version {version}, this msptui reads {migrations.LATEST}: "
                            "open it once for writing (any msptui command that changes it, or the TUI) to upgrade")
        return cls(path, conn, "ro")

    @staticmethod
    def _connect(path: Path) -> tuple[sqlite3.Connection, str]:
        try:
            return connect(path), "rw"
        except sqlite3.DatabaseError as exc:
            first = exc
        if "readonly" in str(first) or "unable to open" in str(first):
            if _stale_shm(path):
                try:
                    Path(f"{path}-shm").unlink()
                    return connect(path), "rw"
                except (OSError, sqlite3.DatabaseError):
                    pass
        else:
            raise DamagedDatabase(describe_sqlite_error(path, first)) from None
        try:
            return connect_readonly(path), "ro"
        except sqlite3.DatabaseError:
            pass
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise UserError(f"{path}: cannot open: its -wal holds changes but the -shm/-wal cannot be used "
                            f"({first}); open it once as the user who owns {wal.name}, or on a writable mount")
        try:
            return connect_readonly(path, immutable=True), "immutable"
        except sqlite3.DatabaseError as exc:
            raise DamagedDatabase(describe_sqlite_error(path, exc)) from None

    def _read_only_reason(self) -> str:
        """Why this store could only be opened read-only, in one line naming the file to fix."""
        shm = Path(f"{self.path}-shm")
        if shm.exists() and not os.access(shm, os.W_OK) and os.access(self.path.parent, os.W_OK):
            try:
                import pwd

                owner = pwd.getpwuid(shm.stat().st_uid).pw_name
            except (KeyError, OSError, ImportError):
                owner = "another user"
            return (f"{shm}: cannot write: this -shm belongs to {owner} and is not writable by you (left by a msptui "
                    f"that {owner} ran); reads still work. If no msptui is running, {owner} or root can remove it; "
                    "MSPTUI_GROUP_MODE=1 avoids it. Nothing was written")
        return (f"{self.path}: cannot write: the database file, its folder or its mount is read-only; "
                "reads still work; nothing was written")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back (e.g. after "disk full"); the original error is what matters

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from the start.

        All or nothing: on any error (including a full disk at COMMIT) the
        transaction is rolled back and the *original* error propagates,
        translated into one line naming the database when it is SQLite's.
        """
        if self.mode != "rw":
            raise UserError(self._read_only_reason())
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise UserError(describe_sqlite_error(self.path, exc)) from None
                if time.monotonic() > deadline:
                    raise UserError(f"{self.path} stayed locked by another msptui for {BUSY_TIMEOUT_S:.0f} s; try again") from None
                time.sleep(0.05)
        self._tx = {}
        try:
            try:
                yield self.conn
                if self._tx.get("moved"):  # the chain head, recorded outside the chain (truncation is noticed)
                    head_id, head_hash, _ = self._tx["head"]
                    self.conn.execute(
                        "INSERT INTO chain_head (one, event_id, hash) VALUES (1, ?, ?) "
                        "ON CONFLICT(one) DO UPDATE SET event_id=excluded.event_id, hash=excluded.hash",
                        (head_id, head_hash),
                    )
                self.conn.execute("COMMIT")  # a full disk fails here: rolled back and said like any SQLite error
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise UserError(describe_sqlite_error(self.path, exc)) from None
            except BaseException:
                self._rollback()
                raise
        finally:
            self._tx = None

    def next_number(self, prefix: str, table: str, column: str) -> int:
        """The next free sequence number for ids ``prefix + N`` (call inside the write lock).

        Constant time: the last number handed out per prefix is kept in
        ``id_sequences`` (updated in the same transaction), so the cost does
        not grow with the number of notes, evidence or incidents. The first
        use of a prefix in a database written before that table seeds it with
        one scan; a number already taken (e.g. imported with that id) is
        skipped, and a number is never handed out twice, even after a delete.
        """
        row = self.conn.execute("SELECT last FROM id_sequences WHERE prefix = ?", (prefix,)).fetchone()
        if row is None:
            rows = self.conn.execute(
                f"SELECT id FROM {table} WHERE {column} IS NOT NULL AND id LIKE ? ESCAPE '\\'",
                (prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%",)).fetchall()
            numbers = [int(r["id"][len(prefix):]) for r in rows if r["id"][len(prefix):].isdigit()]
            number = max(numbers, default=0) + 1
        else:
            number = row["last"] + 1
        while self.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (f"{prefix}{number}",)).fetchone():
            number += 1
        self.conn.execute(
            "INSERT INTO id_sequences (prefix, last) VALUES (?, ?) ON CONFLICT(prefix) DO UPDATE SET last = excluded.last",
            (prefix, number))
        return number

    def _tx_state(self) -> dict:
        """What stays the same within one write transaction: the head so far, who, where.

        Read once per transaction (we hold the write lock, so no one else can
        move the head): a 280,000-record import must not re-read the head,
        the operator file and the zone for every event.
        """
        state = self._tx
        if state is None:
            raise RuntimeError("append_in_transaction needs an open Store.transaction()")
        if "head" not in state:
            row = self.conn.execute("SELECT id, hash, at FROM events ORDER BY id DESC LIMIT 1").fetchone()
            state["head"] = (row["id"], row["hash"], row["at"]) if row else (0, GENESIS, None)
        if "env" not in state:
            from . import identity

            operator = identity.event_operator()
            state["env"] = (environment.local_zone(), environment.actor(), operator,
                            canonical(operator) if operator is not None else None)
        return state

    def append_in_transaction(self, kind: str, payload: dict, *, _payload_text: str | None = None,
                              _record_text: str | None = None) -> Event:
        """Append inside an open transaction: seal, insert, project (the head is written at COMMIT).

        The recorded time comes from this machine's clock, so a clock set
        days back would write history out of order (a back-dated note before
        the incident it belongs to): a write whose clock reads earlier than
        the last event by more than CLOCK_SKEW_TOLERANCE_S is refused.
        When something *happened* is the act's own ``at``, never this.

        The event is encoded once: the canonical payload text is what is
        stored, hashed (inside the body) and, for a record, projected.
        """
        from json.encoder import encode_basestring as q

        from .projection import apply, subject_of_payload

        state = self._tx_state()
        prev_id, prev_hash, prev_at = state["head"]
        now = utc_stamp()
        if prev_at is not None and kind != CLOCK_STEP_KIND:
            behind = (parse_stamp(prev_at) - parse_stamp(now)).total_seconds()
            if behind > CLOCK_SKEW_TOLERANCE_S:
                # either this clock is slow, or the clock that wrote the last events was fast (and has since been
                # corrected): refusing for ever would lock every correct machine out until the fast time passes
                raise UserError(
                    f"this machine's clock reads {now[:19]}Z, {behind / 3600:.1f} h before the last recorded event "
                    f"({prev_at[:19]}Z); nothing was written. If this clock is wrong, fix it (NTP) and try again; "
                    "if it is right (the earlier clock was fast), record that: msptui clock-step --reason TEXT"
                )
        tz, actor, operator, operator_text = state["env"]
        if _payload_text is None:
            _payload_text = canonical(payload)
            payload = json.loads(_payload_text)
        subject = subject_of_payload(kind, payload)
        body = (f'{{"actor":{q(actor)},"at":{q(now)},"operator":{operator_text or "null"},"payload":{_payload_text},'
                f'"tz":{q(tz)}}}')
        body_sha = sha256_text(body)
        subject_json = "null" if subject is None else q(subject_hash(subject))
        header = (f'{{"body_sha256":"{body_sha}","id":{prev_id + 1},"kind":{q(kind)},"prev_hash":"{prev_hash}",'
                  f'"subject":{subject_json},"v":{CURRENT_VERSION}}}')
        event = Event(id=prev_id + 1, at=now, tz=tz, actor=actor, kind=kind, payload=payload, prev_hash=prev_hash,
                      hash=sha256_text(header), v=CURRENT_VERSION, operator=operator, subject=subject)
        rtype, rid = payload.get("type"), payload.get("id")
        self.conn.execute(
            "INSERT INTO events (id, at, tz, actor, kind, payload, prev_hash, hash, v, operator, subject, body_sha256, "
            "rtype, rid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, now, tz, actor, kind, _payload_text, prev_hash, event.hash, CURRENT_VERSION, operator_text,
             subject, body_sha, rtype if isinstance(rtype, str) else None, rid if isinstance(rid, str) else None),
        )
        apply(self.conn, event, record_text=_record_text)
        state["head"] = (event.id, event.hash, now)
        state["moved"] = True
        return event

    def record_clock_step(self, reason: str) -> Event:
        """Record that this machine's clock is right and the last events were written by a fast clock.

        The one write allowed to step back in recorded time: it names the last event, the recorded time it
        steps back from and by how much, and the named person's reason; later writes count from it. ``verify``
        still lists the step, as recorded. Refused when the clock is not behind (nothing to record)."""
        from .errors import FieldError
        from .literal import has_visible

        if not has_visible(reason or ""):
            raise FieldError("--reason", "say why this clock is right (e.g. 'checked against NTP; the box was 3 days fast')")
        with self.transaction():
            prev_id, _prev_hash, prev_at = self._tx_state()["head"]
            now = utc_stamp()
            behind = (parse_stamp(prev_at) - parse_stamp(now)).total_seconds() if prev_at else 0.0
            if behind <= CLOCK_SKEW_TOLERANCE_S:
                raise UserError(f"this machine's clock ({now[:19]}Z) is not behind the last recorded event "
                                f"({(prev_at or '-')[:19]}Z) by more than {CLOCK_SKEW_TOLERANCE_S:.0f} s: "
                                "there is no step to record")
            return self.append_in_transaction(CLOCK_STEP_KIND, {"last_event": prev_id, "last_at": prev_at,
                                                                "behind_s": round(behind, 3), "reason": reason.strip()})

    def append(self, kind: str, payload: dict) -> Event:
        """Append one history-only or record event in its own transaction."""
        with self.transaction():
            return self.append_in_transaction(kind, payload)

    def put_in_transaction(self, record: Record) -> Event | None:
        from json.encoder import encode_basestring as q

        from .projection import record_event_kind

        table = table_of(record)
        data = record.model_dump(mode="json")
        record_text = canonical(data)
        current = self.conn.execute(f"SELECT data FROM {table} WHERE id = ?", (record.id,)).fetchone()
        if current is not None and current["data"] == record_text:
            return None
        # canonical({"id", "record", "type"}) written out: the keys sort as id < record < type
        payload_text = f'{{"id":{q(record.id)},"record":{record_text},"type":{q(table)}}}'
        return self.append_in_transaction(record_event_kind(table), {"type": table, "id": record.id, "record": data},
                                          _payload_text=payload_text, _record_text=record_text)

    def put_text_in_transaction(self, table: str, record_id: str, record_text: str) -> Event | None:
        """Like ``put_in_transaction`` for a record already validated and given as its canonical JSON
        (``recordfile.import_count``): appends only if it differs from what is stored."""
        from json.encoder import encode_basestring as q

        from .projection import record_event_kind

        current = self.conn.execute(f"SELECT data FROM {table} WHERE id = ?", (record_id,)).fetchone()
        if current is not None and current["data"] == record_text:
            return None
        payload_text = f'{{"id":{q(record_id)},"record":{record_text},"type":{q(table)}}}'
        return self.append_in_transaction(record_event_kind(table),
                                          {"type": table, "id": record_id, "record": json.loads(record_text)},
                                          _payload_text=payload_text, _record_text=record_text)

    def put(self, record: Record) -> Event | None:
        """Create or replace a record; returns its event, or None if nothing changed."""
        with self.transaction():
            return self.put_in_transaction(record)

    def put_many(self, records: list[Record]) -> list[Event]:
        """All-or-nothing: every changed record gets an event, in one transaction."""
        with self.transaction():
            return [e for e in (self.put_in_transaction(r) for r in records) if e is not None]

    # -- reading ---------------------------------------------------------------

    def _parse(self, model: type[R], table: str, row: sqlite3.Row) -> R:
        """A stored record as its model; a record that no longer parses is damage, said in one line."""
        try:
            return model.model_validate_json(row["data"])
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            rid = row["id"] if "id" in row.keys() else "?"
            raise DamagedDatabase(f"{self.path}: record {table}/{rid} no longer parses ({first}); {RECOVER}") from None

    def get(self, model: type[R], record_id: str) -> R | None:
        table = model.TABLE
        row = self.conn.execute(f"SELECT id, data FROM {table} WHERE id = ?", (record_id,)).fetchone()
        return self._parse(model, table, row) if row else None

    def all(self, model: type[R], *, client_id: str | None = None, incident_id: str | None = None) -> list[R]:
        table = model.TABLE
        where, args = [], []
        if client_id is not None:
            where.append("client_id = ?")
            args.append(client_id)
        if incident_id is not None:
            where.append("incident_id = ?")
            args.append(incident_id)
        sql = f"SELECT id, data FROM {table}" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [self._parse(model, table, r) for r in self.conn.execute(sql, args)]

    def iter_all(self, model: type[R], *, client_id: str | None = None) -> Iterator[R]:
        """Like ``all`` but streamed (one record in memory at a time), in id order."""
        table = model.TABLE
        sql = f"SELECT id, data FROM {table}" + (" WHERE client_id = ?" if client_id is not None else "") + " ORDER BY id"
        for r in self.conn.execute(sql, (client_id,) if client_id is not None else ()):
            yield self._parse(model, table, r)

    def page(self, model: type[R], *, incident_id: str | None = None, client_id: str | None = None,
             before: int | None = None, after: int | None = None, limit: int = 200, count: bool = False) -> Page:
        """One page of an incident's (or client's) records in the order they were recorded.

        For timelines that must open at once however long they are (an
        incident with 200,000 notes): records are ordered by the event that
        last set them (``event_id``, the chain's sequence, never the
        writer's clock). Newest first by default: pass ``before=page.next``
        for the next (older) page; or oldest first with ``after=0`` and then
        ``after=page.next``. Each page is one indexed range read
        (``<table>_incident_seq``), so its cost does not grow with the
        incident. ``count=True`` also fills ``total`` with every match (for
        "200 of 200,000"; an index count, ~15 ms at 200,000 notes), else
        ``total`` is None. ``limit`` is clamped to 1..5000.
        """
        table = model.TABLE
        limit = max(1, min(int(limit), 5000))
        where, args = [], []
        if incident_id is not None:
            where.append("incident_id = ?")
            args.append(incident_id)
        if client_id is not None:
            where.append("client_id = ?")
            args.append(client_id)
        cond = " AND ".join(where) or "1"
        total = self.conn.execute(f"SELECT count(*) FROM {table} WHERE {cond}", args).fetchone()[0] if count else None
        if after is not None:
            sql, bound = f"SELECT id, data, event_id FROM {table} WHERE {cond} AND event_id > ? ORDER BY event_id LIMIT ?", after
        else:
            bound = before if before is not None else 2 ** 62
            sql = f"SELECT id, data, event_id FROM {table} WHERE {cond} AND event_id < ? ORDER BY event_id DESC LIMIT ?"
        rows = self.conn.execute(sql, [*args, bound, limit + 1]).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([self._parse(model, table, r) for r in rows], [r["event_id"] for r in rows],
                    rows[-1]["event_id"] if more else None, total)

    def raw_records(self, table: str) -> list[dict]:
        """Record JSON exactly as stored (for dump: no re-validation, no reformatting)."""
        out = []
        for r in self.conn.execute(f"SELECT id, data FROM {table} ORDER BY id"):
            try:
                out.append(json.loads(r["data"]))
            except ValueError as exc:
                raise DamagedDatabase(f"{self.path}: record {table}/{r['id']} no longer parses ({exc}); {RECOVER}") from None
        return out

    def count(self, table: str) -> int:
        return self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def exists(self, table: str, record_id: str) -> bool:
        return self.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (record_id,)).fetchone() is not None

    def client_of(self, table: str, record_id: str) -> str | None:
        """The client a record belongs to, from its indexed column, without parsing the record (None: no such
        record). For writes that only need to know whose record it is: parsing an incident costs a 'note'
        about a sixth of its run (the model's validator is built on first use)."""
        row = self.conn.execute(f"SELECT client_id FROM {table} WHERE id = ?", (record_id,)).fetchone()
        return row[0] if row else None

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

    def is_demo(self) -> bool:
        """Whether this database holds the fictional demo (its first event is the demo marker): one indexed read."""
        row = self.conn.execute("SELECT kind FROM events WHERE id = 1").fetchone()
        return row is not None and row["kind"] == DEMO_KIND

    def events_about(self, client_id: str, *, newest_first: bool = False) -> Iterator[Event]:
        """Every event whose subject is this client, in chain order or newest first (indexed: no full scan;
        a caller that stops early reads only what it took)."""
        order = "DESC" if newest_first else ""
        for row in self.conn.execute(f"SELECT * FROM events WHERE subject = ? ORDER BY id {order}", (client_id,)):
            try:
                yield Event.from_row(dict(row))
            except ValueError as exc:
                raise DamagedDatabase(f"{self.path}: event {row['id']} no longer parses ({exc}); {RECOVER}") from None

    def head(self) -> tuple[int, str]:
        row = self.conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        return (row["id"], row["hash"]) if row else (0, GENESIS)

    def events(self, *, after: int = 0) -> Iterator[Event]:
        for row in self.conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id", (after,)):
            try:
                yield Event.from_row(dict(row))
            except ValueError as exc:
                raise DamagedDatabase(f"{self.path}: event {row['id']} no longer parses ({exc}); {RECOVER}") from None

    def record_events(self, table: str, record_id: str) -> list[Event]:
        """Every event that changed one record, oldest first (its history): one index range (events_record)."""
        from .projection import record_event_kind

        rows = self.conn.execute(
            f"SELECT * FROM events WHERE {migrations.EVENT_RECORD_TYPE} = ? AND {migrations.EVENT_RECORD_ID} = ? "
            "AND kind IN (?, ?) ORDER BY id",
            (table, record_id, record_event_kind(table), record_event_kind(table, "delete")),
        )
        return [Event.from_row(dict(r)) for r in rows]

    def first_event_of(self, table: str, record_id: str) -> int | None:
        """The id of the event that first stated a record (None: never stated): one index lookup (events_record).
        Nothing about the record can come before it, so a newest-first scan for its events may stop there."""
        row = self.conn.execute(
            f"SELECT min(id) FROM events WHERE {migrations.EVENT_RECORD_TYPE} = ? AND {migrations.EVENT_RECORD_ID} = ?",
            (table, record_id),
        ).fetchone()
        return row[0] if row else None

    def record_before(self, table: str, record_id: str, before: int) -> dict | None:
        """The record as the last event before event ``before`` left it (None: not yet created, or deleted).

        One index probe (events_record): what a paged timeline needs to say
        what an update changed when the record's earlier versions are on an
        older page.
        """
        from .projection import record_event_kind

        row = self.conn.execute(
            f"SELECT * FROM events WHERE {migrations.EVENT_RECORD_TYPE} = ? AND {migrations.EVENT_RECORD_ID} = ? "
            "AND kind IN (?, ?) AND id < ? ORDER BY id DESC LIMIT 1",
            (table, record_id, record_event_kind(table), record_event_kind(table, "delete"), before),
        ).fetchone()
        if row is None:
            return None
        record = Event.from_row(dict(row)).payload.get("record")
        return record if isinstance(record, dict) else None

    # -- verification records --------------------------------------------------

    def last_verified(self) -> sqlite3.Row | None:
        """The latest recorded verification (event_id, hash, from_event, scope, at, actor, operator), or None."""
        return self.conn.execute("SELECT * FROM verifications ORDER BY id DESC LIMIT 1").fetchone()

    def record_verification(self, event_id: int, head_hash: str, *, from_event: int, scope: str) -> bool:
        """Remember that the chain up to ``event_id`` verified (who, when); False when the store is read-only."""
        if self.mode != "rw":
            return False
        from . import identity

        operator = identity.event_operator()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO verifications (event_id, hash, from_event, scope, at, actor, operator) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, head_hash, from_event, scope, utc_stamp(), environment.actor(),
                 canonical(operator) if operator is not None else None))
        return True
