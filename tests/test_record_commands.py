"""The commands that keep the record (issue 14): client, agreement, scope, clause, sign, policy, review,
recommend, acknowledge, reaffirm, msp. Driven through the CLI exactly as a user types them, on a copy of
the demo portfolio; every refusal is one line naming the field (and the allowed values), exit 1, and
leaves the events table exactly as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from msptui.catalog import load_catalog
from msptui.cli import main
from msptui.models import Agreement, Client, InsurancePolicy, Review, RiskAcceptance
from msptui.store import Store
from screens.testing import demo_db

DATA = Path(__file__).with_name("data")
HOSTILE = json.loads((DATA / "hostile.json").read_text(encoding="utf-8"))
NAUGHTY = json.loads((DATA / "naughty-strings.json").read_text(encoding="utf-8"))
OPERATOR = "Dana Reyes <dana@example.net>"
TZ = "America/Chicago"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    return demo_db(tmp_path_factory.mktemp("records-demo") / "demo.db")


@pytest.fixture
def db(demo_template, tmp_path, monkeypatch) -> Path:
    target = tmp_path / "demo.db"
    shutil.copy(demo_template, target)
    monkeypatch.setenv("MSPTUI_OPERATOR", OPERATOR)
    monkeypatch.delenv("MSPTUI_DB", raising=False)
    return target


@pytest.fixture
def run(db):
    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, ["--db", str(db), *args], input=input, catch_exceptions=False)

    return invoke


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def new_id(result) -> str:
    return json.loads(ok(result))["id"]


def events(db: Path) -> list[tuple]:
    with Store.open(db) as store:
        return [(e.id, e.kind, e.hash) for e in store.events()]


def local_today(tz: str = TZ) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def codes(run, client_id: str) -> set[str]:
    return {f["code"] for f in json.loads(ok(run("posture", "--client", client_id, "--json")))}


def add_client(run, cid: str = "harbor-dental", **extra) -> str:
    args = ["client", "add", "--id", cid, "--name", extra.pop("name", "Harbor Dental, PLLC"), "--engagement",
            "break_fix", "--tz", TZ, "--country", "US", "--state", "IL", "--data", "phi,pii", "--json"]
    return new_id(run(*args))


def add_msa(run, cid: str = "harbor-dental", start: date | None = None) -> str:
    start = start or local_today() - timedelta(days=30)
    return new_id(run("agreement", "add", "--client", cid, "--type", "msa", "--title", "Master Services Agreement",
                      "--effective-from", start.isoformat(), "--json"))


# ---------------------------------------------------------------------------
# the seed's four acts, end to end
# ---------------------------------------------------------------------------


def test_four_acts_take_a_new_client_from_unsigned_to_clean(run, db, tmp_path):
    """Examine the MSA and state its scope, get it signed, carry insurance, educate and record the decline."""
    today = local_today()
    cid = add_client(run)
    assert "msa_unsigned" in codes(run, cid)

    # 1. the agreement and what it says about every security service
    msa = add_msa(run, cid, today - timedelta(days=30))
    catalog = json.loads(ok(run("catalog", "--json")))
    for n, item in enumerate(i["id"] for i in catalog if i["security_relevant"]):
        state = "included" if n % 3 else "client_responsibility"
        ok(run("scope", "set", msa, item, state, "--clause", f"Schedule A §{n + 1}"))
    ok(run("clause", "add", msa, "--kind", "limitation_of_liability", "--section", "§9.2", "--text", "Fees of 12 months."))
    ok(run("clause", "add", msa, "--kind", "security_disclaimer", "--section", "§7.1", "--text", "No guarantee."))
    ok(run("clause", "add", msa, "--kind", "client_insurance_required", "--section", "§11", "--text",
           "Client carries cyber cover of at least USD 1,000,000.", "--amount", "1,000,000"))
    assert "msa_unsigned" in codes(run, cid)  # stated, not yet signed

    # 2. signed, with the signed copy hashed
    signed = tmp_path / "MSA signed.pdf"
    signed.write_bytes(b"%PDF-1.7 signed copy\n")
    ok(run("sign", msa, "--signed-at", f"{today - timedelta(days=29)}T10:00", "--msp", "Pat Kim, CEO",
           "--client", "Dr. Ana Ruiz, Owner", "--method", "electronic", "--document", str(signed)))
    after_signing = codes(run, cid)
    assert "msa_unsigned" not in after_signing and "scope_unaddressed" not in after_signing
    assert "insurance_missing" in after_signing  # the agreement requires client cover

    # 3. the client's cyber policy the agreement relies on
    ok(run("policy", "add", "--client", cid, "--type", "cyber", "--carrier", "Coalition", "--number", "C-2291",
           "--from", (today - timedelta(days=60)).isoformat(), "--to", (today + timedelta(days=300)).isoformat(),
           "--limit", "2M", "--notice-hours", "72", "--hotline", "+1 833 866 1337"))

    # 4. a review with education; a declined recommendation, then the client's signature on it
    review = new_id(run("review", "add", "--client", cid, "--held-on", (today - timedelta(days=5)).isoformat(),
                        "--attendee-msp", "Pat Kim", "--attendee-client", "Dr. Ana Ruiz",
                        "--education", "Phishing of dental-billing staff", "--json"))
    risk = new_id(run("recommend", review, "--item", "mdr_soc", "--text", "Add 24x7 MDR with active response.",
                      "--decision", "declined", "--json"))
    assert "declined_unsigned" in codes(run, cid)
    ok(run("acknowledge", risk, "--signed-by", "Dr. Ana Ruiz", "--signed-at", f"{today - timedelta(days=4)}T09:30"))

    assert json.loads(ok(run("posture", "--client", cid, "--json"))) == []
    with Store.open(db) as store:
        agreement = store.get(Agreement, msa)
    assert agreement.signature.method == "e_signature"
    assert agreement.document.sha256 == hashlib.sha256(signed.read_bytes()).hexdigest()
    assert [(s.name, s.title, s.side) for s in agreement.signature.signatories] == [
        ("Pat Kim", "CEO", "msp"), ("Dr. Ana Ruiz", "Owner", "client")]


def test_every_act_is_one_event_carrying_the_operator(run, db):
    today = local_today()
    steps = [
        ("clients.put", ["client", "add", "--id", "one", "--name", "One", "--engagement", "managed", "--tz", TZ]),
        ("clients.put", ["client", "edit", "one", "--industry", "Dental"]),
        ("agreements.put", ["agreement", "add", "--client", "one", "--type", "msa", "--title", "MSA",
                            "--effective-from", "2025-01-01", "--id", "one-msa"]),
        ("agreements.put", ["scope", "set", "one-msa", "edr", "included"]),
        ("agreements.put", ["clause", "add", "one-msa", "--kind", "indemnity", "--section", "§12", "--text", "x"]),
        ("agreements.put", ["sign", "one-msa", "--signed-at", "2025-01-02T10:00", "--msp", "A", "--client", "B"]),
        ("policies.put", ["policy", "add", "--msp", "--type", "tech_eo", "--carrier", "Beazley", "--number", "E-1",
                          "--from", "2025-01-01", "--to", "2025-12-31", "--limit", "5M", "--notice-days", "30"]),
        ("policies.put", ["policy", "renew", "msp-tech_eo-2025", "--from", "2026-01-01", "--to", "2026-12-31"]),
        ("reviews.put", ["review", "add", "--client", "one", "--held-on", today.isoformat(), "--education", "MFA"]),
        ("reviews.put", ["recommend", f"one-review-{today}", "--item", "mfa", "--text", "MFA everywhere",
                         "--decision", "accepted"]),
        ("msp.put", ["msp", "set", "--name", "Northwind IT"]),
    ]
    for kind, args in steps:
        before = events(db)
        ok(run(*args))
        after = events(db)
        assert after[: len(before)] == before and len(after) == len(before) + 1, args
        assert after[-1][1] == kind, args
    with Store.open(db) as store:
        last = list(store.events())[-len(steps):]
    assert {e.operator_name() for e in last} == {"Dana Reyes"}


def test_a_decline_writes_the_review_minutes_and_the_risk_acceptance_in_one_transaction(run, db):
    add_client(run)
    review = new_id(run("review", "add", "--client", "harbor-dental", "--held-on", str(local_today()), "--json"))
    before = len(events(db))
    out = json.loads(ok(run("recommend", review, "--item", "edr", "--text", "EDR on every workstation",
                            "--decision", "declined", "--json")))
    assert [e[1] for e in events(db)[before:]] == ["reviews.put", "risk_acceptances.put"]
    with Store.open(db) as store:
        risk = store.get(RiskAcceptance, out["id"])
        rec = store.get(Review, review).recommendations[0]
    assert out == {"id": risk.id, "review_id": review, "recommendation_id": rec.id, "risk_id": risk.id, "changed": True}
    assert (risk.decision, risk.decided_on, risk.review_id, risk.recommendation_id, risk.recommendation) == (
        "declined", local_today(), review, rec.id, "EDR on every workstation")
    assert (rec.item, rec.decision) == ("edr", "declined")


def test_a_pending_recommendation_makes_no_risk_acceptance(run, db):
    add_client(run)
    review = new_id(run("review", "add", "--client", "harbor-dental", "--held-on", str(local_today()), "--json"))
    out = json.loads(ok(run("recommend", review, "--item", "edr", "--text", "EDR", "--json")))
    assert out["id"] == review and out["risk_id"] is None
    with Store.open(db) as store:
        assert store.all(RiskAcceptance, client_id="harbor-dental") == []


# ---------------------------------------------------------------------------
# bad input: one line, the field and what is allowed, exit 1, nothing written
# ---------------------------------------------------------------------------


def _signed_msa(run, tmp_path) -> str:
    add_client(run)
    msa = add_msa(run)
    ok(run("sign", msa, "--signed-at", f"{local_today() - timedelta(days=20)}T10:00", "--msp", "Pat", "--client", "Ana"))
    return msa


REFUSALS = {
    "unknown catalogue item": (["scope", "set", "{msa}", "firewall_magic", "included"],
                               "item: unknown scope catalogue item 'firewall_magic'; expected one of: rmm_monitoring"),
    "unknown state": (["scope", "set", "{msa}", "edr", "covered"],
                      "state: unknown scope state 'covered'; expected one of: included, excluded, declined, "
                      "client_responsibility, third_party, not_applicable"),
    "unknown agreement type": (["agreement", "add", "--client", "harbor-dental", "--type", "contract", "--title", "x",
                                "--effective-from", "2025-01-01"],
                               "type: unknown agreement type 'contract'; expected one of: msa, schedule, sow, sla, "
                               "amendment, dpa, baa"),
    "unknown engagement": (["client", "add", "--id", "new", "--name", "New", "--engagement", "ad_hoc", "--tz", TZ],
                           "engagement: unknown engagement 'ad_hoc'; expected one of: managed, co_managed, "
                           "security_only, block_hours, break_fix, project, retainer"),
    "unknown zone": (["client", "add", "--id", "new", "--name", "New", "--engagement", "managed", "--tz", "Mars/Base"],
                     "tz: unknown time zone 'Mars/Base'; give an IANA name such as America/New_York"),
    "unknown zone on edit": (["client", "edit", "harbor-dental", "--tz", "EST5EDT; rm -rf /"], "tz: unknown time zone"),
    # refused as the CLI's own --tz is, naming the option (it said "client record field 'home_tz': ...")
    "localtime zone": (["client", "add", "--id", "new", "--name", "New", "--engagement", "managed", "--tz", "localtime"],
                       "tz: time zone 'localtime' is not allowed"),
    "posix zone on edit": (["client", "edit", "harbor-dental", "--tz", "posix/America/Chicago"],
                           "tz: time zone 'posix/America/Chicago' is not allowed"),
    "agreement ends before it starts": (["agreement", "add", "--client", "harbor-dental", "--type", "sow", "--title", "x",
                                         "--effective-from", "2025-06-01", "--effective-to", "2025-05-31"],
                                        "effective-to: 2025-05-31 is before effective-from 2025-06-01"),
    "policy ends before it starts": (["policy", "add", "--client", "harbor-dental", "--type", "cyber", "--carrier", "c",
                                      "--number", "n", "--from", "2025-06-01", "--to", "2025-01-01", "--limit", "1M",
                                      "--notice-hours", "72"], "to: 2025-01-01 is before from 2025-06-01"),
    "signing twice without --resign": (["sign", "{msa}", "--signed-at", "2025-01-05T10:00", "--msp", "Pat",
                                        "--client", "Ana"], "agreement: 'harbor-dental-msa' is already signed"),
    "missing signed file": (["sign", "{msa}", "--resign", "--signed-at", "2025-01-05T10:00", "--msp", "Pat",
                             "--client", "Ana", "--document", "{missing}"], "document: no such file:"),
    "missing agreement file": (["agreement", "add", "--client", "harbor-dental", "--type", "sow", "--title", "x",
                                "--effective-from", "2025-01-01", "--document", "{missing}"], "document: no such file:"),
    "missing minutes file": (["review", "add", "--client", "harbor-dental", "--held-on", "2025-01-01",
                              "--minutes", "{missing}"], "minutes: no such file:"),
    "acknowledging an accepted risk": (["acknowledge", "ra-lakeshore-mdr", "--signed-by", "Alicia Brandt",
                                        "--signed-at", "2025-02-01T10:00"],
                                       "risk: 'ra-lakeshore-mdr' records a recommendation that was accepted, not "
                                       "declined: only a declined recommendation is acknowledged (decision must be: declined)"),
    "re-affirming an accepted risk": (["reaffirm", "ra-lakeshore-mdr", "--on", "2025-02-01", "--by", "A"],
                                      "decision must be: declined"),
    "unknown signature method": (["sign", "{msa}", "--resign", "--signed-at", "2025-01-05T10:00", "--msp", "Pat",
                                  "--client", "Ana", "--method", "fax"],
                                 "method: unknown signature method 'fax'; expected one of: wet, electronic, click, email"),
    "two notice conditions": (["policy", "add", "--msp", "--type", "cyber", "--carrier", "c", "--number", "n", "--from",
                               "2025-01-01", "--to", "2025-12-31", "--limit", "1M", "--notice-hours", "72",
                               "--notice-days", "3"], "notice: give one notice condition"),
    "unknown policy type": (["policy", "add", "--msp", "--type", "health", "--carrier", "c", "--number", "n", "--from",
                             "2025-01-01", "--to", "2025-12-31", "--limit", "1M", "--notice-hours", "72"],
                            "type: unknown policy type 'health'; expected one of: cyber, tech_eo, cyber_eo"),
    "review in the future": (["review", "add", "--client", "harbor-dental", "--held-on", "2999-01-01"],
                             "held-on: 2999-01-01 is in the future"),
    "unknown decision": (["recommend", "lakeshore-rev1", "--item", "mfa", "--text", "x", "--decision", "maybe"],
                         "decision: unknown decision 'maybe'; expected one of: accepted, declined, deferred, pending"),
    "scope of a signed agreement": (["scope", "set", "{msa}", "edr", "excluded"],
                                    "agreement: 'harbor-dental-msa' is signed"),
    "unknown client": (["agreement", "add", "--client", "nobody", "--type", "msa", "--title", "x",
                        "--effective-from", "2025-01-01"], "client: no client with id 'nobody'"),
    "unknown country": (["client", "edit", "harbor-dental", "--country", "XX"], "country: 'XX' is not an ISO 3166-1"),
    "not a date": (["agreement", "add", "--client", "harbor-dental", "--type", "msa", "--title", "x",
                    "--effective-from", "01/02/2025"], "effective-from: not a date: '01/02/2025' (expected YYYY-MM-DD)"),
    "existing client id": (["client", "add", "--id", "harbor-dental", "--name", "Again", "--engagement", "managed",
                            "--tz", TZ], "id: a client with id 'harbor-dental' already exists"),
    # a notice window of 10**11 hours was recorded, then every 'incident open' for the client was a traceback
    "huge notice window": (["policy", "add", "--client", "harbor-dental", "--type", "cyber", "--carrier", "c", "--number",
                            "n", "--from", "2025-01-01", "--to", "2025-12-31", "--limit", "1M",
                            "--notice-hours", "99999999999"], "notice-hours: 99999999999 is more than 87,600"),
    "huge notice days": (["policy", "add", "--msp", "--type", "cyber", "--carrier", "c", "--number", "n", "--from",
                          "2025-01-01", "--to", "2025-12-31", "--limit", "1M", "--notice-days", "3651"],
                         "notice-days: 3651 is more than 3,650"),
    "non-ASCII digits in hours": (["policy", "add", "--msp", "--type", "cyber", "--carrier", "c", "--number", "n",
                                   "--from", "2025-01-01", "--to", "2025-12-31", "--limit", "1M",
                                   "--notice-hours", "\u0667\u0662"], "notice-hours: not a whole number"),
    # a limit went through a float: 40 nines were recorded as 10,000,000,000,000,000,303,786,028,427,003,666,890,752
    "huge limit": (["policy", "add", "--msp", "--type", "cyber", "--carrier", "c", "--number", "n", "--from",
                    "2025-01-01", "--to", "2025-12-31", "--limit", "9" * 40, "--notice-hours", "72"],
                   "limit: " + "9" * 40 + " is too large (at most 15 digits"),
    "non-ASCII digits in a limit": (["policy", "add", "--msp", "--type", "cyber", "--carrier", "c", "--number", "n",
                                     "--from", "2025-01-01", "--to", "2025-12-31", "--limit", "\u0661M",
                                     "--notice-hours", "72"], "limit: not an amount"),
    "no-currency code": (["policy", "add", "--msp", "--type", "cyber", "--carrier", "c", "--number", "n", "--from",
                          "2025-01-01", "--to", "2025-12-31", "--limit", "1M", "--currency", "XXX",
                          "--notice-hours", "72"], "currency: XXX is ISO 4217's code for"),
    "huge version": (["agreement", "add", "--client", "harbor-dental", "--type", "sow", "--title", "x",
                      "--effective-from", "2025-01-01", "--version", "9" * 23], "version: not a whole number"),
    "version over the bound": (["agreement", "add", "--client", "harbor-dental", "--type", "sow", "--title", "x",
                                "--effective-from", "2025-01-01", "--version", "10001"], "version: 10001 is more than 10,000"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_input_is_one_line_naming_the_field_and_writes_nothing(run, db, tmp_path, case):
    args, expected = REFUSALS[case]
    msa = _signed_msa(run, tmp_path)
    args = [a.format(msa=msa, missing=tmp_path / "not-there.pdf") for a in args]
    before = events(db)
    result = run(*args)
    assert result.exit_code == 1, result.output
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: ") and expected in error, error
    assert events(db) == before


def test_a_fifo_given_as_a_document_is_named_as_such(run, db, tmp_path):
    """A FIFO exists, so 'no such file' sent people looking for a file that was there."""
    import os

    fifo = tmp_path / "signed.pdf"
    os.mkfifo(fifo)
    add_client(run)
    before = events(db)
    for args in (["agreement", "add", "--client", "harbor-dental", "--type", "sow", "--title", "x", "--effective-from",
                  "2025-01-01", "--document", str(fifo)],
                 ["review", "add", "--client", "harbor-dental", "--held-on", "2025-01-01", "--minutes", str(fifo)]):
        result = run(*args)
        assert result.exit_code == 1 and "is not a regular file" in result.stderr, result.stderr
    assert events(db) == before
    imported = run("import", str(fifo))
    assert imported.exit_code == 1 and f"{fifo}: not a regular file" in imported.stderr, imported.stderr


def test_large_limits_are_recorded_exactly(run, db):
    """Money in whole units is exact up to 15 digits: 1.5M, 999,999,999,999,999 (no float on the way)."""
    for number, limit in (("n1", "999,999,999,999,999"), ("n2", "1.5M"), ("n3", "123456789012345")):
        ok(run("policy", "add", "--msp", "--type", "cyber", "--carrier", "c", "--number", number, "--from", "2025-01-01",
               "--to", "2025-12-31", "--limit", limit, "--notice-hours", "72"))
    with Store.open(db) as store:
        limits = {p.policy_number: p.limit_aggregate for p in store.all(InsurancePolicy) if p.carrier == "c"}
    assert limits == {"n1": 999_999_999_999_999, "n2": 1_500_000, "n3": 123_456_789_012_345}


def test_an_imported_policy_with_an_absurd_notice_window_is_refused(run, db, tmp_path):
    """The record file path is checked by the model (the bound the CLI applies), so no client is left whose
    incidents cannot be opened."""
    from .conftest import record_file

    path = record_file(tmp_path, policies=[{
        "id": "p-x", "client_id": "lakeshore-cpa", "owner": "client", "type": "cyber", "carrier": "C",
        "policy_number": "N", "period_start": "2025-01-01", "period_end": "2025-12-31", "limit_aggregate": 1000000,
        "notice": {"kind": "fixed", "hours": 99999999999}}])
    before = events(db)
    result = run("import", str(path))
    assert result.exit_code == 1 and "notice.hours" in result.stderr and "87600" in result.stderr, result.stderr
    assert events(db) == before


def test_bad_input_on_a_missing_database_creates_nothing(tmp_path, monkeypatch):
    path = tmp_path / "new.db"
    result = CliRunner().invoke(main, ["--db", str(path), "client", "add", "--id", "x", "--name", "X",
                                       "--engagement", "nope", "--tz", "UTC"])
    assert result.exit_code == 1 and "engagement:" in result.stderr
    assert not path.exists()


# ---------------------------------------------------------------------------
# what the acts record
# ---------------------------------------------------------------------------


def test_resign_replaces_the_signature_and_hashes_the_new_copy(run, db, tmp_path):
    msa = _signed_msa(run, tmp_path)
    copy = tmp_path / "countersigned.pdf"
    copy.write_bytes(b"second copy" * 1000)
    out = json.loads(ok(run("sign", msa, "--resign", "--signed-at", f"{local_today() - timedelta(days=2)}T16:45",
                            "--msp", "Pat Kim, CEO", "--msp", "Lee Park, CTO", "--client", "Ana Ruiz",
                            "--method", "wet", "--document", str(copy), "--json")))
    assert out["sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()
    with Store.open(db) as store:
        signature = store.get(Agreement, msa).signature
    assert signature.method == "wet_ink" and [s.name for s in signature.signatories] == ["Pat Kim", "Lee Park", "Ana Ruiz"]
    assert signature.signed_at.astimezone(ZoneInfo(TZ)).strftime("%H:%M") == "16:45"  # local time in the client's zone


def test_client_edit_changes_only_what_is_given(run, db):
    add_client(run)
    ok(run("client", "edit", "harbor-dental", "--country", "us", "--country", "ca", "--sector", "healthcare"))
    with Store.open(db) as store:
        client = store.get(Client, "harbor-dental")
    assert client.countries == ["US", "CA"] and client.sectors == ["healthcare"]
    assert client.name == "Harbor Dental, PLLC" and client.us_states == ["IL"] and client.data_held == ["phi", "pii"]
    ok(run("client", "edit", "harbor-dental", "--state", ""))
    with Store.open(db) as store:
        assert store.get(Client, "harbor-dental").us_states == []
    assert "nothing to change" in run("client", "edit", "harbor-dental").stderr


def test_policy_renewal_copies_the_terms_for_a_new_period(run, db):
    ok(run("policy", "add", "--client", "lakeshore-cpa", "--type", "cyber", "--carrier", "At-Bay", "--number", "AB-1",
           "--from", "2027-01-01", "--to", "2027-12-31", "--limit", "1,500,000", "--currency", "usd",
           "--retention", "25k", "--notice-asap", "--target-hours", "24", "--claims-email", "claims@at-bay.example",
           "--claims-form", "Claims_Made_And_Reported"))
    renewed = new_id(run("policy", "renew", "lakeshore-cpa-cyber-2027", "--from", "2028-01-01", "--to", "2028-12-31",
                         "--number", "AB-2", "--json"))
    with Store.open(db) as store:
        old, new = store.get(InsurancePolicy, "lakeshore-cpa-cyber-2027"), store.get(InsurancePolicy, renewed)
    assert renewed == "lakeshore-cpa-cyber-2028"
    assert (new.carrier, new.policy_number, new.limit_aggregate, new.retention, new.notice, new.claims_email) == (
        "At-Bay", "AB-2", 1_500_000, 25_000, old.notice, "claims@at-bay.example")
    assert (new.period_start, new.period_end) == (date(2028, 1, 1), date(2028, 12, 31))
    assert old.claims_form == new.claims_form == "claims_made_and_reported"  # flags a window past the period
    bad = run("policy", "renew", renewed, "--from", "2029-01-01", "--to", "2029-12-31", "--claims-form", "yearly")
    assert bad.exit_code == 1 and "claims-form: unknown claims form 'yearly'; expected one of: occurrence" in bad.stderr
    refused = run("policy", "renew", renewed, "--from", "2027-06-01", "--to", "2029-01-01")
    assert refused.exit_code == 1 and "from: 2027-06-01 is not after the start" in refused.stderr


def test_reaffirm_needs_a_signed_decline_and_appends(run, db):
    add_client(run)
    review = new_id(run("review", "add", "--client", "harbor-dental", "--held-on",
                        str(local_today() - timedelta(days=10)), "--json"))
    risk = new_id(run("recommend", review, "--item", "mfa", "--text", "MFA", "--decision", "declined", "--json"))
    unsigned = run("reaffirm", risk, "--on", str(local_today()), "--by", "Ana")
    assert unsigned.exit_code == 1 and "has no signed acknowledgement" in unsigned.stderr
    ok(run("acknowledge", risk, "--signed-by", "Ana", "--signed-at", f"{local_today() - timedelta(days=9)}T12:00"))
    twice = run("acknowledge", risk, "--signed-by", "Ana", "--signed-at", f"{local_today() - timedelta(days=8)}T12:00")
    assert twice.exit_code == 1 and f"msptui reaffirm {risk}" in twice.stderr
    ok(run("reaffirm", risk, "--on", str(local_today()), "--by", "Ana Ruiz"))
    with Store.open(db) as store:
        assert [(r.on, r.by) for r in store.get(RiskAcceptance, risk).reaffirmations] == [(local_today(), "Ana Ruiz")]


def test_signed_at_is_local_time_in_the_clients_zone_and_not_in_the_future(run, db):
    """A date and time is local in the client's zone; a date alone (today included) is noon that day."""
    add_client(run)
    msa = add_msa(run)
    result = run("sign", msa, "--signed-at", "2999-01-01T10:00", "--msp", "P", "--client", "A")
    assert result.exit_code == 1 and "signed-at:" in result.stderr and "future" in result.stderr
    tomorrow = run("sign", msa, "--signed-at", str(local_today() + timedelta(days=1)), "--msp", "P", "--client", "A")
    assert tomorrow.exit_code == 1 and "signed-at:" in tomorrow.stderr and "is in the future" in tomorrow.stderr
    ok(run("sign", msa, "--signed-at", str(local_today()), "--msp", "P", "--client", "A"))  # the paper gives the day only
    with Store.open(db) as store:
        signed_at = store.get(Agreement, msa).signature.signed_at.astimezone(ZoneInfo(TZ))
    assert (signed_at.date(), signed_at.hour, signed_at.minute) == (local_today(), 12, 0)  # noon local, as 'show --at'


