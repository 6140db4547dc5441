"""What happened, when: facts that change, named triggers, dormant rules, contract clocks, unmapped places.

Driven through the CLI exactly as the issue names it (``incident set``,
``incident trigger``, ``triggers``, ``obligations --json``) on a fresh demo
database, with the real rules and planner.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from msptui.models import ChecklistItem, Incident
from msptui.store import Store

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


def stamp(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(text: str | None):
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.fixture
def demo(cli, db_path):
    assert cli("demo").exit_code == 0
    return cli


def open_incident(cli, client: str, *, hours_ago: int = 30, category: str = "ransomware", extra: tuple = ()) -> str:
    result = cli("incident", "open", "--client", client, "--discovered", stamp(NOW - timedelta(hours=hours_ago)),
                 "--category", category, "--summary", f"incident at {client}", *extra, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["id"]


def obligations(cli, incident_id: str) -> dict[str, dict]:
    rows = json.loads(cli("obligations", incident_id, "--all", "--json").stdout)
    return {(r["rule_id"] or r["jurisdiction"]) + (f"@{r['policy_id']}" if r["policy_id"] else ""): r for r in rows}


def checklist(cli, incident_id: str) -> dict[str, dict]:
    return {r["step"]: r for r in json.loads(cli("checklist", incident_id, "--json").stdout)}


def event_count(db_path) -> int:
    with Store.open(db_path) as store:
        return store.head()[0]


# ---------------------------------------------------------------------------
# triggers that may never happen: dormant until recorded
# ---------------------------------------------------------------------------


def test_ransom_payment_clock_is_dormant_until_the_payment_and_then_runs_from_it(demo, db_path):
    incident = open_incident(demo, "meridian-insurance", extra=("--ransom-paid",))  # NYDFS-regulated
    before = obligations(demo, incident)["us.nydfs.500_17c.payment_notice"]
    assert (before["state"], before["due"], before["trigger"], before["trigger_at"]) == \
        ("dormant", None, "ransom_payment", None)
    assert before["clock"] == "dormant" and "OVERDUE" not in before["countdown"]
    paid = NOW - timedelta(hours=3)
    result = demo("incident", "trigger", incident, "ransom_payment", "--at", stamp(paid), "--by", "CFO", "--json")
    assert result.exit_code == 0, result.output
    after = obligations(demo, incident)["us.nydfs.500_17c.payment_notice"]
    assert after["state"] == "applies" and instant(after["trigger_at"]) == paid
    assert instant(after["due"]) == paid + timedelta(hours=24)  # 24 h from the payment, not from discovery
    explanation = obligations(demo, incident)["us.nydfs.500_17c.payment_explanation"]
    assert explanation["state"] == "applies" and instant(explanation["due"]) > paid + timedelta(days=29)
    assert checklist(demo, incident)["notify-us-nydfs-500_17c-payment_notice"]["due_utc"] is not None


def test_recording_the_payment_records_that_a_ransom_was_paid(demo, db_path):
    incident = open_incident(demo, "meridian-insurance")
    assert obligations(demo, incident)["us.nydfs.500_17c.payment_notice"]["state"] == "not_applicable"
    demo("incident", "trigger", incident, "ransom_payment", "--at", stamp(NOW - timedelta(hours=1)))
    with Store.open(db_path) as store:
        assert store.get(Incident, incident).ransom_paid is True
    assert obligations(demo, incident)["us.nydfs.500_17c.payment_notice"]["state"] == "applies"


def test_law_enforcement_delay_is_dormant_until_an_official_asks_and_records_who(demo, db_path):
    incident = open_incident(demo, "sunvale-health")
    delay = obligations(demo, incident)["us.hipaa.164_412.le_delay_oral"]
    assert delay["state"] == "dormant" and delay["due"] is None
    said = NOW - timedelta(hours=5)
    until = NOW + timedelta(days=20)
    result = demo("incident", "trigger", incident, "le_oral_delay_statement", "--at", stamp(said),
                  "--by", "SA Jordan Lee", "--agency", "FBI Sacramento", "--until", stamp(until), "--note", "call ref 4471")
    assert result.exit_code == 0, result.output
    delay = obligations(demo, incident)["us.hipaa.164_412.le_delay_oral"]
    assert delay["state"] == "applies" and instant(delay["trigger_at"]) == said
    assert instant(delay["due"]) > said + timedelta(days=29)  # oral statement: 30 days at most unless confirmed in writing
    with Store.open(db_path) as store:
        fact = store.get(Incident, incident).triggers["le_oral_delay_statement"]
    assert (fact.by, fact.agency, fact.until, fact.note) == ("SA Jordan Lee", "FBI Sacramento", until, "call ref 4471")


def test_8k_waits_for_the_materiality_determination_and_is_never_overdue_from_discovery(demo):
    incident = open_incident(demo, "ironwood-fabrication", hours_ago=24 * 10)  # public company, 10 days ago
    sec = obligations(demo, incident)["us.sec.8k_1_05"]
    assert sec["state"] == "dormant" and sec["due"] is None and sec["clock"] != "overdue"
    steps = checklist(demo, incident)
    assert "ntf-decide-materiality" in steps and steps["ntf-decide-materiality"]["due"] is None  # a decision, no clock
    determined = NOW - timedelta(days=1)
    demo("incident", "trigger", incident, "materiality_determination", "--at", stamp(determined))
    sec = obligations(demo, incident)["us.sec.8k_1_05"]
    assert sec["state"] == "applies" and instant(sec["due"]) > determined + timedelta(days=3)


def test_a_chained_clock_runs_from_the_recorded_submission(demo, db_path):
    incident = open_incident(demo, "pinecrest-academy", extra=("--states", "CA"))
    ag = obligations(demo, incident)["us.ca.1798_82.ag"]
    assert ag["state"] == "applies" and ag["due"] is None and ag["waits_for"] == "submitted:us.ca.1798_82.individuals"
    steps = checklist(demo, incident)
    individuals = next(s for s, r in steps.items() if r["rule"] == "us.ca.1798_82.individuals")
    sent = NOW - timedelta(hours=6)
    from msptui.incidents import set_item

    with Store.open(db_path) as store:
        set_item(store, incident, individuals, status="done", at=sent)
    ag = obligations(demo, incident)["us.ca.1798_82.ag"]
    pacific = timezone(timedelta(hours=-8))
    assert ag["waits_for"] is None
    assert instant(ag["due"]).astimezone(pacific).date() == (sent + timedelta(days=15)).astimezone(pacific).date()


# ---------------------------------------------------------------------------
# facts that change
# ---------------------------------------------------------------------------


def test_new_facts_add_items_and_retired_ones_say_why_without_deleting_done_items(demo, db_path):
    incident = open_incident(demo, "lakeshore-cpa", extra=("--states", "IL"))
    before = checklist(demo, incident)
    assert not any("us-az" in s for s in before)
    done_step = next(s for s, r in before.items() if r["rule"] and "us.il" in r["rule"])
    demo("check", incident, done_step, "--status", "done")
    result = demo("incident", "set", incident, "--states", "AZ", "--affected", "US-AZ=1200", "--json")
    assert result.exit_code == 0, result.output
    after = checklist(demo, incident)
    assert any("us-az" in s for s in after), "Arizona residents add Arizona's duties"
    assert after[done_step]["status"] == "done", "done items stay done"
    retired = [r for s, r in after.items() if s in before and r["status"] == "not_applicable" and before[s]["status"] == "open"]
    assert retired and all(r["reason"].startswith("facts changed: ") and "us_states" in r["reason"] for r in retired)
    assert set(before) <= set(after), "nothing is deleted"
    # the earlier assessment is still in the history
    with Store.open(db_path) as store:
        versions = [e.payload["record"] for e in store.record_events("incidents", incident)]
    assert len(versions) == 2 and versions[0]["us_states"] == ["IL"] and versions[1]["us_states"] == ["AZ"]
    assert versions[0]["assessment"] != versions[1]["assessment"]


def test_status_and_summary_change_without_replanning(demo, db_path):
    incident = open_incident(demo, "lakeshore-cpa")
    items_before = {r["id"]: r for r in json.loads(demo("checklist", incident, "--json").stdout)}
    assert demo("incident", "set", incident, "--status", "contained", "--summary", "contained on day 2").exit_code == 0
    with Store.open(db_path) as store:
        inc = store.get(Incident, incident)
    assert (inc.status, inc.summary) == ("contained", "contained on day 2")
    assert {r["id"]: r for r in json.loads(demo("checklist", incident, "--json").stdout)} == items_before


def test_affected_systems_are_recorded_changed_and_shown_in_the_dossier_facts(demo, db_path, tmp_path, monkeypatch):
    """Issue 12's facts block names the systems: given at opening, changed as the picture grows (one event, the
    checklist untouched: systems decide no obligation), refused when too long, shown literally in the dossier."""
    from msptui import export as dossier_export
    from msptui.export.pdf import render_html

    incident = open_incident(demo, "lakeshore-cpa", extra=("--systems", "FS01, DC01; Microsoft 365 tenant"))
    with Store.open(db_path) as store:
        assert store.get(Incident, incident).systems == ["FS01", "DC01", "Microsoft 365 tenant"]
    items_before = checklist(demo, incident)
    head = event_count(db_path)
    hostile = "<img src=x onerror=alert(1)> [red]VPN[/]"
    assert demo("incident", "set", incident, "--systems", f"FS01, DC01, {hostile}").exit_code == 0
    assert event_count(db_path) == head + 1 and checklist(demo, incident) == items_before
    same = demo("incident", "set", incident, "--systems", f"FS01,DC01,{hostile}")
    assert same.exit_code == 1 and "nothing to change" in same.stderr
    for bad, says in (("x" * 201, "longer than 200 characters"), ("," * 10_000, "no system name in"),
                      (" ; ;  ,  ", "no system name in"), ("FS01, \u200b", "has no visible character")):
        refused = demo("incident", "set", incident, "--systems", bad)
        assert refused.exit_code == 1 and "systems:" in refused.stderr and says in refused.stderr, refused.stderr
    assert event_count(db_path) == head + 1
    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "keys"))
    with Store.open(db_path) as store:
        folder = dossier_export.export(store, incident, out_dir=tmp_path / "out", renderer=lambda data: b"%PDF-1.7\n")
    data = json.loads((folder / "dossier.json").read_text())
    assert data["incident"]["systems"] == ["FS01", "DC01", hostile]
    html = render_html(data)
    assert "systems affected: FS01, DC01, &lt;img src=x onerror=alert(1)&gt; [red]VPN[/]" in html
    assert "people affected:" in html and "ransom paid: no" in html
    changes = [a for a in data["assessments"] if "systems" in " ".join(a.get("changed", []))]
    assert changes, "what was believed when: the change of systems is in the history"
    many = [f"host-{n:03d}.{'x' * 180}" for n in range(500)]  # the most a record holds: a paragraph, not a cell
    with Store.open(db_path) as store:
        data, _ = __import__("msptui.export.collect", fromlist=["collect"]).collect(
            store, incident, generated_at=datetime.now(timezone.utc), local_tz="Etc/UTC")
    data["incident"]["systems"] = many
    page = render_html(data)
    assert "systems affected: 500, listed under this table" in page and 'id="systems-affected"' in page
    assert demo("incident", "set", incident, "--systems", "").exit_code == 0  # cleared
    with Store.open(db_path) as store:
        assert store.get(Incident, incident).systems == []


def test_the_msps_own_cyber_policy_gets_a_clock_when_its_systems_were_the_vector(demo):
    incident = open_incident(demo, "lakeshore-cpa")
    assert obligations(demo, incident)["ins.msp_cyber.notice_incident"]["state"] == "not_applicable"
    assert demo("incident", "set", incident, "--msp-caused").exit_code == 0
    entries = [r for k, r in obligations(demo, incident).items() if k.startswith("ins.msp_cyber.notice_incident@")]
    assert len(entries) == 1 and entries[0]["state"] == "applies" and entries[0]["policy_id"] == "northwind-cyber"
    item = checklist(demo, incident)[entries[0]["item_id"].split(":", 1)[1]]
    assert item["due_utc"] or item["target_utc"], "the MSP's policy notice step has a clock"


# ---------------------------------------------------------------------------
# contract clocks
# ---------------------------------------------------------------------------


def test_baa_ten_days_beats_hipaa_sixty_and_the_basis_cites_the_clause(demo):
    incident = open_incident(demo, "sunvale-health", hours_ago=2)
    ba = obligations(demo, incident)["us.hipaa.164_410.business_associate"]
    due = instant(ba["due"])
    assert timedelta(days=9) < due - (NOW - timedelta(hours=2)) < timedelta(days=11)
    assert "BAA §5.1" in ba["basis"] and "shorter than 45 CFR 164.410" in ba["basis"]


def test_a_dpa_24_hours_beats_the_processors_undue_delay(demo):
    incident = open_incident(demo, "rheinfeld-praezision", hours_ago=2)
    gdpr = obligations(demo, incident)["eu.gdpr.art33_2.processor"]
    assert instant(gdpr["due"]) == NOW - timedelta(hours=2) + timedelta(hours=24)
    assert "AVV §7" in gdpr["basis"]


def test_a_contract_longer_than_the_statute_leaves_the_statute_in_charge(cli, db_path, tmp_path):
    data = {
        "format": "msptui", "version": 1,
        "clients": [{"id": "clinic", "name": "Clinic", "engagement": "managed", "home_tz": "America/New_York",
                     "countries": ["US"], "us_states": ["NY"], "data_held": ["phi"], "hipaa_role": "covered_entity"}],
        "agreements": [{"id": "clinic-baa", "client_id": "clinic", "type": "baa", "title": "BAA", "effective_from": "2025-01-01",
                        "clauses": [{"kind": "breach_notification", "section": "BAA §9",
                                     "notice": {"party": "msp", "unit": "calendar_days", "value": 90}}]}],
    }
    path = tmp_path / "clinic.json"
    path.write_text(json.dumps(data))
    assert cli("import", str(path)).exit_code == 0
    incident = open_incident(cli, "clinic", hours_ago=2)
    ba = obligations(cli, incident)["us.hipaa.164_410.business_associate"]
    assert timedelta(days=59) < instant(ba["due"]) - (NOW - timedelta(hours=2)) < timedelta(days=61)
    assert "BAA §9 (BAA): 90 calendar days; the statute's period is shorter and applies" in ba["basis"]


# ---------------------------------------------------------------------------
# places with no rule on file
# ---------------------------------------------------------------------------


def test_an_affected_country_with_no_rule_is_disclosed_not_skipped(demo, db_path):
    incident = open_incident(demo, "ironwood-fabrication")  # operates in MX
    entry = obligations(demo, incident)["MX"]
    assert (entry["rule_id"], entry["state"], entry["jurisdiction"]) == (None, "no_rule", "MX")
    step = checklist(demo, incident)["assess-law-mx"]
    assert "Assess the law of MX manually" in step["title"] and step["status"] == "open"
    demo("incident", "set", incident, "--affected", "MX=40")
    entry = obligations(demo, incident)["MX"]
    assert entry["affected"] == 40 and "(40 affected)" in checklist(demo, incident)["assess-law-mx"]["title"]
    from msptui.export.collect import collect

    with Store.open(db_path) as store:
        data, _ = collect(store, incident, generated_at=NOW)
    assert any(o["state"] == "no_rule" and o["jurisdiction"] == "MX" for o in data["obligations"])


# ---------------------------------------------------------------------------
# the vocabulary and bad input
# ---------------------------------------------------------------------------


def test_triggers_lists_the_vocabulary_with_meaning_kind_and_rules(cli):
    rows = {r["name"]: r for r in json.loads(cli("triggers", "--json", db=None).stdout)}
    assert rows["ransom_payment"]["kind"] == "event" and "us.nydfs.500_17c.payment_notice" in rows["ransom_payment"]["rules"]
    assert rows["determination_of_breach"]["kind"] == "awareness" and rows["determination_of_breach"]["recordable"]
    assert rows["first_activity"]["kind"] == "fact" and any(r.startswith("ev.") for r in rows["first_activity"]["rules"])
    assert {"contained", "resolved", "le_oral_delay_statement", "materiality_determination"} <= set(rows)
    assert all(r["meaning"] for r in rows.values())


@pytest.mark.parametrize("args, message", [
    (("ransom_payment", "--at", "2099-01-01T00:00Z"), "in the future"),
    (("first_activity", "--at", "NOW-9h"), "after the discovery"),
    (("bogus_trigger", "--at", "NOW-1h"), "unknown trigger"),
    (("contained", "--at", "2026-03-08T02:30", "--tz", "America/New_York"), "does not exist"),
    (("contained", "--at", "2026-11-01T01:30", "--tz", "America/New_York"), "occurs twice"),
    (("le_oral_delay_statement", "--at", "NOW-1h", "--until", "NOW-2h"), "must be after the delay began"),
    # an agency and an end of delay belong to a law-enforcement trigger only (they were stored on a ransom payment)
    (("ransom_payment", "--at", "NOW-1h", "--agency", "FBI"), "--agency: only a law-enforcement trigger"),
    (("materiality_determination", "--at", "NOW-1h", "--until", "NOW+48h"), "--until: only a law-enforcement trigger"),
    # an instant too far back for any calendar was a traceback (OverflowError in astimezone)
    (("ransom_payment", "--at", "0001-01-01T00:00", "--tz", "Asia/Tokyo"), "out of range"),  # year 0 in UTC
    (("materiality_determination", "--at", "9999-12-31T23:00-12:00"), "out of range"),
    # until a first activity is recorded, nothing happens before the discovery (a payment in year 1 was recorded)
    (("ransom_payment", "--at", "0001-01-02T00:00Z"), "before the discovery"),
    (("contained", "--at", "NOW-11h"), "before the discovery"),


    (("le_oral_delay_statement", "--at", "NOW-1h", "--until", "NOW-2h"), "--until: must be after the delay began"),
])
def test_bad_triggers_are_one_line_errors_and_write_nothing(demo, db_path, args, message):
    incident = open_incident(demo, "sunvale-health", hours_ago=10)
    args = tuple(stamp(NOW + timedelta(hours=int(a[3:-1]))) if a.startswith("NOW") else a for a in args)
    before = event_count(db_path)
    result = demo("incident", "trigger", incident, *args)
    assert result.exit_code == 1 and message in result.stderr and result.stderr.count("\n") <= 3, result.stderr
    assert "Traceback" not in result.output
    assert event_count(db_path) == before


def test_contained_before_the_first_activity_is_refused(demo, db_path):
    incident = open_incident(demo, "sunvale-health", hours_ago=10)
    assert demo("incident", "trigger", incident, "first_activity", "--at", stamp(NOW - timedelta(hours=20))).exit_code == 0
    before = event_count(db_path)
    result = demo("incident", "trigger", incident, "contained", "--at", stamp(NOW - timedelta(hours=30)))
    assert result.exit_code == 1 and "before the first activity" in result.stderr
    assert event_count(db_path) == before


@pytest.mark.parametrize("name", ["ransom_payment", "materiality_determination", "le_oral_delay_statement",
                                  "determination_of_breach"])
def test_no_trigger_happens_before_the_first_activity(demo, db_path, name):
    """A ransom paid, a determination or a delay request before the attacker was even active is a typo, and it
    would start (or back-date) a clock: refused like 'contained' is."""
    incident = open_incident(demo, "sunvale-health", hours_ago=10)
    assert demo("incident", "trigger", incident, "first_activity", "--at", stamp(NOW - timedelta(hours=20))).exit_code == 0
    before = event_count(db_path)
    result = demo("incident", "trigger", incident, name, "--at", stamp(NOW - timedelta(hours=30)))
    assert result.exit_code == 1 and "before the first activity" in result.stderr, result.stderr
    assert event_count(db_path) == before


def test_a_first_activity_after_a_recorded_trigger_is_refused(demo, db_path):
    incident = open_incident(demo, "sunvale-health", hours_ago=10)
    assert demo("incident", "trigger", incident, "first_activity", "--at", stamp(NOW - timedelta(hours=20))).exit_code == 0
    assert demo("incident", "trigger", incident, "ransom_payment", "--at", stamp(NOW - timedelta(hours=15))).exit_code == 0
    before = event_count(db_path)
    result = demo("incident", "trigger", incident, "first_activity", "--at", stamp(NOW - timedelta(hours=12)))
    assert result.exit_code == 1 and "must not be after ransom_payment" in result.stderr, result.stderr
    assert event_count(db_path) == before


@pytest.mark.parametrize("value, message", [
    ("US-AZ=-5", "cannot be negative"), ("US-AZ=abc", "expected JUR=N"), ("US-ZZ=5", "unknown jurisdiction"),
    ("XX=5", "unknown jurisdiction"),
    # more people than live on Earth, and digits that are not ASCII, were recorded
    ("US-AZ=99999999999999999999999", "more than 10,000,000,000"), ("US-AZ=\u0661\u0662", "expected JUR=N"),
    ("US-AZ=\uff15", "expected JUR=N"),
])
def test_bad_affected_counts_are_refused(demo, db_path, value, message):
    _bad_affected(demo, db_path, [value], message)


def test_one_jurisdiction_counted_twice_is_refused(demo, db_path):
    """'--affected US-AZ=5 --affected us-az=7': the last count won without a word."""
    _bad_affected(demo, db_path, ["US-AZ=5", "us-az=7"], "US-AZ is given twice (5 and 7)")


def _bad_affected(demo, db_path, values, message):
    incident = open_incident(demo, "lakeshore-cpa")
    before = event_count(db_path)
    result = demo("incident", "set", incident, *[a for v in values for a in ("--affected", v)])
    assert result.exit_code == 1 and message in result.stderr
    assert event_count(db_path) == before


def test_log_retention_clocks_run_from_the_first_activity_once_recorded(demo, db_path):
    incident = open_incident(demo, "lakeshore-cpa", hours_ago=2)
    entra = next(r for r in checklist(demo, incident).values() if r["rule"] == "ev.entra.signin_audit")
    first = NOW - timedelta(days=5)
    demo("incident", "trigger", incident, "first_activity", "--at", stamp(first))
    moved = next(r for r in checklist(demo, incident).values() if r["rule"] == "ev.entra.signin_audit")
    assert instant(moved["due_utc"]) < instant(entra["due_utc"])  # older records expire earlier
    assert timedelta(days=6) <= instant(moved["due_utc"]) - first <= timedelta(days=8)  # 7 days from the first activity
    assert "counted from the attacker's first activity" in moved["basis"]


def test_the_dossier_shows_triggers_who_recorded_them_and_what_was_believed_when(demo, db_path, tmp_path, monkeypatch):
    from msptui import identity
    from msptui.export import export
    from tests.pdftools import pdf_text

    incident = open_incident(demo, "sunvale-health")
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    demo("incident", "trigger", incident, "le_oral_delay_statement", "--at", stamp(NOW - timedelta(hours=4)),
         "--by", "SA Jordan Lee", "--agency", "FBI Sacramento")
    demo("incident", "set", incident, "--countries", "US,MX", "--affected", "MX=40")
    assert identity.person() == "Dana Reyes"
    with Store.open(db_path) as store:
        path = export(store, incident, out_dir=tmp_path / "out", generated_at=NOW)
    data = json.loads((path / "dossier.json").read_text())
    (trigger,) = data["triggers"]
    assert (trigger["name"], trigger["by"], trigger["agency"], trigger["recorded_by"]) == \
        ("le_oral_delay_statement", "SA Jordan Lee", "FBI Sacramento", "Dana Reyes")
    assert [a["changed"] for a in data["assessments"]] == [["opened"], ["trigger le_oral_delay_statement"],
                                                          ["countries", "affected_counts"]]
    assert data["assessments"][2]["by"] == "Dana Reyes" and "no rule: MX" in data["assessments"][2]["added"]
    text = " ".join(pdf_text(path / "dossier.pdf").split())
    assert "Triggers recorded" in text and "SA Jordan Lee" in text and "recorded by Dana Reyes" in text
    assert "What was believed when" in text and "No rule on file: MX" in text


def test_the_trigger_choices_count_the_clocks_recording_each_one_moves(demo, db_path):
    """What the TUI's trigger picker shows (IncidentView.trigger_choices): this incident's triggers first, each with
    the number of its clocks that recording it starts, checked against what recording first_activity does."""
    from msptui.triggers import OLDEST_RECORD
    from msptui.views.incident import incident_view

    incident = open_incident(demo, "lakeshore-cpa", hours_ago=2)
    with Store.open(db_path) as store:
        rows = {r["name"]: r for r in incident_view(store, incident).trigger_choices()}
        order = [r["clocks"] > 0 for r in incident_view(store, incident).trigger_choices()]
    assert order[0] and order == sorted(order, reverse=True)
    assert OLDEST_RECORD not in rows  # its clocks read the recorded first activity: not a choice of its own
    refused = demo("incident", "trigger", incident, OLDEST_RECORD, "--at", stamp(NOW - timedelta(days=5)))
    assert refused.exit_code == 1 and "record that instead" in refused.stderr and "first_activity" in refused.stderr
    before = {r["id"]: r["due_utc"] for r in checklist(demo, incident).values()}
    demo("incident", "trigger", incident, "first_activity", "--at", stamp(NOW - timedelta(days=5)))
    moved = [k for k, r in checklist(demo, incident).items() if r["id"] in before and r["due_utc"] != before[r["id"]]]
    assert rows["first_activity"]["clocks"] == len(moved) > 0
    assert rows["ransom_payment"]["clocks"] == 0 and rows["ransom_payment"]["recorded"] is None
