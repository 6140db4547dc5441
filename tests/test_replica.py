"""Disaster recovery: a Litestream replica in a local folder survives kill -9 and the loss of the primary."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from msptui.replica import in_use, litestream_binary
from msptui.store import Store

from .conftest import client_rec, record_file

MSPTUI = [sys.executable, "-m", "msptui.cli"]
SYNC = "100ms"

# appends notes as fast as it can and prints "ACK <event id> <hash>" after each commit
WRITER = textwrap.dedent(
    """
    import sys
    from msptui.incidents import add_note
    from msptui.store import Store
    db, incident = sys.argv[1], sys.argv[2]
    with Store.open(db) as store:
        i = 0
        while True:
            i += 1
            add_note(store, incident, f"note {i}")
            eid, h = store.head()
            print(f"ACK {eid} {h}", flush=True)
    """
)


def _cli(*args: str, db: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    prefix = ["--db", str(db)] if db is not None else []
    return subprocess.run([sys.executable, "-c", "from msptui.cli import main; main()", *prefix, *args],
                          capture_output=True, text=True, timeout=timeout)


def _incident_db(tmp_path: Path) -> tuple[Path, str]:
    from datetime import date, datetime, timedelta, timezone

    from msptui.demo import load_demo
    from msptui.incidents import open_incident

    db = tmp_path / "primary" / "msptui.db"
    with Store.open(db, create=True) as store:
        load_demo(store, today=date(2026, 11, 27))
        inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                               tz="America/Chicago", category="ransomware", summary="drill")
    return db, inc.id


def _start_replicator(db: Path, url: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", "from msptui.cli import main; main()", "--db", str(db), "replicate",
                             "--to", url, "--sync-interval", SYNC], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    return proc


def _wait_for_replica(folder: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (folder / "ltx").exists() and any((folder / "ltx").rglob("*.ltx")):
            return
        time.sleep(0.05)
    raise AssertionError("the replicator never wrote to the replica")


def _newest_ltx(folder: Path) -> float:
    times = [p.stat().st_mtime for p in (folder / "ltx").rglob("*.ltx")]
    return max(times, default=0.0)


def _litestream_children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _drill(tmp_path: Path, *, delete_primary: bool) -> None:
    db, incident = _incident_db(tmp_path)
    replica = tmp_path / "replica"
    rep = _start_replicator(db, replica.as_uri())
    try:
        _wait_for_replica(replica)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), incident], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        acks: list[tuple[float, int, str]] = []

        def read() -> None:
            for line in writer.stdout:
                if line.startswith("ACK "):
                    _, eid, h = line.split()
                    acks.append((time.time(), int(eid), h))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        while len(acks) < 30:
            time.sleep(0.05)
            assert writer.poll() is None, writer.stderr.read()
        # wait until the replicator has shipped a sync that began after acknowledgement k (load-proof, no guessing)
        k_time, k_id = acks[-1][0], acks[-1][1]
        deadline = time.monotonic() + 30
        while _newest_ltx(replica) < k_time + 0.5:
            assert time.monotonic() < deadline, "the replicator did not sync within 30 s"
            time.sleep(0.05)
        time.sleep(0.2)  # the writer keeps going: what it adds now may or may not reach the replica
        # kill -9 the writer and the whole replicator (msptui and its litestream child) mid-stream
        children = _litestream_children(rep.pid)
        for pid in [writer.pid, rep.pid, *children]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        writer.wait(timeout=10)
        rep.wait(timeout=10)
        reader.join(timeout=10)
    finally:
        for proc in (rep,):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    must_have = [(eid, h) for _t, eid, h in acks if eid <= k_id]
    assert len(must_have) >= 10, "the drill must acknowledge work before the last sync"
    if delete_primary:
        for side in ("", "-wal", "-shm"):
            Path(f"{db}{side}").unlink(missing_ok=True)
    restored = tmp_path / "restored" / "msptui.db"
    result = _cli("restore", "--from", replica.as_uri(), "--to", str(restored), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["verified"] is True
    conn = sqlite3.connect(restored)
    # every event acknowledged before the last sync is there, with the same hash (same chain, nothing forked)
    for eid, h in must_have:
        row = conn.execute("SELECT hash FROM events WHERE id = ?", (eid,)).fetchone()
        assert row is not None and row[0] == h, (
            f"acknowledged event {eid} lost; replica ends at {conn.execute('SELECT max(id) FROM events').fetchone()[0]}, "
            f"{len(acks)} acks {acks[0][1]}..{acks[-1][1]}, must-have up to {must_have[-1][0]}")
    # and what is there is a prefix of what the writer acknowledged
    acked = {eid: h for _, eid, h in acks}
    for eid, h in conn.execute("SELECT id, hash FROM events WHERE id >= ?", (min(acked),)):
        if eid in acked:
            assert acked[eid] == h
    verify = _cli("verify", "--full", db=restored)
    assert verify.returncode == 0, verify.stderr


@pytest.mark.slow
def test_kill_9_writer_and_replicator_then_restore_keeps_every_synced_event(tmp_path):
    _drill(tmp_path, delete_primary=False)


@pytest.mark.slow
def test_primary_deleted_restore_from_replica(tmp_path):
    _drill(tmp_path, delete_primary=True)


def test_litestream_ships_with_msptui():
    binary = litestream_binary()
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("0.5")


def test_print_config_names_the_database_interval_and_a_systemd_unit(cli, tmp_path, db_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    result = cli("replicate", "--to", "sftp://backup@vault.example/msptui/jumpbox1", "--sync-interval", "5s",
                 "--ssh-key", str(tmp_path / "id_ed25519"), "--print-config")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f'path: "{db_path.resolve()}"' in out
    assert 'url: "sftp://backup@vault.example/msptui/jumpbox1"' in out and "sync-interval: 5s" in out
    assert "key-path:" in out and "[Service]" in out and "ExecStart=" in out and "replicate --to" in out


def test_bad_and_unreachable_replica_urls_are_one_line(cli, tmp_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    bad = cli("replicate", "--to", "ftp://host/x")
    assert bad.exit_code == 1 and "unsupported replica URL scheme" in bad.stderr
    unreachable = _cli("restore", "--from", "sftp://nobody@127.0.0.1:1/msptui", "--to", str(tmp_path / "r.db"))
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert "cannot read the replica" in unreachable.stderr and len(unreachable.stderr.strip().splitlines()) == 1
    assert "connection refused" in unreachable.stderr and "created at" not in unreachable.stderr  # the cause, not Go's wrapper
    assert not (tmp_path / "r.db").exists()
    empty = _cli("restore", "--from", (tmp_path / "nothing-here").as_uri(), "--to", str(tmp_path / "r.db"))
    assert empty.returncode == 1 and "Traceback" not in empty.stderr


def test_restore_refuses_an_existing_file_a_database_in_use_and_a_different_database(cli, tmp_path, db_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    backup = tmp_path / "monday.db"
    assert cli("backup", str(backup)).exit_code == 0
    target = tmp_path / "target.db"
    first = _cli("restore", "--from", str(backup), "--to", str(target))
    assert first.returncode == 0, first.stderr
    # a backup file is not a replica: the warning says what it is missing in its own terms
    assert "written after the backup was taken" in first.stderr and "replica" not in first.stderr
    assert f"point --db / MSPTUI_DB at {target}" in first.stderr
    again = _cli("restore", "--from", str(backup), "--to", str(target))
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr
    # another engineer's msptui has it open (in another process: POSIX locks are per process)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom msptui.store import Store\n"
                               "s = Store.open(sys.argv[1]); s.conn.execute('SELECT count(*) FROM events').fetchone()\n"
                               "print('open', flush=True); time.sleep(60)", str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert in_use(target)
        busy = _cli("restore", "--from", str(backup), "--to", str(target), "--force")
        assert busy.returncode == 1 and "in use" in busy.stderr
    finally:
        holder.kill()
        holder.wait()
    assert not in_use(target)
    assert _cli("restore", "--from", str(backup), "--to", str(target), "--force").returncode == 0
    other = tmp_path / "other.db"
    cli("import", str(record_file(tmp_path, "o.json", clients=[client_rec("zeta")])), db=other)
    different = _cli("restore", "--from", str(other), "--to", str(target), "--force")
    assert different.returncode == 1 and "different database" in different.stderr
    assert json.loads(cli("clients", "--json", db=target).stdout)[0]["id"] == "acme", "the target was not touched"


@pytest.mark.slow
def test_replicating_a_different_database_into_a_replica_is_refused(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for db, cid in ((a, "acme"), (b, "zeta")):
        assert _cli("import", str(record_file(tmp_path, f"{cid}.json", clients=[client_rec(cid)])), db=db).returncode == 0
    replica = tmp_path / "replica"
    rep = _start_replicator(a, replica.as_uri())
    try:
        _wait_for_replica(replica)
    finally:
        rep.send_signal(signal.SIGTERM)
        rep.wait(timeout=30)
    refused = _cli("replicate", "--to", replica.as_uri(), db=b, timeout=60)
    assert refused.returncode == 1 and "different database" in refused.stderr, refused.stderr


@pytest.mark.parametrize("args, message", [
    (("--to", "file://"), "a file:// URL needs the folder's path"),
    (("--to", "file:///srv/replica", "--sync-interval", "abc"), "--sync-interval: 'abc' is not a duration"),
    (("--to", "file:///srv/replica", "--sync-interval", "-1s"), "is not a duration"),
    (("--to", "file:///srv/replica", "--sync-interval", "0s"), "not longer than zero"),
    (("--to", "file:///srv/replica", "--sync-interval", "72h"), "longer than a day"),
    (("--to", "file:///srv/replica", "--ssh-key", "/root/.ssh/id_ed25519"), "--ssh-key: applies to an sftp://"),
    (("--to", "sftp://u@h/p", "--endpoint", "https://s3.example.net"), "--endpoint: applies to an s3://"),
    (("--to", "s3://bucket/db", "--endpoint", "not a url"), "is not an http(s) URL"),
])
def test_replicate_options_are_checked_before_a_configuration_is_printed(cli, tmp_path, args, message):
    """'file://' replicated into the current folder; a bad interval, key or endpoint went into the printed
    configuration and systemd unit without a word, and Litestream refused to start later."""
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    result = cli("replicate", *args, "--print-config")
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


def test_the_systemd_unit_survives_spaces_percent_quotes_and_dollars_in_paths(cli, tmp_path):
    """A replica folder with a space became '%20' in the URL, which systemd read as a specifier and refused the
    whole unit; shell quoting ('"'"') is not systemd syntax either."""
    import shlex
    import shutil

    db = tmp_path / "my db's \"main\" 5%.db"
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])), db=db)
    folder = tmp_path / "Backup Share" / "$HOME 100%"
    out = cli("replicate", "--to", str(folder), "--print-config", db=db).stdout
    unit = out[out.index("[Unit]"):]
    (exec_line,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(exec_line.removeprefix("ExecStart=").replace("%%", "%").replace("$$", "$"))
    assert argv[1:3] == ["--db", str(db.resolve())]
    assert argv[argv.index("--to") + 1] == folder.resolve().as_uri()
    assert "%2" not in unit.replace("%%", ""), "a lone % is a systemd specifier"
    if shutil.which("systemd-analyze"):
        (tmp_path / "msptui-replica.service").write_text(unit)
        check = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "msptui-replica.service")],
                               capture_output=True, text=True, timeout=60)
        assert "specifier" not in check.stderr and "bad unit file" not in check.stderr, check.stderr


@pytest.mark.parametrize("name, content, message", [
    ("missing.db", None, "no such backup file or replica folder"),
    ("notes.txt", b"not a database", "is not a backup written by 'msptui backup'"),
    ("empty.db", b"", "is not a backup written by 'msptui backup'"),
])
def test_restore_from_a_path_that_is_not_a_backup_says_so(tmp_path, name, content, message):
    """A plain path that is not a backup was handed to Litestream as a replica: 'holds no backup yet', or
    'open .../notes.txt/ltx/9: not a directory'."""
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    result = _cli("restore", "--from", str(source), "--to", str(tmp_path / "new.db"))
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "new.db").exists()
