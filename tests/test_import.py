"""Import is all-or-nothing with one clear line per problem; dump round-trips."""

import csv
import io
import json

import pytest

from msptui.errors import UserError
from msptui.recordfile import dump_data, import_count, import_file
from msptui.store import Store

from .conftest import SIGNED, client_rec, record_file

AGREEMENT = {
    "id": "acme-msa", "client_id": "acme", "type": "msa", "title": "Master Services Agreement",
    "effective_from": "2025-01-01", "signature": SIGNED,
    "scope": [{"item": "mfa", "state": "included", "clause": "Schedule B §3"}],
}


def _events(store: Store) -> int:
    return store.head()[0]


@pytest.fixture(params=["import_file", "import_count"])
def importer(request):
    """Both importers: the in-memory one (API) and the streamed one 'msptui import' uses, with the same errors."""
    return {"import_file": import_file, "import_count": import_count}[request.param]


def test_the_streamed_import_writes_the_same_chain_as_the_in_memory_one(tmp_path):
    """Same records, same order, same events (so a dossier or verify cannot tell which one wrote them)."""
    from msptui.demo import DEMO_FILE, demo_data

    data = demo_data()
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    chains = []
    for name, fn in (("a", import_file), ("b", import_count)):
        with Store.open(tmp_path / f"{name}.db", create=True) as s:
            fn(s, path)
            chains.append([(r["kind"], r["payload"], r["subject"], r["rtype"], r["rid"])
                           for r in s.conn.execute("SELECT * FROM events ORDER BY id")])
            tables = {t: s.raw_records(t) for t in ("clients", "agreements", "reviews", "policies")}
            chains[-1].append(tables)
    assert chains[0] == chains[1] and len(chains[0]) > 50
    assert DEMO_FILE.exists()


def test_import_writes_every_record_once(store, tmp_path):
    path = record_file(tmp_path, clients=[client_rec("acme"), client_rec("beta")], agreements=[AGREEMENT])
    assert len(import_file(store, path)) == 3
    assert len(import_file(store, path)) == 0, "re-importing the same data must change nothing"
    assert _events(store) == 3


@pytest.mark.parametrize(
    "lists, expected",
    [
        ({"clients": [client_rec("acme"), client_rec("beta", home_tz="Mars/Base")]},
         "clients[1] (id 'beta'): field 'home_tz': unknown IANA time zone 'Mars/Base'"),
        ({"clients": [client_rec("acme"), client_rec("acme")]}, "clients[1] (id 'acme'): duplicate id in this file"),
        ({"clients": [client_rec("acme")], "agreements": [{**AGREEMENT, "client_id": "nobody"}]},
         "agreements[0] (id 'acme-msa'): field 'client_id': no client with id 'nobody'"),
        ({"clients": [client_rec("acme")], "agreements": [{**AGREEMENT, "scope": [{"item": "mfaa", "state": "included"}]}]},
         "field 'scope.0.item': 'mfaa' is not a scope catalogue item id"),
        ({"clients": [client_rec("acme")], "agreements": [{**AGREEMENT, "signature": {**SIGNED, "signed_at": None}}]},
         "field 'signature': a signed agreement needs signed_at"),
        ({"clients": ["not an object"]}, "clients[0]: each record must be a JSON object"),
        ({"clients": [client_rec("acme", engagement="freebie")]}, "field 'engagement'"),
    ],
)
def test_one_bad_record_writes_nothing(store, tmp_path, lists, expected, importer):
    path = record_file(tmp_path, **lists)
    with pytest.raises(UserError) as exc:
        importer(store, path)
    message = str(exc.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message
    assert _events(store) == 0 and store.count("clients") == 0


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"{not json", "invalid JSON at line 1 column 2"),
        (b'{"format": "msptui", "version": 1, "clients": []}'.replace(b"[]", b"[\xff]"), "not valid UTF-8 at byte"),
        (b'[]', "top level must be a JSON object"),
        (b'{"format": "other", "version": 1}', 'expected "format": "msptui"'),
        (b'{"format": "msptui", "version": 1, "clientz": []}', "unknown top-level key 'clientz'"),
        (b'{"format": "msptui", "version": 1, "clients": {}}', "'clients' must be a list"),
        (b'{"format": "msptui", "version": 1, "clients": [{"id": "a", "id": "b"}]}', "key 'id' appears twice"),
    ],
)
def test_malformed_files(store, tmp_path, content, expected, importer):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(UserError, match=None) as exc:
        importer(store, path)
    assert expected in str(exc.value)
    assert _events(store) == 0


