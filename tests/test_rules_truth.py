"""What the rules, clocks and records say must be what is known: a verdict or a default never passes for a
fact, an unknown fact is shown as unknown, and a rule not in force carries no clock. Driven through the CLI
as a user types it (README "Keeping the record")."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from msptui.obligations import load_rules

TZ = "America/Chicago"


def ok(result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def refused(result) -> str:
    """A one-line refusal, exit 1."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("msptui: database")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def recent(hours: int = 2, tz: str = TZ) -> str:
    """A local time a little in the past in ``tz``, as typed (no offset)."""
    from zoneinfo import ZoneInfo

    return (datetime.now(timezone.utc) - timedelta(hours=hours)).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------------------
# 7. `rules` says each rule's source quality and when it was checked
# ---------------------------------------------------------------------------


def test_rules_text_shows_source_quality_and_checked_on(cli):
    out = ok(cli("rules", db=None))
    rules = load_rules()
    for rule in (rules["us.hipaa.164_404.individuals"], rules["ins.cyber.proof_of_loss"], rules["us.circia.incident"]):
        lines = out.splitlines()
        at = next(n for n, line in enumerate(lines) if line.startswith(rule.id + " "))
        block = "\n".join(lines[at:at + 4])
        assert f"{rule.source_quality} source" in block
        assert f"checked {rule.checked_on.isoformat()}" in block
    assert out.count(" source, checked ") == len(rules)


def test_rules_json_is_unchanged_by_the_text_output(cli):
    rows = json.loads(ok(cli("rules", "--json", db=None)))
    assert {"source_quality", "checked_on", "confidence", "citation"} <= set(rows[0])


# ---------------------------------------------------------------------------
# 6. times: 'now' is accepted wherever a date-time is typed; a bare word is not suggested back as "nowT09:00"
# ---------------------------------------------------------------------------


@pytest.fixture
def harbor(cli, monkeypatch):
    """The README's client: holds PHI, no HIPAA role, sector or policy terms beyond what the README types."""
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    ok(cli("client", "add", "--id", "harbor-dental", "--name", "Harbor Dental, PLLC", "--engagement", "break_fix",
           "--tz", TZ, "--country", "US", "--state", "IL", "--data", "phi,pii"))
    return cli


def open_incident(cli, *extra: str, category: str = "ransomware", discovered: str | None = None) -> str:
    out = ok(cli("incident", "open", "--client", "harbor-dental", "--discovered", discovered or recent(),
                 "--category", category, "--summary", "file server encrypted", *extra, "--json"))
    return json.loads(out)["id"]


def test_discovered_now_is_the_current_instant(harbor):
    before = datetime.now(timezone.utc)
    inc = open_incident(harbor, "--data", "phi,pii", discovered="now")
    row = next(r for r in json.loads(ok(harbor("incidents", "--json"))) if r["id"] == inc)
    at = datetime.fromisoformat(row["discovered"])
    assert before - timedelta(seconds=5) <= at <= datetime.now(timezone.utc)


def test_a_word_is_not_suggested_back_as_a_date(harbor):
    line = refused(harbor("incident", "open", "--client", "harbor-dental", "--discovered", "yesterday",
                          "--category", "bec", "--summary", "x"))
    assert "yesterdayT" not in line and "discovered" in line
    assert "2026-" in line or "e.g." in line
    # a bare date is still answered with that date and a time of day
    line = refused(harbor("incident", "open", "--client", "harbor-dental", "--discovered", "2026-01-05",
                          "--category", "bec", "--summary", "x"))
    assert "2026-01-05T09:00" in line


def test_now_is_accepted_by_every_command_that_takes_a_time(harbor):
    inc = open_incident(harbor, "--data", "phi,pii", discovered=recent(3))
    ok(harbor("note", inc, "called the client", "--at", "now"))
    ok(harbor("incident", "trigger", inc, "contained", "--at", "now"))
    out = ok(harbor("deadline", "--rule", "eu.gdpr.art33.sa", "--trigger", "now", "--tz", "Europe/Berlin", db=None))
    assert out.strip()


# ---------------------------------------------------------------------------
# 5. one money parser for every amount option; no more decimals than the currency has minor units
# ---------------------------------------------------------------------------


