"""Versioned schema migrations, tracked in ``PRAGMA user_version``.

A database written by an older msptui upgrades itself on open: each step runs
once, in order, inside the same transaction that bumps user_version, so a
crash mid-upgrade leaves the old version intact.

Every step is **frozen**: it names the exact tables and indexes of its own
version and never reads today's models (a step that looped over "the current
record types" would give a fresh database a new table while an existing one
failed with "no such table"). Never edit a released step; add a new one, and
add a database written by the new version to tests/data/schema/.

A new record type gets its table from a new step calling ``record_table``.
"""

from __future__ import annotations

import sqlite3
from typing import Callable, NamedTuple


def record_table(conn: sqlite3.Connection, table: str) -> None:
    """One projection table (a record's latest JSON and the event that set it), indexed by client and incident."""
    conn.execute(
        f"""CREATE TABLE {table} (
            id TEXT PRIMARY KEY,
            client_id TEXT,
            incident_id TEXT,
            data TEXT NOT NULL,
            event_id INTEGER NOT NULL REFERENCES events(id)
        )"""
    )
    _record_indexes(conn, table)


def _record_indexes(conn: sqlite3.Connection, table: str) -> None:
    conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_client ON {table}(client_id)")
    conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_incident ON {table}(incident_id)")


#: the record tables of schema 1 (as released; never changes)
_V1_TABLES = ("clients", "agreements", "risk_acceptances", "policies", "reviews", "incidents",
              "checklist_items", "evidence", "notes")


def _append_only(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    conn.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )


def _v1_events_and_records(conn: sqlite3.Connection) -> None:
    """The event chain (append-only) and one projection table per record type of schema 1."""
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
    _append_only(conn)
    for table in _V1_TABLES:
        conn.execute(
            f"""CREATE TABLE {table} (
                id TEXT PRIMARY KEY,
                client_id TEXT,
                incident_id TEXT,
                data TEXT NOT NULL,
                event_id INTEGER NOT NULL REFERENCES events(id)
            )"""
        )


def _v2_chain_head_and_indexes(conn: sqlite3.Connection) -> None:
    """Record the chain head outside the chain, so truncating the tail is detectable,
    and index the projections by client and incident for the TUI's lookups."""
    conn.execute("CREATE TABLE chain_head (one INTEGER PRIMARY KEY CHECK (one = 1), event_id INTEGER NOT NULL, hash TEXT NOT NULL)")
    row = conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    if row:
        conn.execute("INSERT INTO chain_head (one, event_id, hash) VALUES (1, ?, ?)", (row[0], row[1]))
    for table in _V1_TABLES:
        _record_indexes(conn, table)


def _v3_event_envelope(conn: sqlite3.Connection) -> None:
    """Event encoding 2: the operator, the event's subject (client) and its body hash.

    Existing events stay version 1 (their hashes cannot change); ``subject``
    is filled in for them from their payload so one client's events can be
    found by index. It is not covered by a version-1 hash, so ``verify``
    re-derives it from the payload and compares.
    """
    conn.execute("ALTER TABLE events ADD COLUMN v INTEGER NOT NULL DEFAULT 1")
    conn.execute("ALTER TABLE events ADD COLUMN operator TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN subject TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN body_sha256 TEXT")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(
        """UPDATE events SET subject = CASE
              WHEN json_extract(payload, '$.type') = 'clients' THEN json_extract(payload, '$.id')
              WHEN json_type(payload, '$.record') = 'object' THEN json_extract(payload, '$.record.client_id')
              ELSE json_extract(payload, '$.client_id') END"""
    )
    conn.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    conn.execute("CREATE INDEX events_subject ON events(subject, id)")


def _v4_acts(conn: sqlite3.Connection) -> None:
    """What was done, by whom: the notification log, decisions and consents, the cost ledger."""
    for table in ("notifications", "decisions", "costs"):
        record_table(conn, table)


def _v5_msp_record(conn: sqlite3.Connection) -> None:
    """The MSP's own record (name, address, contacts): one row in a projection table of its own."""
    record_table(conn, "msp")


#: the record table and id an event is about: columns filled in from the payload when the event is written
#: (and by migration 6 for older events); not covered by the hash, so ``verify`` re-derives them from the payload
EVENT_RECORD_TYPE = "rtype"
EVENT_RECORD_ID = "rid"


def _v6_sequences_verifications_and_paging(conn: sqlite3.Connection) -> None:
    """Scale to years of incidents on one jump box.

    - ``id_sequences``: the last number handed out per id prefix (an incident's
      notes, evidence; a client's incidents per day), so allocating the next id
      is one indexed read under the write lock instead of a scan of every
      sibling record.
    - ``verifications``: each successful verification (the head it verified,
      when, by whom, from which event), so ``verify --since-last`` checks only
      what was appended after a verified head.
    - ``events.rtype``/``events.rid`` and ``events_record``: the record an event
      is about (its payload's type and id, copied into columns when it is
      written), so a record's history and verify's projection check are
      covering-index lookups instead of JSON parsing.
    - ``<table>_incident_seq``: an incident's notes, evidence and checklist in
      the order they were recorded (event id), for paged timelines.
    """
    conn.execute("CREATE TABLE id_sequences (prefix TEXT PRIMARY KEY, last INTEGER NOT NULL)")
    conn.execute(
        """CREATE TABLE verifications (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL,
            hash TEXT NOT NULL,
            from_event INTEGER NOT NULL,
            scope TEXT NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            operator TEXT
        )"""
    )
    conn.execute("ALTER TABLE events ADD COLUMN rtype TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN rid TEXT")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(
        """UPDATE events SET
              rtype = CASE WHEN json_valid(payload) AND json_type(payload, '$.type') = 'text' THEN json_extract(payload, '$.type') END,
              rid = CASE WHEN json_valid(payload) AND json_type(payload, '$.id') = 'text' THEN json_extract(payload, '$.id') END"""
    )
    conn.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    conn.execute("CREATE INDEX events_record ON events(rtype, rid, id)")
    for table in ("notes", "evidence", "checklist_items"):
        conn.execute(f"CREATE INDEX {table}_incident_seq ON {table}(incident_id, event_id)")


class Migration(NamedTuple):
    name: str
    step: Callable[[sqlite3.Connection], None]


#: schema version N is reached by running MIGRATIONS[N-1]; never edit a released entry
MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_events_and_records", _v1_events_and_records),
    Migration("0002_chain_head_and_indexes", _v2_chain_head_and_indexes),
    Migration("0003_event_envelope_v2", _v3_event_envelope),
    Migration("0004_notifications_decisions_costs", _v4_acts),
    Migration("0005_msp_record", _v5_msp_record),
    Migration("0006_sequences_verifications_and_paging", _v6_sequences_verifications_and_paging),
)
LATEST = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> list[int]:
    """Bring the schema up to ``target``; returns the versions applied."""
    applied = []
    version = current_version(conn)  # no write lock just to learn that nothing needs doing
    if version > LATEST:
        raise RuntimeError(f"database schema version {version} is newer than this msptui ({LATEST})")
    if version >= target:
        return applied
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(conn)
            if version > LATEST:
                raise RuntimeError(f"database schema version {version} is newer than this msptui ({LATEST})")
            if version >= target:
                conn.execute("COMMIT")
                return applied
            MIGRATIONS[version].step(conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
            applied.append(version + 1)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
