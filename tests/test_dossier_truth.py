"""What the dossier says is a fact, a person's decision or msptui's own computation, and says it readably.

One real incident (the demo's Sunvale Health, planned by msptui.plan), with a
change of facts that retires checklist items, a person's decision not to act,
a client's logged refusal, notes and evidence. Most checks read the HTML the
PDF is rendered from (milliseconds); one renders the real PDF and verifies it.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from msptui import acts
from msptui.demo import load_demo
from msptui.export.collect import collect
from msptui.export.pdf import render_html
from msptui.incidents import add_evidence, add_note, open_incident, set_facts, set_item
from msptui.inputs import FactsDraft
from msptui.models import ChecklistItem
from msptui.store import Store

OPERATOR = "Dana Reyes <dana@example.net>"
LONG_NOTE = ("Called the client's office manager, who confirmed that the file server had been encrypted overnight "
             "and that the backup appliance was also unreachable; she will ask the practice owner whether they want "
             "us to engage the insurer's panel counsel or their own attorney, and will call back before noon Pacific "
             "with an answer. END-OF-NOTE")
FIRST_NOTE = "Hotline busy; the carrier says notice counts once written notice is sent)"
SECOND_NOTE = "notification by phone is not written notice"


@pytest.fixture(scope="module")
def incident(tmp_path_factory):
    """The database and incident id, after: open (CA 1200, TX 800, AZ 1500), a person's not-applicable decision,
    two notes on one item, evidence, a long note, a client's refusal, then fewer people affected (a re-plan)."""
    base = tmp_path_factory.mktemp("truth")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MSPTUI_CONFIG_DIR", str(base / "config"))
        mp.setenv("MSPTUI_CACHE_DIR", str(base / "cache"))
        mp.setenv("MSPTUI_OPERATOR", OPERATOR)
        db = base / "msptui.db"
        with Store.open(db, create=True) as store:
            load_demo(store, today=date.today())
            now = datetime.now(timezone.utc).replace(microsecond=0)
            discovered = now - timedelta(days=10)
            inc, _items = open_incident(
                store, client_id="sunvale-health", discovered=discovered, tz="America/Los_Angeles",
                category="ransomware", summary="Ransomware on the file server",
                affected_counts={"US-CA": 1200, "US-TX": 800, "US-AZ": 1500})
            set_item(store, inc.id, "comm-holding-statement", status="not_applicable",
                     note="Client will not issue any public statement")
            set_item(store, inc.id, "ins-hotline", note=FIRST_NOTE)
            set_item(store, inc.id, "ins-hotline", note=SECOND_NOTE)
            add_note(store, inc.id, LONG_NOTE, at=discovered + timedelta(hours=1), tz="America/Los_Angeles")
            sample = base / "fw.log"
            sample.write_text("firewall log sample\n")
            add_evidence(store, inc.id, sample, source="fw01", method="scp", acquired_at=discovered + timedelta(hours=2))
            acts.decide(store, inc.id, by="Dr. Helen Obi", party="client", text="Declines to notify patients",
                        at=discovered + timedelta(days=1), tz="America/Los_Angeles")
            set_facts(store, inc.id, FactsDraft(affected=["US-CA=620", "US-TX=40", "US-AZ=5"]))
        yield {"db": db, "incident_id": inc.id, "base": base, "now": now}


@pytest.fixture(scope="module")
def dossier(incident):
    """dossier.json's content (generated on a machine whose zone is UTC) and the text of its HTML."""
    with Store.open(incident["db"]) as store:
        data, _events = collect(store, incident["incident_id"], generated_at=incident["now"], local_tz="Etc/UTC")
    page = render_html(data)
    return {"data": data, "html": page, "text": _text(page)}


def _text(page: str) -> str:
    """The HTML as a reader sees it: tags dropped, block ends and <br> as line breaks, entities decoded."""
    page = re.sub(r"<(br|/p|/div|/tr|/h\d|/li)\b[^>]*>", "\n", page)
    page = re.sub(r"<[^>]+>", "", page)
    return html.unescape(page)


def section(text: str, start: str, end: str) -> str:
    """The text between two headings (the first occurrence of each after ``start``)."""
    head = text.index(start)
    return text[head:text.index(end, head + len(start))]


# ---------------------------------------------------------------------------
# 6. notes of one checklist item are separate lines
# ---------------------------------------------------------------------------


def test_item_notes_are_separate_lines(dossier):
    for heading, end in [("2.3 What was notified", "2.4 Consent records"), ("4.1 Checklist", "4.2 Notification log")]:
        part = section(dossier["text"], heading, end)
        lines = [line.strip() for line in part.splitlines()]
        assert f"note: {FIRST_NOTE}" in lines, heading
        assert f"note: {SECOND_NOTE}" in lines, heading
        assert not [line for line in lines if FIRST_NOTE in line and SECOND_NOTE in line], heading
