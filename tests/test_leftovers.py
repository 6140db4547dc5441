"""kill -9 leftovers: hidden temporary files are swept by the next run, children die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from msptui import leftovers

from .conftest import client_rec, record_file


def _age(path: Path, seconds: float = 600) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_sweep_removes_only_unheld_old_temporaries(tmp_path):
    dead = tmp_path / ".2026-11-28T10-00-00Z.tmp-abc123"
    dead.mkdir()
    (dead / "dossier.pdf").write_bytes(b"%PDF half")
    _age(dead)
    partial = tmp_path / ".monday.db.tmp-q1w2.partial"
    partial.write_bytes(b"SQLite format 3\0" + b"\0" * 4096)
    _age(partial)
    fresh = tmp_path / ".just-now.tmp-zzz"
    fresh.mkdir()
    keep = tmp_path / "monday.db"
    keep.write_bytes(b"real")
    _age(keep)
    # a running process holds its temporary folder
    held = tmp_path / ".busy.tmp-held"
    held.mkdir()
    _age(held)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from msptui import leftovers
        leftovers.claim({str(held)!r})
        print("held", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        _age(held)
        removed = leftovers.sweep(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert sorted(p.name for p in removed) == sorted([dead.name, partial.name])
    assert not dead.exists() and not partial.exists()
    assert fresh.exists() and keep.exists() and held.exists()
    assert leftovers.sweep(tmp_path) == [held] or not held.exists(), "once its process is gone, it is a leftover"


def test_the_next_backup_removes_partial_copies_of_killed_backups(cli, tmp_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in ("mon", "tue"):
        stale = folder / f".{day}.db.tmp-x{day}.partial"
        stale.write_bytes(b"\0" * 100_000)
        _age(stale)
    assert cli("backup", str(folder / "wed.db")).exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["wed.db"]


def test_a_child_dies_with_its_parent(tmp_path):
    pidfile = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import subprocess, sys, time
        from msptui import leftovers
        child = subprocess.Popen([sys.executable, "-c",
            "import os, time\\nfrom msptui.leftovers import die_with_parent\\ndie_with_parent(poll_s=0.2)\\n"
            "open({str(pidfile)!r}, 'w').write(str(os.getpid()))\\ntime.sleep(120)"], env=leftovers.child_env())
        time.sleep(120)
    """)])
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    child = int(pidfile.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        # reap it if it became our zombie (it is not our child, but be safe)
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the child outlived its parent")
