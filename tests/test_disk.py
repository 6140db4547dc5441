"""Full disks, read-only files, folders and mounts, and a stale -shm: one line, nothing half-written.

Uses real mounts (a small tmpfs, a read-only bind mount) when the tests run
as root, as on CI and the project machines; elsewhere these tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from msptui.store import Store

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a tmpfs")

CLI = [sys.executable, "-c", "from msptui.cli import main; main()"]


def _mount(target: Path, *options: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _cli(db: Path, *args: str, user: int | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    cmd = [*CLI, "--db", str(db), *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    env = {**os.environ, "MSPTUI_CONFIG_DIR": str(Path(tempfile.gettempdir()) / f"msptui-cfg-{user or 0}")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _one_line(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def _incident_db(db: Path) -> str:
    from msptui.demo import load_demo
    from msptui.incidents import open_incident

    with Store.open(db, create=True) as store:
        load_demo(store, today=date(2026, 11, 27))
        inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                               tz="America/Chicago", category="ransomware", summary="disk drill")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return inc.id


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    os.sync()


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "small"
    _mount(mnt, "-t", "tmpfs", "-o", "size=6m", "tmpfs")
    yield mnt
    _umount(mnt)


@pytest.mark.slow
def test_full_disk_every_write_says_so_in_one_line_and_writes_nothing(tmpfs, tmp_path):
    db = tmpfs / "msptui.db"
    incident = _incident_db(db)
    records = tmp_path / "records.json"
    records.write_text(json.dumps({"format": "msptui", "version": 1, "clients": [
        {"id": f"bulk-{i}", "name": "Bulk " + "x" * 400, "engagement": "managed", "home_tz": "UTC"} for i in range(2000)]}))
    evidence = tmp_path / "mail.eml"
    evidence.write_bytes(b"Received: from attacker\r\n" * 100)
    with Store.open(db) as store:
        head = store.head()
    _fill(tmpfs)
    _one_line(_cli(db, "note", incident, "x" * 15000), str(db), "full")
    _one_line(_cli(db, "evidence", "add", incident, str(evidence)), str(db), "full")
    _one_line(_cli(db, "incident", "open", "--client", "tallgrass-vet", "--discovered", "2026-11-28T09:00",
                   "--category", "bec", "--summary", "on a full disk"), str(db), "full")
    _one_line(_cli(db, "import", str(records)), str(db), "full")
    _one_line(_cli(db, "backup", str(tmpfs / "backup.db")), "full")
    _one_line(_cli(db, "export", incident, "--out", str(tmpfs / "exports")), "full")
    _one_line(_cli(db, "review-pack", "tallgrass-vet", "--out", str(tmpfs / "packs")), "full")
    (tmpfs / "filler").unlink()
    with Store.open(db) as store:
        assert store.head() == head, "nothing was recorded"
    assert _cli(db, "verify").returncode == 0
    leftovers = [p.name for p in tmpfs.rglob(".*") if not p.name.startswith("msptui.db")]
    assert leftovers == [], leftovers
    assert not list((tmpfs / "exports").rglob("*.pdf")) and not list((tmpfs / "packs").rglob("*.pdf"))


def test_read_only_mount_reads_and_verifies_and_refuses_writes(tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    db = src / "msptui.db"
    incident = _incident_db(db)
    ro = tmp_path / "ro"
    _mount(ro, "--bind", "-o", "ro", str(src))
    try:
        rodb = ro / "msptui.db"
        for args in (["clients", "--json"], ["show", "tallgrass-vet"], ["checklist", incident], ["posture"], ["verify"]):
            result = _cli(rodb, *args)
            assert result.returncode == 0, (args, result.stderr)
        assert "chain intact" in _cli(rodb, "verify").stdout
        _one_line(_cli(rodb, "note", incident, "on a read-only mount"), str(rodb), "read-only")
        _one_line(_cli(rodb, "dump", str(ro / "dump.json")), "read-only")
    finally:
        _umount(ro)


def test_a_stale_shm_left_by_another_user_blocks_nothing(tmp_path, monkeypatch):
    if not shutil.which("setpriv"):
        pytest.skip("needs setpriv to act as another user")
    nobody = 65534
    reach = subprocess.run(["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups", CLI[0], "-c", "import msptui.cli"],
                           capture_output=True, text=True)
    if reach.returncode != 0:  # e.g. a clone inside a 0700 folder: another user cannot import msptui at all
        pytest.skip(f"msptui is not importable by another user here: {reach.stderr.strip().splitlines()[-1:]}")
    shared = Path(tempfile.mkdtemp(prefix="msptui-shared-", dir="/tmp"))
    try:
        os.chmod(shared, 0o777)
        db = shared / "msptui.db"
        incident = _incident_db(db)
        # shared through a group, as a jump box does (a database others may write is refused: issue 13)
        monkeypatch.setenv("MSPTUI_GROUP_MODE", "1")
        os.chown(db, -1, nobody)
        os.chmod(db, 0o660)
        # another user's msptui died and left its -shm behind, readable only by that user
        shm = Path(f"{db}-shm")
        shm.write_bytes(b"\0" * 32768)
        os.chmod(shm, 0o600)
        probe = _cli(db, "clients", "--json", user=nobody)
        if "Permission denied" in probe.stderr and "python" in probe.stderr.lower():
            pytest.skip("the test interpreter is not reachable by another user here")
        assert probe.returncode == 0, probe.stderr
        for args in (["show", "tallgrass-vet"], ["checklist", incident], ["verify"]):
            assert _cli(db, *args, user=nobody).returncode == 0, args
        # writing needs that -shm; it cannot be proven unused, so the write is refused, saying whose file it is
        _one_line(_cli(db, "note", incident, "written after a stale -shm", user=nobody), f"{db}-shm", "root", "reads still work")
        # once its owner removes it (or it is found unused by a writable user), writing works again
        assert _cli(db, "note", incident, "written by root").returncode == 0
        shm.unlink(missing_ok=True)
        assert _cli(db, "note", incident, "written after the -shm was cleared", user=nobody).returncode == 0, "x"
        with Store.open(db) as store:
            assert store.conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 2
    finally:
        shutil.rmtree(shared, ignore_errors=True)
