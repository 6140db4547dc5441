"""What was done, by whom: the notification log, decisions and consents, the cost ledger, back-dating.

Driven through the CLI exactly as the issue names it, on a fresh demo
database with the real planner; the operator is a named person.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from msptui.models import ChecklistItem, Evidence, Note
from msptui.store import Store

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
DISCOVERED = NOW - timedelta(days=3)


def stamp(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(text):
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.fixture
def demo(cli, monkeypatch):
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    assert cli("demo").exit_code == 0
    return cli


@pytest.fixture
def incident(demo):
    result = demo("incident", "open", "--client", "pinecrest-academy", "--discovered", stamp(DISCOVERED), "--states", "CA",
                  "--category", "ransomware", "--summary", "files encrypted", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["id"]


def checklist(cli, incident_id):
    return {r["step"]: r for r in json.loads(cli("checklist", incident_id, "--json").stdout)}


def events(db_path) -> int:
    with Store.open(db_path) as store:
        return store.head()[0]


def test_notification_log_records_who_when_how_with_hashed_content_and_proof(demo, incident, db_path, tmp_path):
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF notice to residents")
    receipt = tmp_path / "receipt.txt"
    receipt.write_bytes(b"USPS certified 9407")
    sent = NOW - timedelta(days=2)
    result = demo("notify", incident, "--to", "Affected CA residents", "--org", "Pinecrest families", "--channel", "letter",
                  "--at", stamp(sent), "--by", "Sam Okafor", "--item", "notify-us-ca-1798_82-individuals",
                  "--ref", "MAIL-0042", "--content", str(letter), "--proof", str(receipt), "--json")
    assert result.exit_code == 0, result.output
    notification_id = json.loads(result.stdout)["id"]
    (row,) = json.loads(demo("notifications", incident, "--json").stdout)
    assert {k: row[k] for k in ("id", "to", "org", "channel", "by", "ref")} == {
        "id": notification_id, "to": "Affected CA residents", "org": "Pinecrest families", "channel": "letter",
        "by": "Sam Okafor", "ref": "MAIL-0042"}
    assert instant(row["at"]) == sent and row["item"].endswith("notify-us-ca-1798_82-individuals")
    assert row["content_sha256"] == hashlib.sha256(letter.read_bytes()).hexdigest()
    assert row["proof_sha256"] == hashlib.sha256(receipt.read_bytes()).hexdigest()
    assert row["recorded_by"] == "Dana Reyes"
    with Store.open(db_path) as store:  # the files are kept as evidence with custody
        kept = {e.sha256: e for e in store.all(Evidence, incident_id=incident)}
    assert row["content_sha256"] in kept and row["proof_sha256"] in kept
    # the step is done as of the sending, by the person who sent it
    step = checklist(demo, incident)["notify-us-ca-1798_82-individuals"]
    assert step["status"] == "done" and instant(step["updated_at"]) == sent and step["updated_by"] == "Sam Okafor"
    # acknowledgement added later
    acked = NOW - timedelta(days=1)
    assert demo("notification", "ack", notification_id, "--at", stamp(acked), "--by", "a resident").exit_code == 0
    (row,) = json.loads(demo("notifications", incident, "--json").stdout)
    assert [(instant(a["at"]), a["by"]) for a in row["acks"]] == [(acked, "a resident")]


def test_chained_clock_runs_from_the_logged_sending_not_the_entry(demo, incident):
    sent = NOW - timedelta(days=2, hours=5)
    demo("notify", incident, "--to", "CA residents", "--channel", "email", "--at", stamp(sent),
         "--item", "notify-us-ca-1798_82-individuals")
    ag = checklist(demo, incident)["notify-us-ca-1798_82-ag"]
    pacific = timezone(timedelta(hours=-8))
    assert instant(ag["due_utc"]).astimezone(pacific).date() == (sent + timedelta(days=15)).astimezone(pacific).date()


def test_a_hotline_call_does_not_satisfy_a_written_notice_condition(demo, incident):
    result = demo("notify", incident, "--to", "Carrier hotline", "--channel", "hotline", "--at", stamp(NOW - timedelta(days=2)),
                  "--item", "ins-written-notice", "--json")
    out = json.loads(result.stdout)
    assert out["completes_item"] is False and "written-notice condition" in out["note"]
    step = checklist(demo, incident)["ins-written-notice"]
    assert step["status"] == "open" and any("does not satisfy" in n for n in step["notes"])
    out = json.loads(demo("notify", incident, "--to", "Carrier claims", "--channel", "email",
                          "--at", stamp(NOW - timedelta(days=1)), "--item", "ins-written-notice", "--json").stdout)
    assert out["completes_item"] is True and checklist(demo, incident)["ins-written-notice"]["status"] == "done"


def test_decisions_and_consents_with_cap_and_document(demo, incident, tmp_path):
    letter = tmp_path / "consent.pdf"
    letter.write_bytes(b"consent letter")
    at = NOW - timedelta(days=1)
    assert demo("decide", incident, "--by", "Kim Adjuster", "--role", "claims adjuster", "--org", "Harborline",
                "--party", "insurer", "--text", "consent to retain Forensics LLC", "--at", stamp(at), "--ref", "CLM-77",
                "--cap", "25000.00", "--currency", "usd", "--document", str(letter), "--json").exit_code == 0
    assert demo("decide", incident, "--by", "Pat CEO", "--party", "client", "--text", "declined isolating the ERP").exit_code == 0
    rows = json.loads(demo("decisions", incident, "--json").stdout)
    assert [(r["party"], r["by"]) for r in rows] == [("insurer", "Kim Adjuster"), ("client", "Pat CEO")]
    assert (rows[0]["cap"], rows[0]["currency"], rows[0]["ref"]) == ("25000.00", "USD", "CLM-77")
    assert rows[0]["document"]["sha256"] == hashlib.sha256(b"consent letter").hexdigest()


def test_cost_ledger_totals_are_exact_per_currency_and_csv_is_safe(demo, incident):
    for args in (("time", "150.10", "USD", "--hours", "1.5", "--person", "Dana"),
                 ("time", "0.20", "USD", "--hours", "0.25", "--person", "Dana"),
                 ("invoice", "12000", "USD", "--vendor", "Forensics LLC"),
                 ("invoice", "999.99", "EUR", "--vendor", "=cmd|' /C calc'!A0"),
                 ("ransom", "0.1", "USD")):
        kind, amount, cur, *rest = args
        assert demo("cost", incident, "--kind", kind, "--amount", amount, "--currency", cur, *rest).exit_code == 0
    ledger = json.loads(demo("costs", incident, "--json").stdout)
    usd = ledger["totals"]["USD"]
    assert usd["total"] == "12150.40" and usd["hours"] == "1.75"  # 0.1 + 0.2 stays exact
    assert usd["by_kind"] == {"invoice": "12000", "ransom": "0.1", "time": "150.30"}
    assert usd["by_person"] == {"Dana": "150.30"} and usd["by_vendor"] == {"Forensics LLC": "12000"}
    assert ledger["totals"]["EUR"]["total"] == "999.99"
    rows = list(csv.DictReader(io.StringIO(demo("costs", incident, "--csv").stdout)))
    assert len(rows) == 5 and rows[3]["amount"] == "999.99"
    assert rows[3]["vendor"].startswith("'=")  # a formula in a vendor name is neutralised


@pytest.mark.parametrize("args, message", [
    (("notify", "INC", "--to", "x", "--channel", "pigeon", "--at", "NOW"), "Invalid value for '--channel'"),
    (("notify", "INC", "--to", "x", "--channel", "email", "--at", "NOW", "--content", "/nonexistent/file"), "not a readable file"),
    (("notify", "INC", "--to", "x", "--channel", "email", "--at", "FUTURE"), "in the future"),
    (("notify", "INC", "--to", "x", "--channel", "email", "--at", "BEFORE"), "before the discovery"),
    (("decide", "INC", "--by", "x", "--party", "aliens", "--text", "y"), "Invalid value for '--party'"),
    (("cost", "INC", "--kind", "time", "--amount", "-5", "--currency", "USD"), "cannot be negative"),
    (("cost", "INC", "--kind", "time", "--amount", "1e309", "--currency", "USD"), "not an amount"),
    (("cost", "INC", "--kind", "time", "--amount", "5", "--currency", "XYZ"), "not an ISO 4217 currency"),
    (("cost", "INC", "--kind", "time", "--amount", "5.001", "--currency", "USD"), "USD has 2 decimal places"),
    (("cost", "INC", "--kind", "time", "--amount", "0.1", "--currency", "JPY"), "JPY has no minor unit"),
    (("cost", "INC", "--kind", "time", "--amount", "5.0001", "--currency", "XAU"), "more than 3 decimal places"),
    (("note", "INC", "text", "--at", "FUTURE"), "in the future"),
    (("check", "INC", "ins-consent", "--status", "done", "--at", "BEFORE"), "before the discovery"),
    # a folder given as a file, and an unknown code, are bad input (exit 1), not a usage error (exit 2)
    (("notify", "INC", "--to", "x", "--channel", "email", "--at", "NOW", "--content", "DIR"), "is a directory"),
    (("notify", "INC", "--to", "x", "--channel", "email", "--at", "NOW", "--proof", "DIR"), "is a directory"),
    (("decide", "INC", "--by", "x", "--party", "client", "--text", "y", "--document", "DIR"), "is a directory"),
    (("cost", "INC", "--kind", "invoice", "--amount", "5", "--currency", "USD", "--invoice", "DIR"), "is a directory"),
    (("cost", "INC", "--kind", "bribe", "--amount", "5", "--currency", "USD"), "Invalid value for '--kind'"),
    (("check", "INC", "ins-consent", "--status", "finished"), "Invalid value for '--status'"),
    # '-0' is not an amount anyone paid (it was recorded and listed as 'USD -0')
    (("cost", "INC", "--kind", "time", "--amount", "-0", "--currency", "USD"), "cannot be negative"),
    (("cost", "INC", "--kind", "time", "--amount", "-0.00", "--currency", "USD"), "cannot be negative"),
    # digits a reader does not see as 123 were recorded as 123
    (("cost", "INC", "--kind", "time", "--amount", "\u0661\u0662\u0663", "--currency", "USD"), "not an amount"),
    (("cost", "INC", "--kind", "time", "--amount", "\uff11\uff12", "--currency", "USD"), "not an amount"),
    (("decide", "INC", "--by", "x", "--party", "client", "--text", "y", "--cap", "\u0661", "--currency", "USD"), "not an amount"),
    # ISO 4217's "no currency" and "testing" codes are not money
    (("cost", "INC", "--kind", "time", "--amount", "5", "--currency", "XXX"), "not a currency"),
    (("cost", "INC", "--kind", "time", "--amount", "5", "--currency", "xts"), "not a currency"),
])
def test_bad_input_is_one_line_and_writes_nothing(demo, incident, db_path, tmp_path, args, message):
    subs = {"INC": incident, "NOW": stamp(NOW), "FUTURE": stamp(NOW + timedelta(days=2)),
            "BEFORE": stamp(DISCOVERED - timedelta(hours=1)), "DIR": str(tmp_path)}
    before = events(db_path)
    result = demo(*[subs.get(a, a) for a in args])
    assert result.exit_code == 1 and message in result.stderr, (result.exit_code, result.stderr)
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")] == \
        [result.stderr.strip().splitlines()[-1]], "exactly one error line, the last"
    assert "Traceback" not in result.output
    assert events(db_path) == before


def test_an_item_of_another_incident_is_refused(demo, incident, db_path):
    other = json.loads(demo("incident", "open", "--client", "lakeshore-cpa", "--discovered", stamp(DISCOVERED),
                            "--category", "phishing", "--summary", "other", "--json").stdout)["id"]
    before = events(db_path)
    result = demo("notify", incident, "--to", "x", "--channel", "email", "--at", stamp(NOW), "--item", f"{other}:ins-consent")
    assert result.exit_code == 1 and f"belongs to incident {other}" in result.stderr
    assert events(db_path) == before


def test_back_dated_acts_keep_both_times_and_the_dossier_says_entered_later(demo, incident, db_path, tmp_path):
    from msptui.export import export
    from tests.pdftools import pdf_text

    happened = NOW - timedelta(days=2)
    assert demo("note", incident, "called the insurer hotline", "--at", stamp(happened)).exit_code == 0
    demo("check", incident, "ins-hotline", "--status", "done", "--at", stamp(happened))
    demo("notify", incident, "--to", "FBI IC3", "--org", "FBI", "--channel", "portal", "--at", stamp(happened), "--ref", "IC3-123")
    demo("decide", incident, "--by", "Pat CEO", "--party", "client", "--text", "declined isolating the ERP", "--at", stamp(happened))
    demo("cost", incident, "--kind", "time", "--amount", "300", "--currency", "USD", "--hours", "2", "--person", "Dana")
    with Store.open(db_path) as store:
        (note,) = store.all(Note, incident_id=incident)
        item = store.get(ChecklistItem, f"{incident}:ins-hotline")
        assert note.at.at == happened and note.author == "Dana Reyes"
        assert item.updated_at == happened
        path = export(store, incident, out_dir=tmp_path / "out", generated_at=NOW)
    data = json.loads((path / "dossier.json").read_text())
    (n,) = data["notifications"]
    assert n["ref"] == "IC3-123" and n["entered_later"].startswith("entered 2d")
    assert data["decisions"][0]["entered_later"].startswith("entered 2d")
    assert data["costs"]["totals"]["USD"]["total"] == "300"
    assert any(t["kind"] == "note" and t["entered_late_seconds"] for t in data["timeline"])
    text = " ".join(pdf_text(path / "dossier.pdf").split())
    for needle in ("Notification log", "portal to FBI IC3 (FBI)", "ref IC3-123", "Decisions and consents",
                   "declined isolating the ERP", "Cost and effort ledger", "Total USD 300", "entered 2d"):
        assert needle in text, needle


def test_decisions_text_puts_the_decision_on_its_own_line(demo, incident):
    """The text of a decision was glued to its header with a newline inside one output line, so every
    decision printed as '... [INC:dec-1]\\x0a    the text'."""
    assert demo("decide", incident, "--by", "Chris Client", "--party", "client", "--text", "Declined isolation").exit_code == 0
    lines = demo("decisions", incident).stdout.splitlines()
    assert lines[-1] == "    Declined isolation" and lines[-2].endswith(":dec-1]"), lines
    assert "\\x0a" not in "".join(lines)


def test_costs_csv_keeps_record_text_exact_when_redirected(demo, incident):
    """click.echo stripped what looked like an ANSI sequence from CSV that was not going to a terminal."""
    task = "Wipe\x1b[2J host \x1b[31mred\x1b[0m"
    assert demo("cost", incident, "--kind", "time", "--amount", "1", "--currency", "USD", "--task", task).exit_code == 0
    (row,) = list(csv.DictReader(io.StringIO(demo("costs", incident, "--csv").stdout, newline="")))
    assert row["task"] == task


@pytest.mark.parametrize("args", [
    ("note", "INC", "text", "--tz", "Mars/Base"),
    ("check", "INC", "ins-consent", "--status", "done", "--tz", "Mars/Base"),
    ("evidence", "add", "INC", "FILE", "--tz", "Mars/Base"),
])
def test_a_zone_given_without_at_is_still_checked(demo, incident, db_path, tmp_path, args):
    """Without --at the act is recorded as of now, but an unknown --tz was accepted and silently ignored."""
    evidence = tmp_path / "image.bin"
    evidence.write_bytes(b"disk")
    before = events(db_path)
    result = demo(*[{"INC": incident, "FILE": str(evidence)}.get(a, a) for a in args])
    assert result.exit_code == 1 and "--tz: unknown time zone 'Mars/Base'" in result.stderr, result.stderr
    assert events(db_path) == before


def test_costs_and_clients_refuse_json_and_csv_together(demo, incident):
    for args in (("costs", incident, "--json", "--csv"), ("clients", "--json", "--csv")):
        result = demo(*args)
        assert result.exit_code == 2 and "--json and --csv: give one of them" in result.stderr, result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize("args, message", [
    (("notification", "ack", "NTF", "--at", "NOW", "--by", "x" * 600), "field 'by': String should have at most 500"),
    (("incident", "trigger", "INC", "contained", "--at", "NOW", "--by", "x" * 600), "field 'by': String should have at most 500"),
    (("evidence", "add", "INC", "FILE", "--name", "x" * 600), "field 'name': String should have at most 500"),
    (("note", "INC", "x" * 20_000 + "y"), "longer than the 20,000 allowed"),
])
def test_values_the_model_refuses_are_one_line_not_a_traceback(demo, incident, db_path, tmp_path, args, message):
    """The command line lets record text through up to 20,000 characters; where the record keeps at most 500,
    pydantic's ValidationError escaped as a traceback (ack --by, trigger --by, evidence --name)."""
    image = tmp_path / "image.bin"
    image.write_bytes(b"disk")
    sent = demo("notify", incident, "--to", "AG", "--channel", "email", "--at", stamp(NOW - timedelta(hours=1)), "--json")
    subs = {"INC": incident, "NTF": json.loads(sent.stdout)["id"], "NOW": stamp(NOW), "FILE": str(image)}
    before = events(db_path)
    result = demo(*[subs.get(a, a) for a in args])
    assert result.exit_code == 1 and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and len([x for x in result.stderr.splitlines() if x.startswith("Error")]) == 1
    assert events(db_path) == before


