"""kill -9 at random points: the DB stays intact, verifies, and keeps the last acknowledged change."""

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from msptui.demo import load_demo
from msptui.incidents import open_incident
from msptui.models import ChecklistItem, Client, Evidence
from msptui.store import Store
from msptui.verify import verify

CHILD = str(Path(__file__).with_name("crash_child.py"))
ROUNDS = 6


def _run_and_kill(db: Path, op: str, arg: str, delay: float) -> list[str]:
    """Start the child, wait for its first acknowledged change, then kill -9 after ``delay`` more seconds.

    Waiting for the first ACK makes every round kill the child mid-work even on
    a loaded machine, instead of sometimes killing it before it started.
    """
    proc = subprocess.Popen([sys.executable, CHILD, str(db), op, arg], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    first = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    first.wait(timeout=60)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    err = proc.stderr.read()
    assert "Traceback" not in err, err[-2000:]
    return [line.split(" ", 1)[1] for line in lines if line.startswith("ACK ")]


def _assert_intact(db: Path) -> Store:
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = Store.open(db)
    result = verify(store)
    assert result.ok, result.problem
    return store


@pytest.fixture
def incident_db(tmp_path):
    db = tmp_path / "crash.db"
    with Store.open(db, create=True) as store:
        load_demo(store, today=date(2026, 11, 27))
        incident, items = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                                        tz="America/Chicago", category="ransomware", summary="crash test")
    return db, incident.id, items[0].step


def test_kill_during_import_is_all_or_nothing(tmp_path):
    db = tmp_path / "crash.db"
    Store.open(db, create=True).close()
    rng = random.Random(7)
    total = 0
    for _ in range(ROUNDS):
        acked = _run_and_kill(db, "import", str(tmp_path), rng.uniform(0.0, 0.6))
        total += len(acked)
        with _assert_intact(db) as store:
            ids = [c.id for c in store.all(Client)]
            assert len(ids) % 500 == 0, "an import is never half-applied"
            for last in acked[-1:]:
                assert store.get(Client, last.split()[1]) is not None
    assert total > 0, "the harness must actually get work acknowledged before killing"


def test_kill_during_evidence_hashing(incident_db, tmp_path):
    db, incident, _ = incident_db
    image = tmp_path / "disk.img"
    image.write_bytes(random.Random(1).randbytes(8 * 1024 * 1024))
    rng = random.Random(11)
    total = 0
    for _ in range(ROUNDS):
        acked = _run_and_kill(db, "evidence", f"{incident}|{image}", rng.uniform(0.0, 0.3))
        total += len(acked)
        with _assert_intact(db) as store:
            recorded = {e.id for e in store.all(Evidence, incident_id=incident)}
            assert set(a.split()[1] for a in acked) <= recorded
            assert all(e.size == image.stat().st_size for e in store.all(Evidence, incident_id=incident))
    assert total > 0


def test_kill_during_checklist_updates(incident_db):
    db, incident, step = incident_db
    rng = random.Random(5)
    total = 0
    for _ in range(ROUNDS):
        acked = _run_and_kill(db, "checklist", f"{incident}|{step}", rng.uniform(0.0, 0.3))
        total += len(acked)
        with _assert_intact(db) as store:
            item = store.get(ChecklistItem, f"{incident}:{step}")
            if acked:
                assert acked[-1].split(" ", 2)[2] in item.notes, "the last acknowledged change is present"
    assert total > 0


def test_kill_during_export_leaves_no_half_written_dossier(incident_db, tmp_path):
    db, incident, _ = incident_db
    out = tmp_path / "exports"
    rng = random.Random(3)
    for _ in range(3):
        _run_and_kill(db, "export", f"{incident}|{out}", rng.uniform(0.0, 2.0))
        with _assert_intact(db):
            pass
        # every visible dossier folder is complete; temporary folders are hidden (dot-named) and never mistaken for one
        for folder in out.glob("*/*/*"):
            if folder.name.startswith("."):
                continue
            assert (folder / "manifest.json").exists() and (folder / "dossier.pdf").exists(), folder
            from click.testing import CliRunner

            from msptui.cli import main

            check = CliRunner().invoke(main, ["--db", str(db), "verify-dossier", str(folder)])
            assert check.exit_code == 0, check.stderr