def test_references_may_point_at_records_already_stored(store, tmp_path):
    import_file(store, record_file(tmp_path, "a.json", clients=[client_rec("acme")]))
    assert len(import_file(store, record_file(tmp_path, "b.json", agreements=[AGREEMENT]))) == 1


def test_clients_csv(store, tmp_path):
    path = tmp_path / "psa.csv"
    path.write_text(
        "id,name,engagement,home_tz,us_states,data_held,public_company\n"
        "acme,\"Acme, Inc.\",managed,America/Chicago,TX;CA,pii;pci,yes\n"
        "beta,Beta,break_fix,UTC,,,no\n",
        encoding="utf-8",
    )
    assert len(import_file(store, path)) == 2
    rows = {r["id"]: r for r in dump_data(store)["clients"]}
    assert rows["acme"]["us_states"] == ["TX", "CA"] and rows["acme"]["public_company"] is True
    assert rows["acme"]["name"] == "Acme, Inc."


def test_clients_csv_error_names_the_line(store, tmp_path):
    path = tmp_path / "psa.csv"
    path.write_text("id,name,engagement,home_tz\nacme,Acme,managed,UTC\nbeta,Beta,managed,Nowhere/Zone\n")
    with pytest.raises(UserError, match=r"psa.csv: line 3 \(id 'beta'\): field 'home_tz'"):
        import_file(store, path)
    assert store.count("clients") == 0


def test_dump_import_dump_round_trips(tmp_path):
    from msptui.demo import load_demo
    from msptui.recordfile import dump_file

    with Store.open(tmp_path / "one.db", create=True) as first:
        load_demo(first)
        dump_file(first, tmp_path / "dump1.json")
    with Store.open(tmp_path / "two.db", create=True) as second:
        import_file(second, tmp_path / "dump1.json")
        dump_file(second, tmp_path / "dump2.json")
    one, two = (json.loads((tmp_path / f"dump{i}.json").read_text()) for i in (1, 2))
    assert one == two and len(one["clients"]) >= 8
    assert (tmp_path / "dump1.json").read_bytes() == (tmp_path / "dump2.json").read_bytes()


def test_clients_csv_sectors_round_trip(store, tmp_path, cli):
    path = tmp_path / "psa.csv"
    path.write_text("id,name,engagement,home_tz,sectors\nbank1,First Bank,managed,America/New_York,bank;critical_infrastructure\n")
    assert cli("import", str(path)).exit_code == 0
    row = next(csv.DictReader(io.StringIO(cli("clients", "--csv").stdout)))
    assert row["sectors"] == "bank;critical_infrastructure"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,engagement,home_tz,sectors\nx,X,managed,UTC,casino\n")
    result = cli("import", str(bad))
    assert result.exit_code == 1 and "field 'sectors.0'" in result.stderr


def test_an_incident_discovered_in_the_future_is_refused(store, tmp_path):
    """A wrong clock or zone must not produce an incident 'discovered' in 38 hours."""
    from msptui.models import Incident

    record = {"id": "acme-20991231-1", "client_id": "acme", "category": "bec", "summary": "from the future",
              "discovered": {"at": "2099-12-31T09:00:00Z", "tz": "UTC"}, "reported_by": "x"}
    Incident.model_validate({**record, "discovered": {"at": "2026-01-01T09:00:00Z", "tz": "UTC"}})  # valid but for the date
    path = record_file(tmp_path, clients=[client_rec("acme")], incidents=[record])
    with pytest.raises(UserError, match=r"incidents\[0\].*field 'discovered'.*in the future"):
        import_file(store, path)
    assert store.count("clients") == 0, "nothing was written"
