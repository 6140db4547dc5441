"""scope_as_of: exactly what was in force at a moment, across supersession and time zones."""

from datetime import date, datetime, timezone

from msptui.models import NOT_ADDRESSED, Agreement, Client, RiskAcceptance
from msptui.scope import agreements_in_force, scope_as_of

from .conftest import SIGNED, client_rec

LA = Client.model_validate(client_rec("west", home_tz="America/Los_Angeles"))


def agreement(aid, **kw):
    base = {"id": aid, "client_id": "west", "type": "msa", "title": aid, "effective_from": "2025-01-01", "signature": SIGNED}
    return Agreement.model_validate({**base, **kw})


MSA1 = agreement("msa-v1", scope=[{"item": "mfa", "state": "excluded", "clause": "§4"}])
MSA2 = agreement("msa-v2", version=2, supersedes="msa-v1", effective_from="2025-07-01",
                 scope=[{"item": "mfa", "state": "included", "clause": "§4 (v2)"}, {"item": "edr", "state": "declined", "clause": "§5"}])
AMEND = agreement("amend-1", type="amendment", parent_id="msa-v2", effective_from="2025-09-01",
                  scope=[{"item": "edr", "state": "included", "clause": "Amendment 1 §1"}],
                  signature={"status": "unsigned"})


def test_supersession_switches_on_the_new_versions_first_day():
    stack = [MSA1, MSA2, AMEND]
    assert [a.id for a in agreements_in_force(stack, date(2025, 6, 30))] == ["msa-v1"]
    assert [a.id for a in agreements_in_force(stack, date(2025, 7, 1))] == ["msa-v2"]
    assert [a.id for a in agreements_in_force(stack, date(2025, 9, 1))] == ["msa-v2", "amend-1"]


def test_scope_as_of_resolves_each_period():
    before = scope_as_of(LA, [MSA1, MSA2, AMEND], date(2025, 6, 30))
    assert before["mfa"].state == "excluded" and before["edr"].state == NOT_ADDRESSED
    mid = scope_as_of(LA, [MSA1, MSA2, AMEND], date(2025, 8, 1))
    assert (mid["mfa"].state, mid["mfa"].clause, mid["edr"].state) == ("included", "§4 (v2)", "declined")
    after = scope_as_of(LA, [MSA1, MSA2, AMEND], date(2025, 9, 1))
    assert after["edr"].state == "included" and after["edr"].signed is False
    assert "UNSIGNED" in after["edr"].describe()


def test_local_date_not_utc_date_decides():
    # 2025-06-30 23:30 in Los Angeles is 2025-07-01 06:30 UTC: still v1's last day locally.
    instant = datetime(2025, 7, 1, 6, 30, tzinfo=timezone.utc)
    assert scope_as_of(LA, [MSA1, MSA2], instant)["mfa"].state == "excluded"
    assert scope_as_of(LA, [MSA1, MSA2], datetime(2025, 7, 1, 7, 0, tzinfo=timezone.utc))["mfa"].state == "included"


def test_effective_to_is_inclusive_and_lapse_leaves_nothing():
    lapsed = agreement("old", effective_to="2025-12-31", scope=[{"item": "mfa", "state": "included"}])
    assert scope_as_of(LA, [lapsed], date(2025, 12, 31))["mfa"].state == "included"
    assert scope_as_of(LA, [lapsed], date(2026, 1, 1))["mfa"].state == NOT_ADDRESSED


def test_line_dates_narrow_a_line():
    a = agreement("a", scope=[
        {"item": "mfa", "state": "excluded", "effective_to": "2025-03-31"},
        {"item": "mfa", "state": "included", "effective_from": "2025-04-01"},
    ])
    assert scope_as_of(LA, [a], date(2025, 3, 31))["mfa"].state == "excluded"
    assert scope_as_of(LA, [a], date(2025, 4, 1))["mfa"].state == "included"


def test_declined_links_the_risk_acceptance():
    ra = RiskAcceptance.model_validate({
        "id": "ra-edr", "client_id": "west", "item": "edr", "recommendation": "EDR", "recommended_on": "2025-05-01",
        "decision": "declined", "decided_on": "2025-05-10",
    })
    s = scope_as_of(LA, [MSA1, MSA2], date(2025, 8, 1), acceptances=[ra])["edr"]
    assert (s.acceptance_id, s.acceptance_signed) == ("ra-edr", False)
    assert "NOT signed" in s.describe()


def test_other_clients_agreements_are_ignored():
    other = agreement("x", client_id="someone-else", scope=[{"item": "mfa", "state": "included"}])
    assert scope_as_of(LA, [other], date(2025, 8, 1))["mfa"].state == NOT_ADDRESSED
