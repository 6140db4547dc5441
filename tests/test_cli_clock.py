"""The clock commands as other tools drive them: `deadline` and `rules`."""

import json


def test_deadline_plain_first_line_is_the_due_instant(cli):
    # Wed 25 Nov 2026 10:00 New York; Thanksgiving (26th) is skipped: Fri 27=1, Mon 30=2, Tue 1=3, Wed 2 Dec=4.
    result = cli("deadline", "--rule", "us.sec.8k_1_05", "--trigger", "2026-11-25T10:00", "--tz", "America/New_York", db=None)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "2026-12-02T17:30:00-05:00"
    assert "Not legal advice" in result.stdout


def test_deadline_json_hours_are_elapsed_across_dst(cli):
    # 28 Mar 2026 12:00 CET (11:00 UTC) + 72 h = 31 Mar 11:00 UTC = 13:00 CEST (clocks went forward on the 29th).
    result = cli("deadline", "--rule", "eu.gdpr.art33.sa", "--trigger", "2026-03-28T12:00", "--tz", "Europe/Berlin", "--json", db=None)
    data = json.loads(result.stdout)
    assert data["due"] == "2026-03-31T13:00:00+02:00"
    assert data["disclaimer"].startswith("Not legal advice")
    assert all(alt["informational"] for alt in data["alternatives"])


def test_deadline_trigger_with_its_own_offset(cli):
    # 01:30 on the New York fall-back night is ambiguous as wall time; "-04:00" (EDT) settles it: 05:30 UTC + 72 h.
    result = cli("deadline", "--rule", "eu.gdpr.art33.sa", "--trigger", "2026-11-01T01:30-04:00", "--json", db=None)
    data = json.loads(result.stdout)
    assert (data["due"], data["due_utc"]) == ("2026-11-04T01:30:00-04:00", "2026-11-04T05:30:00+00:00")


def test_nonexistent_and_ambiguous_local_times_exit_1(cli):
    gap = cli("deadline", "--rule", "eu.gdpr.art33.sa", "--trigger", "2026-03-08T02:30", "--tz", "America/New_York", db=None)
    assert gap.exit_code == 1 and "does not exist in America/New_York" in gap.stderr
    fold = cli("deadline", "--rule", "eu.gdpr.art33.sa", "--trigger", "2026-11-01T01:30", "--tz", "America/New_York", db=None)
    assert fold.exit_code == 1 and "offset" in fold.stderr
    assert "Traceback" not in gap.stderr + fold.stderr


def test_unknown_rule_exits_1(cli):
    result = cli("deadline", "--rule", "no.such.rule", "--trigger", "2026-01-05T10:00", "--tz", "UTC", db=None)
    assert result.exit_code == 1 and "unknown rule id" in result.stderr


def test_rules_lists_every_obligation_with_citation_and_confidence(cli):
    rows = json.loads(cli("rules", "--json", db=None).stdout)
    ids = {r["id"] for r in rows}
    for needed in ("eu.gdpr.art33.sa", "us.sec.8k_1_05", "us.nydfs.500_17a", "us.circia.incident", "ev.m365.audit_standard"):
        assert needed in ids
    assert all(r["citation"] and r["confidence"] in {"high", "medium", "low"} for r in rows)
    circia = next(r for r in rows if r["id"] == "us.circia.incident")
    assert circia["advisory"] and circia["label"] == "advisory - not in force"


def test_closures_entered_by_hand_push_business_days(cli):
    # Tue 6 Jan 2025 10:00 New York; 4 business days → Mon 13 Jan, because Thu 9 Jan 2025
    # (national day of mourning, EDGAR closed) is in data/closures.toml.
    result = cli("deadline", "--rule", "us.sec.8k_1_05", "--trigger", "2025-01-06T10:00", "--tz", "America/New_York", db=None)
    assert result.stdout.splitlines()[0] == "2025-01-13T17:30:00-05:00"
    # an extra closure typed on the command line moves it one more business day
    extra = cli("deadline", "--rule", "us.sec.8k_1_05", "--trigger", "2025-01-06T10:00", "--tz", "America/New_York",
                "--closed", "2025-01-10", db=None)
    assert extra.stdout.splitlines()[0] == "2025-01-14T17:30:00-05:00"