def test_decide_cap_takes_the_amounts_policy_options_take(harbor):
    inc = open_incident(harbor)
    ok(harbor("decide", inc, "--by", "Claims manager", "--party", "insurer", "--text", "vendors approved",
              "--cap", "20k", "--currency", "USD"))
    ok(harbor("decide", inc, "--by", "Claims manager", "--party", "insurer", "--text", "raised",
              "--cap", "1.5M", "--currency", "EUR"))
    caps = [d["cap"] for d in json.loads(ok(harbor("decisions", inc, "--json")))]
    assert caps == ["20000", "1500000"]
    ok(harbor("cost", inc, "--kind", "invoice", "--amount", "2,500.50", "--currency", "USD"))
    ok(harbor("cost", inc, "--kind", "invoice", "--amount", "12k", "--currency", "USD"))
    totals = json.loads(ok(harbor("costs", inc, "--json")))["totals"]["USD"]
    assert totals["total"] == "14500.50"


@pytest.mark.parametrize("amount, currency, option", [
    ("0.1", "JPY", "--amount"),      # no minor unit
    ("1.50", "KRW", "--amount"),
    ("5.001", "USD", "--amount"),    # two minor units
    ("1.0001", "KWD", "--amount"),   # three
])
def test_cost_refuses_more_decimals_than_the_currency_has(harbor, amount, currency, option):
    inc = open_incident(harbor)
    line = refused(harbor("cost", inc, "--kind", "invoice", "--amount", amount, "--currency", currency))
    assert option in line and currency in line and "decimal" in line


def test_decide_cap_refuses_more_decimals_than_the_currency_has(harbor):
    inc = open_incident(harbor)
    line = refused(harbor("decide", inc, "--by", "x", "--party", "insurer", "--text", "y", "--cap", "100.5",
                          "--currency", "JPY"))
    assert "--cap" in line and "JPY" in line
    ok(harbor("cost", inc, "--kind", "invoice", "--amount", "1.234", "--currency", "KWD"))
    ok(harbor("cost", inc, "--kind", "invoice", "--amount", "1500", "--currency", "JPY"))


def test_policy_amounts_and_costs_share_one_parser():
    from msptui.money import parse_amount

    assert parse_amount("250k", "limit", whole=True) == 250_000
    assert parse_amount("1.5M", "limit", whole=True) == 1_500_000
    assert str(parse_amount("20k", "--cap", currency="USD")) == "20000"
    assert str(parse_amount("0.1", "--amount", currency="USD")) == "0.1"
    # exact: no float on the way (0.1 + 0.2 style drift on large amounts)
    assert str(parse_amount("123456789012.34", "--amount", currency="USD")) == "123456789012.34"


# ---------------------------------------------------------------------------
# 3. a proposed rule (not in force) carries no clock
# ---------------------------------------------------------------------------


@pytest.fixture
def demo(cli, monkeypatch):
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    ok(cli("demo"))
    return cli


def test_a_proposed_rule_has_no_due_date_anywhere(demo):
    inc = json.loads(ok(demo("incident", "open", "--client", "sunvale-health", "--discovered",
                             recent(1, "America/Los_Angeles"), "--tz", "America/Los_Angeles", "--category", "ransomware", "--summary", "encrypted",
                             "--json")))["id"]
    rows = {r["rule"]: r for r in json.loads(ok(demo("checklist", inc, "--json"))) if r["rule"]}
    circia = rows["us.circia.incident"]
    assert circia["title"].startswith("ADVISORY")
    assert circia["due"] is None and circia["target"] is None
    assert circia["clock"] == "none" and circia["countdown"] == "no fixed due"
    # sorted among the items without a clock: after every item that has a due date or a target
    order = [r["rule"] or r["step"] for r in json.loads(ok(demo("checklist", inc, "--json")))]
    clocked = [r for r in json.loads(ok(demo("checklist", inc, "--json"))) if r["due"] or r["target"]]
    assert all(order.index(r["rule"] or r["step"]) < order.index("us.circia.incident") for r in clocked)
    # the text checklist: no "due ..." on the advisory line, nor once the first item is ticked
    first = json.loads(ok(demo("checklist", inc, "--json")))[0]
    ok(demo("check", inc, first["step"], "--status", "done"))
    text = ok(demo("checklist", inc))
    line = next(n for n, line in enumerate(text.splitlines()) if "Covered cyber incident report" in line)
    assert not re.search(r"OVERDUE|DUE SOON|due \d", text.splitlines()[line - 1])
    obligations = {o["rule_id"]: o for o in json.loads(ok(demo("obligations", inc, "--json")))}
    assert obligations["us.circia.incident"]["due"] is None and obligations["us.circia.incident"]["target"] is None
    assert "not in force" in obligations["us.circia.incident"]["basis"]


