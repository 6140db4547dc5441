"""An incident's timeline, read from the hash chain: what was recorded, by whom, when it happened.

The TUI's timeline tab and the dossier's timeline are this one list. It is
built from the events themselves (not from the record tables), so it shows
every change in the order it was recorded, with the person (the operator's
name, else the OS login) and, where an act says when it happened (a note's
time, a checklist status change, evidence acquisition, the discovery), that
instant beside the recorded one. Opening an incident creates dozens of
checklist items in one go: those are one entry ("checklist created: 41
items"), not dozens.

A change lists the fields that changed, in words: bookkeeping (an item's sort
position, who/when fields the entry already states) is left out, and
structured values read as "US-TX 800 \u2192 40" rather than JSON. The TUI
shortens long values to fit a row (``SHORT``); the dossier shows every text
whole, with instants in its own format (``whole``).

``text`` names the record by its id ("changed checklist item INC:step: status:
open \u2192 done"), as the dossier prints it; ``row`` is the same change for a
one-line list, what changed first and then which item by its title ("open
\u2192 done: Engage breach counsel"; a change to the incident itself is just
the change, the incident being the one on screen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    #: the zone ``occurred_at`` was observed in, where the act records one (a note's, evidence, the discovery)
    occurred_tz: str | None = None
    tz: str
    who: str
    login: str
    #: incident_opened, checklist_created, note, status, evidence, created, changed, deleted, event
    kind: str
    text: str
    count: int = 1
    #: the change for a one-line row, what changed first (see the module docstring); empty: ``text`` says it
    headline: str = ""

    @property
    def row(self) -> str:
        """What a one-line list shows: the headline, else the text."""
        return self.headline or self.text

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


#: fields that only keep the record in order (an item's sort position; who and when, which the entry already
#: says from the event): never listed as a change
BOOKKEEPING = frozenset({"order", "updated_at", "updated_by"})
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: record types whose ``summary_of`` shortens a text field for a list row: the whole text is shown with ``whole``
_SHORTENED = {"incidents": "summary", "decisions": "text"}
_TOKEN = "\x00whole\x00"

#: how a whole instant is shown (the dossier's: local in the zone it was observed in, UTC in brackets);
#: called with the instant and the zone recorded beside it, if any
InstantText = Callable[[datetime, "str | None"], str]


@dataclass(frozen=True)
class Style:
    """How change text is written: shortened for a list on a screen (the TUI), or whole (the dossier)."""

    #: characters kept of a value before / after a change (None: all of it)
    before: int | None = 120
    after: int | None = 300
    #: how an instant found in a value is written (None: as stored, ISO 8601)
    instant: InstantText | None = None
    #: leave out changes of an item's place in the checklist order alone (re-planning renumbers items)
    skip_reorders: bool = False

    @property
    def whole(self) -> bool:
        return self.before is None and self.after is None


SHORT = Style()


def whole(instant: InstantText | None = None) -> Style:
    """The dossier's style: no text is shortened, instants written by ``instant``, re-orderings left out."""
    return Style(before=None, after=None, instant=instant, skip_reorders=True)


def _reorder_only(old: dict, new: dict) -> bool:
    """Whether a new version of a record differs from the old only in its sort position."""
    changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    return bool(changed) and changed <= {"order"}


