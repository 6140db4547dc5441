"""Hostile input: attacker-written text is kept and shown literally; bad input is refused whole."""

import csv
import io
import json
from pathlib import Path

import pytest

from msptui.errors import UserError
from msptui.recordfile import dump_data, import_file

from .conftest import client_rec, record_file

DATA = Path(__file__).with_name("data")
HOSTILE = json.loads((DATA / "hostile.json").read_text(encoding="utf-8"))
NAUGHTY = json.loads((DATA / "naughty-strings.json").read_text(encoding="utf-8"))


def _storable(text: str) -> bool:
    return bool(text.strip()) and "\x00" not in text and len(text) <= 500


def test_every_naughty_string_round_trips_exactly(store, tmp_path):
    names = [s for s in [*HOSTILE["display"], *NAUGHTY] if _storable(s)]
    clients = [client_rec(f"c{i}", name=name, notes=name) for i, name in enumerate(names)]
    import_file(store, record_file(tmp_path, clients=clients))
    stored = {c["id"]: c for c in dump_data(store)["clients"]}
    for i, name in enumerate(names):
        assert stored[f"c{i}"]["name"] == name and stored[f"c{i}"]["notes"] == name


def test_cli_shows_hostile_text_literally(cli, tmp_path):
    names = [s for s in HOSTILE["display"] if _storable(s)]
    cli("import", str(record_file(tmp_path, clients=[client_rec(f"c{i}", name=n) for i, n in enumerate(names)])))
    plain = cli("clients").stdout
    assert "\x1b" not in plain and "\u202e" not in plain and "\x07" not in plain
    assert "\\x1b[31mred\\x1b[0m" in plain and "\\u202eexe.txt" in plain
    assert "Acme [/prod]" in plain and "[@click=app.quit]x[/]" in plain
    assert json.loads(cli("clients", "--json").stdout)[0]["name"] == names[0]


def test_csv_export_neutralises_formulas(cli, tmp_path):
    formulas = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tTAB"]
    cli("import", str(record_file(tmp_path, clients=[client_rec(f"f{i}", name=n) for i, n in enumerate(formulas)])))
    rows = list(csv.DictReader(io.StringIO(cli("clients", "--csv").stdout)))
    assert [r["name"] for r in rows] == ["'" + f for f in formulas]


@pytest.mark.parametrize("field, value, fragment", [
    ("name", "a\x00b", "NUL"),
    ("name", "x" * 501, "at most 500"),
    ("notes", "y" * 20_001, "at most 20000"),
    ("home_tz", "Mars/Olympus", "unknown IANA time zone"),
    ("home_tz", "EST5EDT; rm -rf /", "unknown IANA time zone"),
    ("home_tz", "../../etc/localtime", "unknown IANA time zone"),
    ("id", "../../etc", "lower-case"),
])
def test_bad_fields_are_refused_whole(store, tmp_path, field, value, fragment):
    path = record_file(tmp_path, clients=[client_rec("good"), client_rec("bad", **{field: value})])
    with pytest.raises(UserError) as exc:
        import_file(store, path)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)
    assert store.count("clients") == 0


@pytest.mark.parametrize("value", HOSTILE["invalid_dates"])
def test_invalid_dates_are_refused(store, tmp_path, value):
    agreement = {"id": "a", "client_id": "good", "type": "msa", "title": "MSA", "effective_from": value}
    with pytest.raises(UserError, match="effective_from"):
        import_file(store, record_file(tmp_path, clients=[client_rec("good")], agreements=[agreement]))
    assert store.count("clients") == 0


def test_evidence_names_with_path_traversal_stay_text(store, tmp_path):
    from datetime import date, datetime, timedelta, timezone

    from msptui.demo import load_demo
    from msptui.incidents import add_evidence, open_incident

    load_demo(store, today=date(2026, 11, 27))
    inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                           tz="UTC", category="phishing", summary="<img src=http://127.0.0.1:9/x>")
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"MZ")
    before = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*") if "msptui.db" not in p.name)
    ev = add_evidence(store, inc.id, sample, name="../../../../etc/passwd")
    assert ev.name == "../../../../etc/passwd"
    after = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*") if "msptui.db" not in p.name)
    assert after == before, "recording evidence writes no file named after it"


def test_invalid_utf8_and_nul_in_files(store, tmp_path):
    bad = tmp_path / "psa.csv"
    # 0x81 is neither UTF-8 nor Windows-1252 (which CSV exports may be: \xff\xfe alone would read as "ÿþ")
    bad.write_bytes(b"id,name,engagement,home_tz\nacme,Acme \x81\x8d,managed,UTC\n")
    with pytest.raises(UserError, match=r"not valid UTF-8 at byte 37 \(line 2\), nor Windows-1252"):
        import_file(store, bad)
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"id,name,engagement,home_tz\nacme,Ac\x00me,managed,UTC\n")
    with pytest.raises(UserError, match="NUL"):
        import_file(store, nul)
    assert store.count("clients") == 0