def test_deadline_for_a_proposed_rule_is_information_only(cli):
    out = ok(cli("deadline", "--rule", "us.circia.incident", "--trigger", "2026-03-07T12:00", "--tz",
                 "America/New_York", db=None))
    assert "not in force" in out.splitlines()[0] and "2026-03-10" not in out.splitlines()[0]
    report = json.loads(ok(cli("deadline", "--rule", "us.circia.incident", "--trigger", "2026-03-07T12:00",
                               "--tz", "America/New_York", "--json", db=None)))
    assert report["due"] is None and report["internal_target"] is None and report["passed"] is False
    assert any(a["due_local"].startswith("2026-03-10 13:00 EDT") and "not in force" in a["label"].lower()
               for a in report["alternatives"])


# ---------------------------------------------------------------------------
# 4. the cyber-extortion consent applies only when extortion is in play, and is a precondition, not a clock
# ---------------------------------------------------------------------------


@pytest.fixture
def insured(harbor):
    ok(harbor("policy", "add", "--client", "harbor-dental", "--type", "cyber", "--carrier", "Coalition", "--number",
              "C-2291", "--from", "2020-01-01", "--to", "2099-12-31", "--limit", "1M", "--notice-hours", "72"))
    return harbor


def obligation_rows(cli, inc: str) -> dict[str, dict]:
    return {o["rule_id"]: o for o in json.loads(ok(cli("obligations", inc, "--all", "--json"))) if o["rule_id"]}


def test_extortion_consent_does_not_apply_to_bec_without_a_ransom(insured):
    inc = open_incident(insured, category="bec", discovered=recent(40))
    consent = obligation_rows(insured, inc)["ins.cyber.extortion_consent"]
    assert consent["state"] == "not_applicable"
    assert "ransom" in consent["reason"] and "TARGET" not in consent["countdown"]
    # once a ransom payment is recorded, extortion is in play
    ok(insured("incident", "set", inc, "--ransom-paid"))
    consent = obligation_rows(insured, inc)["ins.cyber.extortion_consent"]
    assert consent["state"] == "applies"


def test_before_ransom_payment_is_a_precondition_without_a_countdown(insured):
    inc = open_incident(insured, category="ransomware", discovered=recent(40))
    rows = obligation_rows(insured, inc)
    for rule_id in ("ins.cyber.extortion_consent", "us.ofac.ransom_sanctions_screen"):
        row = rows[rule_id]
        assert row["state"] == "applies", row
        assert row["due"] is None and row["target"] is None, row
        assert row["clock"] == "none" and "TARGET" not in row["countdown"] and "ago" not in row["countdown"]
        assert "elapsed time" not in row["basis"] and "before:" not in row["basis"]
        assert "before the ransom payment" in row["basis"] and "precondition" in row["basis"]
    text = ok(insured("obligations", inc))
    assert "before:ransom payment" not in text and "TARGET PASSED" not in text.split("ins.cyber.extortion_consent")[1][:200]


# ---------------------------------------------------------------------------
# 2. policy terms nobody entered are "not recorded", never a default printed as a term
# ---------------------------------------------------------------------------


def policies(cli) -> dict[str, dict]:
    from msptui.models import InsurancePolicy  # noqa: F401  (the JSON is the record)

    dump = json.loads(ok(cli("show", "harbor-dental", "--json")))
    return {p["policy_number"]: p for side in ("client", "msp") for p in dump["insurance"][side]}


def readme_policies(cli, *client_extra: str) -> None:
    ok(cli("policy", "add", "--msp", "--type", "tech_eo", "--carrier", "Beazley", "--number", "E-1", "--from",
           "2020-01-01", "--to", "2099-12-31", "--limit", "2M", "--notice-days", "30"))
    ok(cli("policy", "add", "--client", "harbor-dental", "--type", "cyber", "--carrier", "Coalition", "--number",
           "C-2291", "--from", "2020-02-01", "--to", "2099-01-31", "--limit", "1M", "--notice-hours", "72",
           "--hotline", "+1 833 866 1337", *client_extra))


def test_unentered_policy_terms_are_not_recorded(harbor):
    readme_policies(harbor)
    pols = policies(harbor)
    for number in ("E-1", "C-2291"):
        assert pols[number]["retention"] is None and pols[number]["prior_consent_required"] is None
        assert "insurer consent before vendors" not in pols[number]["notice_text"]
        assert "consent" in pols[number]["notice_text"] and "not recorded" in pols[number]["notice_text"]
    text = ok(harbor("show", "harbor-dental"))
    assert "retention 0" not in text and "retention not recorded" in text
    inc = open_incident(harbor, "--data", "phi,pii")
    titles = [r["title"] for r in json.loads(ok(harbor("checklist", inc, "--json")))]
    assert not any(t.startswith("Get Coalition's written consent") for t in titles)
    assert any(t.startswith("Ask Coalition whether written consent is required") for t in titles)


