"""Worked examples for the US state and territory rules (data/rules/us-states.toml).

Each expected date below was counted by hand from the statute's period and
trigger (trigger's local date = day 0, due 23:59:59 local unless the period
is in hours); the comments show the count.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from msptui.applicability import applicable
from msptui.deadlines import compute, deadline_report
from msptui.models import Client, Incident, Instant
from msptui.obligations import load_rules
from msptui.timeutil import iso, parse_local

RULES = load_rules()


def due_of(rule_id: str, text: str, tz: str) -> str | None:
    d = compute(RULES[rule_id], parse_local(text, tz), tz)
    return iso(d.due) if d.due else None


def verdicts(client: Client, incident: Incident) -> dict:
    return {a.rule_id: a for a in applicable(RULES, client, incident)}


def client(**kw) -> Client:
    base = dict(id="acme", name="Acme", engagement="managed", home_tz="America/Chicago", countries=["US"],
                data_held=["pii"])
    base.update(kw)
    return Client(**base)


def incident(**kw) -> Incident:
    base = dict(id="inc-1", client_id="acme", category="ransomware", summary="file server encrypted",
                discovered=Instant(at=datetime(2026, 6, 1, 15, 0, tzinfo=timezone.utc), tz="America/Chicago"),
                data_types=["pii"])
    base.update(kw)
    return Incident(**base)


# -- individuals: fixed periods ----------------------------------------------------------------


@pytest.mark.parametrize(
    "rule_id, trigger, tz, due",
    [
        # Arizona, 45 days from the determination: 2 Mar + 45 = 16 Apr (Phoenix keeps MST all year).
        ("us.az.18_552.individuals", "2026-03-02T16:00", "America/Phoenix", "2026-04-16T23:59:59-07:00"),
        # Connecticut, 60 days from discovery (Public Act 21-59): 10 Jan + 60 = 11 Mar, after the 8 Mar DST change.
        ("us.ct.36a_701b.individuals", "2026-01-10T09:00", "America/New_York", "2026-03-11T23:59:59-04:00"),
        # New Mexico, 45 calendar days: 23:30 on 31 May in Denver is already 1 June in UTC; day 0 stays 31 May -> 15 Jul.
        ("us.nm.57_12c.individuals", "2026-05-31T23:30", "America/Denver", "2026-07-15T23:59:59-06:00"),
        # Maryland, 45 days after discovering or being notified (2022 wording): 20 Oct + 45 = 4 Dec, EST again.
        ("us.md.14_3504.individuals", "2026-10-20T12:00", "America/New_York", "2026-12-04T23:59:59-05:00"),
        # Alabama, 45 days from the determination or the vendor's notice: 1 Jun + 45 = 16 Jul.
        ("us.al.8_38.individuals", "2026-06-01T10:00", "America/Chicago", "2026-07-16T23:59:59-05:00"),
        # Indiana, 45 days after discovery (HEA 1351, 2022): 1 Feb + 45 = 18 Mar.
        ("us.in.24_4_9_3.individuals", "2026-02-01T08:00", "America/Indiana/Indianapolis", "2026-03-18T23:59:59-04:00"),
        # Louisiana, 60 days from discovery: 1 Aug + 60 = 30 Sep.
        ("us.la.51_3074.individuals", "2026-08-01T09:00", "America/Chicago", "2026-09-30T23:59:59-05:00"),
    ],
)
def test_fixed_period_for_residents(rule_id, trigger, tz, due):
    assert due_of(rule_id, trigger, tz) == due


@pytest.mark.parametrize("rule_id", ["us.il.530_10.individuals", "us.nj.56_8_163.individuals", "us.pa.73_2303.individuals",
                                     "us.ga.10_1_912.individuals", "us.pr.10_4052.individuals"])
def test_most_expedient_time_has_no_due_date_only_an_internal_target(rule_id):
    # 1 Jun 2026 10:00 CDT + 720 elapsed hours (the 30-day internal target) = 1 Jul 10:00 CDT.
    report = deadline_report(rule_id, "2026-06-01T10:00", "America/Chicago")
    assert report["due"] is None
    assert report["internal_target"] == "2026-07-01T10:00:00-05:00"
    assert RULES[rule_id].strictness == "no_fixed_deadline"


def test_plain_deadline_output_says_there_is_no_fixed_deadline(cli):
    result = cli("deadline", "--rule", "us.il.530_10.individuals", "--trigger", "2026-06-01T10:00", "--tz",
                 "America/Chicago", db=None)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "no fixed deadline; internal target 2026-07-01T10:00:00-05:00"


# -- triggers: discovery vs determination vs a vendor's notice ------------------------------------


@pytest.mark.parametrize(
    "rule_id, trigger, words",
    [
        ("us.ct.36a_701b.individuals", "discovery", "from discovery"),
        ("us.az.18_552.individuals", "determination_of_breach", "from determination of the breach"),
        ("us.de.12b_102.individuals", "determination_of_breach", "from determination of the breach"),
        ("us.al.8_38.individuals", "determination_or_notification",
         "from determination of the breach or notice of it from a vendor"),
        ("us.md.14_3504.individuals", "discovery_or_notification", "from discovery or notification of the breach"),
        ("us.tn.47_18_2107.individuals", "discovery_or_notification", "from discovery or notification of the breach"),
    ],
)
def test_each_rule_counts_from_its_own_trigger(rule_id, trigger, words):
    assert RULES[rule_id].trigger == trigger
    report = deadline_report(rule_id, "2026-06-01T10:00", "America/Chicago")
    assert report["trigger_kind"] == trigger
    assert words in report["basis"]


# -- regulator notices: thresholds and timing ------------------------------------------------------


@pytest.mark.parametrize(
    "rule_id, key, below, at",
    [
        ("us.az.18_552.ag", "US-AZ", 1000, 1001),      # more than 1,000
        ("us.dc.28_3852.ag", "US-DC", 49, 50),         # 50 or more
        ("us.ia.715c_2.ag", "US-IA", 500, 501),        # more than 500
        ("us.ok.24_163.ag", "US-OK", 499, 500),        # 500 or more (SB 626, 2026)
        ("us.nd.51_30.ag", "US-ND", 250, 251),         # more than 250
        ("us.de.12b_102.ag", "US-DE", 500, 501),       # more than 500
        ("us.ny.899_aa.cra", "US-NY", 5000, 5001),     # consumer reporting agencies: more than 5,000
        ("us.tx.521_053.cra", "US-TX", 10000, 10001),  # more than 10,000
        ("us.mn.325e_61.cra", "US-MN", 500, 501),      # more than 500
    ],
)
def test_regulator_and_cra_thresholds(rule_id, key, below, at):
    state = key[3:]
    c = client(us_states=[state])
    assert not verdicts(c, incident(us_states=[state], affected_counts={key: below}))[rule_id].applies
    hit = verdicts(c, incident(us_states=[state], affected_counts={key: at}))[rule_id]
    assert hit.applies and f"{at} affected in {key}" in hit.reason


def test_any_resident_triggers_the_attorney_general_where_there_is_no_threshold():
    for rule_id in ("us.ct.36a_701b.ag", "us.md.14_3504.ag", "us.in.24_4_9_3.ag", "us.me.1348.ag"):
        assert RULES[rule_id].applies.affected_min is None, rule_id
    v = verdicts(client(us_states=["CT", "MD"]), incident(us_states=["CT", "MD"], affected_counts={"US-CT": 1, "US-MD": 1}))
    assert v["us.ct.36a_701b.ag"].applies and v["us.md.14_3504.ag"].applies


@pytest.mark.parametrize(
    "rule_id, submitted, tz, due",
    [
        # Iowa: 5 business days after the consumer notice. Sent Thu 2 Jul 2026; Fri 3 Jul is the observed
        # Independence Day: Mon 6 = 1, Tue 7 = 2, Wed 8 = 3, Thu 9 = 4, Fri 10 = 5.
        ("us.ia.715c_2.ag", "2026-07-02T15:00", "America/Chicago", "2026-07-10T23:59:59-05:00"),
        # Louisiana: 10 days after the notice to residents: 25 Sep + 10 = 5 Oct.
        ("us.la.51_3074.ag", "2026-09-25T11:00", "America/Chicago", "2026-10-05T23:59:59-05:00"),
        # Montana: simultaneously with the residents' notice: the end of that day.
        ("us.mt.30_14_1704.ag", "2026-04-14T16:45", "America/Denver", "2026-04-14T23:59:59-06:00"),
        # Oklahoma (SB 626): no more than 60 days after the residents' notice: 1 Feb + 60 = 2 Apr (CDT).
        ("us.ok.24_163.ag", "2026-02-01T09:00", "America/Chicago", "2026-04-02T23:59:59-05:00"),
    ],
)
def test_notices_chained_to_the_residents_notice_run_from_its_submission(rule_id, submitted, tz, due):
    rule = RULES[rule_id]
    assert rule.trigger.startswith("submitted:") and RULES[rule.trigger.split(":", 1)[1]].duty == "individuals"
    assert due_of(rule_id, submitted, tz) == due


def test_puerto_rico_consumer_affairs_within_ten_days_of_detection():
    # 20 May + 10 = 30 May; Puerto Rico keeps AST (-04:00) all year.
    assert due_of("us.pr.10_4052.daco", "2026-05-20T08:00", "America/Puerto_Rico") == "2026-05-30T23:59:59-04:00"


def test_new_jersey_state_police_comes_before_the_customers():
    rule = RULES["us.nj.56_8_163.state_police"]
    assert rule.duty == "regulator" and "in advance of the disclosure to the customer" in rule.standard
    assert rule.internal_target_hours < RULES["us.nj.56_8_163.individuals"].internal_target_hours


def test_minnesota_cra_notice_is_48_elapsed_hours_across_fall_back():
    # 00:30 CDT on 1 Nov 2026 = 05:30Z; + 48 h = 3 Nov 05:30Z = 2 Nov 23:30 CST (the clocks went back at 02:00).
    assert due_of("us.mn.325e_61.cra", "2026-11-01T00:30", "America/Chicago") == "2026-11-02T23:30:00-06:00"


# -- the MSP's own vendor duties -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule_id, trigger, tz, due",
    [
        # Oregon: vendor -> covered entity within 10 days: 20 Feb + 10 = 2 Mar.
        ("us.or.646a_604.vendor", "2026-02-20T14:00", "America/Los_Angeles", "2026-03-02T23:59:59-08:00"),
        # Alabama third-party agent: 10 days from the determination, across the new year: 28 Dec + 10 = 7 Jan.
        ("us.al.8_38.vendor", "2026-12-28T10:00", "America/Chicago", "2027-01-07T23:59:59-06:00"),
        # Georgia: 24 elapsed hours; 7 Mar 12:00 EST (17:00Z) + 24 h = 8 Mar 17:00Z = 13:00 EDT.
        ("us.ga.10_1_912.vendor", "2026-03-07T12:00", "America/New_York", "2026-03-08T13:00:00-04:00"),
        # Tennessee: immediately, but no later than 45 days: 1 Jun + 45 = 16 Jul.
        ("us.tn.47_18_2107.vendor", "2026-06-01T09:00", "America/Chicago", "2026-07-16T23:59:59-05:00"),
    ],
)
def test_vendor_periods(rule_id, trigger, tz, due):
    assert due_of(rule_id, trigger, tz) == due


def test_immediate_vendor_duties_have_a_24h_internal_target():
    # "immediately following discovery": no due date; target 24 h: 1 Jun 10:00 EDT -> 2 Jun 10:00 EDT.
    for rule_id in ("us.ct.36a_701b.vendor", "us.ny.899_aa.vendor", "us.ca.1798_82.vendor", "us.il.530_10.vendor"):
        assert RULES[rule_id].strictness == "immediately", rule_id
        report = deadline_report(rule_id, "2026-06-01T10:00", "America/New_York")
        assert report["due"] is None and report["internal_target"] == "2026-06-02T10:00:00-04:00", rule_id


def test_vendor_clocks_of_every_affected_state_belong_to_the_msp():
    states = ["NY", "NJ", "CT", "IL"]
    v = verdicts(client(us_states=states), incident(us_states=states))
    vendor = {rid: a for rid, a in v.items() if RULES[rid].duty == "vendor" and a.applies}
    assert {f"us.{s.lower()}" for s in states} <= {rid.rsplit(".", 2)[0] for rid in vendor}
    assert all(a.party == "msp" and "MSP's own clock" in a.reason for a in vendor.values())
    assert not v["us.tx.521_053.vendor"].applies  # no Texas residents affected


def test_georgia_law_reaches_only_information_brokers_and_says_so():
    a = verdicts(client(us_states=["GA"]), incident(us_states=["GA"]))["us.ga.10_1_912.individuals"]
    assert a.applies and a.confirm and "information broker" in a.confirm