def _cut(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "\u2026"


def _readable(value: Any, style: Style, tz: str | None = None) -> str:
    """A value in words: text as it is, yes/no, lists comma-separated, mappings as "key value" pairs."""
    if value is None or value == "" or value == [] or value == {}:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        if style.instant is not None and _ISO_INSTANT.match(value):
            moment = _instant(value)
            if moment is not None:
                return style.instant(moment, tz)
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        parts = [_readable(v, style) for v in value]
        return ", ".join(f"({p})" if isinstance(v, dict) else p for p, v in zip(parts, value))
    if isinstance(value, dict):
        zone = value.get("tz") if isinstance(value.get("tz"), str) else None
        return ", ".join(f"{k} {_readable(v, style, zone)}" for k, v in value.items()
                         if v not in (None, "", [], {}) and not (k == "tz" and "at" in value))
    return str(value)


def _short(value: Any, limit: int | None = 160, style: Style = SHORT, tz: str | None = None) -> str:
    return _cut(_readable(value, style, tz), limit)


def _mapping_change(before: dict, after: dict, style: Style) -> str:
    """What changed inside a mapping (people affected per place, named triggers ...), key by key."""
    parts = []
    for key in after:
        if key not in before:
            parts.append(f"{key} added ({_short(after[key], style.after, style)})")
        elif before[key] != after[key]:
            parts.append(f"{key} {_short(before[key], style.before, style)} \u2192 {_short(after[key], style.after, style)}")
    parts += [f"{key} removed" for key in before if key not in after]
    return ", ".join(parts)


def diff_text(old: dict, new: dict, style: Style = SHORT, who: str | None = None) -> str:
    """What changed between two versions of a record, in words (bookkeeping fields left out).

    ``who`` is the person the entry names (who recorded the change): an ``updated_by`` that names someone
    else (the sender of a logged notification ...) is kept, as "by NAME".
    """
    parts = []
    for key in new:
        if key == "updated_by" and new.get(key) and new.get(key) not in (old.get(key), who):
            parts.append(f"by {new[key]}")
            continue
        if key in BOOKKEEPING or old.get(key) == new.get(key):
            continue
        before, after = old.get(key), new.get(key)
        if key == "assessment":
            applies = sum(1 for a in after or [] if isinstance(a, dict) and a.get("applies"))
            parts.append(f"assessment recomputed ({applies} obligations apply)")
        elif key == "retired_by":
            if after == "replan":  # ChecklistItem.retired_by: msptui's re-planning, not a person (said first)
                parts.insert(0, "set by msptui's recomputation when the facts changed, not by a person")
        elif isinstance(before, list) and isinstance(after, list) and after[: len(before)] == before:
            parts.append(f"{key} added: " + "; ".join(_short(a, style.after, style) for a in after[len(before):]))
        elif isinstance(after, dict) and isinstance(before, (dict, type(None))) and (before or after):
            parts.append(f"{key}: {_mapping_change(before or {}, after, style)}")
        else:
            parts.append(f"{key}: {_short(before, style.before, style)} \u2192 {_short(after, style.after, style)}")
    for key in old:
        if key not in new and key not in BOOKKEEPING:
            parts.append(f"{key} removed")
    if not parts and old.get("order") != new.get("order"):
        return "its place in the checklist order only"
    return "; ".join(parts) if parts else "no field changed"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return parse_stamp(value)
        except ValueError:
            return None
    return None


def _summary(table: str, model: Any, record: dict, style: Style) -> str:
    """``model.summary_of``, with the text it shortens for a list shown whole in the whole style."""
    field = _SHORTENED.get(table)
    if style.whole and field and isinstance(record.get(field), str):
        text = model.summary_of({**record, field: _TOKEN})
        if _TOKEN in text:
            return text.replace(_TOKEN, record[field])
    return model.summary_of(record)


def _entry(event: Event, previous: dict | None, style: Style = SHORT) -> TimelineEntry:
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
        return TimelineEntry(**base, kind="event", text=f"{event.kind}: {_short(event.payload, style.after, style)}")
    if previous is None:
        occurred, kind, observed = None, "created", {}
        if table == "incidents":
            observed, kind = record.get("discovered") or {}, "incident_opened"
        elif table == "notes":
            observed, kind = record.get("at") or {}, "note"
        elif table == "evidence":
            observed, kind = record.get("acquired") or {}, "evidence"
        if isinstance(observed, dict):
            occurred = _instant(observed.get("at"))
            zone = observed.get("tz") if isinstance(observed.get("tz"), str) else None
        else:
            zone = None
        summary = _summary(table, model, record, style)
        if table == "notes":
            text = record.get("text", "")
        elif table == "incidents":
            text = f"opened {record_id}: {summary}"
        else:
            text = f"created {label} {record_id}" + (f": {summary}" if summary else "")
        return TimelineEntry(**base, occurred_at=occurred, occurred_tz=zone if occurred else None, kind=kind, text=text)
    occurred, kind = None, "changed"
    if table == "checklist_items" and previous.get("status") != record.get("status"):
        occurred, kind = _instant(record.get("updated_at")), "status"
    change = diff_text(previous, record, style, who=base["who"])
    return TimelineEntry(**base, occurred_at=occurred, kind=kind, text=f"changed {label} {record_id}: {change}",
                         headline=_headline(table, record_id, previous, record, change, style, base["who"]))


#: what ``diff_text`` says when nothing but bookkeeping changed
_NOTHING = ("no field changed", "its place in the checklist order only")


def _headline(table: str, record_id: str, previous: dict, record: dict, change: str, style: Style, who: str) -> str:
    """A change for a one-line row: the incident's own change as it is; a checklist item's status change as
    "open \u2192 done: TITLE (other changes)"; another change of an item as "TITLE: change"."""
    if table == "incidents":
        return change
    if table != "checklist_items":
        return ""
    title = _cut(str(record.get("title") or record_id), style.after)
    before, after = previous.get("status"), record.get("status")
    if before == after:
        return f"{title}: {change}"
    rest = diff_text({**previous, "status": after}, record, style, who=who)
    return f"{before} \u2192 {after}: {title}" + ("" if rest in _NOTHING else f" ({rest})")


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
          earlier: Callable[[str, str, int], dict | None] | None = None, style: Style = SHORT) -> list[TimelineEntry]:
    """The incident's timeline from its client's events (in chain order).

    ``earlier(table, record_id, event_id)`` gives a record's version before
    an event when the events start part-way through the chain (a page), so
    an update still reads "changed ..." rather than "created". ``style``:
    values shortened for a screen (default) or ``whole(...)`` for the dossier.
    """
    out: list[TimelineEntry] = []
    previous: dict[tuple[str, str], Any] = {}
    run: list[Event] = []  # consecutive checklist-item creations

    def flush() -> None:
        if not run:
            return
        if len(run) == 1:
            out.append(_entry(run[0], None, style))
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
        if style.skip_reorders and record is not None and isinstance(before, dict) and _reorder_only(before, record):
            previous[key] = record
            continue
        if created_item and (not run or run[-1].id == event.id - 1):
            run.append(event)
        else:
            flush()
            if created_item:
                run.append(event)
            else:
                out.append(_entry(event, before, style))
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
    # nothing is about the incident before the event that created it: a new incident of a client with a long
    # history is read in its own few events, not the client's whole history
    floor = store.first_event_of("incidents", incident_id) or 0
    for event in store.events_about(client_id, newest_first=True):
        if event.id < floor:
            break
        if about_incident(event, incident_id):
            if len(picked) == limit:
                more = True
                break
            picked.append(event)
    picked.reverse()
    return build(picked, incident_id, earlier=store.record_before), more