def test_policy_terms_can_be_recorded_and_are_then_stated(harbor):
    readme_policies(harbor, "--consent-required", "--retention", "25k")
    pol = policies(harbor)["C-2291"]
    assert pol["retention"] == 25_000 and pol["prior_consent_required"] is True
    assert "insurer consent before vendors" in pol["notice_text"]
    assert "retention USD 25,000" in ok(harbor("show", "harbor-dental")) or "retention 25,000" in ok(harbor("show", "harbor-dental"))
    inc = open_incident(harbor, "--data", "phi,pii")
    titles = [r["title"] for r in json.loads(ok(harbor("checklist", inc, "--json")))]
    assert any(t.startswith("Get Coalition's written consent") for t in titles)
    assert not any(t.startswith("Ask Coalition whether") for t in titles)
    # a renewal copies the recorded terms unless told otherwise
    renewed = json.loads(ok(harbor("policy", "renew", pol["id"], "--from", "2099-02-01", "--to", "2100-01-31",
                                   "--no-consent-required", "--retention", "0", "--json")))["id"]
    again = next(p for p in json.loads(ok(harbor("show", "harbor-dental", "--json", "--at", "2099-06-01")))["insurance"]["client"]
                 if p["id"] == renewed)
    assert again["prior_consent_required"] is False and again["retention"] == 0


def test_no_consent_required_drops_the_consent_step(harbor):
    readme_policies(harbor, "--no-consent-required")
    inc = open_incident(harbor, "--data", "phi,pii")
    titles = [r["title"] for r in json.loads(ok(harbor("checklist", inc, "--json")))]
    assert not any("written consent" in t and "Coalition" in t and "ransom" not in t for t in titles)


def test_demo_policies_still_record_their_terms_explicitly():
    from msptui.demo import demo_data

    for pol in demo_data()["policies"]:
        assert isinstance(pol["prior_consent_required"], bool) and isinstance(pol["retention"], int), pol["id"]


# ---------------------------------------------------------------------------
# 1. an unrecorded HIPAA role, NIS2/DORA status or sector is unknown, not "no"
# ---------------------------------------------------------------------------


def test_hipaa_role_not_recorded_is_unknown_and_phi_keeps_hipaa_visible(harbor):
    readme_policies(harbor)
    inc = open_incident(harbor, "--data", "phi,pii")
    text = ok(harbor("obligations", inc, "--all"))
    assert "not a HIPAA covered entity" not in text and "not a HIPAA regulated party" not in text
    rows = obligation_rows(harbor, inc)
    for rule_id in ("us.hipaa.164_404.individuals", "us.hipaa.164_410.business_associate"):
        row = rows[rule_id]
        assert row["state"] == "applies", row["reason"]
        assert "HIPAA role not recorded: confirm" in row["reason"] and "assumed" in row["reason"]
        assert row["unrecorded"] == ["hipaa_role"]
    # the checklist and the rules agree: the notice step is there beside the four-factor assessment
    steps = {r["step"] for r in json.loads(ok(harbor("checklist", inc, "--json")))}
    assert {"ntf-hipaa-risk", "notify-us-hipaa-164_404-individuals"} <= steps


def test_sector_not_recorded_is_said_so(harbor):
    inc = open_incident(harbor, "--data", "phi,pii")
    rows = obligation_rows(harbor, inc)
    text = ok(harbor("obligations", inc, "--all"))
    assert "'not recorded' is not in a listed sector" not in text
    bank = rows["us.bank.csinr.bank"]
    assert bank["state"] == "not_applicable" and "sector not recorded: confirm" in bank["reason"]
    assert bank["unrecorded"] == ["sectors"]
    # the PHI involved points at healthcare: a healthcare-sector rule stays visible, assumed
    circia = rows["us.circia.incident"]
    assert circia["state"] == "applies" and "sector not recorded: confirm" in circia["reason"]
    # the default listing says which facts are missing and how to record them
    short = ok(harbor("obligations", inc))
    assert "not recorded" in short and "--sector" in short and "--hipaa-role" in short