# ---------------------------------------------------------------------------
# attacker-written text: stored exactly, shown literally
# ---------------------------------------------------------------------------


def _storable(text: str) -> bool:
    return bool(text.strip()) and "\x00" not in text and len(text) <= 500


def test_hostile_names_are_stored_exactly_and_printed_literally(run, db):
    names = [s for s in [*HOSTILE["display"], *NAUGHTY] if _storable(s)]
    for i, name in enumerate(names):
        ok(run("client", "add", "--id", f"h{i}", f"--name={name}", "--engagement", "managed", "--tz", "UTC",
               f"--industry={name}"))
    stored = {c["id"]: c["name"] for c in json.loads(ok(run("clients", "--json")))}
    assert all(stored[f"h{i}"] == name for i, name in enumerate(names))
    plain = ok(run("clients"))
    assert "\x1b" not in plain and "\u202e" not in plain and "\\x1b[31mred" in plain


def test_hostile_titles_and_clause_texts_are_stored_exactly(run, db):
    add_client(run)
    texts = [t for t in [*HOSTILE["display"], *NAUGHTY[::7]] if _storable(t)]
    for i, text in enumerate(texts):
        agreement = new_id(run("agreement", "add", "--client", "harbor-dental", "--type", "sow", f"--title={text}",
                               "--effective-from", "2025-01-01", "--id", f"sow-{i}", "--json"))
        ok(run("clause", "add", agreement, "--kind", "other", f"--section={text}", f"--text={text}"))
        ok(run("scope", "set", agreement, "edr", "included", f"--clause={text}"))
    with Store.open(db) as store:
        stored = {a.id: a for a in store.all(Agreement, client_id="harbor-dental")}
    for i, text in enumerate(texts):
        a = stored[f"sow-{i}"]
        assert a.title == a.clauses[0].section == a.clauses[0].text == a.scope[0].clause == text
    shown = ok(run("show", "harbor-dental", "--at", "2025-06-01"))
    assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b[31mred" in shown  # shown visibly, never raw


def test_hostile_text_in_every_record_field_round_trips(run, db, tmp_path):
    text = next(s for s in HOSTILE["display"] if "\x1b" in s) + " [/prod] \u202e $(rm -rf /) '; DROP TABLE events;--"
    add_client(run, "evil", name=text)
    msa = new_id(run("agreement", "add", "--client", "evil", "--type", "msa", "--title", text, "--effective-from",
                     "2025-01-01", "--json"))
    ok(run("scope", "set", msa, "edr", "included", "--clause", text, "--notes", text))
    ok(run("clause", "add", msa, "--kind", "other", "--section", text, "--text", text))
    ok(run("sign", msa, "--signed-at", "2025-01-02T09:00", "--msp", text, "--client", text))
    review = new_id(run("review", "add", "--client", "evil", "--held-on", "2025-02-01", "--attendee-msp", text,
                        "--attendee-client", text, "--topic", text, "--education", text, "--json"))
    risk = new_id(run("recommend", review, "--item", "mfa", "--text", text, "--decision", "declined", "--json"))
    ok(run("acknowledge", risk, "--signed-by", text, "--signed-at", "2025-02-02T09:00"))
    ok(run("policy", "add", "--client", "evil", "--type", "cyber", "--carrier", text, "--number", text, "--from",
           "2025-01-01", "--to", "2025-12-31", "--limit", "1M", "--notice-hours", "72", "--hotline", text))
    with Store.open(db) as store:
        a = store.get(Agreement, msa)
        r = store.get(Review, review)
        ra = store.get(RiskAcceptance, risk)
        p = store.all(InsurancePolicy, client_id="evil")[0]
    assert a.title == a.scope[0].clause == a.scope[0].notes == a.clauses[0].section == a.clauses[0].text == text
    assert "," not in text and [s.name for s in a.signature.signatories] == [text, text]  # "NAME[, TITLE]"
    assert r.attendees_msp == r.topics == r.security_education == [text] and r.recommendations[0].text == text
    assert ra.acknowledgement.signed_by == text and p.carrier == p.hotline == text
    shown = ok(run("show", "evil"))
    assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b" in shown and "[/prod]" in shown


# ---------------------------------------------------------------------------
# the MSP itself
# ---------------------------------------------------------------------------


def test_msp_record_is_set_shown_and_changed_in_place(run, db):
    assert "no MSP record" in ok(run("msp", "show"))
    ok(run("msp", "set", "--name", "Northwind IT, LLC", "--address", "1 Harbor Way\nChicago IL",
           "--contact", "emergency: NOC desk <noc@northwind.example> +1 312 555 0100", "--contact", "Pat Kim"))
    shown = json.loads(ok(run("msp", "show", "--json")))
    assert shown["name"] == "Northwind IT, LLC" and shown["address"] == "1 Harbor Way\nChicago IL"
    assert shown["contacts"] == [
        {"name": "NOC desk", "role": "emergency", "email": "noc@northwind.example", "phone": "+1 312 555 0100",
         "organisation": None},
        {"name": "Pat Kim", "role": "primary", "email": None, "phone": None, "organisation": None}]
    ok(run("msp", "set", "--address", "2 Lake St"))
    shown = json.loads(ok(run("msp", "show", "--json")))
    assert shown["name"] == "Northwind IT, LLC" and shown["address"] == "2 Lake St" and len(shown["contacts"]) == 2
    bad = run("msp", "set", "--contact", "Pat <not-an-email>")
    assert bad.exit_code == 1 and "contact: 'not-an-email' is not an email address" in bad.stderr


def test_msp_set_needs_a_name_the_first_time(tmp_path):
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "x.db"), "msp", "set", "--address", "1 Main St"])
    assert result.exit_code == 1 and "name: the MSP's name (as clients know it) is needed" in result.stderr


