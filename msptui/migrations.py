"""Versioned schema migrations, tracked in ``PRAGMA user_version``.

A database written by an older msptui upgrades itself on open: each step runs
once, in order, inside the same transaction that bumps user_version, so a
crash mid-upgrade leaves the old version intact. Never edit a released step;
add a new one.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from .models import RECORD_TYPES


def _v1(conn: sqlite3.Connection) -> None:
    """The event chain (append-only) and one projection table per record type."""
    conn.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            tz TEXT NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )"""
    )
    conn.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    conn.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    for table in RECORD_TYPES:
        conn.execute(
            f"""CREATE TABLE {table} (
                id TEXT PRIMARY KEY,
                client_id TEXT,
                incident_id TEXT,
                data TEXT NOT NULL,
                event_id INTEGER NOT NULL REFERENCES events(id)
            )"""
        )


def _v2(conn: sqlite3.Connection) -> None:
    """Record the chain head outside the chain, so truncating the tail is detectable,
    and index the projections by client and incident for the TUI's lookups."""
    conn.execute("CREATE TABLE chain_head (one INTEGER PRIMARY KEY CHECK (one = 1), event_id INTEGER NOT NULL, hash TEXT NOT NULL)")
    row = conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    if row:
        conn.execute("INSERT INTO chain_head (one, event_id, hash) VALUES (1, ?, ?)", (row[0], row[1]))
    for table in RECORD_TYPES:
        conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_client ON {table}(client_id)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_incident ON {table}(incident_id)")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
LATEST = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> list[int]:
    """Bring the schema up to ``target``; returns the versions applied."""
    applied = []
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(conn)
            if version > LATEST:
                raise RuntimeError(f"database schema version {version} is newer than this msptui ({LATEST})")
            if version >= target:
                conn.execute("COMMIT")
                return applied
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
            applied.append(version + 1)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
