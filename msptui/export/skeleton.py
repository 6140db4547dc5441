"""``events.jsonl``: the whole chain's skeleton, with full content only for this client's and the MSP's events.

A dossier must prove it holds *every* event about its client up to the chain
head, without carrying other clients' data. It carries one line per event,
from event 1 to the head, in id order, in one of three shapes:

``full``
    this client's events and the MSP's own (subject null): the whole event as
    the chain stores it (``Event.as_json``: id, at, tz, actor, kind, payload,
    prev_hash, hash; for encoding 2 also v, operator and subject, the client
    id in plain text). Its hash is recomputed from its content.

``header``
    another client's encoding-2 event: exactly the header its hash covers,
    plus the hash: ``{"v": 2, "id", "subject", "kind", "body_sha256",
    "prev_hash", "hash"}``, where ``subject`` is the opaque
    SHA-256("msptui-subject:" + client id). Its hash is recomputed from the
    header; its subject must be neither this client's nor null, so an event
    of this client cannot hide here.

``link``
    another client's encoding-1 event (written before encoding 2): only
    ``{"v": 1, "id", "prev_hash", "hash"}``. An encoding-1 hash covers the
    payload, so it cannot be recomputed without the content, and it names no
    subject: such events are linked (prev_hash to hash) but not
    content-checked, and reported as "N legacy events linked but not
    content-checked". Against the database ``verify-dossier`` compares them
    with the stored events, which closes that gap.

Lines are ASCII-only JSON with sorted keys, so no U+2028-style character can
split a line for any reader.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..chain import GENESIS, Event, canonical, sha256_text, subject_hash

FULL, HEADER, LINK = "full", "header", "link"

#: How to recompute the hashes of events.jsonl by hand. VERIFY.txt (step 3) and the PDF's Appendix B
#: (step 3) both print exactly this text, so the two cannot disagree (tests/test_dossier_truth.py).
HASH_RULES = (
    "Hash rules, over canonical JSON (keys sorted, no spaces, UTF-8). "
    "Encoding 2: hash = SHA-256(header) with header = {v, id, subject, kind, body_sha256, prev_hash}, "
    "body_sha256 = SHA-256({at, tz, actor, operator, payload}) and "
    "subject = SHA-256(\"msptui-subject:\" + client id), or null for the MSP's own records. "
    "A full line (this client's events and the MSP's own) carries the raw client id in its subject field, "
    "so hash it as above before recomputing the header; a header line (another client's event) carries "
    "the hashed subject as it is. "
    "Encoding 1: hash = SHA-256({id, at, tz, actor, kind, payload, prev_hash}). "
    "Every event's prev_hash is the previous event's hash (event 1: 64 zeros). "
    "No event of this client can be left out: its subject is in the hashed header."
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KIND = re.compile(r"[a-z0-9_]{1,40}\.[a-z0-9_]{1,40}")
MAX_LINE_BYTES = 4 * 1024 * 1024
HEADER_KEYS = {"v", "id", "subject", "kind", "body_sha256", "prev_hash", "hash"}
LINK_KEYS = {"v", "id", "prev_hash", "hash"}


def shape_of(event: Event, client_id: str) -> str:
    """How the dossier of ``client_id`` carries ``event``."""
    if event.subject is None or event.subject == client_id:
        return FULL
    return HEADER if event.v >= 2 else LINK


def line_of(event: Event, client_id: str) -> dict:
    shape = shape_of(event, client_id)
    if shape == FULL:
        return event.as_json()
    if shape == HEADER:
        return {**event.header(), "hash": event.hash}
    return {"v": 1, "id": event.id, "prev_hash": event.prev_hash, "hash": event.hash}


def encode(lines: Iterable[dict]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=True, sort_keys=True, separators=(",", ":")) + "\n"
                   for line in lines).encode("ascii")


@dataclass
class Counts:
    events: int = 0
    full: int = 0
    headers: int = 0
    links: int = 0

    def as_json(self) -> dict:
        return {"events": self.events, "full": self.full, "headers_only": self.headers, "legacy_links": self.links}


def skeleton(events: Iterable[Event], client_id: str) -> tuple[bytes, list[Event], Counts]:
    """events.jsonl for ``client_id`` from every event up to the head (in id order), the full events, and the counts."""
    lines, full, counts = [], [], Counts()
    for event in events:
        shape = shape_of(event, client_id)
        lines.append(line_of(event, client_id))
        counts.events += 1
        if shape == FULL:
            full.append(event)
            counts.full += 1
        elif shape == HEADER:
            counts.headers += 1
        else:
            counts.links += 1
    return encode(lines), full, counts


# ---------------------------------------------------------------------------
# reading and checking a skeleton
# ---------------------------------------------------------------------------


class SkeletonError(ValueError):
    """events.jsonl does not hold a complete, intact chain for this client (one line)."""


@dataclass
class Line:
    shape: str
    id: int
    prev_hash: str
    hash: str
    v: int
    event: Event | None = None
    subject: str | None = None  #: the header's opaque subject (header lines)
    kind: str | None = None


def parse_line(obj: object, number: int) -> Line:
    """One line of events.jsonl, strictly: exact keys and types for its shape."""
    where = f"events.jsonl line {number}"
    if not isinstance(obj, dict):
        raise SkeletonError(f"{where} is not a JSON object")
    if "payload" in obj:
        try:
            event = Event.from_json(obj)
        except (KeyError, TypeError, ValueError):
            raise SkeletonError(f"{where} is not an event") from None
        _check_common(where, event.id, event.prev_hash, event.hash)
        if not isinstance(event.kind, str) or not _KIND.fullmatch(event.kind):
            raise SkeletonError(f"{where}: event kind {str(event.kind)[:60]!r} is not a kind msptui writes")
        for name in ("at", "tz", "actor"):
            if not isinstance(getattr(event, name), str):
                raise SkeletonError(f"{where}: {name} is not text")
        if event.v not in (1, 2) or not (event.subject is None or isinstance(event.subject, str)):
            raise SkeletonError(f"{where}: malformed event envelope")
        if event.operator is not None and not isinstance(event.operator, dict):
            raise SkeletonError(f"{where}: operator is not an object")
        return Line(FULL, event.id, event.prev_hash, event.hash, event.v, event=event, kind=event.kind)
    if "body_sha256" in obj:
        if set(obj) != HEADER_KEYS or obj.get("v") != 2:
            raise SkeletonError(f"{where} is not an event header (keys {', '.join(sorted(HEADER_KEYS))})")
        _check_common(where, obj["id"], obj["prev_hash"], obj["hash"])
        subject, kind = obj["subject"], obj["kind"]
        if subject is not None and not (isinstance(subject, str) and _HEX64.fullmatch(subject)):
            raise SkeletonError(f"{where}: subject is not a SHA-256 or null")
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise SkeletonError(f"{where}: event kind {str(kind)[:60]!r} is not a kind msptui writes")
        if not (isinstance(obj["body_sha256"], str) and _HEX64.fullmatch(obj["body_sha256"])):
            raise SkeletonError(f"{where}: body_sha256 is not a SHA-256")
        return Line(HEADER, obj["id"], obj["prev_hash"], obj["hash"], 2, subject=subject, kind=kind)
    if set(obj) != LINK_KEYS or obj.get("v") != 1:
        raise SkeletonError(f"{where} is neither an event, an event header nor a legacy link")
    _check_common(where, obj["id"], obj["prev_hash"], obj["hash"])
    return Line(LINK, obj["id"], obj["prev_hash"], obj["hash"], 1)


def _check_common(where: str, event_id: object, prev_hash: object, hash_: object) -> None:
    if not isinstance(event_id, int) or isinstance(event_id, bool) or event_id < 1:
        raise SkeletonError(f"{where}: id is not a positive whole number")
    for name, value in (("prev_hash", prev_hash), ("hash", hash_)):
        if not (isinstance(value, str) and _HEX64.fullmatch(value)):
            raise SkeletonError(f"{where}: {name} is not a SHA-256")


@dataclass
class Walked:
    """What a complete, intact skeleton holds."""

    lines: list[Line] = field(default_factory=list)
    full: list[Event] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    #: the last legacy link: events before it are linked only through encoding-1 hashes we cannot recompute
    last_link: int | None = None


def walk(raw_lines: Iterator[tuple[int, object]], client_id: str, head: dict) -> Walked:
    """Check a parsed events.jsonl: every event 1..head present in order, every link and hash, nothing of
    this client withheld, nothing of another client carried in full. Raises SkeletonError (first problem)."""
    from ..projection import subject_of_payload

    own_subject = subject_hash(client_id)
    out = Walked()
    prev, version, expected = GENESIS, 1, 1
    for number, obj in raw_lines:
        line = parse_line(obj, number)
        if line.id != expected:
            raise SkeletonError(f"events.jsonl: expected event {expected} at line {number}, found event {line.id}: "
                                "events are missing, added or reordered")
        if line.prev_hash != prev:
            raise SkeletonError(f"events.jsonl: event {line.id}'s prev_hash does not match event {line.id - 1}'s hash: "
                                "an event before it was removed, reordered or edited")
        if line.v < version:
            raise SkeletonError(f"events.jsonl: event {line.id} is encoded as version {line.v} after version-{version} "
                                "events: it was rewritten")
        if line.shape == FULL:
            event = line.event
            assert event is not None
            if event.compute_hash() != event.hash:
                raise SkeletonError(f"events.jsonl: event {event.id} does not match its hash (edited)")
            about = subject_of_payload(event.kind, event.payload)
            if about not in (None, client_id):
                raise SkeletonError(f"events.jsonl: event {event.id} is another client's, carried in full")
            if event.v >= 2 and event.subject != about:
                raise SkeletonError(f"events.jsonl: event {event.id} names subject {event.subject!r} "
                                    f"but its content is about {about!r}")
            out.full.append(event)
            out.counts.full += 1
        elif line.shape == HEADER:
            header = {"v": 2, "id": line.id, "subject": line.subject, "kind": line.kind,
                      "body_sha256": obj["body_sha256"], "prev_hash": line.prev_hash}  # type: ignore[index]
            if sha256_text(canonical(header)) != line.hash:
                raise SkeletonError(f"events.jsonl: event {line.id}'s header does not match its hash (edited)")
            if line.subject is None or line.subject == own_subject:
                whose = "the MSP's own" if line.subject is None else "this client's"
                raise SkeletonError(f"events.jsonl: event {line.id} is {whose} but only its header is here: "
                                    "its content was withheld")
            out.counts.headers += 1
        else:
            out.counts.links += 1
            out.last_link = line.id
        out.lines.append(line)
        out.counts.events += 1
        prev, version, expected = line.hash, line.v, expected + 1
    if expected - 1 != head["id"]:
        raise SkeletonError(f"events.jsonl ends at event {expected - 1} but the chain head is event {head['id']}: "
                            "it does not hold the whole chain")
    if prev != head["hash"] and head["id"] > 0:
        raise SkeletonError("events.jsonl: the last event's hash differs from the chain head in manifest.json")
    return out