def test_review_pack_names_the_msp_from_its_record(run, db, monkeypatch):
    from msptui import review_pack
    from msptui.records import msp_record

    generated = datetime(2026, 11, 27, 15, 0, tzinfo=ZoneInfo("UTC"))
    monkeypatch.delenv("MSPTUI_MSP_NAME", raising=False)
    with Store.open(db) as store:
        assert msp_record(store) is None
        assert review_pack.collect(store, "lakeshore-cpa", generated_at=generated)["msp"]["name"] == "your MSP"
    ok(run("msp", "set", "--name", "Northwind IT", "--address", "1 Harbor Way", "--contact",
           "emergency: NOC <noc@northwind.example>"))
    with Store.open(db) as store:
        assert msp_record(store).name == "Northwind IT"
        data = review_pack.collect(store, "lakeshore-cpa", generated_at=generated)
        assert (data["msp"]["name"], data["msp"]["signer"], data["msp"]["address"]) == (
            "Northwind IT", "Northwind IT", "1 Harbor Way")
        assert data["msp"]["contacts"][0]["email"] == "noc@northwind.example"
        monkeypatch.setenv("MSPTUI_MSP_NAME", "Override IT")  # an explicit name for one pack still wins
        assert review_pack.collect(store, "lakeshore-cpa", generated_at=generated)["msp"]["name"] == "Override IT"
        assert review_pack.collect(store, "lakeshore-cpa", generated_at=generated,
                                   msp_name="Flag IT")["msp"]["name"] == "Flag IT"
    from msptui.export.pdf import render_html

    html = " ".join(render_html(data, review_pack.TEMPLATE).split())
    assert "Prepared by Northwind IT" in html and "1 Harbor Way" in html and "noc@northwind.example" in html


