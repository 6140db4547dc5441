"""verify at scale: constant memory, --since-last, lost heads, clock steps, the columns no hash covers,
and the pieces that keep appends and timelines constant-time (id sequences, pages)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest

from msptui.chain import utc_stamp
from msptui.models import Client, Note
from msptui.store import Store
from msptui.verify import verify


def _clients(store: Store, n: int, start: int = 0) -> None:
    store.put_many([Client(id=f"c{i}", name=f"C{i}", engagement="managed", home_tz="UTC") for i in range(start, start + n)])


def _raw(db_path):
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    return conn


def test_since_last_checks_only_what_came_after_and_says_which_head_it_trusted(store, db_path, cli):
    _clients(store, 5)
    full = verify(store)
    assert full.ok and full.scope == "full" and full.recorded and full.checked == 5
    _clients(store, 3, start=5)
    later = verify(store, since_last=True)
    assert later.ok and later.scope == "since-last" and later.checked == 3 and later.events == 8
    assert later.trusted["event_id"] == 5 and later.trusted["hash"] == full.head_hash
    out = cli("verify", "--since-last")
    assert out.exit_code == 0 and "0 new events since the trusted head (event 8" in out.stdout


def test_since_last_still_catches_tampering_after_the_trusted_head(store, db_path):
    _clients(store, 4)
    assert verify(store).ok
    _clients(store, 2, start=4)
    _raw(db_path).execute("UPDATE events SET payload = replace(payload, 'C5', 'C9') WHERE id = 6")
    result = verify(store, since_last=True)
    assert not result.ok and result.problem.startswith("event 6:")


def test_a_verified_head_that_vanished_is_reported(store, db_path):
    """Events lost behind msptui's back (e.g. a -wal deleted while it held the DB) are noticed."""
    _clients(store, 6)
    assert verify(store).ok
    conn = _raw(db_path)
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE id > 3")
    conn.execute("UPDATE chain_head SET event_id = 3, hash = (SELECT hash FROM events WHERE id = 3)")
    conn.execute("DELETE FROM clients WHERE event_id > 3")
    result = verify(store)
    assert not result.ok and "event 6: the head verified at" in result.problem and "no longer in the chain" in result.problem


def test_backward_clock_steps_in_an_old_database_are_reported(store, db_path, cli, monkeypatch):
    import msptui.store as store_module

    _clients(store, 2)
    # written before the store refused such writes: bypass the guard by moving the tolerance
    monkeypatch.setattr(store_module, "CLOCK_SKEW_TOLERANCE_S", 10 ** 9)
    monkeypatch.setattr(store_module, "utc_stamp", lambda: utc_stamp(datetime.now(timezone.utc) - timedelta(days=400)))
    _clients(store, 1, start=2)
    monkeypatch.undo()
    _clients(store, 1, start=3)
    result = verify(store)
    assert result.ok, "the chain itself is intact"
    assert result.clock_steps_total == 1 and "event 3 is recorded at" in result.clock_steps[0]
    assert "400.0 days before event 2" in result.clock_steps[0]
    out = cli("verify")
    assert out.exit_code == 0 and "WARNING: event 3 is recorded" in out.stderr


def test_the_index_columns_no_hash_covers_are_checked(store, db_path):
    _clients(store, 3)
    _raw(db_path).execute("UPDATE events SET rid = 'someone-else' WHERE id = 2")
    result = verify(store)
    assert not result.ok and "event 2: is indexed as record clients/someone-else" in result.problem


def test_a_record_moved_to_another_client_column_is_caught(store, db_path):
    from msptui.demo import load_demo

    load_demo(store, today=date(2026, 11, 27))
    _raw(db_path).execute("UPDATE agreements SET client_id = 'meridian-insurance' WHERE client_id = 'tallgrass-vet'")
    result = verify(store)
    assert not result.ok and result.problem.startswith("record agreements/")


def test_verify_memory_does_not_grow_with_the_chain(tmp_path):
    """The chain walk keeps scalars only: peak traced memory for 6,000 events is no more than for 1,500."""
    import tracemalloc

    peaks = []
    for n in (1500, 6000):
        db = tmp_path / f"m{n}.db"
        with Store.open(db, create=True) as store:
            for k in range(0, n, 50):  # 50 clients, renamed again and again: one event each time
                store.put_many([Client(id=f"c{i}", name=f"C{i} v{k}", engagement="managed", home_tz="UTC") for i in range(50)])
        with Store.open(db) as store:
            tracemalloc.start()
            assert verify(store, record=False).ok
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.5 + 200_000, peaks


