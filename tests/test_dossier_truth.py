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
from msptui.incidents import add_evidence, add_note, open_incident, record_trigger, set_facts, set_item
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
PERSON_SAYS_FACTS_CHANGED = "facts changed: counsel says the FBI field office already knows; no report"
RETIRED_RULES = {"us.tx.521_053.ag", "us.az.18_552.ag", "us.az.18_552.cra"}


@pytest.fixture(scope="module")
def incident(tmp_path_factory):
    """The database and incident id, after: open (CA 1200, TX 800, AZ 1500), a person's not-applicable decision,
    two notes on one item, evidence, a long note, a trigger, a client's refusal, then fewer people affected (a re-plan)."""
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
            # a person's decision whose wording looks like msptui's: still a person's decision
            set_item(store, inc.id, "comm-law-enforcement", status="not_applicable", note=PERSON_SAYS_FACTS_CHANGED)
            set_item(store, inc.id, "ins-hotline", note=FIRST_NOTE)
            set_item(store, inc.id, "ins-hotline", note=SECOND_NOTE)
            add_note(store, inc.id, LONG_NOTE, at=discovered + timedelta(hours=1), tz="America/Los_Angeles")
            sample = base / "fw.log"
            sample.write_text("firewall log sample\n")
            add_evidence(store, inc.id, sample, source="fw01", method="scp", acquired_at=discovered + timedelta(hours=2))
            record_trigger(store, inc.id, "discovery_by_control_group", at=discovered + timedelta(hours=3),
                           tz="America/Los_Angeles", by="Dr. Helen Obi")
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


# ---------------------------------------------------------------------------
# 2. how the chain is hashed: one text in Appendix B and VERIFY.txt
# ---------------------------------------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_appendix_b_and_verify_txt_state_the_same_hash_rules(dossier):
    from msptui.export.bundle import verify_text

    appendix = _flat(section(dossier["text"], "Appendix B — how to verify", "Distribution log"))
    verify = _flat(verify_text(dossier["data"], fingerprint="f" * 64,
                               counts={"events": 9, "full": 7, "headers_only": 1, "legacy_links": 1}))
    rules = 'subject = SHA-256("msptui-subject:" + client id)'
    assert rules in appendix and rules in verify
    assert "SHA-256 of the client id" not in appendix
    raw = "A full line (this client's events and the MSP's own) carries the raw client id in its subject field"
    assert raw in appendix and raw in verify
    # the whole rule paragraph is word for word the same in both
    start = "Hash rules, over canonical JSON"
    paragraph = appendix[appendix.index(start):appendix.index("in the hashed header.") + len("in the hashed header.")]
    assert paragraph in verify


def test_the_hash_rules_as_written_recompute_events_jsonl(incident, tmp_path):
    """Follow the written rules by hand (not with msptui.chain) on a real events.jsonl: every hash matches."""
    import hashlib
    import json

    from msptui.export.bundle import export

    def sha(value) -> str:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MSPTUI_KEY_DIR", str(tmp_path / "keys"))
        with Store.open(incident["db"]) as store:
            copy = tmp_path / "copy.db"
            import sqlite3

            with sqlite3.connect(copy) as target:
                store.conn.backup(target)
        with Store.open(copy) as store:
            folder = export(store, incident["incident_id"], out_dir=tmp_path / "out", renderer=lambda d: b"%PDF-1.7\n%%EOF\n")
    shapes = set()
    for line in (folder / "events.jsonl").read_text().splitlines():
        e = json.loads(line)
        if "body_sha256" in e:  # a header line: the subject is already hashed
            header = {k: e[k] for k in ("v", "id", "subject", "kind", "body_sha256", "prev_hash")}
            shapes.add("header")
        else:
            subject = e["subject"]
            hashed = None if subject is None else hashlib.sha256(("msptui-subject:" + subject).encode()).hexdigest()
            body = {k: e[k] for k in ("at", "tz", "actor", "operator", "payload")}
            header = {"v": e["v"], "id": e["id"], "subject": hashed, "kind": e["kind"], "body_sha256": sha(body),
                      "prev_hash": e["prev_hash"]}
            shapes.add("client" if subject else "msp")
        assert sha(header) == e["hash"], e["id"]
    assert shapes >= {"header", "client", "msp"}


# ---------------------------------------------------------------------------
# 4. the timeline: no bookkeeping, no JSON, no text cut short (the TUI may shorten)
# ---------------------------------------------------------------------------


