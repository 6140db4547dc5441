"""PSA exports: recognised by their headers, read in the encodings Windows desktops write,
every bad row reported at once with its physical line, nothing written unless all is well,
re-imports update, contract lines become scope lines only through the service mapping, and
an import never signs or declines anything."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msptui.errors import UserError
from msptui.models import Agreement, Client
from msptui.paths import DATA_DIR
from msptui.psa import MAX_PROBLEMS, ImportProblems, import_exports
from msptui.recordfile import dump_data, import_file
from msptui.store import Store

from .conftest import SIGNED, client_rec, record_file

TESTS_DATA = Path(__file__).with_name("data")
SERVICES = DATA_DIR / "psa" / "services-example.toml"
DEFAULTS = ("--engagement", "managed", "--tz", "America/Chicago")


def write(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def rows_csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def clients(store: Store) -> dict[str, dict]:
    return {c["id"]: c for c in dump_data(store)["clients"]}


def head(store: Store) -> int:
    return store.head()[0]


# ---------------------------------------------------------------------------
# Recognition: each vendor, display and API headers
# ---------------------------------------------------------------------------

COMPANY_EXPORTS = {
    "connectwise api": ("id,identifier,name,addressLine1,city,state,zip,country\n"
                        "7,AcmeCorp,Acme Inc,1 Main St,Austin,TX,78701,United States\n",
                        "ConnectWise", "acmecorp", ["US"], ["TX"]),
    "connectwise display": ("Identifier,Name,Address Line 1,State,Country\n"
                            "AcmeCorp,Acme Inc,1 Main St,Texas,United States\n",
                            "ConnectWise", "acmecorp", ["US"], ["TX"]),
    "autotask api": ("id,companyName,companyNumber,companyType,address1,city,state,postalCode\n"
                     "29684,Acme Inc,,1,1 Main St,Austin,TX,78701\n",
                     "Autotask", "at-29684", [], ["TX"]),
    "autotask display": ("Company Name,Company Number,Company Type,Address 1,City,State,Postal Code,Country\n"
                         "Acme Inc,A-100,Customer,1 Main St,Toronto,ON,M5V,Canada\n",
                         "Autotask", "at-no-a-100", ["CA"], []),
    "halopsa api": ("id,name,inactive,toplevel_id,toplevel_name,main_site_name\n"
                    "12,Acme Inc,false,1,Top,Main\n",
                    "HaloPSA", "halo-12", [], []),
    "halopsa display": ("ID,Name,Top Level Name,Main Site Name\n12,Acme Inc,Top,Main\n",
                        "HaloPSA", "halo-12", [], []),
    "it glue": ("id,name,organization-type-name,organization-status-name,short-name\n"
                "4410,Acme Inc,Customer,Active,ACME\n",
                "IT Glue", "itg-4410", [], []),
    "hudu": ("id,name,nickname,address_line_1,city,state,country_name,id_number\n"
             "31,Acme Inc,acme,1 Main St,Austin,TX,United States,\n",
             "Hudu", "hudu-31", ["US"], ["TX"]),
}


@pytest.mark.parametrize("kind", sorted(COMPANY_EXPORTS))
def test_company_exports_are_recognised_by_their_headers(cli, store, tmp_path, kind):
    text, vendor, cid, countries, states = COMPANY_EXPORTS[kind]
    result = cli("import", str(write(tmp_path, "companies.csv", text)), *DEFAULTS)
    assert result.exit_code == 0, result.stderr
    assert vendor in result.stdout and f"create client {cid}: Acme Inc" in result.stdout
    row = clients(store)[cid]
    assert (row["name"], row["engagement"], row["home_tz"]) == ("Acme Inc", "managed", "America/Chicago")
    assert row["countries"] == countries and row["us_states"] == states


def test_unknown_headers_fail_naming_the_headers_and_the_way_out(cli, store, tmp_path):
    path = write(tmp_path, "crm.csv", "Account Code,Account,Tier\nA1,Acme,Gold\n")
    result = cli("import", str(path), *DEFAULTS)
    assert result.exit_code == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: ") and "not a recognised export" in message
    assert "'Account Code', 'Account', 'Tier'" in message and "--map FILE" in message
    assert head(store) == 0


def test_map_file_imports_any_export_and_translates_values(cli, store, tmp_path):
    mapping = write(tmp_path, "crm.toml", """
