"""Opening, permissions, migration and several writers at once."""

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap

import pytest

from msptui import migrations
from msptui.chain import Event, utc_stamp
from msptui.errors import UserError
from msptui.models import Client
from msptui.store import Store
from msptui.verify import verify


def test_missing_db_is_refused_not_created(tmp_path):
    path = tmp_path / "elsewhere" / "msptui.db"
    with pytest.raises(UserError, match="no database at"):
        Store.open(path)
    assert not path.exists()


def test_new_db_and_folder_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("MSPTUI_GROUP_MODE", raising=False)
    path = tmp_path / "fresh" / "msptui.db"
    Store.open(path, create=True).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_group_mode_is_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv("MSPTUI_GROUP_MODE", "1")
    path = tmp_path / "shared" / "msptui.db"
    Store.open(path, create=True).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o660


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not sqlite" * 100)
    with pytest.raises(UserError, match="cannot open"):
        Store.open(path)


def test_pragmas(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST


def test_version_1_database_upgrades_itself(tmp_path):
    """A DB written by the first schema (no chain_head table) opens, upgrades and verifies."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(conn, target=1)
    assert migrations.current_version(conn) == 1
    prev = "0" * 64
    for i in (1, 2):
        record = {"id": f"c{i}", "name": "Old", "engagement": "managed", "home_tz": "UTC"}
        payload = {"type": "clients", "id": f"c{i}", "record": record}
        ev = Event(i, utc_stamp(), "UTC", "old", "clients.put", payload, prev).sealed()
        conn.execute("INSERT INTO events VALUES (:id, :at, :tz, :actor, :kind, :payload, :prev_hash, :hash)", ev.as_row())
        from msptui.projection import apply

        apply(conn, ev)
        prev = ev.hash
    conn.close()
    with Store.open(path) as store:
        assert migrations.current_version(store.conn) == migrations.LATEST
        assert store.conn.execute("SELECT event_id, hash FROM chain_head").fetchone()[:] == (2, prev)
        assert verify(store).ok


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    Store.open(path, create=True).close()
    sqlite3.connect(path).execute(f"PRAGMA user_version = {migrations.LATEST + 5}")
    with pytest.raises(UserError, match="newer than this msptui"):
        Store.open(path)


WRITER = textwrap.dedent(
    """
    import sys
    from msptui.models import Client
    from msptui.store import Store
    path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Store.open(path) as store:
        for i in range(n):
            store.put(Client(id=f"{who}-{i}", name=who, engagement="managed", home_tz="UTC"))
    """
)


def test_concurrent_writers_never_fork_or_lose_the_chain(store, db_path):
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), f"w{k}", "60"], stderr=subprocess.PIPE, text=True)
        for k in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    result = verify(store)
    assert result.ok and result.events == 240
    assert store.count("clients") == 240


def test_a_clock_set_back_is_refused_and_writes_nothing(store, monkeypatch):
    """History never goes backwards: a machine whose clock reads days earlier than the last event cannot write."""
    from datetime import datetime, timedelta, timezone

    import msptui.store as store_module

    store.put(Client(id="a", name="A", engagement="managed", home_tz="UTC"))
    for days in (2, 400):
        monkeypatch.setattr(store_module, "utc_stamp", lambda d=days: utc_stamp(datetime.now(timezone.utc) - timedelta(days=d)))
        with pytest.raises(UserError, match="clock reads .* before the last recorded event"):
            store.put(Client(id="b", name="B", engagement="managed", home_tz="UTC"))
        assert store.head()[0] == 1 and store.get(Client, "b") is None
    # a few seconds of skew between two engineers' machines is tolerated
    monkeypatch.setattr(store_module, "utc_stamp", lambda: utc_stamp(datetime.now(timezone.utc) - timedelta(seconds=30)))
    store.put(Client(id="b", name="B", engagement="managed", home_tz="UTC"))
    assert store.head()[0] == 2