def test_timeline_lists_no_bookkeeping_no_json_and_cuts_nothing(dossier):
    entries = [t["text"] for t in dossier["data"]["timeline"]]
    joined = "\n".join(entries)
    for noise in ("order:", "updated_at:", "updated_by:", '{"', "\u2026", "no field changed"):
        assert noise not in joined, noise
    facts = next(t for t in entries if "affected_counts" in t)
    assert "US-TX 800 \u2192 40" in facts and "US-AZ 1500 \u2192 5" in facts
    trigger = next(t for t in entries if "discovery_by_control_group added" in t)
    assert "by Dr. Helen Obi" in trigger and "PST" in trigger  # the instant in the zone it was observed in
    assert any(t.endswith("END-OF-NOTE") for t in entries)  # the long note, whole
    # a long value that the TUI shortens is whole here: the basis of a re-planned item, old and new
    basis = [t for t in entries if "basis:" in t]
    assert basis and all("(threshold" in t.split("\u2192")[0] for t in basis if "HIPAA" in t)
    page = section(dossier["text"], "6. Timeline", "Appendix A —")
    assert "END-OF-NOTE" in page and "order:" not in page and "\u2026" not in page


def test_the_tui_timeline_still_shortens_long_values(incident):
    from msptui import timeline

    with Store.open(incident["db"]) as store:
        short = timeline.build(store.events_about("sunvale-health"), incident["incident_id"])
    texts = [t.text for t in short]
    assert any("\u2026" in t for t in texts)  # a long basis, shortened for a row
    assert not any("order:" in t for t in texts)  # bookkeeping is left out there too


# ---------------------------------------------------------------------------
# 3. every instant: local in the zone it was observed in (else the client's), UTC in brackets
# ---------------------------------------------------------------------------

