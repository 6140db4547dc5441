"""Worked examples for applicability (which clocks run, for whom, and why)
and for insurance-policy notice deadlines."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from msptui.applicability import applicable
from msptui.insurance import notice_deadline as policy_deadline
from msptui.models import Client, Incident, Instant, InsurancePolicy, NoticeCondition
from msptui.obligations import load_rules
from msptui.timeutil import TimeError, iso, parse_local

UTC = timezone.utc
RULES = load_rules()


def client(**kw) -> Client:
    base = dict(id="acme", name="Acme", engagement="managed", home_tz="America/Los_Angeles")
    base.update(kw)
    return Client(**base)


def incident(**kw) -> Incident:
    base = dict(
        id="inc-1",
        client_id="acme",
        category="ransomware",
        summary="encrypted file server",
        discovered=Instant(at=datetime(2026, 3, 1, 17, 0, tzinfo=UTC), tz="America/Los_Angeles"),
    )
    base.update(kw)
    return Incident(**base)


def policy(**kw) -> InsurancePolicy:
    base = dict(
        id="pol-1", owner="client", client_id="acme", type="cyber", carrier="Carrier", policy_number="CY-1",
        period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), limit_aggregate=1_000_000,
        notice=NoticeCondition(kind="fixed", hours=72),
    )
    base.update(kw)
    return InsurancePolicy(**base)


def verdicts(c: Client, i: Incident, **kw) -> dict:
    return {a.rule_id: a for a in applicable(RULES, c, i, **kw)}


HEALTH = dict(countries=["US"], us_states=["CA"], data_held=["pii", "phi"], hipaa_role="covered_entity",
              industry="Health clinic")


def test_every_rule_gets_one_single_line_verdict():
    result = applicable(RULES, client(), incident())
    assert [a.rule_id for a in result] == list(RULES)
    assert all(a.reason and "\n" not in a.reason for a in result)
    assert all(a.party in ("client", "msp") for a in result)


def test_hipaa_covered_entity_with_phi():
    v = verdicts(client(**HEALTH), incident(data_types=["phi"], us_states=["CA"],
                                            affected_counts={"US-CA": 600, "US": 1200}))
    hipaa = v["us.hipaa.164_404.individuals"]
    assert hipaa.applies and hipaa.party == "client"
    assert "client holds PHI and incident involves PHI" in hipaa.reason
    assert "HIPAA covered entity" in hipaa.reason
    # 1,200 affected: the 500+ HHS notice applies, the annual small-breach log does not
    assert v["us.hipaa.164_408.hhs_500plus"].applies
    assert not v["us.hipaa.164_408.hhs_under500"].applies
    # 600 California residents > 500 in a single state: media notice
    assert v["us.hipaa.164_406.media"].applies
    # the MSP is the business associate: its own clock
    ba = v["us.hipaa.164_410.business_associate"]
    assert ba.applies and ba.party == "msp"
    # California AG sample notice (> 500 CA residents)
    assert v["us.ca.1798_82.ag"].applies
    assert not v["us.wa.19_255.individuals"].applies


def test_small_breach_goes_to_the_annual_log():
    v = verdicts(client(**HEALTH), incident(data_types=["phi"], affected_counts={"US-CA": 40}))
    # "US" is not recorded: the sum of the state counts (40) is used
    assert v["us.hipaa.164_408.hhs_under500"].applies
    assert not v["us.hipaa.164_408.hhs_500plus"].applies
    assert not v["us.hipaa.164_406.media"].applies
    assert not v["us.ca.1798_82.ag"].applies


def test_unknown_counts_are_assumed_and_flagged():
    v = verdicts(client(**HEALTH), incident(data_types=["phi"]))
    for rule_id in ("us.hipaa.164_408.hhs_500plus", "us.hipaa.164_408.hhs_under500"):
        assert v[rule_id].applies and v[rule_id].assumed
        assert "not recorded" in v[rule_id].reason


def test_missing_incident_facts_fall_back_to_the_client_record():
    # no data types and no states recorded yet: the client's data and states are used, flagged
    v = verdicts(client(**HEALTH), incident())
    ca = v["us.ca.1798_82.individuals"]
    assert ca.applies and ca.assumed
    assert "client holds data of CA residents" in ca.reason


@pytest.mark.parametrize("count, applies", [(249, False), (250, True), (10_000, True)])
def test_texas_ag_threshold_is_250(count, applies):
    v = verdicts(client(countries=["US"], us_states=["TX"]),
                 incident(data_types=["pii"], affected_counts={"US-TX": count}))
    assert v["us.tx.521_053.individuals"].applies
    assert v["us.tx.521_053.ag"].applies is applies


@pytest.mark.parametrize("count, applies", [(500, False), (501, True)])
def test_washington_ag_needs_more_than_500(count, applies):
    v = verdicts(client(us_states=["WA"]), incident(data_types=["pii"], affected_counts={"US-WA": count}))
    assert v["us.wa.19_255.ag"].applies is applies


def test_gdpr_for_an_eu_client_and_processor_clock_for_the_msp():
    v = verdicts(client(countries=["DE"], data_held=["employee"], home_tz="Europe/Berlin"),
                 incident(data_types=["employee"]))
    sa = v["eu.gdpr.art33.sa"]
    assert sa.applies and sa.party == "client" and "DE" in sa.reason
    processor = v["eu.gdpr.art33_2.processor"]
    assert processor.applies and processor.party == "msp"
    assert not v["uk.gdpr.art33.ico"].applies


def test_gdpr_for_eu_data_subjects_of_a_us_client():
    v = verdicts(client(countries=["US"]), incident(countries=["FR"], data_types=["pii"]))
    assert v["eu.gdpr.art33.sa"].applies
    assert "incident affects FR" in v["eu.gdpr.art33.sa"].reason


def test_dora_displaces_nis2_for_financial_entities():
    fin = client(countries=["DE"], nis2_entity="essential", dora_entity="credit_institution")
    v = verdicts(fin, incident())
    assert v["eu.dora.initial"].applies
    assert not v["eu.nis2.art23.early_warning"].applies
    assert "excluded" in v["eu.nis2.art23.early_warning"].reason
    plain = verdicts(client(countries=["DE"], nis2_entity="important"), incident())
    assert plain["eu.nis2.art23.early_warning"].applies
    assert plain["eu.nis2.art23.early_warning"].confirm  # "is it significant?" cannot be recorded


def test_sec_only_for_public_companies():
    assert not verdicts(client(), incident())["us.sec.8k_1_05"].applies
    sec = verdicts(client(public_company=True), incident())["us.sec.8k_1_05"]
    assert sec.applies and "public company" in sec.reason


def test_nydfs_ransom_clocks_need_a_recorded_payment():
    nydfs = client(nydfs_regulated=True, us_states=["NY"])
    unpaid = verdicts(nydfs, incident())
    assert unpaid["us.nydfs.500_17a"].applies
    assert not unpaid["us.nydfs.500_17c.payment_notice"].applies
    paid = verdicts(nydfs, incident(ransom_paid=True))
    assert paid["us.nydfs.500_17c.payment_notice"].applies
    assert paid["us.nydfs.500_17c.payment_explanation"].applies


def test_circia_is_labelled_advisory():
    v = verdicts(client(countries=["US"], industry="Water utility"), incident())
    circia = v["us.circia.incident"]
    assert circia.applies and "advisory - not in force" in circia.reason


def test_florida_and_vermont_vendor_clocks_belong_to_the_msp():
    v = verdicts(client(us_states=["FL", "VT"]), incident(data_types=["pii"], us_states=["FL", "VT"]))
    for rule_id in ("us.fl.501_171.third_party_agent", "us.vt.2435.vendor"):
        assert v[rule_id].applies and v[rule_id].party == "msp"


def test_card_data_triggers_the_brand_clocks():
    v = verdicts(client(data_held=["pci"]), incident(data_types=["pci"]))
    assert v["pci.visa.notify"].applies
    assert not verdicts(client(), incident(data_types=["pii"]))["pci.visa.notify"].applies


def test_insurance_rules_need_a_policy_of_that_kind():
    c, i = client(), incident(msp_caused=True)
    none = verdicts(c, i)
    assert not none["ins.cyber.notice_incident"].applies
    assert "no cyber or cyber_eo policy" in none["ins.cyber.notice_incident"].reason
    assert not none["ins.eo.notice_of_circumstances"].applies
    eo = policy(id="eo-1", owner="msp", client_id=None, type="tech_eo", policy_number="EO-9")
    v = verdicts(c, i, client_policies=[policy()], msp_policies=[eo])
    assert v["ins.cyber.notice_incident"].applies and v["ins.cyber.notice_incident"].party == "client"
    assert v["ins.cyber.extortion_consent"].applies  # ransomware incident
    circ = v["ins.eo.notice_of_circumstances"]
    assert circ.applies and circ.party == "msp"
    assert "EO-9" in circ.reason and "caused by the MSP" in circ.reason


def test_another_clients_policy_does_not_count():
    other = policy(client_id="someone-else")
    assert not verdicts(client(), incident(), client_policies=[other])["ins.cyber.notice_incident"].applies


# ---------------------------------------------------------------------------
# policy_deadline
# ---------------------------------------------------------------------------


def test_policy_fixed_hours_are_elapsed_across_dst():
    # 2026-03-07 15:30 PST = 23:30Z; +72 h = 03-10 23:30Z = 16:30 PDT (DST began 8 Mar).
    d = policy_deadline(policy(), parse_local("2026-03-07T15:30", "America/Los_Angeles"), "America/Los_Angeles")
    assert iso(d.due) == "2026-03-10T16:30:00-07:00"
    assert d.rule_id == "policy:pol-1" and d.strictness == "contractual"
    assert any("hotline" in w for w in d.warnings)


def test_policy_fixed_days_count_the_local_date():
    # 2026-06-01 23:30 PDT (already 06-02 in UTC): day 0 = 1 June, +2 days = 3 June 23:59:59 PDT.
    p = policy(notice=NoticeCondition(kind="fixed", days=2))
    d = policy_deadline(p, parse_local("2026-06-01T23:30", "America/Los_Angeles"), "America/Los_Angeles")
    assert iso(d.due) == "2026-06-03T23:59:59-07:00"


def test_policy_asap_has_an_internal_target_only():
    # asap with a 48 h target: 2026-10-24 10:00 CEST (08:00Z) + 48 h = 10-26 08:00Z = 09:00 CET.
    p = policy(notice=NoticeCondition(kind="asap", internal_target_hours=48))
    d = policy_deadline(p, parse_local("2026-10-24T10:00", "Europe/Berlin"), "Europe/Berlin")
    assert d.due is None
    assert iso(d.internal_target) == "2026-10-26T09:00:00+01:00"


def test_policy_asap_default_target_is_24h():
    p = policy(notice=NoticeCondition(kind="asap"))
    d = policy_deadline(p, parse_local("2026-06-01T09:00", "Europe/Berlin"), "Europe/Berlin")
    assert iso(d.internal_target) == "2026-06-02T09:00:00+02:00"


def test_policy_trigger_outside_the_period_is_warned():
    d = policy_deadline(policy(), parse_local("2027-02-01T09:00", "America/New_York"), "America/New_York")
    assert any("outside the policy period" in w for w in d.warnings)


def test_policy_deadline_refuses_naive_trigger():
    with pytest.raises(TimeError):
        policy_deadline(policy(), datetime(2026, 6, 1, 9, 0), "UTC")


# -- sectors: a recorded sector decides; the free-text industry is only a fallback ------------


def test_recorded_sector_decides_bank_rule():
    bank = client(industry="Lending co-operative", sectors=["bank"], countries=["US"])
    v = verdicts(bank, incident())
    assert v["us.bank.csinr.bank"].applies and "sector bank" in v["us.bank.csinr.bank"].reason


def test_recorded_sector_overrides_misleading_industry_text():
    # "Food bank" contains "bank", but the recorded sector says this is a non-profit in healthcare
    pantry = client(industry="Food bank and community clinic", sectors=["healthcare"], countries=["US"])
    v = verdicts(pantry, incident())
    assert not v["us.bank.csinr.bank"].applies
    assert v["us.circia.incident"].applies and "healthcare" in v["us.circia.incident"].reason


def test_industry_text_is_a_flagged_fallback_without_sectors():
    v = verdicts(client(industry="Community bank", countries=["US"]), incident())
    assert v["us.bank.csinr.bank"].applies and "confirm" in v["us.bank.csinr.bank"].reason
    assert not verdicts(client(industry="Dental practice", countries=["US"]), incident())["us.bank.csinr.bank"].applies


def test_a_notice_window_past_a_claims_made_and_reported_period_is_flagged():
    """Issue 11: a claims-made-and-reported policy answers only for claims reported within its period; a 72 h
    window that runs past the period's end is flagged with the date to report by (occurrence forms are not)."""
    from msptui import insurance

    c = client()
    discovered = datetime(2026, 12, 30, 17, 0, tzinfo=UTC)  # 30 Dec, 09:00 in Los Angeles; the period ends 31 Dec
    for form, flagged in (("claims_made_and_reported", True), ("claims_made", False), ("occurrence", False), (None, False)):
        p = policy(claims_form=form)
        d = insurance.notice_deadline(p, discovered, "America/Los_Angeles")
        warnings = insurance.notice_window_warnings(p, d.due, c)
        assert bool(warnings) is flagged, (form, warnings)
        if flagged:
            assert "by 2026-12-31 23:59:59 America/Los_Angeles" in warnings[0]
    # well inside the period: nothing to flag
    early = policy(claims_form="claims_made_and_reported")
    d = insurance.notice_deadline(early, datetime(2026, 6, 1, 17, 0, tzinfo=UTC), "America/Los_Angeles")
    assert insurance.notice_window_warnings(early, d.due, c) == []
