"""Opening an incident: obligations that apply, correctly dated clocks, and the checklist flow."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from msptui.demo import load_demo
from msptui.errors import UserError
from msptui.incidents import add_evidence, add_note, checklist, open_incident, set_item
from msptui.models import Incident
from msptui.verify import verify

LA = ZoneInfo("America/Los_Angeles")
DISCOVERED = datetime(2026, 11, 20, 10, 0, tzinfo=LA)  # 18:00 UTC


@pytest.fixture
def demo(store):
    load_demo(store, today=date(2026, 11, 27))
    return store


@pytest.fixture
def ransomware(demo):
    incident, items = open_incident(
        demo, client_id="sunvale-health", discovered=DISCOVERED, tz="America/Los_Angeles",
        category="ransomware", summary="Files encrypted on FS01; README_DECRYPT.txt left on every share",
    )
    return incident, {i.step: i for i in items}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_ransomware_checklist_is_complete_and_correctly_dated(ransomware):
    incident, items = ransomware
    assert incident.id == "sunvale-health-20261120-1"
    # client cyber policy: written notice within 30 days, end of the local day in Los Angeles
    assert items["ins-written-notice"].due == datetime(2026, 12, 20, 23, 59, 59, tzinfo=LA)
    # HIPAA individuals: 60 calendar days from the local discovery date, 23:59:59 local
    assert items["notify-us-hipaa-164_404-individuals"].due == datetime(2027, 1, 19, 23, 59, 59, tzinfo=LA)
    # Texas AG: 30 days, counted in Texas time (America/Chicago): 20 Nov 12:00 CST is day 0
    assert items["notify-us-tx-521_053-ag"].due == utc(2026, 12, 21, 5, 59, 59)
    # CIRCIA is a proposed rule, not in force: labelled advisory, and no clock at all
    circia = items["notify-us-circia-incident"]
    assert circia.due is None and circia.target is None and circia.title.startswith("ADVISORY")
    assert "not in force" in circia.basis
    # Entra sign-in logs age out 7 days after the oldest record: exact, and flagged as earlier for older records
    assert items["ev-entra-signin"].due == utc(2026, 11, 27, 18, 0)
    assert "expire EARLIER" in items["ev-entra-signin"].basis
    # the MSP's own E&O carrier: "as soon as practicable" → no due date, a 72 h internal target
    assert items["ins-msp-eo"].due is None and items["ins-msp-eo"].target == utc(2026, 11, 23, 18, 0)
    # ransomware-only steps are there, BEC-only steps are not
    assert {"ev-ransom-artifacts", "ins-ransom-consent", "con-protect-backups"} <= set(items)
    assert not any("inbox" in s or "oauth" in s for s in items)


def test_assessment_keeps_every_verdict_with_its_reason(ransomware):
    incident, items = ransomware
    verdicts = {a.rule_id: a for a in incident.assessment}
    assert verdicts["us.hipaa.164_404.individuals"].applies
    assert not verdicts["us.sec.8k_1_05"].applies and verdicts["us.sec.8k_1_05"].reason
    assert not verdicts["us.nydfs.500_17a"].applies
    assert "notify-us-sec-8k_1_05" not in items
    msp = [a for a in incident.assessment if a.applies and a.party == "msp"]
    assert any(a.rule_id == "us.hipaa.164_410.business_associate" for a in msp)
    assert incident.template["id"] == "incident" and len(incident.template["sha256"]) == 64
    assert len(incident.rules["sha256"]) == 64


def test_chained_clock_starts_from_the_recorded_submission(demo, ransomware):
    incident, items = ransomware
    ag = items["notify-us-ca-1798_82-ag"]
    assert ag.due is None and "starts when" in ag.basis
    sent = datetime(2026, 11, 25, 16, 0, tzinfo=LA)
    set_item(demo, incident.id, "notify-us-ca-1798_82-individuals", status="done", note="mailed", at=sent)
    refreshed = {i.step: i for i in checklist(demo, incident.id)}["notify-us-ca-1798_82-ag"]
    # 15 calendar days from the actual mailing date (25 Nov local), end of day in Los Angeles
    assert refreshed.due == datetime(2026, 12, 10, 23, 59, 59, tzinfo=LA)


def test_check_records_who_and_when_and_requires_rationale(demo, ransomware, monkeypatch):
    incident, _ = ransomware
    monkeypatch.setattr("msptui.environment.getpass.getuser", lambda: "bob")
    done = set_item(demo, incident.id, "ev-log", status="done")
    assert done.status == "done" and done.updated_by == "bob" and done.updated_at is not None
    with pytest.raises(UserError, match="rationale"):
        set_item(demo, incident.id, "notify-us-tx-521_053-ag", status="not_applicable")
    na = set_item(demo, incident.id, "notify-us-tx-521_053-ag", status="not_applicable", note="no Texas residents affected (counsel, 21 Nov)")
    assert na.reason.startswith("no Texas residents")
    with pytest.raises(UserError, match="no checklist item"):
        set_item(demo, incident.id, "nope", status="done")
    assert verify(demo).ok


def test_notes_and_evidence(demo, ransomware, tmp_path):
    incident, _ = ransomware
    first = add_note(demo, incident.id, "Isolated FS01 at 10:40")
    second = add_note(demo, incident.id, "[b]attacker[/b] note: \x1b[2J")
    assert (first.id, second.id) == (f"{incident.id}:note-1", f"{incident.id}:note-2")
    image = tmp_path / "fs01-memory.raw"
    image.write_bytes(b"\x00" * 5_000_000)
    ev = add_evidence(demo, incident.id, image, source="FS01")
    import hashlib

    assert ev.sha256 == hashlib.sha256(image.read_bytes()).hexdigest() and ev.size == 5_000_000
    assert ev.custody and ev.custody[0].action == "acquired and hashed"
    linked = set_item(demo, incident.id, "ev-memory", status="done", evidence_id="ev-1")
    assert linked.evidence_ids == [ev.id]
    with pytest.raises(UserError, match="no evidence item"):
        set_item(demo, incident.id, "ev-memory", evidence_id="ev-99")
    assert verify(demo).ok


def test_open_refuses_future_and_unknown(demo):
    with pytest.raises(UserError, match="in the future"):
        open_incident(demo, client_id="sunvale-health", discovered=datetime.now(timezone.utc) + timedelta(hours=1),
                      tz="UTC", category="bec", summary="x")
    with pytest.raises(UserError, match="no client"):
        open_incident(demo, client_id="ghost", discovered=DISCOVERED, tz="UTC", category="bec", summary="x")
    with pytest.raises(UserError, match="unknown category"):
        open_incident(demo, client_id="sunvale-health", discovered=DISCOVERED, tz="UTC", category="aliens", summary="x")
    assert demo.count("incidents") == 0


def test_cli_incident_flow(cli, tmp_path, db_path):
    import json

    assert cli("demo").exit_code == 0
    opened = cli("incident", "open", "--client", "meridian-insurance", "--discovered", "2026-11-02T09:00",
                 "--category", "bec", "--summary", "CFO mailbox forwarding rule", "--json")
    assert opened.exit_code == 0, opened.stderr
    inc = json.loads(opened.stdout)["id"]
    items = json.loads(cli("checklist", inc, "--json").stdout)
    assert all({"id", "title", "status", "due", "rule"} <= set(i) for i in items)
    nydfs = next(i for i in items if i["rule"] == "us.nydfs.500_17a")
    assert nydfs["due"] == "2026-11-05T09:00:00-05:00"  # 72 elapsed hours; clocks fell back on 1 Nov, so no DST shift
    assert any("inbox" in i["step"] for i in items), "BEC gets the inbox-rule step"
    assert cli("check", inc, nydfs["id"].split(":")[1], "--status", "done").exit_code == 0
    assert cli("note", inc, "Called carrier hotline 09:40").stdout.strip() == f"{inc}:note-1"
    assert json.loads(cli("incidents", "--json").stdout)[0]["id"] == inc
    verdicts = json.loads(cli("obligations", inc, "--all", "--json").stdout)
    nydfs_verdict = next(v for v in verdicts if v["rule_id"] == "us.nydfs.500_17a")
    assert nydfs_verdict["applies"] and nydfs_verdict["reason"] and nydfs_verdict["party"] == "client"
    assert any(not v["applies"] for v in verdicts)
    assert all(v["applies"] for v in json.loads(cli("obligations", inc, "--json").stdout))
    assert "Not legal advice" in cli("obligations", inc).stdout
    bad = cli("check", inc, "ghost-step", "--status", "done")
    assert bad.exit_code == 1 and "no checklist item" in bad.stderr
    gap = cli("incident", "open", "--client", "meridian-insurance", "--discovered", "2026-03-08T02:30",
              "--category", "bec", "--summary", "x")
    assert gap.exit_code == 1 and "does not exist" in gap.stderr
    for summary in ("", "   "):  # the TUI's form refuses it in the same words (test_breach_form_validates_...)
        empty = cli("incident", "open", "--client", "meridian-insurance", "--discovered", "2026-11-02T09:00",
                    "--category", "bec", "--summary", summary)
        assert empty.exit_code == 1 and "summary: a summary is needed" in empty.stderr, empty.stderr
    assert len(json.loads(cli("incidents", "--json").stdout)) == 1
