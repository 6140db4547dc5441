"""Posture findings: the demo portfolio, every code's edges, and the CLI.

The edge tests start from one clean client (signed MSA naming every security
item, both liability clauses, client cover above the required amount, a
recent review with security education, MSP E&O and cyber in force) and
change one thing each, so a finding that fires can only come from that change.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from msptui.catalog import load_catalog
from msptui.demo import demo_data, load_demo
from msptui.errors import UserError
from msptui.models import Agreement, Client, InsurancePolicy, Review, RiskAcceptance
from msptui.posture import (
    BADGES,
    CODES,
    SEVERITY_ORDER,
    Finding,
    add_months,
    assess,
    assess_records,
    badges,
    load_settings,
    parse_settings,
)

from .conftest import SIGNED

D = date(2026, 11, 1)
SECURITY_ITEMS = [i.id for i in load_catalog().security_items()]
NOTICE = {"kind": "fixed", "hours": 72}

# -- the demo portfolio ----------------------------------------------------------

#: the client each code was built into data/demo.json for (see each client's notes)
DEMO_BUILT_FOR = {
    "msa_unsigned": ["brightline-auto", "old-mill-bakery"],
    "msa_expired": ["keystone-property", "orchard-dental"],
    "scope_unaddressed": ["summit-outdoor"],
    "declined_unsigned": ["bayview-logistics"],
    "declined_stale": ["bayview-logistics"],
    "review_overdue": ["tallgrass-vet", "rheinfeld-praezision"],
    "insurance_expiring": ["sunvale-health"],
    "insurance_expired": ["ironwood-fabrication"],
    "insurance_limit_low": ["granite-peak-eng"],
    "liability_clause_missing": ["pinecrest-academy"],
}
CLEAN = "lakeshore-cpa"


def demo_findings(today: date) -> list[Finding]:
    data = demo_data(today)
    return assess_records(
        [Client.model_validate(r) for r in data["clients"]],
        [Agreement.model_validate(r) for r in data["agreements"]],
        [RiskAcceptance.model_validate(r) for r in data["risk_acceptances"]],
        [InsurancePolicy.model_validate(r) for r in data["policies"]],
        [Review.model_validate(r) for r in data["reviews"]],
        today=today,
    )


@pytest.mark.parametrize("today", [D, date(2027, 3, 15), date(2028, 2, 29)])
@pytest.mark.parametrize("code", sorted(DEMO_BUILT_FOR))
def test_demo_every_code_fires_for_the_client_built_for_it(code, today):
    fired = {f.client_id for f in demo_findings(today) if f.code == code}
    for client_id in DEMO_BUILT_FOR[code]:
        assert client_id in fired, f"{code} should fire for {client_id} on the demo shifted to {today}"


@pytest.mark.parametrize("today", [D, date(2027, 3, 15), date(2028, 2, 29)])
def test_demo_clean_client_and_msp_have_no_findings(today):
    findings = demo_findings(today)
    assert [f for f in findings if f.client_id == CLEAN] == []
    assert [f for f in findings if f.client_id is None] == [], "the demo MSP's own E&O and cyber are in force"


def test_demo_specific_variants():
    by = {(f.client_id, f.code): f for f in demo_findings(D)}
    assert by[("orchard-dental", "msa_expired")].record_id == "orchard-schedb-v2"
    assert by[("keystone-property", "msa_expired")].record_id == "keystone-msa-v1"
    assert by[("rheinfeld-praezision", "review_overdue")].badge == "NO-SEC-EDU"
    assert by[("bayview-logistics", "declined_unsigned")].record_id == "ra-bayview-mdr"
    assert by[("bayview-logistics", "declined_stale")].record_id == "ra-bayview-awareness"
    assert ("orchard-dental", "msa_unsigned") not in by, "an unsigned superseding version is msa_expired only"
    assert ("brightline-auto", "scope_unaddressed") not in by, "no signed agreement: one root-cause finding"


def test_demo_insurance_missing_has_a_client():
    assert any(f.code == "insurance_missing" and f.client_id for f in demo_findings(D))


def test_demo_through_the_store(store):
    load_demo(store, today=D)
    findings = assess(store, today=D)
    assert {f.code for f in findings} >= set(DEMO_BUILT_FOR)
    assert not [f for f in findings if f.client_id == CLEAN]
    only = assess(store, client_id="granite-peak-eng", today=D)
    assert {f.client_id for f in only} == {"granite-peak-eng"}
    with pytest.raises(UserError, match="no client"):
        assess(store, client_id="nobody", today=D)


def test_demo_with_local_dates_matches(store):
    """With ``now`` each client uses its own date; at midday UTC every demo zone is within a day of D."""
    load_demo(store, today=D)
    findings = assess(store, now=datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc))
    assert not [f for f in findings if f.client_id == CLEAN]
    assert {f.code for f in findings} >= set(DEMO_BUILT_FOR)


# -- a clean baseline to break one thing at a time -------------------------------


def client(cid="acme", **kw) -> Client:
    return Client.model_validate({"id": cid, "name": cid.title(), "engagement": "managed", "home_tz": "America/New_York", **kw})


def agreement(aid="msa-v1", cid="acme", *, items=None, clauses=None, **kw) -> Agreement:
    items = SECURITY_ITEMS if items is None else items
    clauses = [
        {"kind": "limitation_of_liability", "section": "§11"},
        {"kind": "security_disclaimer", "section": "§8"},
        {"kind": "client_insurance_required", "section": "§12", "amount": 1_000_000},
    ] if clauses is None else clauses
    base = {"id": aid, "client_id": cid, "type": "msa", "title": "MSA", "effective_from": "2024-01-01", "signature": SIGNED,
            "clauses": clauses, "scope": [{"item": i, "state": "included"} for i in items]}
    return Agreement.model_validate({**base, **kw})


def policy(pid="acme-cyber", cid="acme", *, start=None, end=None, limit=2_000_000, type_="cyber") -> InsurancePolicy:
    end = end or D + timedelta(days=200)
    start = start or end - timedelta(days=364)
    owner = {"owner": "msp"} if cid is None else {"owner": "client", "client_id": cid}
    return InsurancePolicy.model_validate({"id": pid, **owner, "type": type_, "carrier": "Carrier", "policy_number": "P-1",
                                           "period_start": start.isoformat(), "period_end": end.isoformat(),
                                           "limit_aggregate": limit, "notice": NOTICE})


MSP_POLICIES = [policy("msp-eo", None, type_="tech_eo"), policy("msp-cyber", None, type_="cyber")]


def review(rid="rev1", cid="acme", held=None, *, edu=("phishing drills",), recs=()) -> Review:
    return Review.model_validate({"id": rid, "client_id": cid, "held_on": (held or D - timedelta(days=20)).isoformat(),
                                  "security_education": list(edu), "recommendations": list(recs)})


def acceptance(aid="ra1", cid="acme", *, item="mdr_soc", decision="declined", decided=None, signed=True, reaffirmed=()) -> RiskAcceptance:
    decided = decided or D - timedelta(days=60)
    ack = {"signed_by": "Chris Client", "signed_at": f"{decided.isoformat()}T15:00:00Z"} if signed else None
    return RiskAcceptance.model_validate({
        "id": aid, "client_id": cid, "item": item, "recommendation": "buy it", "recommended_on": (decided - timedelta(days=5)).isoformat(),
        "decision": decision, "decided_on": decided.isoformat(), "acknowledgement": ack,
        "reaffirmations": [{"on": d.isoformat(), "by": "Chris Client"} for d in reaffirmed]})


def run(clients=None, ags=None, ras=(), pols=None, revs=None, *, today=D, now=None, msp=True, **kw) -> list[Finding]:
    clients = [client()] if clients is None else clients
    ags = [agreement()] if ags is None else ags
    pols = [policy()] if pols is None else pols
    revs = [review()] if revs is None else revs
    if msp:
        pols = [*pols, *MSP_POLICIES]
    if now is not None:
        today = None
    return assess_records(clients, ags, ras, pols, revs, today=today, now=now, **kw)


def codes(findings, client_id="acme") -> list[str]:
    return sorted(f.code for f in findings if f.client_id == client_id)


def test_baseline_is_clean():
    assert run() == []


# -- msa_unsigned / msa_expired ----------------------------------------------------


def test_no_agreement_at_all_is_msa_unsigned_even_for_break_fix():
    found = run([client(engagement="break_fix")], ags=[], revs=[review()])
    assert codes(found) == ["msa_unsigned"]
    assert "no agreement of any kind" in found[0].evidence and found[0].severity == "critical"


@pytest.mark.parametrize("engagement", ["block_hours", "project", "retainer"])
def test_unsigned_draft_only(engagement):
    found = run([client(engagement=engagement)], ags=[agreement("draft", signature={"status": "unsigned"})])
    assert codes(found) == ["msa_unsigned"]
    assert found[0].record_id == "draft" and found[0].badge == "NO-MSA"


def test_unsigned_amendment_in_force_is_msa_unsigned():
    amend = agreement("amend-1", type="amendment", parent_id="msa-v1", items=[], clauses=[], signature={"status": "partially_signed"},
                      effective_from="2026-10-01")
    found = run(ags=[agreement(), amend])
    assert codes(found) == ["msa_unsigned"]
    assert found[0].record_id == "amend-1" and found[0].badge == "UNSIGNED-DOC"


def test_unsigned_amendment_not_yet_effective_is_nothing():
    amend = agreement("amend-1", type="amendment", items=[], clauses=[], signature={"status": "unsigned"}, effective_from="2026-11-02")
    assert run(ags=[agreement(), amend]) == []


@pytest.mark.parametrize("doc_type", ["msa", "schedule"])
def test_superseded_by_unsigned_version_is_msa_expired(doc_type):
    v1 = agreement("v1", type=doc_type)
    v2 = agreement("v2", type=doc_type, version=2, supersedes="v1", effective_from=(D - timedelta(days=10)).isoformat(),
                   signature={"status": "unsigned"})
    base = [] if doc_type == "msa" else [agreement("msa", items=[])]
    found = run(ags=[*base, v1, v2])
    assert codes(found) == ["msa_expired"], "not also msa_unsigned, scope or clause findings"
    assert found[0].record_id == "v2" and "superseded by an unsigned v2" in found[0].message


def test_superseded_by_signed_version_is_nothing():
    v2 = agreement("v2", version=2, supersedes="v1", effective_from=(D - timedelta(days=10)).isoformat())
    assert run(ags=[agreement("v1"), v2]) == []


def test_unsigned_version_starting_tomorrow_leaves_signed_v1_in_force():
    v2 = agreement("v2", version=2, supersedes="v1", effective_from=(D + timedelta(days=1)).isoformat(), signature={"status": "unsigned"})
    assert run(ags=[agreement("v1"), v2]) == []


def test_lapsed_msa_yesterday_is_msa_expired_and_today_is_still_in_force():
    found = run(ags=[agreement(effective_to=(D - timedelta(days=1)).isoformat())])
    assert codes(found) == ["msa_expired"]
    assert "lapsed on 2026-10-31" in found[0].message and found[0].record_id == "msa-v1"
    assert run(ags=[agreement(effective_to=D.isoformat())]) == []


def test_lapsed_msa_with_signed_renewal_is_nothing():
    old = agreement("v1", effective_to=(D - timedelta(days=100)).isoformat())
    renewal = agreement("v2", version=2, effective_from=(D - timedelta(days=99)).isoformat())
    assert run(ags=[old, renewal]) == []


def test_msa_lapse_uses_the_clients_local_date():
    """effective_to = Oct 31: at 02:00 UTC on Nov 1 it is still Oct 31 in Los Angeles, already Nov 1 in London."""
    now = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
    la = client("la", home_tz="America/Los_Angeles")
    ldn = client("ldn", home_tz="Europe/London")
    ags = [agreement("la-msa", "la", effective_to="2026-10-31"), agreement("ldn-msa", "ldn", effective_to="2026-10-31")]
    revs = [review("r-la", "la"), review("r-ldn", "ldn")]
    pols = [policy("p-la", "la"), policy("p-ldn", "ldn")]
    found = run([la, ldn], ags, (), pols, revs, now=now)
    assert codes(found, "la") == [] and codes(found, "ldn") == ["msa_expired"]


# -- scope and clauses ---------------------------------------------------------------


def test_one_security_item_never_mentioned_is_scope_unaddressed():
    found = run(ags=[agreement(items=[i for i in SECURITY_ITEMS if i != "edr"])])
    assert codes(found) == ["scope_unaddressed"]
    assert "edr" in found[0].evidence and found[0].message.startswith("1 ")


def test_any_state_addresses_an_item():
    states = ["excluded", "declined", "client_responsibility", "third_party", "not_applicable"]
    msa = agreement()
    msa = msa.model_copy(update={"scope": [line.model_copy(update={"state": states[k % 5]}) for k, line in enumerate(msa.scope)]})
    found = run(ags=[msa])
    assert "scope_unaddressed" not in codes(found)


def test_a_scope_line_that_has_ended_no_longer_addresses_the_item():
    msa = agreement(items=[i for i in SECURITY_ITEMS if i != "mfa"])
    ended = {"item": "mfa", "state": "included", "effective_to": (D - timedelta(days=1)).isoformat()}
    msa = Agreement.model_validate({**msa.model_dump(mode="json"), "scope": [*msa.model_dump(mode="json")["scope"], ended]})
    assert codes(run(ags=[msa])) == ["scope_unaddressed"]


@pytest.mark.parametrize("drop, named", [
    ("security_disclaimer", "security-disclaimer"),
    ("limitation_of_liability", "limitation-of-liability"),
])
def test_missing_liability_clause(drop, named):
    clauses = [c for c in agreement().model_dump(mode="json")["clauses"] if c["kind"] != drop]
    found = run(ags=[agreement(clauses=clauses)])
    assert codes(found) == ["liability_clause_missing"] and named in found[0].message


def test_clause_in_a_schedule_counts():
    clauses = [{"kind": "client_insurance_required", "section": "§12", "amount": 1_000_000}]
    sched = agreement("sched", type="schedule", items=[], clauses=[{"kind": "limitation_of_liability", "section": "B"},
                                                                   {"kind": "security_disclaimer", "section": "B"}])
    assert run(ags=[agreement(clauses=clauses), sched]) == []


# -- declined ------------------------------------------------------------------------


def test_declined_without_signature():
    found = run(ras=[acceptance(signed=False, decided=D - timedelta(days=800))])
    assert codes(found) == ["declined_unsigned"], "unsigned is the finding; not also stale"


def test_decline_superseded_by_later_acceptance_is_nothing():
    ras = [acceptance("ra1", signed=False, decided=D - timedelta(days=300)),
           acceptance("ra2", decision="accepted", signed=False, decided=D - timedelta(days=100))]
    assert run(ras=ras) == []


@pytest.mark.parametrize("months_ago, stale", [(11, False), (12, False), (13, True)])
def test_declined_reaffirmed_months_ago(months_ago, stale):
    reaffirmed = add_months(D, -months_ago)
    found = run(ras=[acceptance(decided=D - timedelta(days=900), reaffirmed=[D - timedelta(days=800), reaffirmed])])
    assert codes(found) == (["declined_stale"] if stale else [])


def test_declined_stale_boundary_is_one_day_past_twelve_months():
    signed = date(2025, 10, 31)
    assert codes(run(ras=[acceptance(decided=signed)], today=date(2026, 10, 31))) == []
    assert codes(run(ras=[acceptance(decided=signed)], today=date(2026, 11, 1))) == ["declined_stale"]


def test_decline_in_review_minutes_with_no_risk_acceptance():
    rec = {"id": "r1", "item": "mdr_soc", "text": "24x7 MDR", "decision": "declined", "decided_on": (D - timedelta(days=30)).isoformat()}
    found = run(revs=[review(recs=[rec])])
    assert codes(found) == ["declined_unsigned"] and found[0].record_id == "rev1"
    later = {**rec, "decision": "accepted", "decided_on": (D - timedelta(days=5)).isoformat()}
    assert run(revs=[review(recs=[rec]), review("rev2", held=D - timedelta(days=5), recs=[later])]) == []
    assert run(ras=[acceptance()], revs=[review(recs=[rec])]) == [], "a signed risk acceptance covers it"


# -- reviews -------------------------------------------------------------------------


@pytest.mark.parametrize("age, overdue", [(90, False), (91, True)])
def test_review_at_cadence_day_vs_one_day_past(age, overdue):
    found = run(revs=[review(held=D - timedelta(days=age))])
    assert codes(found) == (["review_overdue"] if overdue else [])


def test_review_with_no_security_education():
    found = run(revs=[review(edu=())])
    assert codes(found) == ["review_overdue"]
    assert found[0].badge == "NO-SEC-EDU" and "no security education" in found[0].message


def test_only_the_latest_review_counts_for_education():
    assert run(revs=[review("old", held=D - timedelta(days=60), edu=()), review("new")]) == []


def test_future_review_is_a_plan_not_a_record():
    found = run(revs=[review("old", held=D - timedelta(days=120)), review("planned", held=D + timedelta(days=3))])
    assert codes(found) == ["review_overdue"]


@pytest.mark.parametrize("engagement, cadence_days, age, overdue", [
    ("break_fix", 90, 300, False),   # model default -> engagement default 365
    ("break_fix", 90, 366, True),
    ("retainer", 90, 180, False),
    ("retainer", 90, 181, True),
    ("break_fix", 120, 121, True),   # explicit client cadence wins
    ("managed", 180, 150, False),
])
def test_cadence_rule(engagement, cadence_days, age, overdue):
    c = client(engagement=engagement, review_cadence_days=cadence_days)
    found = run([c], revs=[review(held=D - timedelta(days=age))])
    assert codes(found) == (["review_overdue"] if overdue else [])


def test_no_reviews_new_client_is_not_overdue_yet():
    assert run(ags=[agreement(effective_from=(D - timedelta(days=30)).isoformat())], revs=[]) == []
    found = run(ags=[agreement(effective_from=(D - timedelta(days=91)).isoformat())], revs=[])
    assert codes(found) == ["review_overdue"] and "no business review on record" in found[0].message


# -- insurance -----------------------------------------------------------------------


@pytest.mark.parametrize("days_left, expiring", [(30, True), (31, False), (0, True)])
def test_policy_expiring_window_boundary(days_left, expiring):
    found = run(pols=[policy(end=D + timedelta(days=days_left))])
    assert codes(found) == (["insurance_expiring"] if expiring else [])


def test_period_end_today_in_force_yesterday_expired():
    assert codes(run(pols=[policy(end=D)])) == ["insurance_expiring"]
    found = run(pols=[policy(end=D - timedelta(days=1))])
    assert codes(found) == ["insurance_expired"] and found[0].severity == "critical"


def test_renewal_on_file_is_not_expiring():
    current = policy("p1", end=D + timedelta(days=10))
    renewal = policy("p2", start=D + timedelta(days=11), end=D + timedelta(days=376))
    assert run(pols=[current, renewal]) == []
    gap = policy("p2", start=D + timedelta(days=13), end=D + timedelta(days=376))
    assert codes(run(pols=[current, gap])) == ["insurance_expiring"], "a gap between policies is not a renewal"


def test_expiring_window_is_configurable():
    from dataclasses import replace

    settings = replace(load_settings(), expiring_window_days=60)
    assert codes(run(pols=[policy(end=D + timedelta(days=45))], settings=settings)) == ["insurance_expiring"]


def test_sydney_policy_ended_yesterday_locally_while_still_that_day_in_utc():
    """period_end Nov 1. At 14:00 UTC on Nov 1 it is 01:00 on Nov 2 in Sydney: expired there, not in UTC."""
    now = datetime(2026, 11, 1, 14, 0, tzinfo=timezone.utc)
    syd, utc = client("syd", home_tz="Australia/Sydney"), client("utc", home_tz="UTC")
    ags = [agreement("syd-msa", "syd"), agreement("utc-msa", "utc")]
    pols = [policy("syd-cyber", "syd", end=D), policy("utc-cyber", "utc", end=D)]
    found = run([syd, utc], ags, (), pols, [review("r1", "syd"), review("r2", "utc")], now=now, msp_tz="UTC")
    assert codes(found, "syd") == ["insurance_expired"]
    assert codes(found, "utc") == ["insurance_expiring"]
    assert {f.as_of for f in found if f.client_id == "syd"} == {"2026-11-02"}


def test_now_must_be_aware_and_exclusive_with_today():
    with pytest.raises(ValueError):
        run(now=datetime(2026, 11, 1, 12, 0))
    with pytest.raises(ValueError):
        assess_records([], [], [], [], [], today=D, now=datetime(2026, 11, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("limit, low", [(1_999_999, True), (2_000_000, False)])
def test_client_limit_below_the_agreements_required_amount(limit, low):
    clauses = [{"kind": "limitation_of_liability", "section": "§11"}, {"kind": "security_disclaimer", "section": "§8"},
               {"kind": "client_insurance_required", "section": "§12.3", "amount": 2_000_000}]
    found = run(ags=[agreement(clauses=clauses)], pols=[policy(limit=limit)])
    assert codes(found) == (["insurance_limit_low"] if low else [])
    if low:
        assert "§12.3" in found[0].evidence and "2,000,000" in found[0].message


def test_required_clause_without_amount_uses_the_default_minimum():
    clauses = [{"kind": "limitation_of_liability", "section": "§11"}, {"kind": "security_disclaimer", "section": "§8"},
               {"kind": "client_insurance_required", "section": "§12"}]
    assert codes(run(ags=[agreement(clauses=clauses)], pols=[policy(limit=500_000)])) == ["insurance_limit_low"]


def test_client_policy_required_but_none_on_file_is_insurance_missing():
    found = run(pols=[])
    assert codes(found) == ["insurance_missing"] and found[0].severity == "critical"
    future = run(pols=[policy(start=D + timedelta(days=3), end=D + timedelta(days=368))])
    assert codes(future) == ["insurance_missing"] and "starts" in future[0].evidence


def test_client_policy_not_required_is_not_checked():
    clauses = [{"kind": "limitation_of_liability", "section": "§11"}, {"kind": "security_disclaimer", "section": "§8"}]
    assert run(ags=[agreement(clauses=clauses)], pols=[]) == []


def test_missing_msp_eo_is_an_msp_level_finding():
    found = assess_records([client()], [agreement()], [], [policy(), MSP_POLICIES[1]], [review()], today=D)
    assert [(f.client_id, f.code) for f in found] == [(None, "insurance_missing")]
    assert "technology E&O" in found[0].message
    assert badges(found) == {None: ["INS-MISSING"]}


def test_msp_cyber_eo_policy_satisfies_both_requirements():
    combined = policy("msp-both", None, type_="cyber_eo", limit=1_000_000)
    assert assess_records([client()], [agreement()], [], [policy(), combined], [review()], today=D) == []


def test_msp_policies_below_minimum_and_expired():
    low = [policy("msp-eo", None, type_="tech_eo", limit=500_000), policy("msp-cyber", None, end=D - timedelta(days=1))]
    found = assess_records([], [], [], low, [], today=D)
    assert sorted(f.code for f in found) == ["insurance_expired", "insurance_limit_low"]
    assert all(f.client_id is None for f in found)


def test_include_msp_false_leaves_out_msp_findings():
    assert assess_records([client()], [agreement()], [], [policy()], [review()], today=D, include_msp=False) == []


# -- shape, settings, helpers ----------------------------------------------------------


def test_finding_shape_and_sorting():
    found = run([client(engagement="break_fix")], ags=[], revs=[], pols=[])
    assert [f.code for f in found] == ["msa_unsigned", "review_overdue"], "most severe first"
    row = found[0].as_dict()
    assert set(row) >= {"client_id", "code", "severity", "message", "evidence", "fix", "why", "record_id"}
    assert row["why"].startswith("Without a signed agreement") and row["as_of"] == D.isoformat()


def test_badges_are_short_ascii_most_severe_first():
    found = run([client()], ags=[agreement(effective_to=(D - timedelta(days=1)).isoformat())],
                ras=[acceptance(signed=False)], revs=[review(held=D - timedelta(days=200))])
    labels = badges(found)["acme"]
    assert labels == ["MSA-EXPIRED", "DECL-UNSIGNED", "REVIEW-OVERDUE"]
    assert all(label.isascii() and len(label) <= 16 for label in BADGES.values())


def test_settings_file_covers_every_code_with_a_why_and_source():
    settings = load_settings()
    assert set(settings.severity) == set(CODES)
    for code, sev in settings.severity.items():
        assert sev.level in SEVERITY_ORDER and sev.why and sev.source, code
    assert settings.expiring_window_days == 30 and settings.stale_months == 12
    assert {r.key: r.minimum for r in settings.msp_requirements} == {"tech_eo": 1_000_000, "cyber": 1_000_000}
    assert settings.severity["msa_unsigned"].level == "critical"


def test_settings_errors_are_user_errors():
    with pytest.raises(UserError, match="missing"):
        parse_settings({"severity": {}})
    good = {code: {"level": "high", "why": "w"} for code in CODES}
    with pytest.raises(UserError, match="not one of"):
        parse_settings({"severity": {**good, "msa_unsigned": {"level": "urgent", "why": "w"}}})
    with pytest.raises(UserError, match="unknown finding code"):
        parse_settings({"severity": {**good, "msa_unsinged": {"level": "high", "why": "w"}}})


def test_add_months_clamps_to_month_end():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 13) == date(2026, 12, 15)
    assert add_months(date(2026, 11, 1), -13) == date(2025, 10, 1)


def test_two_thousand_clients_well_within_a_second():
    """A smoke check (benchmarks/posture_bench.py measures properly): 2,000 clients well within a second."""
    import time

    clients, ags, pols, revs = [], [], [], []
    template, rev_template = agreement(), review()
    for i in range(2000):
        cid = f"c{i}"
        clients.append(client(cid))
        ags.append(template.model_copy(update={"id": f"{cid}-msa", "client_id": cid}))
        pols.append(policy(f"{cid}-p", cid))
        revs.extend(rev_template.model_copy(update={"id": f"{cid}-r{k}", "client_id": cid}) for k in range(20))
    start = time.perf_counter()
    found = assess_records(clients, ags, [], [*pols, *MSP_POLICIES], revs, today=D)
    assert found == [] and time.perf_counter() - start < 1.0


# -- the CLI -------------------------------------------------------------------------


def test_cli_posture_json_shape_and_client_filter(cli):
    assert cli("demo").exit_code == 0
    result = cli("posture", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and rows
    for row in rows:
        assert set(row) >= {"client_id", "code", "severity", "message", "evidence", "fix", "why", "record_id"}
        assert row["code"] in CODES and row["severity"] in SEVERITY_ORDER
    assert {r["code"] for r in rows} >= set(DEMO_BUILT_FOR)
    assert not [r for r in rows if r["client_id"] == CLEAN]

    one = json.loads(cli("posture", "--client", "granite-peak-eng", "--json").stdout)
    assert one and {r["client_id"] for r in one} == {"granite-peak-eng"}
    assert json.loads(cli("posture", "--client", CLEAN, "--json").stdout) == []


def test_cli_posture_plain_text(cli):
    cli("demo")
    result = cli("posture")
    assert result.exit_code == 0, "findings are an answer, not an error"
    lines = result.stdout.splitlines()
    assert "brightline-auto  Brightline Auto Body" in lines
    assert any(line.strip().startswith("CRITICAL  msa_unsigned") for line in lines)
    assert "WHY THESE SEVERITIES" in lines
    explained = cli("posture", "--client", "summit-outdoor", "--explain").stdout
    assert "evidence:" in explained and "fix:" in explained and "HIGH" in explained
    assert cli("posture", "--client", CLEAN).stdout.strip() == f"{CLEAN}: no findings"


def test_cli_posture_unknown_client_exits_1(cli):
    cli("demo")
    result = cli("posture", "--client", "nobody")
    assert result.exit_code == 1 and "no client" in result.stderr
