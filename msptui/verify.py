"""``msptui verify``: prove the records still match their history, in constant memory.

Checks, stopping at the first discrepancy:

0. the file: SQLite's own ``PRAGMA quick_check`` (``integrity_check`` with
   ``full=True``) for page-level damage the chain alone cannot see;
1. the chain, streamed one row at a time: ids contiguous, each prev_hash
   links, each hash matches the content, and no event is encoded in an older
   version than the one before it; and (in SQL) each event's subject is the
   client its payload is about and its rtype/rid columns name the record its
   payload is about;
2. the head: the last event is the one the ``chain_head`` row recorded at the
   last append (cutting events off the end is noticed), and the head of the
   last recorded verification is still in the chain (events lost since, e.g.
   a deleted -wal, or history rewritten, are noticed);
3. the projection, in SQL against the ``events_record`` index instead of a
   replay into memory: every record row is exactly what the *last* event
   about it says (its JSON byte for byte, its client and incident columns),
   and no record whose last event is a put is missing.

Also reported, without failing: any step where an event's recorded time is
earlier than an earlier event's by more than the store's clock tolerance
(written before the store refused such writes, or by a clock set back).

Memory stays flat in the chain's length: nothing is collected per event
(a few counters and the first ``MAX_CLOCK_STEPS`` clock steps). The hash of
each event is recomputed from the stored text with no JSON round trip when
the stored payload is canonical (it always is when msptui wrote it); any
mismatch is re-checked the slow, exact way before it is reported.

``since_last=True`` trusts the head of the last recorded verification
(checking that it is still there, with the same hash) and checks only the
events appended after it and the records they set; it says which head it
trusted. A successful run records what it verified (head, when, by whom)
unless the store is read-only or ``record=False``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _q

from . import migrations
from .chain import GENESIS, ChainProblem, Event, canonical, parse_stamp, subject_hash
from .store import CLOCK_SKEW_TOLERANCE_S, CLOCK_STEP_KIND, Store

MAX_CLOCK_STEPS = 20
_sha = hashlib.sha256


@dataclass
class VerifyResult:
    ok: bool
    events: int
    head_hash: str
    problem: str | None = None
    #: how many events this run checked (all of them, or those after the trusted head)
    checked: int = 0
    #: "full" or "since-last"
    scope: str = "full"
    #: the verification whose head was trusted (since-last): {"event_id", "hash", "at", "actor", "operator"}
    trusted: dict | None = None
    #: backward steps in recorded time beyond the tolerance: "event N recorded ... before event M"
    clock_steps: list[str] = field(default_factory=list)
    clock_steps_total: int = 0
    #: SQLite's page check that ran: "quick_check" or "integrity_check"
    page_check: str = "quick_check"
    #: whether this run was recorded in the database (False on a read-only store)
    recorded: bool = False


# ---------------------------------------------------------------------------
# 0. pages
# ---------------------------------------------------------------------------


def page_check(store: Store, *, full: bool = False, conn: sqlite3.Connection | None = None) -> str | None:
    """SQLite's quick_check (or integrity_check): None when the file is sound, else the first finding."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = (conn or store.conn).execute(f"PRAGMA {pragma}(20)").fetchall()
    except sqlite3.DatabaseError as exc:
        return f"SQLite {pragma} could not read the file: {exc}"
    found = [r[0] for r in rows]
    if found == ["ok"]:
        return None
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"SQLite {pragma} found page-level damage: {found[0]}{more}"


# ---------------------------------------------------------------------------
# 1. the chain
# ---------------------------------------------------------------------------


def _subject_sql() -> str:
    """SQL for the subject an event's payload names (mirrors projection.subject_of_payload).

    A fast filter only: a row where it disagrees with the stored subject is
    re-checked in Python with ``subject_of_payload`` before anything is reported.
    """
    from .models import RECORD_TYPES, Record

    table = "substr(kind, 1, instr(kind || '.', '.') - 1)"
    plain = [t for t, m in RECORD_TYPES.items() if m.subject_of.__func__ is Record.subject_of.__func__]
    custom = [t for t in RECORD_TYPES if t not in plain]
    by_id = [t for t in custom if t == "clients"]
    other = [t for t in custom if t != "clients"]

    def names(tables: list[str]) -> str:
        return ", ".join(f"'{t}'" for t in tables) or "NULL"

    return f"""CASE WHEN NOT json_valid(payload) THEN '~invalid'
      WHEN {table} IN ({names(other)}) THEN '~python'
      WHEN {table} IN ({names(plain)}) AND json_type(payload, '$.record') = 'object' THEN json_extract(payload, '$.record.client_id')
      WHEN {table} IN ({names(by_id)}) AND json_type(payload, '$.record') = 'object' THEN json_extract(payload, '$.record.id')
      WHEN {table} IN ({names(by_id)}) THEN json_extract(payload, '$.id')
      WHEN json_type(payload, '$.client_id') = 'text' THEN json_extract(payload, '$.client_id')
      ELSE NULL END"""