def test_catalogue_items_of_scope_set_are_the_catalog_commands_ids(run, db, tmp_path):
    """Every id 'msptui catalog --json' lists is accepted by 'scope set' (and nothing else is)."""
    add_client(run)
    msa = add_msa(run)
    ids = [i["id"] for i in json.loads(ok(run("catalog", "--json")))]
    assert ids == list(load_catalog().items)
    for item in ids:
        ok(run("scope", "set", msa, item, "not_applicable"))
    with Store.open(db) as store:
        assert [line.item for line in store.get(Agreement, msa).scope] == ids
    ok(run("scope", "set", msa, ids[0], "included", "--clause", "§1"))
    with Store.open(db) as store:
        scope = store.get(Agreement, msa).scope
    assert [line.item for line in scope] == ids and (scope[0].state.value, scope[0].clause) == ("included", "§1")


def test_the_readme_example_of_keeping_the_record_runs(tmp_path, monkeypatch):
    """Every command of README's 'Keeping the record' example runs as written, on a new database."""
    import shlex

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Keeping the record", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line) for line in block.strip().splitlines() if not line.startswith("#")]
    assert len(commands) >= 12 and all(c[0] == "msptui" for c in commands)
    monkeypatch.chdir(tmp_path)
    for name in ("msa.pdf", "msa-signed.pdf", "decline-signed.pdf"):
        (tmp_path / name).write_bytes(b"%PDF " + name.encode())
    for args in commands:
        result = CliRunner().invoke(main, ["--db", str(tmp_path / "r.db"), *args[1:]], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
    with Store.open(tmp_path / "r.db") as store:
        risk = store.all(RiskAcceptance)[0]
    assert risk.acknowledgement.document.sha256 == hashlib.sha256(b"%PDF decline-signed.pdf").hexdigest()