#: an instant as the dossier writes it: "2026-11-20 09:30 PST (17:30 UTC)" (the UTC date only when it differs)
LOCAL_AND_UTC = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? [A-Z]{3,4} \((\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}(:\d{2})? UTC\)")
#: an instant in UTC only: ISO 8601 with Z, or "2026-11-30 04:10 UTC" not inside brackets
UTC_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?Z|(?<!\()\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC\b")


def test_every_instant_on_the_page_is_local_with_utc_in_brackets(dossier):
    """Generated on a machine whose zone is UTC: the cover, the timeline, evidence and custody still read in the
    client's zone (the zone the dossier is for), with UTC beside; the only ISO stamp is the manifest's value."""
    text = dossier["text"]
    cover = section(text, "Incident dossier", "Contents")
    assert re.search(r"Generated\s*" + LOCAL_AND_UTC.pattern, cover)
    assert "Etc/UTC" not in cover
    stray = [m.group(0) for m in UTC_ONLY.finditer(text)]
    manifest_value = dossier["data"]["generated_at"]
    assert stray == [manifest_value], stray  # Appendix B names manifest.json's generated_at as it is
    timeline_page = section(text, "6. Timeline", "Appendix A —")
    entries = [line for line in timeline_page.splitlines() if " · event" in line]
    assert entries and all(LOCAL_AND_UTC.match(line.strip()) for line in entries), entries[:3]
    evidence = section(text, "5. Evidence inventory", "6. Timeline")
    assert re.search(r"acquired " + LOCAL_AND_UTC.pattern, evidence)
    assert re.search(r"custody: " + LOCAL_AND_UTC.pattern, evidence)


def test_instants_observed_in_a_zone_keep_it(dossier):
    data = dossier["data"]
    note = next(t for t in data["timeline"] if t["kind"] == "note")
    assert LOCAL_AND_UTC.fullmatch(note["occurred_text"]) and re.search(" P[SD]T ", note["occurred_text"])
    assert LOCAL_AND_UTC.fullmatch(data["triggers"][0]["at_text"]) and re.search(" P[SD]T ", data["triggers"][0]["at_text"])


def test_one_helper_writes_every_instant():
    from msptui.export.collect import when

    at = datetime(2026, 11, 20, 17, 30, tzinfo=timezone.utc)
    assert when(at, "America/New_York", "America/Los_Angeles") == "2026-11-20 12:30 EST (17:30 UTC)"
    for machine in (None, "UTC", "Etc/UTC", "GMT"):
        assert when(at, machine, "America/Los_Angeles") == "2026-11-20 09:30 PST (17:30 UTC)", machine
    summer = datetime(2026, 7, 20, 17, 30, tzinfo=timezone.utc)
    assert when(summer, "Europe/London", "America/Los_Angeles") == "2026-07-20 18:30 BST (17:30 UTC)"  # a place, not UTC
    assert when(at, None, "UTC") == "2026-11-20 17:30 UTC"
    assert when(None, None, "UTC") == ""


def test_risk_acceptance_signatures_are_local_with_utc(tmp_path):
    """The demo's Meridian Insurance signed its declines at a recorded UTC instant: the page shows it in the client's zone."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MSPTUI_OPERATOR", OPERATOR)
        with Store.open(tmp_path / "db", create=True) as store:
            load_demo(store, today=date.today())
            inc, _ = open_incident(store, client_id="meridian-insurance", discovered=datetime.now(timezone.utc) - timedelta(days=1),
                                   tz="America/New_York", category="bec", summary="Mailbox rule forwarding invoices")
            data, _events = collect(store, inc.id, generated_at=datetime.now(timezone.utc), local_tz="Etc/UTC")
    signed = [a for a in data["risk_acceptances"] if a["signed"]]
    assert signed and all(LOCAL_AND_UTC.fullmatch(a["signed_at_text"]) for a in signed)
    page = section(_text(render_html(data)), "Risk acceptances and waivers", "4. Incident response record")
    assert not UTC_ONLY.search(page), UTC_ONLY.search(page)
    assert signed[0]["signed_at_text"] in page


# ---------------------------------------------------------------------------
# 5. log-retention estimates are not shown as deadlines
# ---------------------------------------------------------------------------


def test_log_retention_estimates_stand_apart_from_deadlines(dossier):
    data, text = dossier["data"], dossier["text"]
    rows = {r["step"]: r for r in data["checklist"]}
    entra = rows["ev-entra-signin"]
    assert entra["rule_kind"] == "evidence_expiry" and entra["retention_estimate"] is True  # typed: the rule's kind
    assert rows["notify-us-ca-1798_82-individuals"]["retention_estimate"] is False
    assert rows["ev-memory"]["retention_estimate"] is False  # an evidence step with no retention clock
    estimate_titles = [r["title"] for r in data["checklist"] if r["retention_estimate"]]
    assert len(estimate_titles) >= 3
    checklist = section(text, "4.1 Checklist", "4.2 Notification log")
    deadlines, estimates = checklist.split("Log-retention estimates — not legal deadlines")
    for title in estimate_titles:
        assert title not in deadlines, title
        assert title in estimates, title
    assert "Logs may age out (estimate)" in estimates and "retention estimate, not a legal deadline" in estimates
    assert "Notify affected California residents" in deadlines
    obligations = section(text, "4.5 Obligations that apply", "4.6 Triggers recorded")
    legal, retention = obligations.split("Log-retention estimates — not legal deadlines")
    assert "ev.entra.signin_audit" not in legal and "ev.entra.signin_audit" in retention
    assert "us.ca.1798_82.individuals" in legal
    from msptui.obligations import load_rules

    rules = load_rules()
    assert all(o["retention_estimate"] == (rules[o["rule_id"]].duty == "evidence")
               for o in data["obligations"] if o["rule_id"] in rules)


# ---------------------------------------------------------------------------
# 1. msptui's recomputations are not a person's decisions; logged refusals are in 4.8
# ---------------------------------------------------------------------------


def test_recomputed_items_are_not_decisions(dossier):
    data = dossier["data"]
    recomputed = {r["rule"]: r for r in data["recomputed_not_applicable"]}
    assert set(recomputed) == RETIRED_RULES
    for rule, r in recomputed.items():
        assert r["verdict"]["state"] == "not_applicable" and "below the threshold" in r["verdict"]["reason"], rule
        assert "affected_counts" in r["facts"]["changed"] and r["facts"]["by"] == "Dana Reyes"
        assert r["event_id"] > r["facts"]["event_id"]
    people = {n["title"]: n for n in data["decisions_not_to_act"]}
    assert not {n["rule"] for n in people.values()} & RETIRED_RULES
    held = next(n for n in people.values() if n["reason"] == "Client will not issue any public statement")
    assert held["decided_by"] == "Dana Reyes" and not held["legacy"]
    # told apart by the typed field, never by the wording: a person who writes "facts changed: ..." decided
    assert any(n["reason"] == PERSON_SAYS_FACTS_CHANGED for n in people.values())
    rows = {r["rule"]: r for r in data["checklist"] if r["rule"]}
    assert all(rows[rule]["retired_by"] == "replan" for rule in RETIRED_RULES)


def test_section_4_8_keeps_decisions_refusals_and_recomputations_apart(dossier):
    page = section(dossier["text"], "4.8 Decisions not to act or notify", "5. Evidence inventory")
    people, rest = page.split("Decisions logged by the parties (section 4.3)")
    logged, recomputed = rest.split("Recomputed by msptui when the facts changed — not a person's decision")
    assert "Notify Texas Attorney General" not in people and "Notify Texas Attorney General" in recomputed
    assert "Client will not issue any public statement" in people and "Decided by" in people
    assert PERSON_SAYS_FACTS_CHANGED in people
    assert "Decided by" not in recomputed
    assert "below the threshold" in recomputed and "Current assessment" in recomputed
    # the client's logged refusal (4.3) is in 4.8 too: the two sections cannot contradict each other
    assert "Declines to notify patients" in logged and "Dr. Helen Obi" in logged
    assert "No checklist item is marked not applicable" not in page
    assert "Declines to notify patients" in section(dossier["text"], "4.3 Decisions and consents", "4.4 Cost")


def test_checklist_rows_say_who_set_a_step_not_applicable(dossier):
    page = section(dossier["html"], "4.1 Checklist", "4.2 Notification log")
    row = _text(next(tr for tr in page.split("</tr>") if "Notify Texas Attorney General" in tr))
    assert "recomputed by msptui" in row and "Not a person's decision" in row and "Rationale:" not in row
    entry = next(t["text"] for t in dossier["data"]["timeline"] if "notify-us-tx-521_053-ag" in t["text"])
    assert "set by msptui's recomputation when the facts changed, not by a person" in entry


def test_a_person_who_reopens_and_drops_a_recomputed_step_decides_it(tmp_path):
    """Reopened and marked not applicable again by a person: a person's decision, dated by that act; a later
    note by someone else does not make them the decider. A step set not applicable by an msptui older than
    the typed field is flagged: the dossier cannot tell who decided."""
    import json as _json

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MSPTUI_OPERATOR", OPERATOR)
        with Store.open(tmp_path / "db", create=True) as store:
            load_demo(store, today=date.today())
            discovered = datetime.now(timezone.utc) - timedelta(days=3)
            inc, _ = open_incident(store, client_id="sunvale-health", discovered=discovered, tz="America/Los_Angeles",
                                   category="ransomware", summary="x", affected_counts={"US-TX": 800, "US-AZ": 1500})
            set_facts(store, inc.id, FactsDraft(affected=["US-TX=40", "US-AZ=5"]))
            set_item(store, inc.id, "notify-us-tx-521_053-ag", status="open")
            set_item(store, inc.id, "notify-us-tx-521_053-ag", status="not_applicable", note="Counsel: the AG was told by phone")
            mp.setenv("MSPTUI_OPERATOR", "Sam Lee <sam@example.net>")
            set_item(store, inc.id, "notify-us-tx-521_053-ag", note="copy of the call log filed")
            # an item set not applicable by an older msptui (its record has no retired_by at all)
            old = store.get(ChecklistItem, f"{inc.id}:notify-us-az-18_552-ag").model_dump(mode="json")
            assert old["retired_by"] == "replan"
            del old["retired_by"]
            old.update({"status": "open"})
            with store.transaction():
                store.put_text_in_transaction("checklist_items", old["id"], _json.dumps(old, sort_keys=True, separators=(",", ":")))
            old.update({"status": "not_applicable", "reason": "facts changed: written by an older msptui"})
            with store.transaction():
                store.put_text_in_transaction("checklist_items", old["id"], _json.dumps(old, sort_keys=True, separators=(",", ":")))
            data, _events = collect(store, inc.id, generated_at=datetime.now(timezone.utc), local_tz="Etc/UTC")
    people = {n["rule"]: n for n in data["decisions_not_to_act"]}
    recomputed = {r["rule"] for r in data["recomputed_not_applicable"]}
    tx = people["us.tx.521_053.ag"]
    assert tx["reason"] == "Counsel: the AG was told by phone" and tx["decided_by"] == "Dana Reyes" and not tx["legacy"]
    assert tx["updated_by"] == "Sam Lee"  # the later note's writer: not shown as the decider
    assert "us.tx.521_053.ag" not in recomputed and "us.az.18_552.cra" in recomputed
    assert people["us.az.18_552.ag"]["legacy"] is True
    page = section(_text(render_html(data)), "4.8 Decisions not to act", "5. Evidence inventory")
    assert "whether a person decided this or msptui recomputed it is not recorded" in page


def test_a_change_done_by_someone_else_than_its_recorder_says_so():
    from msptui.timeline import diff_text

    old = {"status": "open", "updated_by": None, "order": 3}
    assert diff_text(old, {"status": "done", "updated_by": "Dana Reyes", "order": 4}, who="Dana Reyes") == "status: open \u2192 done"
    assert diff_text(old, {"status": "done", "updated_by": "Pat Sender", "order": 3}, who="Dana Reyes") == \
        "status: open \u2192 done; by Pat Sender"
    assert diff_text(old, {**old, "order": 9}) == "its place in the checklist order only"


# ---------------------------------------------------------------------------
# changing what the dossier says must not make earlier dossiers look edited
# ---------------------------------------------------------------------------


def test_a_dossier_written_by_an_earlier_msptui_is_not_called_edited(incident, tmp_path, monkeypatch):
    """The manifest records the content revision: a verifier whose msptui writes other content or instructions
    says which checks it could not run (exit 0), and calls a difference an edit only at the same revision."""
    import sqlite3

    from msptui import export as dossier_export
    from msptui.export import bundle, rebuild

    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("MSPTUI_OPERATOR", OPERATOR)
    with Store.open(incident["db"]) as store, sqlite3.connect(tmp_path / "copy.db") as target:
        store.conn.backup(target)
    fake_pdf = lambda data: b"%PDF-1.7\n%%EOF\n"  # noqa: E731
    with Store.open(tmp_path / "copy.db") as store:
        folder = dossier_export.export(store, incident["incident_id"], out_dir=tmp_path / "out", renderer=fake_pdf)
        assert dossier_export.verify_dossier(folder, store=store, renderer=fake_pdf).ok
        real_inputs, real_text = rebuild.content_inputs, bundle.verify_text
        monkeypatch.setattr(bundle, "verify_text", lambda *a, **k: real_text(*a, **k) + "(a later msptui's wording)\n")
        same_revision = dossier_export.verify_dossier(folder, store=store, renderer=fake_pdf)
        monkeypatch.setattr(rebuild, "content_inputs", lambda: {**real_inputs(), "content_revision": 99})
        later = dossier_export.verify_dossier(folder, store=store, renderer=fake_pdf)
    assert not same_revision.ok and "VERIFY.txt differs" in same_revision.problem
    assert later.ok and later.exit_code == 0, later.problem
    (note,) = [n for n in later.not_checked if n.startswith("VERIFY.txt")]
    from msptui.export.collect import CONTENT_REVISION

    assert f"content_revision {CONTENT_REVISION} there, 99 here" in note


# ---------------------------------------------------------------------------
# a clock that was fast: the dossier says so instead of a silent jump in time
# ---------------------------------------------------------------------------


def test_a_fast_clock_and_its_recorded_step_are_shown_in_the_timeline(tmp_path, monkeypatch):
    """Notes written by a box three days fast, then the step recorded by a person, then a note at the right time:
    the timeline keeps the chain's order, marks the entry recorded before an earlier one as CLOCK BEHIND, and
    states the step with who recorded it and why."""
    import msptui.store as store_module
    from msptui.chain import utc_stamp

    monkeypatch.setenv("MSPTUI_OPERATOR", OPERATOR)
    with Store.open(tmp_path / "db", create=True) as store:
        load_demo(store, today=date.today())
        now = datetime.now(timezone.utc)
        inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=now - timedelta(hours=5),
                               tz="America/Chicago", category="ransomware", summary="encrypted")
        with monkeypatch.context() as fast:
            fast.setattr(store_module, "utc_stamp", lambda: utc_stamp(datetime.now(timezone.utc) + timedelta(days=3)))
            add_note(store, inc.id, "written by the fast box")
        store.record_clock_step("checked against NTP: the jump box was 3 days fast <b>")
        add_note(store, inc.id, "written at the right time")
        data, _events = collect(store, inc.id, generated_at=datetime.now(timezone.utc), local_tz="Etc/UTC")
    (step,) = data["clock_steps"]
    assert step["by"] == "Dana Reyes" and step["behind_hours"] >= 71.9 and step["reason"].endswith("fast <b>")
    rows = [t for t in data["timeline"] if t["kind"] == "note"]
    assert [t["clock_behind"] for t in rows] == [False, True]
    assert not any(t["clock_behind"] for t in data["timeline"] if t["kind"] != "note")
    page = render_html(data)
    assert "Clock step recorded" in page and "3 days fast &lt;b&gt;" in page
    assert page.count("· CLOCK BEHIND") == 1