def _key_sql(field: str) -> str:
    """What an event's rtype / rid column must hold (migration 4 and Store.append fill them the same way)."""
    return f"(CASE WHEN json_valid(payload) AND json_type(payload, '$.{field}') = 'text' THEN json_extract(payload, '$.{field}') END)"


def _slow_event(row: tuple) -> Event:
    eid, at, tz, actor, kind, payload, prev, h, v, op, subject = row[:11]
    return Event.from_row({"id": eid, "at": at, "tz": tz, "actor": actor, "kind": kind, "payload": payload,
                           "prev_hash": prev, "hash": h, "v": v, "operator": op, "subject": subject})


def _slow_check(row: tuple, version: int) -> str | None:
    """The exact check (parse, canonicalise, hash) for a row the fast path could not confirm."""
    eid, v = row[0], row[8] or 1
    try:
        event = _slow_event(row)
    except (ValueError, TypeError) as exc:
        return (f"event {eid}: its stored content no longer parses ({exc}): the event was edited or the file is damaged; "
                "restore from a backup or the replica ('msptui restore')")
    if v not in (1, 2):
        return f"event {eid}: unknown event encoding version {v!r}"
    if v < version:
        return f"event {eid}: encoded as version {v} after version-{version} events: the event was rewritten"
    try:
        if event.compute_hash() != event.hash:
            return f"event {eid}: content does not match its hash: the event was edited"
    except (ValueError, TypeError) as exc:
        return f"event {eid}: cannot be re-encoded ({exc}): the event was edited"
    return None


def _subject_problem(row: tuple) -> str | None:
    """The exact check of the columns no hash covers directly: subject (v1), rtype and rid."""
    from .projection import subject_of_payload

    eid, kind, subject, rtype, rid = row[0], row[4], row[10], row[11], row[12]
    try:
        payload = json.loads(row[5])
        expected = subject_of_payload(kind, payload)
    except (ValueError, TypeError, AttributeError) as exc:
        return f"event {eid}: its payload no longer parses ({exc})"
    if subject != expected:
        return f"event {eid}: names subject {subject!r} but its content is about {expected!r}"
    want_type, want_id = payload.get("type"), payload.get("id")
    want = (want_type if isinstance(want_type, str) else None, want_id if isinstance(want_id, str) else None)
    if (rtype, rid) != want:
        return f"event {eid}: is indexed as record {rtype}/{rid} but its content is about {want[0]}/{want[1]}"
    return None


