"""Databases written by every released schema version open, upgrade and verify; migrations are frozen."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from msptui import migrations
from msptui.models import Client, RECORD_TYPES
from msptui.store import Store
from msptui.verify import verify

FIXTURES = Path(__file__).parent / "data" / "schema"


@pytest.mark.parametrize("name", ["v1.db", "v2.db"])
def test_released_database_upgrades_and_verifies(tmp_path, name):
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    before = sqlite3.connect(path).execute("SELECT count(*), max(id) FROM events").fetchone()
    with Store.open(path) as store:
        assert migrations.current_version(store.conn) == migrations.LATEST
        result = verify(store)
        assert result.ok, result.problem
        assert result.events == before[0] == before[1]
        # every old event keeps encoding 1 and got its subject from its payload
        rows = store.conn.execute("SELECT v, subject, kind FROM events").fetchall()
        assert {r["v"] for r in rows} == {1}
        assert any(r["subject"] == "sunvale-health" for r in rows)
        # a new write after the upgrade uses encoding 2 and still verifies
        store.put(Client(id="new-client", name="New", engagement="managed", home_tz="UTC"))
        last = list(store.events(after=before[1]))
        assert [e.v for e in last] == [2] and last[0].subject == "new-client"
        assert verify(store).ok


def test_fresh_database_has_every_record_table():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(RECORD_TYPES) <= tables


def test_an_upgraded_database_has_the_same_schema_as_a_fresh_one(tmp_path):
    """The frozen steps give an old database exactly what a new one gets (no 'no such table' later)."""
    path = tmp_path / "v1.db"
    shutil.copy(FIXTURES / "v1.db", path)
    Store.open(path).close()
    fresh = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(fresh)

    def schema(conn):
        return sorted(r for r in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))

    assert schema(sqlite3.connect(path)) == schema(fresh)


def test_migration_steps_do_not_read_the_current_models():
    """A step that loops over today's record types would differ between fresh and upgraded databases."""
    import inspect

    for migration in migrations.MIGRATIONS:
        source = inspect.getsource(migration.step)
        assert "RECORD_TYPES" not in source and "models" not in source, migration.name
    assert len({m.name for m in migrations.MIGRATIONS}) == len(migrations.MIGRATIONS)


def test_a_subject_rewritten_to_hide_an_event_is_caught(store, db_path):
    """Encoding 2 hashes the subject: moving an event to another client breaks its hash."""
    store.put(Client(id="acme", name="Acme", engagement="managed", home_tz="UTC"))
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET subject = 'other' WHERE id = 1")
    result = verify(store)
    assert not result.ok and result.problem.startswith("event 1:")


def test_a_legacy_subject_column_is_checked_against_the_payload(tmp_path):
    path = tmp_path / "v2.db"
    shutil.copy(FIXTURES / "v2.db", path)
    Store.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET subject = 'someone-else' WHERE id = 3")
    with Store.open(path) as store:
        result = verify(store)
    assert not result.ok and "event 3" in result.problem and "subject" in result.problem