def test_files_with_long_paths_are_kept_as_evidence(demo, incident, db_path, tmp_path):
    """A file whose path is longer than 500 characters (deep share folders) was a traceback: the custody
    location and the evidence source held at most 500."""
    folder = tmp_path
    for part in ("d" * 200, "e" * 200, "f" * 150):
        folder = folder / part
    folder.mkdir(parents=True)
    letter = folder / "letter.pdf"
    letter.write_bytes(b"%PDF notice")
    added = demo("evidence", "add", incident, str(letter), "--json")
    assert added.exit_code == 0, added.stderr[-2000:]
    sent = demo("notify", incident, "--to", "AG", "--channel", "letter", "--at", stamp(NOW), "--content", str(letter))
    assert sent.exit_code == 0, sent.stderr[-2000:]
    with Store.open(db_path) as store:
        kept = store.all(Evidence, incident_id=incident)
    assert len(kept) == 2 and all(e.source == str(letter.resolve()) for e in kept)


@pytest.mark.parametrize("args, key, message", [
    (("decide", "INC", "--by", "Kim", "--party", "insurer", "--text", "consent", "--cap", "25000"), "currency",
     "--currency: a spending cap needs its currency (e.g. USD)"),
    (("decide", "INC", "--by", "Kim", "--party", "insurer", "--text", "consent", "--currency", "USD"), "cap",
     "--cap: a currency (USD) without an amount"),
    (("cost", "INC", "--kind", "time", "--amount", "5", "--currency", "XYZ"), "currency", "--currency: 'XYZ' is not an ISO 4217"),
    (("notify", "INC", "--to", " ", "--channel", "email", "--at", "NOW"), "to", "--to: whom was notified?"),
    (("note", "INC", "text", "--at", "BEFORE"), "at", "--at: "),
    (("incident", "trigger", "INC", "first_activity", "--at", "NOW"), "at", "--at: must not be after the discovery ("),
])
def test_the_cli_and_the_forms_refuse_with_one_reading_of_what_was_typed(demo, incident, db_path, args, key, message):
    """A command's refusal is the draft's FieldError (the TUI form builds the same draft and shows the same reason
    under its own label): one line, times in the incident's zone (never UTC ISO), nothing written."""
    from msptui.acts import CostDraft, DecisionDraft, NotificationDraft
    from msptui.errors import FieldError
    from msptui.incidents import NoteDraft, TriggerDraft, get_incident

    subs = {"INC": incident, "NOW": stamp(NOW), "BEFORE": stamp(DISCOVERED - timedelta(hours=1))}
    args = [subs.get(a, a) for a in args]
    before = events(db_path)
    result = demo(*args)
    assert result.exit_code == 1 and message in result.stderr and "+00:00" not in result.stderr, result.stderr
    assert events(db_path) == before
    opts = dict(zip(args[2::2], args[3::2])) if args[0] != "incident" else dict(zip(args[4::2], args[5::2]))
    draft = {
        "decide": lambda: DecisionDraft(party=opts["--party"], by=opts["--by"], text=opts["--text"], cap=opts.get("--cap"),
                                        currency=opts.get("--currency")),
        "cost": lambda: CostDraft(kind=opts["--kind"], amount=opts["--amount"], currency=opts["--currency"]),
        "notify": lambda: NotificationDraft(to=opts["--to"], channel=opts["--channel"], at=opts["--at"]),
        "note": lambda: NoteDraft(text=args[2], at=args[4]),
        "incident": lambda: TriggerDraft(name=args[3], at=opts["--at"]),
    }[args[0]]()
    with Store.open(db_path) as store:
        inc = get_incident(store, incident)
    with pytest.raises(FieldError) as refused:
        draft.resolve(inc)
    assert refused.value.key == key and str(refused.value) in result.stderr
