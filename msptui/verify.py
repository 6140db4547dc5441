"""``msptui verify``: prove the records still match their history.

Three checks, stopping at the first discrepancy (1 and the replay of 3 share
one pass over the events):
1. the chain: ids contiguous, each prev_hash links, each hash matches content;
2. the head: the last event is the one the chain_head row recorded at the last
   append, so cutting events off the end is noticed;
3. the projection: replaying every event into a scratch database gives exactly
   the record tables on disk, so a record edited behind the chain's back (or a
   record whose event was removed) is noticed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import migrations
from .chain import ChainProblem, ChainWalk
from .models import RECORD_TYPES
from .projection import apply, subject_of_payload
from .store import Store


@dataclass
class VerifyResult:
    ok: bool
    events: int
    head_hash: str
    problem: str | None = None


def _scratch() -> sqlite3.Connection:
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    scratch.row_factory = sqlite3.Row
    migrations.migrate(scratch)
    scratch.execute("PRAGMA foreign_keys = OFF")
    return scratch


def _compare_tables(store: Store, scratch: sqlite3.Connection) -> str | None:
    cols = "id, client_id, incident_id, data, event_id"
    for table in RECORD_TYPES:
        on_disk = store.conn.execute(f"SELECT {cols} FROM {table} ORDER BY id").fetchall()
        replayed = scratch.execute(f"SELECT {cols} FROM {table} ORDER BY id").fetchall()
        disk_map = {r["id"]: tuple(r) for r in on_disk}
        replay_map = {r["id"]: tuple(r) for r in replayed}
        for record_id in sorted(set(disk_map) | set(replay_map)):
            disk, replay = disk_map.get(record_id), replay_map.get(record_id)
            if disk == replay:
                continue
            if replay is None:
                return f"record {table}/{record_id} exists but no event created it"
            if disk is None:
                return f"record {table}/{record_id} was removed behind the chain's back (last event {replay[4]})"
            return f"record {table}/{record_id} differs from its history (last changed by event {replay[4]})"
    return None


def _subject_problem(event) -> ChainProblem | None:
    """The stored subject must be the client the payload is about.

    In encoding 2 the subject is hashed into the header, so a wrong one means
    the event was written to hide from that client's dossier; in encoding 1 it
    is an index column filled in by migration 3, checked here because no hash
    covers it.
    """
    expected = subject_of_payload(event.kind, event.payload)
    if event.subject != expected:
        return ChainProblem(event.id, f"names subject {event.subject!r} but its content is about {expected!r}")
    return None


def verify(store: Store) -> VerifyResult:
    # one pass over the events: check each link and replay it into a scratch DB
    walk, scratch = ChainWalk(), _scratch()
    scratch.execute("BEGIN")
    problem = None
    for event in store.events():
        problem = walk.feed(event) or _subject_problem(event)
        if problem:
            break
        apply(scratch, event)
    scratch.execute("COMMIT")
    last = walk.last
    count = last.id if last else 0
    head_hash = last.hash if last else ""
    if problem:
        return VerifyResult(False, count, head_hash, str(problem))
    recorded = store.conn.execute("SELECT event_id, hash FROM chain_head").fetchone()
    if recorded is not None and (recorded["event_id"], recorded["hash"]) != (count, head_hash):
        return VerifyResult(
            False,
            count,
            head_hash,
            str(ChainProblem(recorded["event_id"], f"the chain head was recorded as event {recorded['event_id']} "
                             f"but the chain ends at event {count}: events were truncated or the head was altered")),
        )
    if recorded is None and count:
        return VerifyResult(False, count, head_hash, "chain: the recorded chain head is missing")
    diff = _compare_tables(store, scratch)
    if diff:
        return VerifyResult(False, count, head_hash, diff)
    return VerifyResult(True, count, head_hash)
