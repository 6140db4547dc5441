"""Tamper detection: edit, delete, reorder, truncate, and records changed behind the chain's back."""

import sqlite3
from dataclasses import replace

import pytest

from msptui.models import Client
from msptui.store import Store
from msptui.verify import verify

from .conftest import client_rec


def _fill(store: Store, n: int = 5) -> None:
    for i in range(n):
        store.put(Client.model_validate(client_rec(f"c{i}")))
    store.put(Client.model_validate(client_rec("c0", name="Renamed")))


def _raw(db_path) -> sqlite3.Connection:
    """A plain connection with the append-only triggers dropped: what an attacker with file access can do."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    return conn


def test_intact_chain_verifies(store):
    _fill(store)
    result = verify(store)
    assert result.ok and result.events == 6 and result.problem is None


def test_events_table_refuses_update_and_delete(store):
    _fill(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE events SET actor = 'mallory' WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM events WHERE id = 2")


def test_edited_event_is_named(store, db_path):
    _fill(store)
    _raw(db_path).execute("UPDATE events SET actor = 'mallory' WHERE id = 3")
    result = verify(store)
    assert not result.ok and result.problem.startswith("event 3:") and "edited" in result.problem


def test_edited_payload_with_rehash_breaks_the_next_link(store, db_path):
    """Recomputing the edited event's own hash is not enough: the next event's prev_hash disagrees."""
    _fill(store)
    from msptui.chain import Event

    conn = _raw(db_path)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM events WHERE id = 2").fetchone())
    forged = Event.from_row(row)
    forged = replace(forged, actor="mallory").sealed()
    conn.execute("UPDATE events SET actor = ?, hash = ? WHERE id = 2", (forged.actor, forged.hash))
    result = verify(store)
    assert not result.ok and result.problem.startswith("event 3:")


def test_deleted_event_is_named(store, db_path):
    _fill(store)
    _raw(db_path).execute("DELETE FROM events WHERE id = 4")
    result = verify(store)
    assert not result.ok and result.problem.startswith("event 5:")


def test_reordered_events_are_detected(store, db_path):
    _fill(store)
    conn = _raw(db_path)
    conn.execute("UPDATE events SET id = 100 WHERE id = 2")
    conn.execute("UPDATE events SET id = 2 WHERE id = 3")
    conn.execute("UPDATE events SET id = 3 WHERE id = 100")
    result = verify(store)
    assert not result.ok and result.problem.startswith("event 2:")


def test_truncated_tail_is_detected(store, db_path):
    _fill(store)
    _raw(db_path).execute("DELETE FROM events WHERE id = 6")
    result = verify(store)
    assert not result.ok and "truncated" in result.problem


def test_truncation_that_also_fixes_the_head_is_caught_by_the_records(store, db_path):
    _fill(store)
    conn = _raw(db_path)
    conn.execute("DELETE FROM events WHERE id = 6")
    conn.execute("UPDATE chain_head SET event_id = 5, hash = (SELECT hash FROM events WHERE id = 5)")
    result = verify(store)
    assert not result.ok and "clients/c0" in result.problem


def test_record_changed_behind_the_chains_back(store, db_path):
    _fill(store)
    sqlite3.connect(db_path, isolation_level=None).execute(
        "UPDATE clients SET data = json_set(data, '$.engagement', 'break_fix') WHERE id = 'c2'"
    )
    result = verify(store)
    assert not result.ok and result.problem == "record clients/c2 differs from its history (last changed by event 3)"


def test_record_inserted_or_removed_behind_the_chains_back(store, db_path):
    _fill(store)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DELETE FROM clients WHERE id = 'c1'")
    assert "clients/c1 was removed" in verify(store).problem
    conn.execute("INSERT INTO clients (id, client_id, data, event_id) VALUES ('c1', 'c1', '{}', 2)")
    conn.execute("INSERT INTO clients (id, client_id, data, event_id) VALUES ('ghost', 'ghost', '{}', 1)")
    assert "no event created it" in verify(store).problem or "differs" in verify(store).problem


def test_unchanged_put_appends_nothing(store):
    c = Client.model_validate(client_rec("same"))
    assert store.put(c) is not None
    assert store.put(c) is None
    assert store.head()[0] == 1


def test_events_record_the_os_login_and_zone(store, monkeypatch):
    monkeypatch.setattr("msptui.environment.getpass.getuser", lambda: "alice")
    monkeypatch.setenv("MSPTUI_TZ", "Europe/Berlin")
    event = store.put(Client.model_validate(client_rec("who")))
    assert (event.actor, event.tz) == ("alice", "Europe/Berlin")
    assert event.at.endswith("Z")