class _Walk:
    """The streamed chain walk (state: a few scalars, never per-event data)."""

    def __init__(self, prev_hash: str, next_id: int, version: int, last_at: str | None):
        self.prev_hash, self.next_id, self.version = prev_hash, next_id, version
        self.max_at, self.max_at_id = last_at or "", next_id - 1
        self.checked = 0
        self.steps: list[str] = []
        self.steps_total = 0
        self.subjects: dict[str, str] = {}

    def _subject_json(self, subject) -> str:
        """The header's subject as JSON text (cached; the cache is bounded)."""
        if type(subject) is not str:
            raise TypeError("subject is not text")
        if len(self.subjects) >= 2048:
            self.subjects.clear()  # bounded: recomputing a hash is cheap, memory growth is not
        text = self.subjects[subject] = '"' + subject_hash(subject) + '"'
        return text

    def run(self, cursor) -> str | None:
        """Walk rows of (id, at, tz, actor, kind, payload, prev_hash, hash, v, operator, subject)."""
        prev_hash, expected, version = self.prev_hash, self.next_id, self.version
        max_at, max_at_id = self.max_at, self.max_at_id
        subjects = self.subjects
        sha, q = _sha, _q
        checked = 0
        problem = None
        for row in cursor:
            eid, at, tz, actor, kind, payload, prev, h, v, op, subject = row
            if eid != expected:
                problem = f"event {eid}: expected event id {expected} here: events are missing or reordered"
                break
            if prev != prev_hash:
                problem = f"event {eid}: prev_hash does not match the previous event's hash: an event before it was deleted, reordered or edited"
                break
            # the fast path: the hash recomputed from the stored text (canonical when msptui wrote it)
            try:
                if v == 2 and version <= 2:
                    if subject is None:
                        sj = "null"
                    else:
                        sj = subjects.get(subject)
                        if sj is None:
                            sj = self._subject_json(subject)
                    body = f'{{"actor":{q(actor)},"at":{q(at)},"operator":{op if op is not None else "null"},"payload":{payload},"tz":{q(tz)}}}'
                    header = (f'{{"body_sha256":"{sha(body.encode()).hexdigest()}","id":{eid},"kind":{q(kind)},'
                              f'"prev_hash":"{prev}","subject":{sj},"v":2}}')
                    fast = sha(header.encode()).hexdigest() == h
                elif v == 1 and version == 1:
                    text = (f'{{"actor":{q(actor)},"at":{q(at)},"id":{eid},"kind":{q(kind)},"payload":{payload},'
                            f'"prev_hash":"{prev}","tz":{q(tz)}}}')
                    fast = sha(text.encode()).hexdigest() == h
                else:
                    fast = False
                if type(payload) is not str or (op is not None and type(op) is not str):
                    fast = False
            except (TypeError, AttributeError):  # a NULL or non-text column: only the exact path can judge it
                fast = False
            if not fast:
                problem = _slow_check(row, version)
                if problem:
                    break
            if at.__class__ is str:
                if at >= max_at:
                    max_at, max_at_id = at, eid
                else:
                    self._clock_step(eid, at, max_at_id, max_at,
                                     recorded=_step_reason(payload, op) if kind == CLOCK_STEP_KIND else None)
                    if kind == CLOCK_STEP_KIND:  # a person recorded that the clock before was fast: count from here
                        max_at, max_at_id = at, eid
            prev_hash, expected, version = h, expected + 1, v or 1
            checked += 1
        self.prev_hash, self.next_id, self.version = prev_hash, expected, version
        self.max_at, self.max_at_id, self.checked = max_at, max_at_id, checked
        return problem

    def _clock_step(self, eid: int, at: str, before_id: int, before_at: str, *, recorded: str | None = None) -> None:
        try:
            behind = (parse_stamp(before_at) - parse_stamp(at)).total_seconds()
        except ValueError:
            return
        if behind <= CLOCK_SKEW_TOLERANCE_S:
            return
        self.steps_total += 1
        if len(self.steps) < MAX_CLOCK_STEPS:
            amount = f"{behind / 86400:.1f} days" if behind >= 86400 else f"{behind / 3600:.1f} h"
            why = (f"recorded as a clock step (the clock before was fast): {recorded}" if recorded is not None
                   else "written with a clock set back")
            self.steps.append(f"event {eid} is recorded at {at[:19]}Z, {amount} before event {before_id} "
                              f"({before_at[:19]}Z): {why}")


def _step_reason(payload: str, operator: str | None) -> str:
    """Who recorded a clock step, and why, as one line (escaped: it is whatever was typed)."""
    from .literal import one_line

    try:
        reason = json.loads(payload).get("reason") or ""
        who = (json.loads(operator) or {}).get("name") if operator else None
    except (ValueError, AttributeError):
        return "its reason could not be read"
    return one_line(f"by {who or 'an unnamed operator'}, reason: {str(reason)[:300]}")


