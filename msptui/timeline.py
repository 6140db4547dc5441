"""An incident's timeline, read from the hash chain: what was recorded, by whom, when it happened.

The TUI's timeline tab and the dossier's timeline are this one list. It is
built from the events themselves (not from the record tables), so it shows
every change in the order it was recorded, with the person (the operator's
name, else the OS login) and, where an act says when it happened (a note's
time, a checklist status change, evidence acquisition, the discovery), that
instant beside the recorded one. Opening an incident creates dozens of
checklist items in one go: those are one entry ("checklist created: 41
items"), not dozens.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable

from pydantic import BaseModel

from .chain import Event, parse_stamp
from .models import RECORD_TYPES

if TYPE_CHECKING:
    from .store import Store

#: an act entered this long after it happened is flagged ("entered 2 days later")
LATE_ENTRY_SECONDS = 3600


class TimelineEntry(BaseModel):
    event_id: int
    #: the last event of a collapsed run (same as event_id for a single event)
    last_event_id: int
    recorded_at: datetime
    occurred_at: datetime | None = None
    tz: str
    who: str
    login: str
    #: incident_opened, checklist_created, note, status, evidence, created, changed, deleted, event
    kind: str
    text: str
    count: int = 1

    @property
    def when(self) -> datetime:
        """When it happened if the act says, else when it was recorded."""
        return self.occurred_at or self.recorded_at

    @property
    def entered_late(self) -> float | None:
        """Seconds between happening and being entered, when that is more than LATE_ENTRY_SECONDS."""
        if self.occurred_at is None:
            return None
        gap = (self.recorded_at - self.occurred_at).total_seconds()
        return gap if gap > LATE_ENTRY_SECONDS else None


def _short(value: Any, limit: int = 160) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def diff_text(old: dict, new: dict) -> str:
    """What changed between two versions of a record, in words."""
    parts = []
    for key in new:
        if key == "updated_at" or old.get(key) == new.get(key):
            continue
        before, after = old.get(key), new.get(key)
        if key == "assessment":
            applies = sum(1 for a in after or [] if isinstance(a, dict) and a.get("applies"))
            parts.append(f"assessment recomputed ({applies} obligations apply)")
        elif isinstance(before, list) and isinstance(after, list) and after[: len(before)] == before:
            parts.append(f"{key} added: " + "; ".join(_short(a, 300) for a in after[len(before):]))
        else:
            parts.append(f"{key}: {_short(before, 120)} \u2192 {_short(after, 300)}")
    for key in old:
        if key not in new:
            parts.append(f"{key} removed")
    return "; ".join(parts) if parts else "no field changed"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return parse_stamp(value)
        except ValueError:
            return None
    return None


def _entry(event: Event, previous: dict | None) -> TimelineEntry:
    table, _, action = event.kind.partition(".")
    model = RECORD_TYPES.get(table)
    label = model.LABEL if model else table
    record_id = event.payload.get("id", "")
    record = event.payload.get("record") if isinstance(event.payload.get("record"), dict) else None
    base = dict(event_id=event.id, last_event_id=event.id, recorded_at=event.recorded_at, tz=event.tz,
                who=event.operator_name(), login=event.actor)
    if action == "delete":
        return TimelineEntry(**base, kind="deleted", text=f"deleted {label} {record_id}")
    if event.kind == "dossier.exported":  # the distribution log (msptui.export.distribution)
        to = "; ".join(f"{r.get('name')}" + (f", {r['organisation']}" if r.get("organisation") else "")
                       for r in event.payload.get("recipients") or [] if isinstance(r, dict)) or "recipients not stated"
        return TimelineEntry(**base, kind="event", text=f"dossier exported ({event.payload.get('marking')}) to {to}; "
                             f"manifest SHA-256 {event.payload.get('manifest_sha256')}")
    if record is None or model is None:
        return TimelineEntry(**base, kind="event", text=f"{event.kind}: {_short(event.payload, 300)}")
    if previous is None:
        occurred, kind = None, "created"
        if table == "incidents":
            discovered = record.get("discovered") or {}
            occurred, kind = _instant(discovered.get("at")), "incident_opened"
        elif table == "notes":
            occurred, kind = _instant((record.get("at") or {}).get("at")), "note"
        elif table == "evidence":
            occurred, kind = _instant((record.get("acquired") or {}).get("at")), "evidence"
        summary = model.summary_of(record)
        if table == "notes":
            text = record.get("text", "")
        elif table == "incidents":
            text = f"opened {record_id}: {summary}"
        else:
            text = f"created {label} {record_id}" + (f": {summary}" if summary else "")
        return TimelineEntry(**base, occurred_at=occurred, kind=kind, text=text)
    occurred, kind = None, "changed"
    if table == "checklist_items" and previous.get("status") != record.get("status"):
        occurred, kind = _instant(record.get("updated_at")), "status"
    return TimelineEntry(**base, occurred_at=occurred, kind=kind,
                         text=f"changed {label} {record_id}: {diff_text(previous, record)}")


def about_incident(event: Event, incident_id: str) -> bool:
    """Whether an event concerns the incident's own records (the incident, its items, notes, evidence ...)."""
    payload = event.payload
    record = payload.get("record") if isinstance(payload.get("record"), dict) else None
    if payload.get("type") == "incidents":
        return payload.get("id") == incident_id
    if record is not None:
        return record.get("incident_id") == incident_id
    return payload.get("incident_id") == incident_id