def test_note_ids_stay_sequential_without_a_scan_and_are_never_reused(store):
    from msptui.demo import load_demo
    from msptui.incidents import add_note, open_incident

    load_demo(store, today=date(2026, 11, 27))
    inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                           tz="America/Chicago", category="ransomware", summary="ids")
    ids = [add_note(store, inc.id, f"n{i}").id for i in range(3)]
    assert ids == [f"{inc.id}:note-{i}" for i in (1, 2, 3)]
    assert store.conn.execute("SELECT last FROM id_sequences WHERE prefix = ?", (f"{inc.id}:note-",)).fetchone()[0] == 3
    # an imported note took the next number: it is skipped, not overwritten
    store.put(Note(id=f"{inc.id}:note-4", incident_id=inc.id, client_id=inc.client_id,
                   at={"at": datetime.now(timezone.utc), "tz": "UTC"}, author="import", text="imported"))
    assert add_note(store, inc.id, "after import").id == f"{inc.id}:note-5"
    # a database written before id_sequences existed seeds the counter from what is there
    store.conn.execute("DELETE FROM id_sequences")
    assert add_note(store, inc.id, "after upgrade").id == f"{inc.id}:note-6"


def test_pages_walk_a_long_timeline_in_sequence_order(store):
    from msptui.demo import load_demo
    from msptui.incidents import add_note, open_incident

    load_demo(store, today=date(2026, 11, 27))
    inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                           tz="America/Chicago", category="ransomware", summary="pages")
    for i in range(23):
        add_note(store, inc.id, f"n{i}")
    first = store.page(Note, incident_id=inc.id, limit=10, count=True)
    assert first.total == 23 and [n.text for n in first.records] == [f"n{i}" for i in range(22, 12, -1)]
    assert first.event_ids == sorted(first.event_ids, reverse=True)
    seen = list(first.records)
    page = first
    while page.next is not None:
        page = store.page(Note, incident_id=inc.id, before=page.next, limit=10)
        seen += page.records
    assert [n.text for n in seen] == [f"n{i}" for i in range(22, -1, -1)]
    oldest = store.page(Note, incident_id=inc.id, after=0, limit=5)
    assert [n.text for n in oldest.records] == [f"n{i}" for i in range(5)]
    plan = store.conn.execute("EXPLAIN QUERY PLAN SELECT id FROM notes WHERE incident_id = ? AND event_id < ? "
                              "ORDER BY event_id DESC LIMIT 10", (inc.id, 10 ** 9)).fetchall()
    assert any("notes_incident_seq" in r[3] for r in plan), plan


def test_a_fast_clock_does_not_lock_correct_machines_out(store, db_path, cli, monkeypatch):
    """A box 3 days fast wrote events; once its clock is corrected every write was refused for 3 days ('fix the
    clock', blaming the right clock). The person at the correct clock records the step with a reason, writing goes
    on, and verify lists the step as recorded, once, not every later event."""
    import msptui.store as store_module

    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes")
    _clients(store, 1)
    monkeypatch.setattr(store_module, "utc_stamp", lambda: utc_stamp(datetime.now(timezone.utc) + timedelta(days=3)))
    _clients(store, 1, start=1)  # the fast clock
    monkeypatch.undo()
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes")
    refused = cli("client", "add", "--id", "late", "--name", "Late", "--engagement", "managed", "--tz", "UTC")
    assert refused.exit_code == 1 and "if it is right (the earlier clock was fast)" in refused.stderr, (refused.stderr, refused.stdout)
    blocked = cli("clock-step", "--reason", " ")
    assert blocked.exit_code == 1 and "--reason" in blocked.stderr
    with pytest.raises(Exception, match="msptui clock-step --reason"):
        _clients(store, 1, start=2)
    assert store.head()[0] == 2
    stepped = cli("clock-step", "--reason", "checked against NTP; the jump box was 3 days fast", "--json")
    assert stepped.exit_code == 0, stepped.stderr
    assert '"last_event": 2' in stepped.stdout and '"behind_s": 259' in stepped.stdout
    _clients(store, 2, start=2)  # writes count from the step
    again = cli("clock-step", "--reason", "again")
    assert again.exit_code == 1 and "there is no step to record" in again.stderr
    result = verify(store)
    assert result.ok and result.clock_steps_total == 1, result.clock_steps
    assert "event 3 is recorded at" in result.clock_steps[0] and "recorded as a clock step" in result.clock_steps[0]
    assert "by Dana Reyes, reason: checked against NTP; the jump box was 3 days fast" in result.clock_steps[0]
    invisible = cli("clock-step", "--reason", "\u200b")  # looks empty to everyone who reads it
    assert invisible.exit_code == 1 and "--reason" in invisible.stderr