[[format]]
record = "clients"
[format.fields]
id = { columns = ["Account Code"], prefix = "crm-" }
name = "Account"
engagement = { columns = ["Plan"], values = { "Fully Managed" = "managed", "Break Fix" = "break_fix" } }
home_tz = "Zone"
""")
    path = write(tmp_path, "crm.csv", "Account Code,Account,Plan,Zone\nA1,Acme,Fully Managed,Europe/London\n"
                                      "B2,Beta,Break Fix,\n")
    result = cli("import", str(path), "--map", str(mapping), "--tz", "UTC")
    assert result.exit_code == 0, result.stderr
    rows = clients(store)
    assert rows["crm-a1"]["engagement"] == "managed" and rows["crm-a1"]["home_tz"] == "Europe/London"
    assert rows["crm-b2"]["engagement"] == "break_fix" and rows["crm-b2"]["home_tz"] == "UTC", "--tz fills an empty cell"
    bad = write(tmp_path, "crm2.csv", "Account Code,Account,Plan,Zone\nC3,Gamma,Platinum,UTC\n")
    result = cli("import", str(bad), "--map", str(mapping))
    assert result.exit_code == 1
    assert "line 2 (id 'crm-c3'): field 'engagement' (column 'Plan'): 'Platinum' is not in the mapping's values" in result.stderr


@pytest.mark.parametrize("body, fragment", [
    ("[[format]]\nrecord = \"clients\"\n[format.fields]\nid = \"A\"\nnmae = \"B\"\n", "field 'nmae' is not a clients field"),
    ("[[format]]\nrecord = \"client\"\n", "'record' must be one of"),
    ("[[format]]\nrecord = \"clients\"\n[format.fields]\nname = \"B\"\n", "needs field 'id'"),
    ("not toml at all [", "invalid TOML"),
    ("x = 1\n", "needs at least one [[format]]"),
])
def test_bad_mapping_files_are_one_line_errors(cli, tmp_path, body, fragment):
    mapping = write(tmp_path, "m.toml", body)
    result = cli("import", str(write(tmp_path, "x.csv", "A,B\n1,2\n")), "--map", str(mapping))
    assert result.exit_code == 1 and fragment in result.stderr and str(mapping) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------------
# Encodings, line endings, quoting
# ---------------------------------------------------------------------------

NAMES = ["Café Müller GmbH", "Zoë's Bäckerei, Ltd.", "Crème \"Brûlée\" S.à r.l."]


@pytest.mark.parametrize("encoding, newline, delimiter, label", [
    ("cp1252", "\r\n", ",", "Windows-1252"),
    ("utf-8-sig", "\r\n", ",", "UTF-8 with BOM"),
    ("utf-8", "\n", ",", "UTF-8"),
    ("utf-16", "\r\n", "\t", "UTF-16 with BOM"),  # Excel "Unicode text": UTF-16 LE with BOM, tab-separated
    ("utf-8", "\n", ";", "UTF-8"),  # European Excel: semicolons
])
def test_encodings_line_endings_and_quoting(store, tmp_path, encoding, newline, delimiter, label):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["identifier", "name", "state", "country"])
    for i, name in enumerate(NAMES):
        writer.writerow([f"C{i}", name, "", "Germany"])
    path = write(tmp_path, "cw.csv", out.getvalue() + "\n\n", encoding=encoding, newline=newline)
    if encoding == "utf-16":
        assert path.read_bytes()[:2] == b"\xff\xfe", "the LE byte-order mark is what Excel writes"
    plan, events = import_exports(store, [path], defaults=_defaults())
    assert plan.files[0].encoding == label and plan.files[0].blank == 2
    assert [clients(store)[f"c{i}"]["name"] for i in range(3)] == NAMES
    assert len(events) == 3


def _defaults(**extra):
    from msptui.psa import Defaults

    return Defaults(engagement="managed", home_tz="UTC", **extra)


def test_encoding_option_and_unreadable_files_name_the_encoding(cli, store, tmp_path):
    latin = write(tmp_path, "latin.csv", "identifier,name\nC1,Café\n", encoding="cp1252")
    assert cli("import", str(latin), *DEFAULTS, "--encoding", "cp1252").exit_code == 0
    assert clients(store)["c1"]["name"] == "Café"
    result = cli("import", str(latin), *DEFAULTS, "--encoding", "utf-8")
    assert result.exit_code == 1 and "cannot be read as utf-8: byte 0xe9 at byte 22 (line 2)" in result.stderr
    result = cli("import", str(latin), *DEFAULTS, "--encoding", "klingon")
    assert result.exit_code == 1 and "--encoding 'klingon' is not an encoding" in result.stderr
    neither = tmp_path / "neither.csv"
    neither.write_bytes(b"identifier,name\nC2,Bad \x81 byte\n")
    result = cli("import", str(neither), *DEFAULTS)
    assert result.exit_code == 1
    assert "not valid UTF-8 at byte 23 (line 2), nor Windows-1252 (byte 0x81 at byte 23" in result.stderr
    no_bom = write(tmp_path, "nobom.csv", "identifier,name\nC3,X\n", encoding="utf-16-le")
    result = cli("import", str(no_bom), *DEFAULTS)
    assert result.exit_code == 1 and "UTF-16 without a byte-order mark" in result.stderr
    assert sorted(clients(store)) == ["c1"]


# ---------------------------------------------------------------------------
# Bad rows: all at once, physical lines, nothing written
# ---------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_physical_line_and_nothing_is_written(cli, store, tmp_path):
    text = ("identifier,name,state,country\n"     # 1
            "\n"                                  # 2 blank
            "GOOD1,Good One,TX,United States\n"   # 3
            ",No Id,,\n"                          # 4: no id
            "\n"                                  # 5 blank
            ",,,\n"                               # 6 blank (only separators)
            'GOOD2,"Multi\nline, name",,\n'       # 7-8: a quoted newline
            "BAD3,Bad State,Texsa,United States\n"  # 9
            "BAD4,Bad Country,,Narnia\n"          # 10
            "GOOD1,Good Again,,\n")               # 11: the same identifier again
    path = write(tmp_path, "cw.csv", text, newline="\r\n")
    before = head(store)
    result = cli("import", str(path), *DEFAULTS)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    problems = [ln for ln in lines if ln.startswith(str(path))]
    assert problems == [
        f"{path}: line 4: field 'id' (column 'identifier'): empty",
        f"{path}: line 9 (id 'bad3'): field 'us_states' (column 'state'): 'Texsa' is not a US state name or USPS code",
        f"{path}: line 10 (id 'bad4'): field 'countries' (column 'country'): 'Narnia' is not a country name or ISO 3166 code",
        f"{path}: line 11 (id 'good1'): 'GOOD1' appears again (first on line 3)",
    ]
    assert lines[-1] == "Error: 4 problems; nothing was imported"
    assert head(store) == before and store.count("clients") == 0


def test_cell_problems_and_record_problems_are_reported_in_one_run(store, tmp_path):
    text = ("id,name,engagement,home_tz,public_company\n\n"
            "acme,Acme,managed,UTC,maybe\n"          # 3: a cell that cannot be read
            "beta,Beta,managed,Mars/Base,no\n"       # 4: a record that does not validate
            "gamma,Gamma,managed,UTC,yes\n")
    path = write(tmp_path, "clients.csv", text)
    agreements = write(tmp_path, "agreements.csv", "id,name,company.identifier,startDate,agreementStatus\n"
                                                   "1,For Acme,acme,2025-01-01,Active\n2,For Nobody,nobody,2025-01-01,Active\n")
    with pytest.raises(ImportProblems) as exc:
        import_exports(store, [path, agreements])
    assert exc.value.problems == [
        f"{path}: line 3 (id 'acme'): field 'public_company': expected true or false, got 'maybe'",
        f"{path}: line 4 (id 'beta'): field 'home_tz': unknown IANA time zone 'Mars/Base'",
        f"{agreements}: line 3 (id 'cw-agreement-2'): field 'client' (column 'company.identifier'): no client 'nobody' "
        "in these files or the database (import the companies export in the same command, or first)",
    ], "the agreement of a client whose own row failed is not reported twice"
    assert head(store) == 0


def test_at_most_fifty_problems_are_listed_with_the_total(cli, store, tmp_path):
    rows = [[f"c{i}", f"Client {i}", "Mars/Base"] for i in range(120)]
    path = write(tmp_path, "m.csv", rows_csv(["id", "name", "home_tz"], rows))
    result = cli("import", str(path), "--engagement", "managed")
    assert result.exit_code == 1
    problems = [ln for ln in result.stderr.splitlines() if ln.startswith(str(path))]
    assert len(problems) == MAX_PROBLEMS
    assert problems[0] == f"{path}: line 2 (id 'c0'): field 'home_tz': unknown IANA time zone 'Mars/Base'"
    assert problems[-1].startswith(f"{path}: line {MAX_PROBLEMS + 1} (id 'c{MAX_PROBLEMS - 1}')")
    assert result.stderr.strip().splitlines()[-1] == f"Error: 120 problems (first {MAX_PROBLEMS} shown); nothing was imported"
    assert store.count("clients") == 0


def test_missing_engagement_and_zone_are_one_line_for_the_file(cli, store, tmp_path):
    rows = [[f"C{i}", f"Client {i}"] for i in range(30)]
    result = cli("import", str(write(tmp_path, "cw.csv", rows_csv(["identifier", "name"], rows))))
    assert result.exit_code == 1
    problems = [ln for ln in result.stderr.splitlines() if "cw.csv" in ln]
    assert len(problems) == 1 and "give --engagement (managed, co_managed" in problems[0] and "--tz ZONE" in problems[0]


def test_non_iso_dates_need_a_date_format(cli, store, tmp_path):
    assert cli("import", str(write(tmp_path, "c.csv", "identifier,name\nAcme,Acme\n")), *DEFAULTS).exit_code == 0
    agreements = write(tmp_path, "a.csv", "id,name,company.identifier,startDate,endDate,agreementStatus\n"
                                          "5,Gold,Acme,01/15/2025,12/31/2025,Active\n")
    result = cli("import", str(agreements))
    assert result.exit_code == 1
    assert "line 2 (id 'cw-agreement-5'): field 'effective_from' (column 'startDate'): '01/15/2025' is not an ISO date" in result.stderr
    assert cli("import", str(agreements), "--date-format", "%m/%d/%Y").exit_code == 0
    stored = store.get(Agreement, "cw-agreement-5")
    assert (str(stored.effective_from), str(stored.effective_to)) == ("2025-01-15", "2025-12-31")


# ---------------------------------------------------------------------------
# Ids, dry run, re-import
# ---------------------------------------------------------------------------


def test_id_collisions_are_reported_with_both_lines(cli, store, tmp_path):
    path = write(tmp_path, "cw.csv", "identifier,name\nAcme Corp,Acme\nBeta,Beta\nacme-corp,Another Acme\n")
    result = cli("import", str(path), *DEFAULTS)
    assert result.exit_code == 1
    assert (f"{path}: line 4 (id 'acme-corp'): 'acme-corp' and 'Acme Corp' (line 2) both become id 'acme-corp'"
            in result.stderr)
    assert store.count("clients") == 0


def test_ids_are_stable_across_renames(store, tmp_path):
    import_exports(store, [write(tmp_path, "a.csv", "identifier,name\nAcmeCorp,Acme\n")], defaults=_defaults())
    plan, events = import_exports(store, [write(tmp_path, "b.csv", "identifier,name\nAcmeCorp,Acme Holdings\n")],
                                  defaults=_defaults())
    assert sorted(clients(store)) == ["acmecorp"] and clients(store)["acmecorp"]["name"] == "Acme Holdings"
    assert [(c.action, c.id, c.fields) for c in plan.changes] == [("change", "acmecorp", ["name"])]


def test_dry_run_writes_nothing_and_lists_creates_and_changes(cli, store, tmp_path, db_path):
    first = write(tmp_path, "one.csv", "identifier,name\nAcme,Acme\nBeta,Beta\n")
    assert cli("import", str(first), *DEFAULTS).exit_code == 0
    before = head(store)
    second = write(tmp_path, "two.csv", "identifier,name\nAcme,Acme Renamed\nBeta,Beta\nGamma,Gamma\n")
    result = cli("import", str(second), *DEFAULTS, "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    assert "change client acme: name" in out and "create client gamma: Gamma" in out and "unchanged: 1 records" in out
    assert out[-1] == "dry run: nothing written (1 to create, 1 to change)"
    assert head(store) == before and clients(store)["acme"]["name"] == "Acme"


def test_dry_run_without_a_database_creates_none(cli, tmp_path):
    db = tmp_path / "new" / "msptui.db"
    result = cli("import", str(write(tmp_path, "c.csv", "identifier,name\nAcme,Acme\n")), *DEFAULTS, "--dry-run", db=db)
    assert result.exit_code == 0 and "create client acme: Acme" in result.stdout
    assert not db.exists() and not db.parent.exists()


def test_refused_import_leaves_no_database_behind(cli, tmp_path):
    db = tmp_path / "msptui-new.db"
    result = cli("import", str(write(tmp_path, "c.csv", "identifier,name\nAcme,Acme\n")), db=db)
    assert result.exit_code == 1 and not db.exists()


def test_reimport_updates_with_one_event_keeps_msptui_fields_and_identical_changes_nothing(store, tmp_path):
    path = write(tmp_path, "cw.csv", "identifier,name,state,country\nAcme,Acme,TX,United States\n")
    import_exports(store, [path], defaults=_defaults())
    acme = store.get(Client, "acme")
    # the engineer records what the PSA does not have
    store.put(Client.model_validate({**acme.model_dump(mode="json"), "engagement": "co_managed", "sectors": ["healthcare"],
                                     "us_states": ["TX", "CA"]}))
    before = head(store)
    _, events = import_exports(store, [path], defaults=_defaults())
    assert events == [] and head(store) == before, "identical data: no event"
    renamed = write(tmp_path, "cw2.csv", "identifier,name,state,country\nAcme,Acme Health,TX,United States\n")
    _, events = import_exports(store, [renamed], defaults=_defaults())
    assert len(events) == 1 and head(store) == before + 1
    row = clients(store)["acme"]
    assert row["name"] == "Acme Health"
    assert (row["engagement"], row["sectors"], row["us_states"]) == ("co_managed", ["healthcare"], ["TX", "CA"])


# ---------------------------------------------------------------------------
# Agreements and scope lines
# ---------------------------------------------------------------------------


def _services(tmp_path: Path, extra: str = "") -> Path:
    return write(tmp_path, "services.toml", SERVICES.read_text(encoding="utf-8") + extra)


def test_connectwise_agreements_and_additions_become_scope_never_signed(cli, store, tmp_path):
    companies = write(tmp_path, "companies.csv", "identifier,name\nAcme,Acme\n")
    agreements = write(tmp_path, "agreements.csv",
                       "id,name,type.name,company.identifier,startDate,endDate,agreementStatus,dateCancelled,parentAgreement.id\n"
                       "10,Managed Gold,Managed Services,Acme,2025-01-01T00:00:00Z,,Active,,\n"
                       "11,Pen test project,Project,Acme,2025-02-01,2025-12-31,Cancelled,2025-03-31,10\n")
    additions = write(tmp_path, "additions.csv",
                      "id,agreementId,product.identifier,description,effectiveDate,cancelledDate\n"
                      "1,10,EDR,EDR seats,2025-01-01,\n"
                      "2,10,Patch Management,,2024-12-01,\n"
                      "3,10,Toner,,2025-01-01,\n"
                      "4,10,Toner,,2025-01-01,\n"
                      "5,10,Hardware,,2025-01-01,\n"
                      "6,10,MFA,,2025-06-01,\n"
                      "7,11,Penetration Test (client-contracted),,,\n")
    result = cli("import", str(companies), str(agreements), str(additions), *DEFAULTS, "--services", str(SERVICES))
    assert result.exit_code == 0, result.stderr
    assert "not in the service mapping (no scope line): 'Toner' (2 lines)" in result.stdout
    assert "Hardware" not in result.stdout, "an entry with items = [] is known and silent"
    gold = store.get(Agreement, "cw-agreement-10")
    assert gold.signature.status == "unsigned" and gold.signature.signed_at is None
    assert gold.type == "schedule" and gold.client_id == "acme" and gold.effective_to is None
    scope = {(line.item, line.state.value, str(line.effective_from) if line.effective_from else None) for line in gold.scope}
    assert scope == {("edr", "included", None), ("patch_os", "included", None), ("patch_thirdparty", "included", None),
                     ("mfa", "included", "2025-06-01")}, "a line added later starts later"
    project = store.get(Agreement, "cw-agreement-11")
    assert project.type == "sow", "[agreements.types] maps the PSA's 'Project'"
    assert str(project.effective_to) == "2025-03-31", "a cancellation ends the agreement early"
    assert project.parent_id == "cw-agreement-10"
    assert [(line.item, line.state.value) for line in project.scope] == [("pen_testing", "third_party")]
    for agreement in store.all(Agreement):
        assert all(line.state.value != "declined" for line in agreement.scope)


def test_autotask_contracts_services_and_service_names(store, tmp_path):
    files = [
        write(tmp_path, "companies.csv", "id,companyName,state\n100,Acme,TX\n"),
        write(tmp_path, "services.csv", "id,name,isActive\n501,Managed EDR,true\n502,SaaS Backup,true\n"),
        write(tmp_path, "contracts.csv", "id,companyID,contractName,contractType,startDate,endDate\n"
                                         "900,100,Acme Managed,7,2025-01-01,2025-12-31\n"),
        write(tmp_path, "contractservices.csv", "id,contractID,serviceID,invoiceDescription\n"
                                                "1,900,501,\n2,900,502,\n3,900,999,Unknown thing\n"),
    ]
    types = '\n[agreements.types]\n"7" = "msa"\n'
    mapping = _services(tmp_path).read_text(encoding="utf-8").replace('[agreements.types]\n', types.lstrip("\n"), 1)
    services = write(tmp_path, "svc.toml", mapping)
    plan, _ = import_exports(store, files, services=services, defaults=_defaults())
    contract = store.get(Agreement, "at-contract-900")
    assert contract.client_id == "at-100" and contract.type == "msa" and contract.signature.status == "unsigned"
    assert sorted((line.item, line.state.value) for line in contract.scope) == [("backup_saas", "included"), ("edr", "included")]
    assert plan.unmapped == {"Unknown thing": 1}


def test_halopsa_details_flagged_not_included_become_excluded(store, tmp_path):
    files = [
        write(tmp_path, "clients.csv", "id,name,toplevel_name\n12,Acme,Top\n"),
        write(tmp_path, "headers.csv", "id,client_id,ref,contracttype_name,start_date,end_date\n"
                                       "40,12,,Managed Services,2025-01-01,\n"),
        write(tmp_path, "details.csv", "plan_contract_id,seq,requesttype_name,not_included_in_contract\n"
                                       "40,1,Email Security,false\n40,2,Server Backup,true\n"),
    ]
    import_exports(store, files, services=SERVICES, defaults=_defaults())
    contract = store.get(Agreement, "halo-contract-40")
    assert contract.title == "Managed Services", "an empty ref falls back to the contract type name"
    assert sorted((line.item, line.state.value) for line in contract.scope) == [
        ("backup_onprem", "excluded"), ("email_security", "included")]


def test_contract_lines_need_a_service_mapping_and_the_mapping_cannot_decline(cli, store, tmp_path):
    lines = write(tmp_path, "additions.csv", "id,agreementId,product.identifier\n1,10,EDR\n")
    result = cli("import", str(lines))
    assert result.exit_code == 1 and "pass --services FILE" in result.stderr
    declined = _services(tmp_path, '\n[[service]]\nmatch = "Refused"\nitems = ["mdr_soc"]\nstate = "declined"\n')
    result = cli("import", str(lines), "--services", str(declined))
    assert result.exit_code == 1 and "state 'declined' cannot be imported" in result.stderr
    unknown = _services(tmp_path, '\n[[service]]\nmatch = "Widget"\nitems = ["mfaa"]\n')
    result = cli("import", str(lines), "--services", str(unknown))
    assert result.exit_code == 1 and "'mfaa' is not a scope catalogue item id" in result.stderr
    assert head(store) == 0


def test_lines_for_an_unknown_agreement_and_agreements_for_an_unknown_client_are_row_errors(cli, store, tmp_path):
    agreements = write(tmp_path, "agreements.csv", "id,name,company.identifier,startDate,agreementStatus\n"
                                                   "10,Gold,Nobody,2025-01-01,Active\n")
    additions = write(tmp_path, "additions.csv", "id,agreementId,product.identifier\n1,77,EDR\n")
    result = cli("import", str(agreements), str(additions), "--services", str(SERVICES))
    assert result.exit_code == 1
    assert f"{agreements}: line 2 (id 'cw-agreement-10'): field 'client' (column 'company.identifier'): no client 'nobody'" in result.stderr
    assert f"{additions}: line 2: field 'agreement' (column 'agreementId'): no agreement 'cw-agreement-77'" in result.stderr


def test_signed_agreements_are_never_changed_and_declines_survive(cli, store, tmp_path):
    companies = write(tmp_path, "companies.csv", "identifier,name\nAcme,Acme\n")
    agreements = write(tmp_path, "agreements.csv", "id,name,company.identifier,startDate,agreementStatus\n"
                                                   "10,Gold,Acme,2025-01-01,Active\n20,Silver,Acme,2025-01-01,Active\n")
    additions = write(tmp_path, "additions.csv", "id,agreementId,product.identifier\n1,10,EDR\n2,20,EDR\n")
    assert cli("import", str(companies), str(agreements), str(additions), *DEFAULTS, "--services", str(SERVICES)).exit_code == 0
    gold = store.get(Agreement, "cw-agreement-10")
    store.put(Agreement.model_validate({**gold.model_dump(mode="json"), "signature": SIGNED}))
    silver = store.get(Agreement, "cw-agreement-20").model_dump(mode="json")
    silver["scope"].append({"item": "mdr_soc", "state": "declined", "clause": "QBR 2025-03"})
    store.put(Agreement.model_validate(silver))
    before = head(store)
    changed = write(tmp_path, "additions2.csv", "id,agreementId,product.identifier\n1,10,MDR\n2,20,Managed AV\n")
    result = cli("import", str(agreements), str(changed), "--services", str(SERVICES))
    assert result.exit_code == 0, result.stderr
    assert "kept agreement cw-agreement-10: signed in msptui: an import never changes a signed agreement" in result.stdout
    assert [(line.item, line.state.value) for line in store.get(Agreement, "cw-agreement-10").scope] == [("edr", "included")]
    assert sorted((line.item, line.state.value) for line in store.get(Agreement, "cw-agreement-20").scope) == [
        ("endpoint_av", "included"), ("mdr_soc", "declined")], "the PSA's lines replace its own; msptui's decline stays"
    assert head(store) == before + 1


def test_one_item_both_included_and_excluded_is_refused(store, tmp_path):
    files = [
        write(tmp_path, "clients.csv", "id,name,toplevel_name\n12,Acme,Top\n"),
        write(tmp_path, "headers.csv", "id,client_id,ref,start_date\n40,12,Gold,2025-01-01\n"),
        write(tmp_path, "details.csv", "plan_contract_id,requesttype_name,not_included_in_contract\n"
                                       "40,EDR,false\n40,Managed EDR,true\n"),
    ]
    with pytest.raises(ImportProblems) as exc:
        import_exports(store, files, services=SERVICES, defaults=_defaults())
    assert "line 3: maps 'edr' as excluded but line 2 maps it as included" in str(exc.value)
    assert head(store) == 0


# ---------------------------------------------------------------------------
# Hostile text, arbitrary bytes, msptui's own CSV
# ---------------------------------------------------------------------------


def _storable(text: str) -> bool:
    return bool(text.strip()) and "\x00" not in text and len(text) <= 500


def test_hostile_names_round_trip_exactly_through_a_psa_export(cli, store, tmp_path):
    hostile = json.loads((TESTS_DATA / "hostile.json").read_text(encoding="utf-8"))["display"]
    naughty = json.loads((TESTS_DATA / "naughty-strings.json").read_text(encoding="utf-8"))
    names = [s for s in [*hostile, *naughty] if _storable(s)]
    text = rows_csv(["identifier", "name"], [[f"C{i}", name] for i, name in enumerate(names)])
    path = write(tmp_path, "hostile.csv", text, encoding="utf-8-sig", newline="\n")
    result = cli("import", str(path), *DEFAULTS)
    assert result.exit_code == 0, result.stderr
    stored = clients(store)
    assert [stored[f"c{i}"]["name"] for i in range(len(names))] == names
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout, "the import's own listing shows text literally"
    assert "\\x1b[31mred\\x1b[0m" in result.stdout


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_imported_or_refused_never_crash(tmp_path, blob):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(b"identifier,name\n" + blob)
    with Store.open(tmp_path / "fuzz.db", create=True) as store:
        before = store.head()
        try:
            import_exports(store, [path], defaults=_defaults())
        except UserError as exc:
            assert str(exc) and store.head() == before


def test_msptui_client_csv_gains_encodings_and_all_errors_at_once(store, tmp_path):
    text = "id,name,engagement,home_tz\n\nacme,Café,managed,UTC\nbeta,Beta,managed,Nowhere/Zone\ngamma,Gamma,freebie,UTC\n"
    path = write(tmp_path, "clients.csv", text, encoding="cp1252", newline="\r\n")
    with pytest.raises(UserError) as exc:
        import_file(store, path)
    assert str(exc.value).splitlines() == [
        f"{path}: line 4 (id 'beta'): field 'home_tz': unknown IANA time zone 'Nowhere/Zone'",
        f"{path}: line 5 (id 'gamma'): field 'engagement': Input should be 'managed', 'co_managed', 'security_only', "
        "'block_hours', 'break_fix', 'project' or 'retainer'",
    ]
    path.write_bytes(path.read_bytes().replace(b"Nowhere/Zone", b"UTC").replace(b"freebie", b"project"))
    assert len(import_file(store, path)) == 3 and clients(store)["acme"]["name"] == "Café"


def test_json_record_files_refuse_psa_options_and_support_dry_run(cli, store, tmp_path):
    path = record_file(tmp_path, clients=[client_rec("acme")])
    result = cli("import", str(path), "--engagement", "managed")
    assert result.exit_code == 1 and "--engagement applies to CSV exports" in result.stderr
    result = cli("import", str(path), "--dry-run")
    assert result.exit_code == 0 and "create client acme: Acme Ltd" in result.stdout and head(store) == 0
    result = cli("import", str(path), str(write(tmp_path, "x.csv", "identifier,name\nA,A\n")))
    assert result.exit_code == 1 and "not a mix" in result.stderr


def test_exit_codes(cli, tmp_path):
    good = write(tmp_path, "c.csv", "identifier,name\nAcme,Acme\n")
    assert cli("import", str(good), *DEFAULTS).exit_code == 0
    bad = cli("import", str(good), "--engagement", "managed", "--tz", "Mars/Base")
    assert bad.exit_code == 1 and bad.stderr.strip().splitlines()[-1].startswith("Error: --tz 'Mars/Base'")
    assert cli("import", str(good), "--engagement", "freebie").exit_code == 1, "an unknown engagement is bad input (issue 14)"
    missing = cli("import", str(tmp_path / "nope.csv"), *DEFAULTS)
    assert missing.exit_code == 1 and "nope.csv: no such file" in missing.stderr


def test_country_default_and_names(cli, store, tmp_path):
    path = write(tmp_path, "c.csv", "identifier,name\nAcme,Acme\n")
    assert cli("import", str(path), *DEFAULTS, "--country", "United Kingdom", "--country", "de").exit_code == 0
    assert clients(store)["acme"]["countries"] == ["GB", "DE"]
    result = cli("import", str(path), *DEFAULTS, "--country", "Atlantis")
    assert result.exit_code == 1 and "--country 'Atlantis' is not a country name" in result.stderr


# ---------------------------------------------------------------------------
# The shipped mapping data
# ---------------------------------------------------------------------------


def test_every_shipped_mapping_entry_has_a_source():
    for path in sorted((DATA_DIR / "psa").glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        assert raw.get("source") or path.name == "countries.toml", path
        for fmt in raw.get("format", []):
            assert fmt.get("source"), (path, fmt.get("id"))
            for name, spec in fmt["fields"].items():
                assert isinstance(spec, dict) and spec.get("source"), (path, fmt["id"], name)
        for entry in raw.get("service", []):
            assert entry.get("source"), (path, entry)
            assert entry.get("state", "included") != "declined"
        for name, alias in raw.get("alias", {}).items():
            assert alias.get("source") and len(alias["code"]) == 2, (path, name)


def test_no_two_shipped_formats_claim_the_same_headers():
    from msptui.psa import builtin_formats
    from msptui.tabular import Table

    formats = builtin_formats()
    for fmt in formats:
        headers = [*fmt.recognise, *fmt.recognise_any]
        table = Table(Path("x.csv"), "UTF-8", headers, {h: h for h in headers})
        from msptui.psa import recognise

        assert recognise(table) is fmt, fmt.id