def _columns_problem(conn: sqlite3.Connection, after: int) -> str | None:
    """The first event whose subject, rtype or rid disagrees with its payload (SQL filter, exact Python check)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(f"SELECT id, at, tz, actor, kind, payload, prev_hash, hash, v, operator, subject, rtype, rid FROM events "
                   f"WHERE id > ? AND NOT (subject IS ({_subject_sql()}) AND rtype IS {_key_sql('type')} "
                   f"AND rid IS {_key_sql('id')}) ORDER BY id", (after,))
    for row in cursor:
        problem = _subject_problem(row)
        if problem:
            return problem
    return None


# ---------------------------------------------------------------------------
# 3. the projection
# ---------------------------------------------------------------------------


def _projection_problem(store: Store, after: int, *, conn: sqlite3.Connection | None = None) -> str | None:
    """Records that differ from what their last event says (rows set after event ``after``; 0: all)."""
    from .models import RECORD_TYPES

    etype, eid_expr = migrations.EVENT_RECORD_TYPE, migrations.EVENT_RECORD_ID
    conn = conn or store.conn
    for table, model in RECORD_TYPES.items():
        put = f"{table}.put"
        # the client column: the event's subject, which the chain walk checks against the payload
        # (subject_of_payload and projection.row_for both ask the model's subject_of)
        incident = ("t.incident_id IS (CASE WHEN json_valid(t.data) THEN json_extract(t.data, '$.incident_id') ELSE '~' END)"
                    if "incident_id" in model.model_fields else "t.incident_id IS NULL")
        # a fast SQL filter; every row it lets through is judged exactly in Python (_record_problem)
        sql = f"""
            SELECT t.id, t.client_id, t.incident_id, t.data, t.event_id FROM {table} t
            LEFT JOIN events e ON e.id = t.event_id
            WHERE t.event_id > :after AND NOT (
                e.kind IS :put
                AND t.client_id IS e.subject
                AND e.payload = '{{"id":' || json_quote(t.id) || ',"record":' || t.data || ',"type":' || json_quote(:table) || '}}'
                AND {incident}
                AND t.event_id = (SELECT max(x.id) FROM events x WHERE {etype.replace('payload', 'x.payload')} = :table
                                  AND {eid_expr.replace('payload', 'x.payload')} = +t.id))"""
        for row in conn.execute(sql, {"after": after, "put": put, "table": table}):
            problem = _record_problem(conn, table, row)
            if problem:
                return problem
        # a record whose last event is a put but whose row is gone
        missing = conn.execute(
            f"""SELECT g.rid, g.last FROM (
                    SELECT {eid_expr} AS rid, max(id) AS last FROM events
                    WHERE {etype} = :table AND id > :after GROUP BY rid) g
                JOIN events e ON e.id = g.last
                WHERE e.kind = :put AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = g.rid) LIMIT 1""",
            {"table": table, "after": after, "put": put}).fetchone()
        if missing is not None:
            return f"record {table}/{missing[0]} was removed behind the chain's back (last event {missing[1]})"
    return None


def _record_problem(conn: sqlite3.Connection, table: str, row: tuple) -> str | None:
    """Exactly what ``projection.apply`` would have left for this record, compared with the row."""
    from .projection import row_for

    record_id, client_id, incident_id, data, event_id = row
    last = conn.execute(
        f"SELECT id, kind, payload FROM events WHERE {migrations.EVENT_RECORD_TYPE} = ? AND {migrations.EVENT_RECORD_ID} = ? "
        "AND kind IN (?, ?) ORDER BY id DESC LIMIT 1",
        (table, record_id, f"{table}.put", f"{table}.delete")).fetchone()
    if last is None:
        return f"record {table}/{record_id} exists but no event created it"
    if last[1] != f"{table}.put":
        return f"record {table}/{record_id} was deleted by event {last[0]} but is still there"
    try:
        record = json.loads(last[2])["record"]
        expected = (*row_for(table, record), canonical(record), last[0])
    except (ValueError, TypeError, KeyError, AttributeError):
        return f"record {table}/{record_id}: its last event {last[0]} no longer parses"
    if (client_id, incident_id, data, event_id) != expected:
        return f"record {table}/{record_id} differs from its history (last changed by event {last[0]})"
    return None


# ---------------------------------------------------------------------------
# the whole verification
# ---------------------------------------------------------------------------


def _trusted_start(store: Store) -> tuple[dict | None, str | None]:
    """The last recorded verification's head, if it is still in the chain; else (None, problem or None)."""
    row = store.last_verified()
    if row is None:
        return None, None
    found = store.conn.execute("SELECT hash, v, at FROM events WHERE id = ?", (row["event_id"],)).fetchone()
    if found is None or found["hash"] != row["hash"]:
        what = "is no longer in the chain" if found is None else "has a different hash now"
        return None, (f"event {row['event_id']}: the head verified at {row['at'][:19]}Z by {row['actor']} {what}: "
                      "events were lost (e.g. a -wal deleted while msptui held the database) or history was rewritten; "
                      "restore from the replica or a backup")
    trusted = {"event_id": row["event_id"], "hash": row["hash"], "at": row["at"], "actor": row["actor"],
               "operator": json.loads(row["operator"]) if row["operator"] else None, "scope": row["scope"],
               "_v": found["v"] or 1, "_at": found["at"]}
    return trusted, None