def test_recorded_values_decide(harbor):
    ok(harbor("client", "edit", "harbor-dental", "--hipaa-role", "none", "--sector", "none"))
    inc = open_incident(harbor, "--data", "phi,pii")
    rows = obligation_rows(harbor, inc)
    hipaa = rows["us.hipaa.164_404.individuals"]
    assert hipaa["state"] == "not_applicable" and "not recorded" not in hipaa["reason"]
    assert hipaa["unrecorded"] == []
    assert rows["us.circia.incident"]["state"] == "not_applicable"
    assert "recorded" in rows["us.bank.csinr.bank"]["reason"] and rows["us.bank.csinr.bank"]["unrecorded"] == []
    ok(harbor("client", "edit", "harbor-dental", "--hipaa-role", "covered_entity", "--sector", "healthcare"))
    inc = open_incident(harbor, "--data", "phi,pii")
    hipaa = obligation_rows(harbor, inc)["us.hipaa.164_404.individuals"]
    assert hipaa["state"] == "applies" and "client is a HIPAA covered entity" in hipaa["reason"]
    assert "assumed" not in hipaa["reason"]


def test_nis2_and_dora_not_recorded_are_unknown(cli, monkeypatch):
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    ok(cli("client", "add", "--id", "rhein", "--name", "Rhein GmbH", "--engagement", "managed", "--tz",
           "Europe/Berlin", "--country", "DE", "--data", "pii"))
    at = (datetime.now(timezone.utc) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%MZ")
    inc = json.loads(ok(cli("incident", "open", "--client", "rhein", "--discovered", at, "--category",
                            "ransomware", "--summary", "encrypted", "--json")))["id"]
    rows = obligation_rows(cli, inc)
    nis2 = rows["eu.nis2.art23.early_warning"]
    assert nis2["state"] == "applies" and "NIS2 entity status not recorded: confirm" in nis2["reason"]
    assert "DORA" in nis2["reason"] and set(nis2["unrecorded"]) == {"nis2_entity", "dora_entity"}
    dora = rows["eu.dora.initial"]
    assert dora["state"] != "not_applicable" and "DORA status not recorded: confirm" in dora["reason"]
    ok(cli("client", "edit", "rhein", "--nis2-entity", "important", "--dora-entity", "none"))
    inc = json.loads(ok(cli("incident", "open", "--client", "rhein", "--discovered", at, "--category",
                            "ransomware", "--summary", "encrypted again", "--json")))["id"]
    rows = obligation_rows(cli, inc)
    assert rows["eu.nis2.art23.early_warning"]["unrecorded"] == []
    assert "NIS2 important entity" in rows["eu.nis2.art23.early_warning"]["reason"]
    assert rows["eu.dora.initial"]["state"] == "not_applicable" and rows["eu.dora.initial"]["unrecorded"] == []


@pytest.mark.parametrize("option, value, allowed", [
    ("--hipaa-role", "doctor", "covered_entity, business_associate, none"),
    ("--nis2-entity", "big", "essential, important, none"),
    ("--sector", "banks", "bank"),
])
def test_client_options_refuse_unknown_values_in_one_line(cli, monkeypatch, option, value, allowed):
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    line = refused(cli("client", "add", "--id", "x", "--name", "X", "--engagement", "managed", "--tz", TZ,
                       option, value))
    assert value in line and allowed in line


def test_client_add_records_the_regulatory_facts(cli, monkeypatch):
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    ok(cli("client", "add", "--id", "x", "--name", "X", "--engagement", "managed", "--tz", TZ, "--hipaa-role",
           "business_associate", "--sectors", "healthcare,health_facility", "--industry", "Billing service",
           "--nis2-entity", "none", "--dora-entity", "none", "--public-company", "--no-nydfs-regulated"))
    line = refused(cli("client", "edit", "x", "--sector", "none,bank"))
    assert "none" in line
    dump = json.loads(ok(cli("show", "x", "--json")))["client"]
    assert (dump["hipaa_role"], dump["sectors"], dump["nis2_entity"], dump["dora_entity"], dump["public_company"],
            dump["nydfs_regulated"]) == ("business_associate", ["healthcare", "health_facility"], "none", "none",
                                         True, False)


def test_recording_the_role_later_updates_the_open_incident(harbor):
    inc = open_incident(harbor, "--data", "phi,pii")
    assert obligation_rows(harbor, inc)["us.hipaa.164_404.individuals"]["unrecorded"] == ["hipaa_role"]
    ok(harbor("client", "edit", "harbor-dental", "--hipaa-role", "none"))
    row = obligation_rows(harbor, inc)["us.hipaa.164_404.individuals"]
    assert row["state"] == "not_applicable" and row["unrecorded"] == []
    item = next(r for r in json.loads(ok(harbor("checklist", inc, "--json")))
                if r["step"] == "notify-us-hipaa-164_404-individuals")
    assert item["status"] == "not_applicable" and "hipaa_role" in item["reason"]
