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


def test_rules_json_keeps_its_keys_and_adds_checked_on(cli):
    rows = json.loads(cli("rules", "--json", db=None).stdout)
    for row in rows:
        assert {"id", "jurisdiction", "party", "trigger", "period", "citation", "source_quality", "confidence",
                "checked_on", "duty"} <= set(row), row["id"]
        assert row["party"] in ("client", "msp")
        assert len(row["checked_on"]) == 10 and row["checked_on"][4] == "-"
    by_id = {r["id"]: r for r in rows}
    assert by_id["us.az.18_552.individuals"]["jurisdiction"] == "US-AZ"
    assert by_id["us.dc.28_3852.individuals"]["jurisdiction"] == "US-DC"
    assert by_id["us.pr.10_4052.individuals"]["jurisdiction"] == "US-PR"
    assert by_id["uk.gdpr.art34.data_subjects"]["jurisdiction"] == "UK"
    assert by_id["ca.qc.p39_1.3_5.cai"]["jurisdiction"] == "CA-QC"
    assert by_id["us.az.18_552.vendor"]["party"] == "msp" and by_id["us.az.18_552.vendor"]["duty"] == "vendor"
    ct = by_id["us.ct.36a_701b.individuals"]
    assert ct["period"] == "60 calendar days" and ct["trigger"] == "discovery"
    assert {"effective": "2021-10-01", "by": "Public Act 21-59", "change": "90 -> 60 days after discovery"} in ct["amendments"]


def test_rules_coverage_json_has_every_us_jurisdiction_with_an_individuals_rule(cli):
    result = cli("rules", "--coverage", "--json", db=None)
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    by_code = {r["jurisdiction"]: r for r in records}
    states = ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
              "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
              "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"]
    assert len(states) == 50
    for code in [*states, "DC", "PR", "GU", "VI"]:
        record = by_code[f"US-{code}"]
        assert "individuals" in record["on_file"], code
        assert record["duties"]["individuals"], code
    for record in records:
        assert set(record) == {"jurisdiction", "name", "rule_on_file", "on_file", "not_on_file", "duties"}
        assert sorted(record["on_file"] + record["not_on_file"]) == sorted(["individuals", "regulator", "cra", "vendor"])
    assert {"CONTRACT", "VENDOR"}.isdisjoint(by_code)
    assert by_code["US-AZ"]["on_file"] == ["individuals", "regulator", "cra", "vendor"]
    assert "vendor" in by_code["US-RI"]["not_on_file"]


def test_rules_coverage_plain_text(cli):
    result = cli("rules", "--coverage", db=None)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "INDIVIDUALS", "REGULATOR", "CRA", "VENDOR"]
    assert any(line.split()[:2] == ["US-AZ", "Arizona"] for line in lines)
    assert "54 of 54 US jurisdictions" in result.stdout
    assert "no rule on file" in result.stdout and "Not legal advice" in result.stdout
    assert all(len(line) <= 80 for line in lines[:-1])  # the disclaimer is the one long line
