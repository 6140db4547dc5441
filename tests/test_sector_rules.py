"""Worked examples for the federal, sector, international and evidence rules added in issue 15.

Expected dates are counted by hand (comments show the count); sector scope is
decided by the typed ``Client.sectors`` codes, with the free-text industry only
as a flagged fallback.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from msptui.applicability import applicable
from msptui.deadlines import compute
from msptui.models import Client, Incident, Instant
from msptui.obligations import load_rules
from msptui.timeutil import iso, parse_local

RULES = load_rules()


def due_of(rule_id: str, text: str, tz: str) -> str | None:
    d = compute(RULES[rule_id], parse_local(text, tz), tz)
    return iso(d.due) if d.due else None


def client(**kw) -> Client:
    base = dict(id="acme", name="Acme", engagement="managed", home_tz="America/New_York", countries=["US"],
                data_held=["pii", "financial"])
    base.update(kw)
    return Client(**base)


def incident(**kw) -> Incident:
    base = dict(id="inc-1", client_id="acme", category="ransomware", summary="core system encrypted",
                discovered=Instant(at=datetime(2026, 6, 1, 14, 0, tzinfo=timezone.utc), tz="America/New_York"),
                data_types=["pii", "financial"])
    base.update(kw)
    return Incident(**base)


def verdicts(c: Client, i: Incident | None = None) -> dict:
    return {a.rule_id: a for a in applicable(RULES, c, i or incident())}


# -- credit unions: NCUA 72 h, not the bank regulators' 36 h -------------------------------------


def test_credit_union_reports_to_ncua_not_under_the_bank_rule():
    v = verdicts(client(sectors=["credit_union"]))
    assert v["us.ncua.748_1c"].applies and "credit union" in v["us.ncua.748_1c"].reason
    assert not v["us.bank.csinr.bank"].applies
    assert not v["us.bank.csinr.service_provider"].applies  # the bank service-provider rule does not reach CUs


def test_bank_stays_under_the_36_hour_rule_and_not_ncua():
    v = verdicts(client(sectors=["bank"]))
    assert v["us.bank.csinr.bank"].applies and v["us.bank.csinr.service_provider"].applies
    assert not v["us.ncua.748_1c"].applies


def test_credit_union_by_industry_text_only_is_a_flagged_fallback():
    v = verdicts(client(industry="Community credit union"))
    assert v["us.ncua.748_1c"].applies and "confirm" in v["us.ncua.748_1c"].reason
    assert not v["us.bank.csinr.bank"].applies


def test_ncua_72_elapsed_hours_across_spring_forward():
    # 7 Mar 2026 20:00 EST = 8 Mar 01:00Z; + 72 h = 11 Mar 01:00Z = 10 Mar 21:00 EDT.
    assert due_of("us.ncua.748_1c", "2026-03-07T20:00", "America/New_York") == "2026-03-10T21:00:00-04:00"
    rule = RULES["us.ncua.748_1c"]
    assert rule.trigger == "reasonable_belief_reportable_cyber_incident" and rule.duty == "regulator"


# -- SEC Regulation S-P (2024) ----------------------------------------------------------------------


def test_reg_sp_customer_notice_30_days_from_awareness():
    # 10 Dec 2026 + 30 = 9 Jan 2027.
    assert due_of("us.sec.reg_sp.248_30.customers", "2026-12-10T09:00", "America/New_York") == "2027-01-09T23:59:59-05:00"
    assert RULES["us.sec.reg_sp.248_30.customers"].trigger == "aware_unauthorized_access_customer_information"


def test_reg_sp_service_provider_72_hours_is_the_msps_clock():
    # 10 Dec 2026 09:00 EST + 72 elapsed hours = 13 Dec 09:00 EST.
    assert due_of("us.sec.reg_sp.248_30.service_provider", "2026-12-10T09:00", "America/New_York") == "2026-12-13T09:00:00-05:00"
    v = verdicts(client(sectors=["investment_adviser"]))
    sp = v["us.sec.reg_sp.248_30.service_provider"]
    assert sp.applies and sp.party == "msp"
    assert v["us.sec.reg_sp.248_30.customers"].applies and v["us.sec.reg_sp.248_30.customers"].party == "client"


def test_reg_sp_for_broker_dealers_but_not_for_other_sectors():
    assert verdicts(client(sectors=["broker_dealer"]))["us.sec.reg_sp.248_30.customers"].applies
    assert not verdicts(client(sectors=["non_bank_financial"]))["us.sec.reg_sp.248_30.customers"].applies


# -- FTC Safeguards scope ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        dict(sectors=["insurance"], industry="Insurance agency"),
        dict(industry="Insurance agency"),                          # no sector recorded: the text must not match
        dict(sectors=["investment_adviser"], industry="Wealth management"),
        dict(sectors=["broker_dealer"]),
        dict(sectors=["credit_union"]),
    ],
)
def test_ftc_safeguards_does_not_reach_insurance_sec_registrants_or_credit_unions(kw):
    assert not verdicts(client(**kw))["us.ftc.safeguards.314_4j"].applies


def test_ftc_safeguards_still_applies_to_a_non_bank_lender():
    v = verdicts(client(sectors=["non_bank_financial"], industry="Mortgage lender"),
                 incident(affected_counts={"US": 600}))
    assert v["us.ftc.safeguards.314_4j"].applies


# -- Form 8-K Item 1.05(d): CPNI delay ------------------------------------------------------------------


def test_form_8k_cpni_delay_is_at_most_seven_business_days_after_the_law_enforcement_notice():
    # Notice to law enforcement Fri 20 Nov 2026: Mon 23 = 1, Tue 24 = 2, Wed 25 = 3, Thu 26 Thanksgiving,
    # Fri 27 = 4, Mon 30 = 5, Tue 1 Dec = 6, Wed 2 Dec = 7; EDGAR cut-off 17:30 New York.
    assert due_of("us.sec.8k_1_05d.cpni_delay", "2026-11-20T10:00", "America/New_York") == "2026-12-02T17:30:00-05:00"
    rule = RULES["us.sec.8k_1_05d.cpni_delay"]
    assert rule.kind == "deadline_modifier" and rule.trigger == "cpni_law_enforcement_notice"
    assert not verdicts(client())["us.sec.8k_1_05d.cpni_delay"].applies
    assert verdicts(client(public_company=True))["us.sec.8k_1_05d.cpni_delay"].confirm


# -- California Health & Safety Code 1280.15 -------------------------------------------------------------


def test_california_clinic_rule_15_business_days():
    # Detected Mon 2 Nov 2026: 3,4,5,6 = 1-4; 9,10 = 5-6; Wed 11 Veterans Day; 12,13 = 7-8;
    # 16-20 = 9-13; 23 = 14; Tue 24 Nov = 15.
    for rule_id in ("us.ca.hsc_1280_15.cdph", "us.ca.hsc_1280_15.patients"):
        assert due_of(rule_id, "2026-11-02T09:00", "America/Los_Angeles") == "2026-11-24T23:59:59-08:00"
    clinic = client(sectors=["health_facility"], us_states=["CA"], data_held=["phi"], home_tz="America/Los_Angeles")
    v = verdicts(clinic, incident(data_types=["phi"], us_states=["CA"]))
    assert v["us.ca.hsc_1280_15.cdph"].applies and v["us.ca.hsc_1280_15.patients"].applies
    assert not verdicts(client(sectors=["bank"], us_states=["CA"]),
                        incident(data_types=["phi"], us_states=["CA"]))["us.ca.hsc_1280_15.cdph"].applies


# -- international ------------------------------------------------------------------------------------------


def test_uk_individuals_and_the_processor_duty():
    v = verdicts(client(countries=["GB"], home_tz="Europe/London"))
    art34 = v["uk.gdpr.art34.data_subjects"]
    assert art34.applies and art34.confirm and "HIGH risk" in art34.confirm
    processor = v["uk.gdpr.art33_2.processor"]
    assert processor.applies and processor.party == "msp" and RULES[processor.rule_id].duty == "vendor"
    assert RULES["uk.gdpr.art33.ico"].source_url.startswith("https://ico.org.uk/")


def test_nis2_duties_of_the_msp_itself():
    v = verdicts(client(countries=["DE"], home_tz="Europe/Berlin", nis2_entity="none"))  # the client is no NIS2 entity
    assert not v["eu.nis2.art23.early_warning"].applies
    # not recorded is not "no": the client's own NIS2 clock stays, assumed
    unknown = verdicts(client(countries=["DE"], home_tz="Europe/Berlin"))["eu.nis2.art23.early_warning"]
    assert unknown.applies and unknown.assumed and "nis2_entity" in unknown.unrecorded
    for rule_id in ("eu.nis2.msp.art23.early_warning", "eu.nis2.msp.art23.notification",
                    "eu.nis2.msp.art23.final_report", "eu.nis2.msp.art23_1.recipients"):
        a = v[rule_id]
        assert a.applies and a.party == "msp" and "Annex I" in a.confirm, rule_id
    # 24 h early warning: 10 Jan 2026 09:30 CET + 24 h = 11 Jan 09:30 CET; final report chained to the notification.
    assert due_of("eu.nis2.msp.art23.early_warning", "2026-01-10T09:30", "Europe/Berlin") == "2026-01-11T09:30:00+01:00"
    assert RULES["eu.nis2.msp.art23.final_report"].trigger == "submitted:eu.nis2.msp.art23.notification"
    assert RULES["eu.nis2.msp.art23_1.recipients"].duty == "vendor"


def test_quebec_alberta_and_pipeda_yielding():
    v = verdicts(client(countries=["CA"], home_tz="America/Toronto"))
    for rule_id, code in (("ca.qc.p39_1.3_5.cai", "CA-QC"), ("ca.qc.p39_1.3_5.individuals", "CA-QC"),
                          ("ca.ab.pipa.34_1.commissioner", "CA-AB"), ("ca.ab.pipa.37_1.individuals", "CA-AB")):
        assert v[rule_id].applies and v[rule_id].confirm, rule_id
        assert RULES[rule_id].jurisdiction == code
    assert "Quebec, Alberta or British Columbia" in v["ca.pipeda.10_1.opc"].confirm
    # Quebec register: kept 5 years (60 months) from awareness: 28 Feb 2026 -> 28 Feb 2031.
    assert due_of("ca.qc.p39_1.3_8.register", "2026-02-28T10:00", "America/Toronto") == "2031-02-28T23:59:59-05:00"


# -- steps independent of insurance; log-retention clocks ---------------------------------------------------


def test_ofac_screen_applies_to_ransomware_without_any_policy():
    a = verdicts(client())["us.ofac.ransom_sanctions_screen"]
    assert a.applies and RULES[a.rule_id].kind == "precondition"
    assert not verdicts(client(), incident(category="lost_device"))["us.ofac.ransom_sanctions_screen"].applies


@pytest.mark.parametrize(
    "rule_id, due",
    [
        # oldest record needed 1 Jun 2026 00:00Z: + 180 days = 28 Nov; + 30 = 1 Jul; + 7 = 8 Jun.
        ("ev.google_workspace.audit_logs", "2026-11-28T00:00:00+00:00"),
        ("ev.defender_endpoint.advanced_hunting", "2026-07-01T00:00:00+00:00"),
        ("ev.rmm.activity_logs", "2026-07-01T00:00:00+00:00"),
        ("ev.edr.other_telemetry", "2026-06-08T00:00:00+00:00"),
    ],
)
def test_log_retention_clocks_run_from_the_oldest_record_needed(rule_id, due):
    rule = RULES[rule_id]
    assert rule.kind == "evidence_expiry" and rule.trigger == "event_time_of_oldest_record_needed"
    assert due_of(rule_id, "2026-06-01T00:00Z", "UTC") == due
