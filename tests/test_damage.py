"""A damaged database file gets one line naming the file and the next step: never a traceback.

Bytes are flipped at a bounded, seeded set of offsets in a copy of a real
database, and every read command runs on each copy. A run may succeed (the
damage missed what it reads) or fail with exit 1 and one ``Error:`` line;
when the line is about damage it names the file and says to restore. And
``verify --full`` never says OK while SQLite's own integrity_check fails.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from msptui.cli import main
from msptui.errors import UserError
from msptui.store import Store

TRIALS = 36
SEED = 1606


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, str]:
    from msptui.demo import load_demo
    from msptui.incidents import add_note, open_incident

    db = tmp_path_factory.mktemp("pristine") / "msptui.db"
    with Store.open(db, create=True) as store:
        load_demo(store, today=date(2026, 11, 27))
        inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=2),
                               tz="America/Chicago", category="ransomware", summary="damage drill")
        for i in range(40):
            add_note(store, inc.id, f"note {i} " + "x" * 200)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, inc.id


def _read_commands(incident: str) -> list[list[str]]:
    return [["clients"], ["clients", "--json"], ["show", "tallgrass-vet"], ["incidents"], ["checklist", incident],
            ["obligations", incident], ["posture"], ["verify"], ["verify", "--full"]]


def _run(db: Path, args: list[str]):
    return CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)


def _assert_one_line(result, db: Path, args: list[str]) -> None:
    assert result.exit_code in (0, 1), (args, result.exit_code, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    if result.exit_code == 1:
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith(("Error:", "TAMPERED:", "DAMAGED:"))]
        assert len(errors) == 1, (args, result.stderr)
        line = errors[0]
        if any(w in line for w in ("damaged", "no longer parses", "not an msptui", "DAMAGED")):
            assert str(db) in line or line.startswith("DAMAGED:"), (args, line)
            assert "restore" in line, (args, line)


def _export_read_path(db: Path, incident: str) -> None:
    """What export reads (dossier.collect) fails only with errors the CLI turns into one line."""
    from msptui.export.collect import collect

    try:
        with Store.open(db) as store:
            collect(store, incident, generated_at=datetime(2026, 11, 28, tzinfo=timezone.utc))
    except (UserError, sqlite3.Error, OSError):
        pass


def _integrity_ok(db: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def test_flipped_bytes_never_give_a_traceback(pristine, tmp_path):
    src, incident = pristine
    size = src.stat().st_size
    rng = random.Random(SEED)
    offsets = sorted({rng.randrange(100, size) for _ in range(TRIALS - 4)} | {20, 28, 40, 96})
    for n, offset in enumerate(offsets):
        db = tmp_path / f"trial-{n}.db"
        shutil.copyfile(src, db)
        with open(db, "r+b") as handle:
            handle.seek(offset)
            byte = handle.read(1)
            handle.seek(offset)
            handle.write(bytes([byte[0] ^ (1 << rng.randrange(8)) ^ 0xA5]))
        sound = _integrity_ok(db)
        for args in _read_commands(incident):
            result = _run(db, args)
            _assert_one_line(result, db, [f"offset {offset}", *args])
            if args == ["verify", "--full"] and not sound:
                assert result.exit_code == 1, f"offset {offset}: verify --full said OK while integrity_check fails"
        _export_read_path(db, incident)
        dumped = _run(db, ["dump", str(tmp_path / f"dump-{n}.json")])
        _assert_one_line(dumped, db, [f"offset {offset}", "dump"])


def test_a_record_whose_json_no_longer_parses_is_named(pristine, tmp_path):
    src, incident = pristine
    db = tmp_path / "json.db"
    shutil.copyfile(src, db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE clients SET data = substr(data, 1, 20) WHERE id = 'tallgrass-vet'")
    conn.commit()
    conn.close()
    for args in (["clients"], ["clients", "--json"], ["show", "tallgrass-vet"], ["posture"]):
        result = _run(db, args)
        assert result.exit_code == 1, args
        assert "record clients/tallgrass-vet no longer parses" in result.stderr and str(db) in result.stderr
        assert "restore" in result.stderr and "Traceback" not in result.stderr


def test_an_empty_file_is_not_a_database(tmp_path):
    db = tmp_path / "empty.db"
    db.write_bytes(b"")
    for args in (["verify"], ["clients"]):
        result = _run(db, args)
        assert result.exit_code == 1 and "not an msptui database" in result.stderr and "0 events" not in result.stdout
    assert db.stat().st_size == 0, "nothing was written into it"


def test_a_truncated_file_is_damage_not_a_traceback(pristine, tmp_path):
    src, incident = pristine
    db = tmp_path / "cut.db"
    db.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    for args in _read_commands(incident):
        _assert_one_line(_run(db, args), db, ["truncated", *args])
    assert _run(db, ["verify", "--full"]).exit_code == 1
