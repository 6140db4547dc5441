"""Record tables as a projection of the event chain.

The ``events`` table is the source of truth. Every record table (clients,
agreements, ...) holds, for each record, its latest JSON as the chain last
stated it. ``apply`` is the only code that writes record tables, both when an
event is appended and when ``verify`` replays the whole chain into a scratch
database to compare with what is on disk.

Event kinds that change records:
- ``<type>.put``    payload ``{"type", "id", "record"}`` — create or replace
- ``<type>.delete`` payload ``{"type", "id"}``
Other kinds (e.g. ``review_pack.printed``) are history only.
"""

from __future__ import annotations

import sqlite3

from .chain import Event, canonical
from .models import RECORD_TYPES


def record_event_kind(table: str, action: str = "put") -> str:
    return f"{table}.{action}"


def row_for(table: str, record: dict) -> tuple[str | None, str | None]:
    """The (client_id, incident_id) columns a record is indexed by."""
    return RECORD_TYPES[table].subject_of(record), record.get("incident_id")


def subject_of_payload(kind: str, payload: dict) -> str | None:
    """The client an event is about (None: the MSP's own records or the installation)."""
    table, _, _action = kind.partition(".")
    model = RECORD_TYPES.get(table)
    if model is not None and isinstance(payload.get("record"), dict):
        return model.subject_of(payload["record"])
    if model is not None and table == "clients":
        return payload.get("id")
    client_id = payload.get("client_id")
    return client_id if isinstance(client_id, str) else None


def apply(conn: sqlite3.Connection, event: Event, *, record_text: str | None = None) -> None:
    """Project one event. ``record_text``: the record's canonical JSON when the caller has it already."""
    table, _, action = event.kind.partition(".")
    if table not in RECORD_TYPES:
        return
    payload = event.payload
    if action == "put":
        record = payload["record"]
        client_id, incident_id = row_for(table, record)
        conn.execute(
            f"INSERT INTO {table} (id, client_id, incident_id, data, event_id) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET client_id=excluded.client_id, incident_id=excluded.incident_id, "
            "data=excluded.data, event_id=excluded.event_id",
            (payload["id"], client_id, incident_id, record_text if record_text is not None else canonical(record), event.id),
        )
    elif action == "delete":
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (payload["id"],))
