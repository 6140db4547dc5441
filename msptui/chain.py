"""The hash chain: how an event is encoded, hashed and checked.

Each event's hash is SHA-256 over a canonical JSON encoding of the event
(id, at, tz, actor, kind, payload, prev_hash). Because every hash covers the
previous one, editing, deleting, reordering or truncating events breaks the
chain at the first event touched. The encoding is documented here and in
README.md so that anyone can re-check a chain with a few lines of any language.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def utc_stamp(moment: datetime | None = None) -> str:
    """An instant as the chain stores it: UTC, microseconds, 'Z'."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    id: int
    at: str
    tz: str
    actor: str
    kind: str
    payload: dict
    prev_hash: str
    hash: str = ""

    def body(self) -> dict:
        return {
            "id": self.id,
            "at": self.at,
            "tz": self.tz,
            "actor": self.actor,
            "kind": self.kind,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical(self.body()).encode("utf-8")).hexdigest()

    def sealed(self) -> "Event":
        return Event(**{**self.body(), "hash": self.compute_hash()})

    def as_row(self) -> dict:
        return {**self.body(), "payload": canonical(self.payload), "hash": self.hash}

    def as_json(self) -> dict:
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_row(cls, row: dict) -> "Event":
        payload = row["payload"]
        return cls(
            id=row["id"],
            at=row["at"],
            tz=row["tz"],
            actor=row["actor"],
            kind=row["kind"],
            payload=json.loads(payload) if isinstance(payload, str) else payload,
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id is not None else "chain"
        return f"{where}: {self.message}"


class ChainWalk:
    """Checks events one at a time, in id order (so a caller can do other work in the same pass).

    Ids must run 1, 2, 3 ... without gaps (a deleted event leaves a gap or a
    broken link), each prev_hash must equal the previous event's hash
    (reordering or deletion) and each hash must match the content (editing).
    """

    def __init__(self, start_prev: str = GENESIS, start_id: int = 1):
        self.prev_hash, self.expected_id, self.last = start_prev, start_id, None

    def feed(self, event: Event) -> ChainProblem | None:
        if event.id != self.expected_id:
            return ChainProblem(event.id, f"expected event id {self.expected_id} here: events are missing or reordered")
        if event.prev_hash != self.prev_hash:
            return ChainProblem(event.id, "prev_hash does not match the previous event's hash: an event before it was deleted, reordered or edited")
        if event.compute_hash() != event.hash:
            return ChainProblem(event.id, "content does not match its hash: the event was edited")
        self.prev_hash, self.expected_id, self.last = event.hash, self.expected_id + 1, event
        return None


def check_chain(events: Iterable[Event], *, start_prev: str = GENESIS, start_id: int = 1) -> tuple[ChainProblem | None, Event | None]:
    """Walk events in id order; return the first problem (or None) and the last good event."""
    walk = ChainWalk(start_prev, start_id)
    for event in events:
        problem = walk.feed(event)
        if problem:
            return problem, walk.last
    return None, walk.last
