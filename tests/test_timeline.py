"""The incident timeline read from the chain, whole (dossier, CLI) or as its newest page (the TUI)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from msptui import timeline
from msptui.demo import load_demo
from msptui.incidents import add_note, open_incident, set_item
from msptui.models import ChecklistItem
from msptui.views.incident import incident_view


@pytest.fixture
def busy(store):
    """An incident whose timeline mixes the checklist run, notes, status changes and another incident's events."""
    load_demo(store, today=date(2026, 11, 27))
    now = datetime.now(timezone.utc)
    inc, items = open_incident(store, client_id="tallgrass-vet", discovered=now - timedelta(hours=5),
                               tz="America/Chicago", category="ransomware", summary="files encrypted")
    other, _ = open_incident(store, client_id="tallgrass-vet", discovered=now - timedelta(hours=4),
                             tz="America/Chicago", category="bec", summary="a second incident at the same client")
    for i, item in enumerate(items[:6]):
        add_note(store, inc.id, f"note {i}")
        add_note(store, other.id, f"other {i}")
        set_item(store, inc.id, item.id, status="done")
        set_item(store, inc.id, item.id, status="open", note=f"reopened {i}")
    return store, inc.id


def test_every_page_is_the_tail_of_the_whole_timeline(busy):
    """However the page boundary falls, an entry reads as it does in the whole timeline (an update is never
    'created'; the other incident never leaks in); only a checklist run cut by the boundary is shorter."""
    store, incident_id = busy
    whole = timeline.build(store.events_about("tallgrass-vet"), incident_id)
    n_events = sum(e.last_event_id - e.event_id + 1 if e.kind == "checklist_created" else 1 for e in whole)
    assert any(e.kind == "status" for e in whole) and not any("other" in e.text for e in whole)
    for limit in range(1, n_events + 2):
        page, more = timeline.recent(store, "tallgrass-vet", incident_id, limit)
        assert more == (limit < n_events), limit
        first = page[0]
        tail = [e for e in whole if e.event_id > first.last_event_id]
        assert page[1:] == tail, limit
        cut_run = any(e.kind == "checklist_created" and e.event_id <= first.event_id <= e.last_event_id for e in whole)
        if not cut_run:
            assert first in whole, limit  # e.g. a status change whose item was created pages back says what changed
    newest, _ = timeline.recent(store, "tallgrass-vet", incident_id, 1)
    assert newest[0].kind == "status" and newest[0].text.startswith("changed checklist item")
    assert timeline.recent(store, "tallgrass-vet", incident_id, n_events)[0] == whole


def test_the_incident_view_reads_only_the_page_it_is_asked_for(busy):
    store, incident_id = busy
    full = incident_view(store, incident_id)
    paged = incident_view(store, incident_id, timeline_limit=5)
    assert not full.timeline_more and paged.timeline_more
    assert len(paged.timeline) == 5 and paged.timeline == full.timeline[-5:]
    assert paged.checklist == full.checklist and paged.obligations == full.obligations  # only the timeline is paged