def _second_reader(store: Store) -> sqlite3.Connection:
    """Another connection to the same file for the SQL half of the work (GIL released while SQLite runs)."""
    from .store import connect_readonly

    conn = connect_readonly(store.path, immutable=store.mode == "immutable", same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _head_of(conn: sqlite3.Connection) -> tuple:
    row = conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    return tuple(row) if row else (0, "")


class _SqlHalf(threading.Thread):
    """Page check and projection check on a second connection, in parallel with the Python chain walk."""

    def __init__(self, store: Store, conn: sqlite3.Connection, full: bool, after: int):
        super().__init__(name="msptui-verify-sql", daemon=True)
        self.store, self.conn, self.full, self.after = store, conn, full, after
        self.damage: str | None = None
        self.columns: str | None = None
        self.projection: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.damage = page_check(self.store, full=self.full, conn=self.conn)
            if self.damage is None:
                self.columns = _columns_problem(self.conn, self.after)
            if self.damage is None and self.columns is None:
                self.projection = _projection_problem(self.store, self.after, conn=self.conn)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.error = exc


def verify(store: Store, *, since_last: bool = False, full: bool = False, record: bool = True) -> VerifyResult:
    """Verify the database (see the module docstring); never raises for what it finds, only reports it.

    The chain walk (hashing, in Python) runs in this thread while a second
    read connection, on the same snapshot, runs SQLite's page check and the
    projection check in C (which releases the GIL): on a two-core machine
    the two halves overlap.
    """
    result = VerifyResult(False, 0, "", page_check="integrity_check" if full else "quick_check")
    conn = store.conn
    half: _SqlHalf | None = None
    try:
        other = _second_reader(store)
    except sqlite3.DatabaseError:
        other = None
    try:
        # one snapshot for the chain, the head and the records, on both connections
        for _attempt in range(20):
            conn.execute("BEGIN")
            mine = _head_of(conn)
            if other is None:
                break
            other.execute("BEGIN")
            if _head_of(other) == mine:
                break
            other.execute("COMMIT")
            conn.execute("COMMIT")
        else:
            other.close()
            other = None
            if not conn.in_transaction:
                conn.execute("BEGIN")
        trusted, lost = _trusted_start(store)
        start = trusted if since_last and trusted else None
        after = start["event_id"] if start else 0
        half = _SqlHalf(store, other if other is not None else conn, full, after)
        if other is not None:
            half.start()
        else:
            half.run()
            if half.damage:
                result.problem = half.damage
                return result
        result.scope = "since-last" if start else "full"
        result.trusted = {k: v for k, v in start.items() if not k.startswith("_")} if start else None
        walk = _Walk(start["hash"] if start else GENESIS, after + 1, start["_v"] if start else 1,
                     start["_at"] if start else None)
        cursor = conn.cursor()
        cursor.row_factory = None
        cursor.execute("SELECT id, at, tz, actor, kind, payload, prev_hash, hash, v, operator, subject "
                       "FROM events WHERE id > ? ORDER BY id", (after,))
        problem = lost or walk.run(cursor)
        if other is not None:
            half.join()
        if half.error is not None:
            raise half.error
        result.checked = walk.checked
        result.clock_steps, result.clock_steps_total = walk.steps, walk.steps_total
        count = walk.next_id - 1
        head_hash = walk.prev_hash if count else ""
        result.events, result.head_hash = count, head_hash
        if half.damage:
            result.problem = half.damage
            return result
        if problem:
            result.problem = problem
            return result
        recorded = conn.execute("SELECT event_id, hash FROM chain_head").fetchone()
        if recorded is not None and (recorded["event_id"], recorded["hash"]) != (count, head_hash):
            result.problem = str(ChainProblem(
                recorded["event_id"], f"the chain head was recorded as event {recorded['event_id']} but the chain ends "
                f"at event {count}: events were truncated or the head was altered"))
            return result
        if recorded is None and count:
            result.problem = "chain: the recorded chain head is missing"
            return result
        if half.columns or half.projection:
            result.problem = half.columns or half.projection
            return result
        result.ok = True
    except sqlite3.DatabaseError as exc:
        from .errors import describe_sqlite_error

        result.ok, result.problem = False, describe_sqlite_error(store.path, exc)
        return result
    finally:
        if half is not None and half.is_alive():  # never close a connection its thread is still using
            if other is not None:
                other.interrupt()
            half.join()
        for c in (conn, other):
            if c is not None and c.in_transaction:
                try:
                    c.execute("COMMIT")
                except sqlite3.Error:
                    pass
        if other is not None:
            other.close()
    if record and result.events:
        try:
            result.recorded = store.record_verification(result.events, result.head_hash, from_event=after,
                                                        scope=result.scope)
        except Exception:  # noqa: BLE001 - remembering the run is a convenience; the verdict stands
            result.recorded = False
    return result