_UNSEEN = object()


def build(events: Iterable[Event], incident_id: str, *,
          earlier: Callable[[str, str, int], dict | None] | None = None) -> list[TimelineEntry]:
    """The incident's timeline from its client's events (in chain order).

    ``earlier(table, record_id, event_id)`` gives a record's version before
    an event when the events start part-way through the chain (a page), so
    an update still reads "changed ..." rather than "created".
    """
    out: list[TimelineEntry] = []
    previous: dict[tuple[str, str], Any] = {}
    run: list[Event] = []  # consecutive checklist-item creations

    def flush() -> None:
        if not run:
            return
        if len(run) == 1:
            out.append(_entry(run[0], None))
        else:
            first, last = run[0], run[-1]
            out.append(TimelineEntry(event_id=first.id, last_event_id=last.id, recorded_at=first.recorded_at,
                                     tz=first.tz, who=first.operator_name(), login=first.actor,
                                     kind="checklist_created", count=len(run),
                                     text=f"checklist created: {len(run)} items (events {first.id}-{last.id})"))
        run.clear()

    for event in events:
        if not about_incident(event, incident_id):
            continue
        key = (event.payload.get("type"), event.payload.get("id"))
        record = event.payload.get("record") if isinstance(event.payload.get("record"), dict) else None
        before = previous.get(key, _UNSEEN)
        if before is _UNSEEN:
            before = earlier(str(key[0]), str(key[1]), event.id) if earlier is not None and record is not None else None
        created_item = key[0] == "checklist_items" and record is not None and before is None
        if created_item and (not run or run[-1].id == event.id - 1):
            run.append(event)
        else:
            flush()
            if created_item:
                run.append(event)
            else:
                out.append(_entry(event, before))
        previous[key] = record
    flush()
    return out


def recent(store: "Store", client_id: str, incident_id: str, limit: int) -> tuple[list[TimelineEntry], bool]:
    """The newest ``limit`` events of the incident's timeline (oldest first), and whether older ones exist.

    What the incident screen opens with, so an incident with 200,000 notes
    opens at once: the client's events are read newest first and the scan
    stops at the ``limit``-th one about this incident. Asking again with a
    larger ``limit`` extends the page back in time without a gap, however
    many events were added meanwhile.
    """
    picked: list[Event] = []
    more = False
    for event in store.events_about(client_id, newest_first=True):
        if about_incident(event, incident_id):
            if len(picked) == limit:
                more = True
                break
            picked.append(event)
    picked.reverse()
    return build(picked, incident_id, earlier=store.record_before), more
