"""One answer everywhere: the CLI, the TUI's view and the dossier show the same clocks, statuses, coverage and insurance.

Every demo client gets an incident from the real planner (ransomware: the
category with the most clocks, insurer consent and extortion steps), and a
chained clock is started by a recorded submission, so waiting, fixed,
target-only and policy clocks are all compared. Instants are compared as
instants (parsed and converted to UTC), never as strings.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from msptui.export.collect import collect
from msptui.incidents import open_incident, set_item
from msptui.models import Client
from msptui.store import Store
from msptui.views.incident import incident_view
from screens.testing import demo_db

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def instant(text: str | None):
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    path = tmp_path_factory.mktemp("one-answer") / "demo.db"
    demo_db(path)
    incidents = []
    with Store.open(path) as store:
        for client in store.all(Client):
            inc, _ = open_incident(store, client_id=client.id, discovered=NOW - timedelta(hours=30), tz=client.home_tz,
                                   category="ransomware", summary=f"ransom note at {client.id}")
            incidents.append(inc.id)
        # a chained clock started by a recorded submission (e.g. NIS2 early warning -> notification)
        for incident_id in incidents:
            view = incident_view(store, incident_id)
            chained = {e.clock.waits_for.split(":", 1)[1] for e in view.checklist if e.clock.waits_for}
            first = next((e.item for e in view.checklist if e.item.rule in chained), None)
            if first is not None:
                set_item(store, incident_id, first.id, status="done", at=NOW - timedelta(hours=2))
                break
        else:
            pytest.fail("no demo incident has a chained clock to start")
    return path, incidents


def test_every_surface_shows_the_same_clocks_statuses_coverage_and_insurance(portfolio, cli, tmp_path):
    path, incidents = portfolio
    db = tmp_path / "copy.db"
    shutil.copy(path, db)
    compared = {"items": 0, "obligations": 0, "policy_clocks": 0, "waiting": 0}
    for incident_id in incidents:
        checklist = json.loads(cli("checklist", incident_id, "--json", db=db).stdout)
        obligations = json.loads(cli("obligations", incident_id, "--all", "--json", db=db).stdout)
        with Store.open(db) as store:
            view = incident_view(store, incident_id)  # what the TUI's incident screen renders
            data, _events = collect(store, incident_id, generated_at=NOW)  # dossier.json

        # checklist: CLI == TUI view == dossier (due, target, status, countdown kind)
        cli_items = {r["id"]: (instant(r["due_utc"]), instant(r["target_utc"]), r["status"], r["clock"]) for r in checklist}
        tui_items = {e.item.id: (e.item.due, e.item.target, e.item.status, e.clock.kind) for e in view.checklist}
        dossier_items = {r["id"]: (instant(r["due"]), instant(r["target"]), r["status"], r["clock"]) for r in data["checklist"]}
        assert cli_items == tui_items == dossier_items, incident_id
        compared["items"] += len(cli_items)
        compared["waiting"] += sum(1 for v in cli_items.values() if v[3] == "waiting")

        # obligations: CLI == TUI view == dossier (applicable and not), and each clock is its item's clock
        cli_obl = {(o["rule_id"], o["policy_id"]): (o["state"], instant(o["due"]), instant(o["target"])) for o in obligations}
        tui_obl = {(o.assessment.rule_id, o.assessment.policy_id): (o.state, o.clock.due, o.clock.target) for o in view.obligations}
        dossier_obl = {(o["rule_id"], o["policy_id"]): (o["state"], instant(o["due"]), instant(o["target"]))
                       for o in data["obligations"] + data["obligations_not_applicable"]}
        assert cli_obl == tui_obl == dossier_obl, incident_id
        for o in obligations:
            if o["item_id"]:
                item = cli_items[o["item_id"]]
                assert (instant(o["due"]), instant(o["target"])) == (item[0], item[1]), o["rule_id"]
        compared["obligations"] += len(cli_obl)

        # insurance: the policy's notice clock on the TUI's insurance tab == the dossier's == its checklist item's
        dossier_policies = {p["id"]: p for p in data["insurance"]["client"] + data["insurance"]["msp"]}
        for entry in view.policies:
            row = dossier_policies[entry.policy.id]
            assert row["status_code"] == entry.status
            assert row["notice_item_id"] == entry.item_id
            if entry.item_id:
                assert entry.clock.due == cli_items[entry.item_id][0] and entry.clock.target == cli_items[entry.item_id][1]
                assert entry.in_force, "a policy not in force has no notice step"
                compared["policy_clocks"] += 1

        # coverage: the TUI's coverage tab == the dossier's matrix
        assert [(c.item, c.state, c.acceptance_signed) for c in view.coverage] == \
            [(c["item"], c["state"], c["acceptance_signed"]) for c in data["contract"]["coverage"]]
    assert compared["items"] > 300 and compared["obligations"] > 300
    assert compared["policy_clocks"] >= 10 and compared["waiting"] >= 1, compared


def test_policy_in_force_is_judged_on_the_clients_date(cli, db_path):
    """07:30 in London is still the previous day in Los Angeles: a policy starting that day is not yet in force."""
    records = {
        "format": "msptui", "version": 1,
        "clients": [{"id": "la", "name": "LA Co", "engagement": "managed", "home_tz": "America/Los_Angeles"}],
        "policies": [{"id": "la-cyber", "owner": "client", "client_id": "la", "type": "cyber", "carrier": "Carrier",
                      "policy_number": "C-1", "period_start": "2026-06-02", "period_end": "2027-06-01",
                      "limit_aggregate": 1000000, "notice": {"kind": "fixed", "hours": 72}, "hotline": "+1 800 555 0100"}],
    }
    source = db_path.parent / "records.json"
    source.write_text(json.dumps(records))
    assert cli("import", str(source)).exit_code == 0
    opened = json.loads(cli("incident", "open", "--client", "la", "--discovered", "2026-06-02T07:30",
                            "--tz", "Europe/London", "--category", "ransomware", "--summary", "x", "--json").stdout)
    obligations = json.loads(cli("obligations", opened["id"], "--all", "--json").stdout)
    checklist = json.loads(cli("checklist", opened["id"], "--json").stdout)
    notice = [o for o in obligations if o["rule_id"] == "ins.cyber.notice_incident"]
    assert [o["state"] for o in notice] == ["not_applicable"]  # the assessment agrees with the checklist ...
    assert not any(r["policy_id"] == "la-cyber" for r in checklist)  # ... which has no step for that policy
    assert any(r["step"] == "ins-no-policy" for r in checklist)
    with Store.open(db_path) as store:
        (entry,) = incident_view(store, opened["id"]).policies
    assert entry.status == "not_started" and entry.clock is None  # the TUI shows it as not yet in force, no countdown
