"""The demo never reaches the user's real database, and a demo database says what it is;
``msptui catalog`` lists every scope item id a user can type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from msptui.cli import main
from msptui.demo import is_demo, load_demo
from msptui.errors import UserError
from msptui.paths import DATA_DIR
from msptui.store import Store

from .conftest import client_rec, record_file


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A private HOME/XDG data dir, so the default database is one this test owns."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    monkeypatch.delenv("MSPTUI_DB", raising=False)
    return tmp_path / "home" / ".local" / "share" / "msptui"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_demo_without_db_goes_to_its_own_database_never_the_default(home):
    result = run("demo")
    assert result.exit_code == 0, result.stderr
    demo_db, default_db = home / "demo.db", home / "msptui.db"
    assert demo_db.exists() and not default_db.exists()
    assert f"msptui --db {demo_db}" in result.stdout
    with Store.open(demo_db) as store:
        assert is_demo(store) and store.count("clients") >= 8
    # the default database is still missing: commands say so instead of showing demo clients
    assert run("clients").exit_code == 1 and not default_db.exists()
    assert run("--db", str(demo_db), "clients").exit_code == 0


def test_demo_refuses_the_default_database_even_when_named(home, monkeypatch):
    default_db = home / "msptui.db"
    result = run("--db", str(default_db), "demo")
    assert result.exit_code == 1 and "is the default database, where real records go" in result.stderr
    monkeypatch.setenv("MSPTUI_DB", str(default_db))
    assert run("demo").exit_code == 1
    assert not default_db.exists()


def test_demo_refuses_a_database_holding_real_records(home, tmp_path):
    real = tmp_path / "real.db"
    assert run("--db", str(real), "import", str(record_file(tmp_path, clients=[client_rec("acme")]))).exit_code == 0
    with Store.open(real) as store:
        before = store.head()
        assert not is_demo(store)
    result = run("--db", str(real), "demo")
    assert result.exit_code == 1 and "holds real records" in result.stderr
    with Store.open(real) as store:
        assert store.head() == before and store.count("clients") == 1
        with pytest.raises(UserError, match="holds real records"):
            load_demo(store)


def test_a_demo_database_is_marked_by_its_first_event_and_reloads(tmp_path):
    with Store.open(tmp_path / "d.db", create=True) as store:
        assert not is_demo(store), "an empty database is not a demo one"
        load_demo(store)
        first = next(store.events())
        assert first.id == 1 and first.kind == "database.demo" and is_demo(store)
        assert load_demo(store) == [], "reloading the same day changes nothing"
        assert is_demo(store)
    from msptui.verify import verify

    with Store.open(tmp_path / "d.db") as store:
        assert verify(store).ok, "the marker is an ordinary link of the chain"


def test_importing_into_a_demo_database_warns(home, tmp_path):
    demo_db = home / "demo.db"
    assert run("demo").exit_code == 0
    result = run("--db", str(demo_db), "import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    assert result.exit_code == 0 and "is a demo database" in result.stderr


def test_catalog_json_lists_every_catalogue_item(cli):
    raw = json.loads((DATA_DIR / "scope-catalog.json").read_text(encoding="utf-8"))
    result = cli("catalog", "--json", db=None)
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [i["id"] for i in listed] == [i["id"] for i in raw["items"]]
    by_id = {i["id"]: i for i in raw["items"]}
    security = set(raw["security_relevant_categories"])
    for item in listed:
        source = by_id[item["id"]]
        assert item["title"] == source["label"] and item["category"] == source["category"]
        assert item["security_relevant"] == (source["category"] in security)
        assert item["cis_v8"] == source.get("cis_v8", []) and item["description"]


def test_catalog_text_fits_80_columns_and_needs_no_database(cli, tmp_path):
    result = cli("catalog", db=tmp_path / "absent.db")
    assert result.exit_code == 0 and not (tmp_path / "absent.db").exists()
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    raw = json.loads((DATA_DIR / "scope-catalog.json").read_text(encoding="utf-8"))
    assert {i["id"] for i in raw["items"]} <= set(lines), "each id on a line of its own, ready to copy"
