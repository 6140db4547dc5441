"""The hash chain: how an event is encoded, hashed and checked.

Two encodings exist; each event says which one it uses (``v``), and both
verify forever, so a database written by an older msptui keeps verifying.

**Version 1** (every event written before schema 3): the hash is SHA-256 over
the canonical JSON of ``{id, at, tz, actor, kind, payload, prev_hash}``.

**Version 2** (every event written since): the event is split into a *header*
and a *body*::

    body   = {at, tz, actor, operator, payload}
    header = {v: 2, id, subject, kind, body_sha256, prev_hash}
    hash   = SHA-256(canonical(header))
    body_sha256 = SHA-256(canonical(body))

``subject`` is ``SHA-256("msptui-subject:" + client id)`` for an event about
one client's records, or null for the MSP's own records (its policies, keys).
Why split: a dossier for one client must prove it holds *every* event of that
client up to the chain head without carrying other clients' data. It ships
the headers of all events (the chain's skeleton: enough to recompute every
hash and link, but only a kind and an opaque subject) and the bodies of this
client's and the MSP's events; a missing or altered event breaks a link or a
hash. ``actor`` is the OS login; ``operator`` the named person who set their
identity (``msptui operator set``), or null.

Canonical JSON: sorted keys, no spaces, UTF-8, no NaN. The encoding is
documented here and in README.md so anyone can re-check a chain with a few
lines of any language.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Iterable

GENESIS = "0" * 64
#: the encoding new events are written with
CURRENT_VERSION = 2
SUBJECT_PREFIX = "msptui-subject:"


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def subject_hash(client_id: str | None) -> str | None:
    """The opaque subject a version-2 header names for a client (None: the MSP's own records)."""
    return None if client_id is None else sha256_text(SUBJECT_PREFIX + client_id)


def utc_stamp(moment: datetime | None = None) -> str:
    """An instant as the chain stores it: UTC, microseconds, 'Z'."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Event:
    """One event. ``subject`` holds the *client id* (the header carries its hash)."""

    id: int
    at: str
    tz: str
    actor: str
    kind: str
    payload: dict
    prev_hash: str
    hash: str = ""
    v: int = 1
    operator: dict | None = None
    subject: str | None = None

    # -- encoding ---------------------------------------------------------------

    def body(self) -> dict:
        """Version 1: the hashed fields. Version 2: the body (what the header's body_sha256 covers)."""
        if self.v == 1:
            return {"id": self.id, "at": self.at, "tz": self.tz, "actor": self.actor, "kind": self.kind,
                    "payload": self.payload, "prev_hash": self.prev_hash}
        return {"at": self.at, "tz": self.tz, "actor": self.actor, "operator": self.operator, "payload": self.payload}

    def body_sha256(self) -> str:
        return sha256_text(canonical(self.body()))

    def header(self) -> dict:
        """The version-2 header (what the hash covers); version 1 events have none."""
        if self.v == 1:
            raise ValueError("version-1 events have no header")
        return {"v": self.v, "id": self.id, "subject": subject_hash(self.subject), "kind": self.kind,
                "body_sha256": self.body_sha256(), "prev_hash": self.prev_hash}

    def compute_hash(self) -> str:
        if self.v == 1:
            return sha256_text(canonical(self.body()))
        if self.v == 2:
            return sha256_text(canonical(self.header()))
        raise ValueError(f"unknown event encoding version {self.v!r}")

    def sealed(self) -> "Event":
        return replace(self, hash=self.compute_hash())

    # -- storage and export ---------------------------------------------------

    def as_row(self) -> dict:
        return {"id": self.id, "at": self.at, "tz": self.tz, "actor": self.actor, "kind": self.kind,
                "payload": canonical(self.payload), "prev_hash": self.prev_hash, "hash": self.hash, "v": self.v,
                "operator": canonical(self.operator) if self.operator is not None else None,
                "subject": self.subject,
                "body_sha256": self.body_sha256() if self.v >= 2 else None}

    def as_json(self) -> dict:
        """The full event as exported (events.jsonl): every field needed to recompute its hash."""
        out = {"id": self.id, "at": self.at, "tz": self.tz, "actor": self.actor, "kind": self.kind,
               "payload": self.payload, "prev_hash": self.prev_hash, "hash": self.hash}
        if self.v >= 2:
            out.update({"v": self.v, "operator": self.operator, "subject": self.subject})
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "Event":
        """The inverse of ``as_json`` (raises KeyError/TypeError/ValueError on a malformed object)."""
        v = obj.get("v", 1)
        expected = {"id", "at", "tz", "actor", "kind", "payload", "prev_hash", "hash"} | (
            {"v", "operator", "subject"} if v != 1 or "v" in obj else set())
        if set(obj) != expected or not isinstance(obj["payload"], dict) or not isinstance(obj["id"], int):
            raise ValueError("not an event")
        return cls(**obj)

    @classmethod
    def from_row(cls, row: dict) -> "Event":
        payload = row["payload"]
        operator = row.get("operator")
        return cls(
            id=row["id"],
            at=row["at"],
            tz=row["tz"],
            actor=row["actor"],
            kind=row["kind"],
            payload=json.loads(payload) if isinstance(payload, str) else payload,
            prev_hash=row["prev_hash"],
            hash=row["hash"],
            v=row.get("v") or 1,
            operator=json.loads(operator) if isinstance(operator, str) else operator,
            subject=row.get("subject"),
        )

    @property
    def recorded_at(self) -> datetime:
        return parse_stamp(self.at)

    def operator_name(self) -> str:
        """The person who recorded it: the operator's name, else the OS login."""
        if self.operator and self.operator.get("name"):
            return str(self.operator["name"])
        return self.actor


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
    Once the chain has moved to encoding 2 it never goes back to 1 (a
    forger cannot downgrade an event to the encoding without a subject).
    """

    def __init__(self, start_prev: str = GENESIS, start_id: int = 1, start_version: int = 1):
        self.prev_hash, self.expected_id, self.last = start_prev, start_id, None
        self.version = start_version

    def feed(self, event: Event) -> ChainProblem | None:
        if event.id != self.expected_id:
            return ChainProblem(event.id, f"expected event id {self.expected_id} here: events are missing or reordered")
        if event.prev_hash != self.prev_hash:
            return ChainProblem(event.id, "prev_hash does not match the previous event's hash: an event before it was deleted, reordered or edited")
        if event.v not in (1, 2):
            return ChainProblem(event.id, f"unknown event encoding version {event.v!r}")
        if event.v < self.version:
            return ChainProblem(event.id, f"encoded as version {event.v} after version-{self.version} events: the event was rewritten")
        if event.compute_hash() != event.hash:
            return ChainProblem(event.id, "content does not match its hash: the event was edited")
        self.prev_hash, self.expected_id, self.last, self.version = event.hash, self.expected_id + 1, event, event.v
        return None


def check_chain(events: Iterable[Event], *, start_prev: str = GENESIS, start_id: int = 1) -> tuple[ChainProblem | None, Event | None]:
    """Walk events in id order; return the first problem (or None) and the last good event."""
    walk = ChainWalk(start_prev, start_id)
    for event in events:
        problem = walk.feed(event)
        if problem:
            return problem, walk.last
    return None, walk.last
