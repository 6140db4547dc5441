"""Worked examples for the deadline clock (msptui.deadlines, msptui.obligations).

Each expected instant was computed by hand; the comment shows the working.
Calendar facts used:
  DST 2026 - US: 8 Mar / 1 Nov; Europe: 29 Mar / 25 Oct; Sydney: ends 5 Apr, starts 4 Oct.
  US federal holidays (observed): 2026-07-03 (Fri, for Sat 4 Jul), 2026-11-26 (Thanksgiving),
  2027-12-24 (Fri, for Sat 25 Dec), 2027-12-31 (Fri, for Sat 1 Jan 2028).
  Vermont: Town Meeting Day 2026-03-03. Germany: Easter Monday 2026-04-06.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msptui.deadlines import (
    add_business_days,
    add_months,
    business_day_checker,
    chained_from,
    compute,
    deadline_report,
    elapsed,
)
from msptui.obligations import (
    RulesError,
    UnknownRuleError,
    get_rule,
    load_document,
    load_rules,
    parse_rules,
    rules_report,
)
from msptui.timeutil import TimeError, iso, parse_local, to_utc

UTC = timezone.utc
RULES = load_rules()


def due_of(rule_id: str, text: str, tz: str, **kw) -> str:
    d = compute(RULES[rule_id], parse_local(text, tz), tz, **kw)
    assert d.due is not None
    return iso(d.due)


# ---------------------------------------------------------------------------
# Hour periods: elapsed time across DST
# ---------------------------------------------------------------------------


def test_gdpr_72h_across_berlin_fall_back():
    # 2026-10-24 10:17 CEST (+02) = 08:17Z; +72 h = 2026-10-27 08:17Z = 09:17 CET (+01).
    # (Adding 72 h to the wall clock would wrongly give 10:17, an hour late.)
    assert due_of("eu.gdpr.art33.sa", "2026-10-24T10:17", "Europe/Berlin") == "2026-10-27T09:17:00+01:00"


def test_gdpr_1182_71_reading_is_only_an_alternative():
    # 1182/71: the hour of the event is not counted: start 11:00 CEST (09:00Z), +72 h
    # = 2026-10-27 09:00Z = 10:00 CET. Informational; the due date stays 09:17.
    d = compute(RULES["eu.gdpr.art33.sa"], parse_local("2026-10-24T10:17", "Europe/Berlin"), "Europe/Berlin")
    labels = {a.label: iso(a.due) for a in d.alternatives}
    reading = [v for k, v in labels.items() if "1182/71" in k]
    assert reading == ["2026-10-27T10:00:00+01:00"]
    assert iso(d.due) == "2026-10-27T09:17:00+01:00"
    assert d.basis == "72 elapsed hours from awareness"


def test_nis2_24h_across_berlin_spring_forward():
    # 2026-03-28 20:00 CET (+01) = 19:00Z; +24 h = 2026-03-29 19:00Z = 21:00 CEST (+02).
    assert due_of("eu.nis2.art23.early_warning", "2026-03-28T20:00", "Europe/Berlin") == "2026-03-29T21:00:00+02:00"


def test_nydfs_72h_across_new_york_fall_back():
    # 2026-10-31 09:00 EDT (-04) = 13:00Z; +72 h = 2026-11-03 13:00Z = 08:00 EST (-05).
    assert due_of("us.nydfs.500_17a", "2026-10-31T09:00", "America/New_York") == "2026-11-03T08:00:00-05:00"


def test_nydfs_clock_zone_is_new_york_even_if_observed_in_los_angeles():
    # 2026-06-01 07:00 PDT = 14:00Z; +24 h = 2026-06-02 14:00Z = 10:00 EDT (clock_tz America/New_York).
    assert (
        due_of("us.nydfs.500_17c.payment_notice", "2026-06-01T07:00", "America/Los_Angeles")
        == "2026-06-02T10:00:00-04:00"
    )


def test_australia_ransomware_72h_across_sydney_dst_end():
    # 2026-04-03 10:00 AEDT (+11) = 04-02 23:00Z; +72 h = 04-05 23:00Z = 2026-04-06 09:00 AEST (+10).
    assert (
        due_of("au.csa2024.ransomware_payment", "2026-04-03T10:00", "Australia/Sydney")
        == "2026-04-06T09:00:00+10:00"
    )


def test_australia_ransomware_72h_across_sydney_dst_start():
    # 2026-10-02 10:00 AEST (+10) = 00:00Z; +72 h = 10-05 00:00Z = 11:00 AEDT (+11).
    assert (
        due_of("au.csa2024.ransomware_payment", "2026-10-02T10:00", "Australia/Sydney")
        == "2026-10-05T11:00:00+11:00"
    )


def test_fold_trigger_given_with_offset_gives_different_deadlines():
    # 01:30 EDT = 05:30Z -> +72 h = 11-04 05:30Z = 00:30 EST; 01:30 EST = 06:30Z -> 01:30 EST.
    first = compute(RULES["us.nydfs.500_17a"], parse_local("2026-11-01T01:30-04:00", None), "America/New_York")
    second = compute(RULES["us.nydfs.500_17a"], parse_local("2026-11-01T01:30-05:00", None), "America/New_York")
    assert iso(first.due) == "2026-11-04T00:30:00-05:00"
    assert iso(second.due) == "2026-11-04T01:30:00-05:00"


# ---------------------------------------------------------------------------
# Calendar days: local date of the trigger is day 0
# ---------------------------------------------------------------------------


def test_hipaa_60_days_end_of_day():
    # Day 0 = 1 Mar 2026; 1 Mar + 30 = 31 Mar; + 30 = 30 Apr -> 23:59:59 EDT.
    assert (
        due_of("us.hipaa.164_404.individuals", "2026-03-01T10:00", "America/New_York")
        == "2026-04-30T23:59:59-04:00"
    )


def test_late_night_pacific_uses_the_local_date_not_utc():
    # 2026-06-01 23:30 PDT is already 06-02 06:30Z. Day 0 must be 1 June (local):
    # +30 days = 1 July, 23:59:59 PDT. Taking the UTC date would wrongly give 2 July.
    d = compute(RULES["us.wa.19_255.individuals"], parse_local("2026-06-01T23:30", "America/Los_Angeles"),
                "America/Los_Angeles")
    assert iso(d.due) == "2026-07-01T23:59:59-07:00"
    assert "day 0 = 2026-06-01" in d.basis


def test_day_counting_ignores_dst():
    # Day 0 = 2026-10-20 (EDT); +30 = 2026-11-19, after the 1 Nov change: 23:59:59 EST.
    assert due_of("us.ny.899_aa.individuals", "2026-10-20T08:00", "America/New_York") == "2026-11-19T23:59:59-05:00"


def test_ny_due_on_a_saturday_holiday_is_not_rolled_over():
    # Day 0 = 4 Jun 2026; +30 = Sat 4 Jul 2026 (Independence Day): due stays 4 Jul.
    # The statutory roll-over (GCL 25-a) is shown only as an alternative: Fri 3 Jul is the
    # observed holiday, so the next business day after Sat 4 Jul is Mon 6 Jul.
    d = compute(RULES["us.ny.899_aa.individuals"], parse_local("2026-06-04T12:00", "America/New_York"),
                "America/New_York")
    assert iso(d.due) == "2026-07-04T23:59:59-04:00"
    latest = [a for a in d.alternatives if a.label.startswith("latest defensible")]
    assert [iso(a.due) for a in latest] == ["2026-07-06T23:59:59-04:00"]
    # internal target: counting the trigger day as day 1 gives one day earlier
    assert iso(d.internal_target) == "2026-07-03T23:59:59-04:00"


def test_evidence_expiry_is_exact_in_utc():
    # Oldest record 2026-01-10 08:00Z; +180 days: Jan 31 = +21, Feb 28 = +49, Mar 31 = +80,
    # Apr 30 = +110, May 31 = +141, Jun 30 = +171, Jul 9 = +180 -> 2026-07-09 08:00Z.
    assert due_of("ev.m365.audit_standard", "2026-01-10T08:00Z", "UTC") == "2026-07-09T08:00:00+00:00"


def test_entra_licence_alternative():
    # Free: 7 days -> 2026-01-17 08:00Z; P1/P2 30 days -> 2026-02-09 08:00Z (alternatives).
    d = compute(RULES["ev.entra.signin_audit"], parse_local("2026-01-10T08:00Z", None), "UTC")
    assert iso(d.due) == "2026-01-17T08:00:00+00:00"
    assert "2026-02-09T08:00:00+00:00" in {iso(a.due) for a in d.alternatives}


def test_hipaa_under_500_log_is_29_february_in_a_leap_year():
    # Discovered 2027-06-10 -> trigger 2027-12-31 23:59:59 local; day 0 = 31 Dec;
    # Jan 31 = day 31, Feb 29 2028 = day 60 -> 2028-02-29 23:59:59 CST.
    assert (
        due_of("us.hipaa.164_408.hhs_under500", "2027-06-10T09:00", "America/Chicago")
        == "2028-02-29T23:59:59-06:00"
    )


def test_hipaa_under_500_log_is_1_march_in_a_common_year():
    # Discovered 2026-05-01 -> day 0 = 2026-12-31; Jan 31 = 31, Feb 28 = 59, Mar 1 2027 = 60.
    assert (
        due_of("us.hipaa.164_408.hhs_under500", "2026-05-01T09:00", "America/Chicago")
        == "2027-03-01T23:59:59-06:00"
    )


# ---------------------------------------------------------------------------
# Month periods: same local clock time, clamped
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "submitted, expected",
    [
        # 31 Jan + 1 month -> clamp to 28 Feb (2026 is not a leap year), same 14:00 CET.
        ("2026-01-31T14:00", "2026-02-28T14:00:00+01:00"),
        # 31 Mar + 1 month -> 30 Apr, 14:00 CEST.
        ("2026-03-31T14:00", "2026-04-30T14:00:00+02:00"),
        # leap year: 31 Jan 2028 + 1 month -> 29 Feb 2028.
        ("2028-01-31T09:00", "2028-02-29T09:00:00+01:00"),
        # across spring forward: 1 Mar 09:00 CET -> 1 Apr 09:00 CEST (same wall time, new offset).
        ("2026-03-01T09:00", "2026-04-01T09:00:00+02:00"),
    ],
)
def test_nis2_final_report_one_month_after_actual_submission(submitted, expected):
    assert due_of("eu.nis2.art23.final_report", submitted, "Europe/Berlin") == expected


def test_month_due_time_in_a_gap_resolves_to_the_earlier_instant_and_warns():
    # 2026-02-08 02:30 EST + 1 month = 2026-03-08 02:30, inside the New York gap. Read with -04:00 it is
    # 06:30Z (01:30 EST); with -05:00, 07:30Z (03:30 EDT). The earlier instant is the due date (audit).
    d = compute(RULES["eu.nis2.art23.final_report"], parse_local("2026-02-08T02:30", "America/New_York"),
                "America/New_York")
    assert iso(d.due) == "2026-03-08T01:30:00-05:00"
    assert any("DST gap" in w for w in d.warnings)
    assert "2026-03-08T03:30:00-04:00" in {iso(a.due) for a in d.alternatives}  # the later reading, listed


def test_month_due_time_in_a_fold_takes_the_first_occurrence():
    # 2026-10-01 01:30 EDT + 1 month = 2026-11-01 01:30, which occurs twice; fold=0 = EDT (-04:00).
    d = compute(RULES["eu.nis2.art23.final_report"], parse_local("2026-10-01T01:30", "America/New_York"),
                "America/New_York")
    assert iso(d.due) == "2026-11-01T01:30:00-04:00"
    assert any("DST fold" in w for w in d.warnings)


def test_add_months_clamps():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 31), 1) == date(2026, 4, 30)
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert add_months(date(2026, 8, 15), 24) == date(2028, 8, 15)


# ---------------------------------------------------------------------------
# Business days: SEC 8-K (us_edgar), Vermont
# ---------------------------------------------------------------------------


def test_sec_four_business_days_from_the_wednesday_before_thanksgiving():
    # Day 0 Wed 25 Nov 2026; Thu 26 Thanksgiving skipped; Fri 27 = 1, Mon 30 = 2,
    # Tue 1 Dec = 3, Wed 2 Dec = 4 -> 17:30 EST.
    assert due_of("us.sec.8k_1_05", "2026-11-25T10:00", "America/New_York") == "2026-12-02T17:30:00-05:00"


def test_sec_trigger_on_a_saturday_holiday():
    # Sat 4 Jul 2026: Sun skipped, Mon 6 = day 1, Tue 7 = 2, Wed 8 = 3, Thu 9 = 4 -> 17:30 EDT.
    assert due_of("us.sec.8k_1_05", "2026-07-04T11:00", "America/New_York") == "2026-07-09T17:30:00-04:00"


def test_sec_observed_independence_day_is_skipped():
    # Thu 2 Jul 2026: Fri 3 Jul is the observed holiday (4 Jul is a Saturday), so
    # Mon 6 = 1, Tue 7 = 2, Wed 8 = 3, Thu 9 = 4.
    assert due_of("us.sec.8k_1_05", "2026-07-02T16:00", "America/New_York") == "2026-07-09T17:30:00-04:00"


def test_sec_observed_christmas_2027():
    # Wed 22 Dec 2027: Thu 23 = 1; Fri 24 observed Christmas (25th is a Saturday) skipped;
    # Mon 27 = 2, Tue 28 = 3, Wed 29 = 4.
    assert due_of("us.sec.8k_1_05", "2027-12-22T09:00", "America/New_York") == "2027-12-29T17:30:00-05:00"


def test_sec_observed_new_year_2028_on_31_december():
    # Mon 27 Dec 2027: Tue 28 = 1, Wed 29 = 2, Thu 30 = 3; Fri 31 Dec is New Year's Day
    # (observed, 1 Jan 2028 is a Saturday); Mon 3 Jan 2028 = 4.
    assert due_of("us.sec.8k_1_05", "2027-12-27T09:00", "America/New_York") == "2028-01-03T17:30:00-05:00"


def test_sec_manual_edgar_closure():
    # Mon 6 Jan 2025 with the 9 Jan 2025 closure entered: Tue 7 = 1, Wed 8 = 2, (Thu 9 closed),
    # Fri 10 = 3, Mon 13 = 4. Without it: Thu 9 = 3, Fri 10 = 4.
    closed = due_of("us.sec.8k_1_05", "2025-01-06T12:00", "America/New_York", closures=[date(2025, 1, 9)])
    assert closed == "2025-01-13T17:30:00-05:00"
    d = compute(RULES["us.sec.8k_1_05"], parse_local("2025-01-06T12:00", "America/New_York"), "America/New_York")
    assert iso(d.due) == "2025-01-10T17:30:00-05:00"
    # the executive-order closure is in the holidays 'government' category: shown as latest defensible
    assert "2025-01-13T17:30:00-05:00" in {iso(a.due) for a in d.alternatives}


def test_sec_late_evening_pacific_takes_the_earlier_observer_date_reading():
    # Tue 24 Nov 2026 23:30 PST = Wed 25 Nov 02:30 EST: New York day 0 = Wed 25 -> Wed 2 Dec.
    # Counting from the Pacific date (Tue 24): Wed 25 = 1, Fri 27 = 2, Mon 30 = 3, Tue 1 Dec = 4: earlier,
    # so it is the due date (earliest defensible reading) and the New York count is listed.
    d = compute(RULES["us.sec.8k_1_05"], parse_local("2026-11-24T23:30", "America/Los_Angeles"),
                "America/Los_Angeles")
    assert iso(d.due) == "2026-12-01T17:30:00-05:00"
    assert "2026-12-02T17:30:00-05:00" in {iso(a.due) for a in d.alternatives}
    assert "earliest defensible reading" in d.basis
    assert all(a.due >= d.due for a in d.alternatives)


def test_vermont_14_business_days_headline_is_the_federal_only_count():
    # Whether Vermont state holidays are business days is unsettled, so the earlier reading is the due date:
    # Mon 2 Mar 2026; federal calendar only: Tue 3 Mar = day 1 ... Fri 20 Mar = day 14 -> 23:59:59 EDT.
    assert (
        due_of("us.vt.2435.ag_preliminary", "2026-03-02T09:00", "America/New_York")
        == "2026-03-20T23:59:59-04:00"
    )
    # skipping Town Meeting Day (Tue 3 Mar): Wed 4 = 1 ... Mon 23 = 14, listed as the later reading
    d = compute(RULES["us.vt.2435.ag_preliminary"], parse_local("2026-03-02T09:00", "America/New_York"),
                "America/New_York")
    assert "2026-03-23T23:59:59-04:00" in {iso(a.due) for a in d.alternatives}
    assert any("earliest defensible" in w for w in d.warnings)


def test_a_trigger_in_a_dst_fold_gets_no_bogus_year_end_basis():
    """Audit: a fold trigger produced 'trigger moved ... to 31 Dec' for rules that never move their trigger."""
    at = parse_local("2026-11-01T01:30-04:00", "America/New_York")  # first 01:30 of the New York fold
    for rule in RULES.values():
        if rule.trigger != "end_of_calendar_year_of_discovery" and rule.offset.unit != "none":
            assert "31 Dec" not in compute(rule, at, "America/New_York").basis, rule.id


def test_business_day_helpers():
    federal = business_day_checker("us_federal")
    assert not federal(date(2026, 7, 3))  # observed Independence Day
    assert not federal(date(2027, 12, 24))  # observed Christmas
    assert not federal(date(2026, 11, 26))  # Thanksgiving
    assert federal(date(2026, 11, 27))  # day after Thanksgiving is not a federal holiday
    assert add_business_days(date(2026, 11, 28), 1, federal) == date(2026, 11, 30)  # Saturday -> Monday is day 1


# ---------------------------------------------------------------------------
# DORA: cap and noon-next-working-day relief (informational)
# ---------------------------------------------------------------------------


def test_dora_initial_capped_at_24h_from_awareness():
    # Aware 2026-05-04 08:00 CEST; classified 05-05 06:00 (22 h later). 4 h from classification
    # = 05-05 10:00, but the 24 h cap from awareness = 05-05 08:00 -> due 08:00.
    aware = parse_local("2026-05-04T08:00", "Europe/Berlin")
    d = compute(RULES["eu.dora.initial"], parse_local("2026-05-05T06:00", "Europe/Berlin"), "Europe/Berlin",
                cap_trigger=aware)
    assert iso(d.due) == "2026-05-05T08:00:00+02:00"


def test_dora_initial_classified_after_the_cap_runs_4h_from_classification():
    # Aware 05-04 08:00; classified 05-06 09:00 (> 24 h): due 4 h later = 13:00.
    aware = parse_local("2026-05-04T08:00", "Europe/Berlin")
    d = compute(RULES["eu.dora.initial"], parse_local("2026-05-06T09:00", "Europe/Berlin"), "Europe/Berlin",
                cap_trigger=aware)
    assert iso(d.due) == "2026-05-06T13:00:00+02:00"


def test_dora_intermediate_due_on_easter_sunday_relief_is_only_an_alternative():
    # Initial submitted Thu 2 Apr 2026 15:00 CEST; +72 h = Sun 5 Apr 15:00 (Easter Sunday).
    # Art. 5(4): 12:00 on the next German working day; Mon 6 Apr is Easter Monday -> Tue 7 Apr 12:00.
    d = compute(RULES["eu.dora.intermediate"], parse_local("2026-04-02T15:00", "Europe/Berlin"), "Europe/Berlin")
    assert iso(d.due) == "2026-04-05T15:00:00+02:00"
    relief = [a for a in d.alternatives if "Art. 5(4)" in a.label]
    assert [iso(a.due) for a in relief] == ["2026-04-07T12:00:00+02:00"]
    assert "credit_institution" in relief[0].label


# ---------------------------------------------------------------------------
# No fixed period, chained clocks, reports
# ---------------------------------------------------------------------------


def test_no_fixed_period_has_no_due_and_an_internal_target():
    # GDPR Art. 33(2): no period; internal target 24 h: 2026-06-04 12:00 CEST + 24 h.
    d = compute(RULES["eu.gdpr.art33_2.processor"], parse_local("2026-06-04T12:00", "Europe/Berlin"), "Europe/Berlin")
    assert d.due is None
    assert iso(d.internal_target) == "2026-06-05T12:00:00+02:00"
    assert not d.strict


def test_elapsed_is_real_time_across_dst():
    # 2026-03-07 12:00 EST (17:00Z) to 2026-03-08 12:00 EDT (16:00Z) is 23 hours, not 24.
    start = parse_local("2026-03-07T12:00", "America/New_York")
    end = parse_local("2026-03-08T12:00", "America/New_York")
    assert elapsed(start, end) == timedelta(hours=23)


@pytest.mark.parametrize(
    "rule_id, parent",
    [
        ("eu.nis2.art23.final_report", "eu.nis2.art23.notification"),
        ("eu.dora.intermediate", "eu.dora.initial"),
        ("eu.dora.final", "eu.dora.intermediate"),
        ("us.ca.1798_82.ag", "us.ca.1798_82.individuals"),
        ("us.dfars.7012.preserve_images", "us.dfars.7012.report"),
        ("eu.gdpr.art33.sa", None),
    ],
)
def test_chained_from(rule_id, parent):
    assert chained_from(RULES[rule_id]) == parent


def test_california_ag_runs_from_actual_notice_to_individuals():
    # Individuals actually notified 2026-08-20 16:00 PDT; +15 days = 2026-09-04 23:59:59 PDT.
    assert due_of("us.ca.1798_82.ag", "2026-08-20T16:00", "America/Los_Angeles") == "2026-09-04T23:59:59-07:00"


def test_deadline_report_json_shape():
    r = deadline_report("us.sec.8k_1_05", "2026-11-25T10:00", "America/New_York",
                        now=datetime(2026, 11, 26, tzinfo=UTC))
    assert r["due"] == "2026-12-02T17:30:00-05:00"
    assert r["due_utc"] == "2026-12-02T22:30:00+00:00"
    assert r["disclaimer"].startswith("Not legal advice")
    assert r["citation"] and r["confidence"] == "high"
    assert all(a["informational"] for a in r["alternatives"])
    # trigger 10:00 EST = 15:00Z on 25 Nov; now = 26 Nov 00:00Z -> 9 h elapsed
    assert r["passed"] is False and r["elapsed_seconds"] == 9 * 3600


def test_deadline_report_marks_circia_advisory_and_uncertain():
    r = deadline_report("us.circia.incident", "2026-03-07T12:00", "America/New_York")
    # not in force: no due date; 12:00 EST = 17:00Z + 72 h = 03-10 17:00Z is what the proposal would give
    assert r["due"] is None and r["internal_target"] is None and not r["passed"]
    assert [a["due"] for a in r["alternatives"]][:1] == ["2026-03-10T13:00:00-04:00"]
    assert r["advisory"] is True and r["uncertain"] is True
    assert r["label"] == "advisory - not in force"
    assert any("not in force" in w for w in r["warnings"])


def test_deadline_report_with_offset_and_no_zone():
    # "trigger" clock with only an offset: counted in that fixed offset.
    r = deadline_report("eu.gdpr.art33.sa", "2026-06-01T10:00:00+02:00", None)
    assert r["due"] == "2026-06-04T10:00:00+02:00"


def test_deadline_report_refuses_gap_and_unknown_rule():
    with pytest.raises(TimeError, match="does not exist"):
        deadline_report("eu.gdpr.art33.sa", "2026-03-29T02:30", "Europe/Berlin")
    with pytest.raises(TimeError, match="occurs twice"):
        deadline_report("eu.gdpr.art33.sa", "2026-10-25T02:30", "Europe/Berlin")
    with pytest.raises(UnknownRuleError) as err:
        deadline_report("us.sec.8k", "2026-06-01T10:00", "America/New_York")
    assert isinstance(err.value, ValueError) and "\n" not in str(err.value)


def test_compute_refuses_naive_trigger():
    with pytest.raises(TimeError):
        compute(RULES["eu.gdpr.art33.sa"], datetime(2026, 6, 1, 10, 0), "Europe/Berlin")


# ---------------------------------------------------------------------------
# The rule file
# ---------------------------------------------------------------------------

REQUIRED_IDS = [
    "eu.gdpr.art33.sa", "eu.gdpr.art33_2.processor", "uk.gdpr.art33.ico",
    "eu.nis2.art23.early_warning", "eu.nis2.art23.notification", "eu.nis2.art23.final_report",
    "eu.dora.initial", "eu.dora.intermediate", "eu.dora.final",
    "us.hipaa.164_404.individuals", "us.hipaa.164_408.hhs_500plus", "us.hipaa.164_406.media",
    "us.hipaa.164_408.hhs_under500", "us.hipaa.164_410.business_associate",
    "us.sec.8k_1_05", "us.nydfs.500_17a", "us.nydfs.500_17c.payment_notice",
    "us.nydfs.500_17c.payment_explanation", "us.circia.incident", "us.circia.ransom_payment",
    "ca.pipeda.10_1.opc", "au.ndb.26wh.assessment", "au.csa2024.ransomware_payment",
    "us.ca.1798_82.individuals", "us.co.6_1_716.individuals", "us.fl.501_171.individuals",
    "us.ma.93h_3", "us.me.1348.individuals", "us.ny.899_aa.individuals", "us.tx.521_053.individuals",
    "us.vt.2435.consumers", "us.wa.19_255.individuals", "us.dfars.7012.report", "pci.visa.notify",
    "ins.cyber.notice_incident", "ins.eo.notice_of_circumstances",
    "ev.m365.audit_standard", "ev.entra.signin_audit", "ev.aws.cloudtrail_event_history",
]


def test_rule_file_covers_the_required_obligations_with_sources():
    for rule_id in REQUIRED_IDS:
        assert rule_id in RULES
    rows = rules_report()
    assert len(rows) == len(RULES) >= 61
    for row in rows:
        assert row["citation"] and row["source_url"] and row["source_quality"] and row["confidence"]
    sec = RULES["us.sec.8k_1_05"]
    assert (sec.offset.unit, sec.offset.value, sec.calendar) == ("business_days", 4, "us_edgar")
    assert RULES["us.circia.incident"].proposed


def test_get_rule_suggests_a_close_id():
    with pytest.raises(UnknownRuleError, match="did you mean us.sec.8k_1_05"):
        get_rule("us.sec.8k_1_5")


def _document() -> dict:
    """The whole rule set (index plus every rule file) as one document, to mutate."""
    return load_document()


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda r: r["offset"].update(unit="hourz"), "'offset.unit'"),
        (lambda r: r.update(offest={"unit": "hours", "value": 1}), "'offest'"),
        (lambda r: r.update(clock_tz="Mars/Base"), "'clock_tz'"),
        (lambda r: r.update(confidence="sure"), "'confidence'"),
        (lambda r: r["applies"].update(requires=["rich"]), "'applies.requires'"),
        (lambda r: r.update(due_time="end_of_day"), "due_time must be 'exact'"),
    ],
)
def test_bad_rule_file_names_rule_and_field(mutate, needle):
    doc = _document()
    target = next(r for r in doc["rules"] if r["id"] == "eu.gdpr.art33.sa")
    mutate(target)
    with pytest.raises(RulesError) as err:
        parse_rules(doc)
    message = str(err.value)
    assert "eu.gdpr.art33.sa" in message and needle in message


def test_bad_chained_trigger_is_refused():
    doc = _document()
    next(r for r in doc["rules"] if r["id"] == "eu.nis2.art23.final_report")["trigger"] = "submitted:nope"
    with pytest.raises(RulesError, match="eu.nis2.art23.final_report"):
        parse_rules(doc)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

DST_ZONES = [
    "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
    "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago", "Pacific/Auckland", "UTC",
]
#: rules in force with a fixed period (a proposed rule has no due date: see test_rules_truth)
HOUR_RULES = [r for r in RULES.values() if r.offset.unit == "hours" and not r.proposed]
FIXED_RULES = [r for r in RULES.values() if r.offset.unit != "none" and not r.proposed]
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(rule=st.sampled_from(HOUR_RULES), zone=st.sampled_from(DST_ZONES), at=instants)
def test_hour_periods_are_exact_elapsed_time(rule, zone, at):
    d = compute(rule, at.astimezone(parse_zone(zone)), zone)
    # subtract in UTC: same-tzinfo subtraction in Python is wall-clock arithmetic
    assert to_utc(d.due) - to_utc(at) == timedelta(hours=rule.offset.value)


def test_1182_71_end_of_day_is_not_before_an_exact_due_in_the_last_second():
    # Found by the property below: a trigger at 23:59:59.000001 Berlin + 1 month (due_time exact); the due is
    # kept to the second, so the 1182/71 "end of the last day" (23:59:59 on 1 Feb) is not the earlier of the two.
    at = datetime(2000, 1, 1, 22, 59, 59, 1, tzinfo=UTC)
    d = compute(RULES["eu.nis2.art23.final_report"], at.astimezone(parse_zone("Europe/Berlin")), "Europe/Berlin")
    reading = next(a for a in d.alternatives if "1182/71" in a.label)
    assert to_utc(d.due) == datetime(2000, 2, 1, 22, 59, 59, tzinfo=UTC)
    assert to_utc(reading.due) >= to_utc(d.due)


@FAST
@given(rule=st.sampled_from(FIXED_RULES), zone=st.sampled_from(DST_ZONES), at=instants)
def test_deadlines_never_precede_triggers(rule, zone, at):
    d = compute(rule, at.astimezone(parse_zone(zone)), zone)
    assert to_utc(d.due) >= to_utc(at)
    for alt in d.alternatives:
        assert to_utc(alt.due) >= to_utc(d.due)  # the headline is always the earliest reading


@FAST
@given(zone=st.sampled_from(DST_ZONES), at=instants, days=st.integers(min_value=0, max_value=400))
def test_calendar_days_land_on_local_day_n(zone, at, days):
    from msptui.deadlines import period_due

    local = at.astimezone(parse_zone(zone))
    due = period_due(local, zone, "calendar_days", days, due_time="end_of_day")
    assert (due.astimezone(parse_zone(zone)).date() - local.date()).days == days


def parse_zone(name: str):
    from msptui.timeutil import get_zone

    return get_zone(name)


def test_australian_assessment_counts_from_the_entitys_own_date_when_earlier():
    """Audit: 26WH's 30 days counted on a fixed Sydney clock gave Perth entities a day more than their own date."""
    # 23:30 on 10 Jun in Perth is 01:30 on 11 Jun in Sydney: Perth day 0 = 10 Jun -> due 10 Jul, not 11 Jul.
    d = compute(RULES["au.ndb.26wh.assessment"], parse_local("2026-06-10T23:30", "Australia/Perth"), "Australia/Perth")
    assert iso(d.due) == "2026-07-10T23:59:59+10:00"
    assert "2026-07-11T23:59:59+10:00" in {iso(a.due) for a in d.alternatives}
