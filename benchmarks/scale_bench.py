"""Benchmark: years of incidents on one jump box (a script, not a test).

Run: ``.venv/bin/python benchmarks/scale_bench.py [--sizes 1000,100000,1000000] [--appends N]``

Each figure is printed beside a yardstick measured in the same run (the
machine is shared and noisy: compare ratios):

1. **append latency** (``incidents.add_note``: the write lock, the next note
   id, seal, insert, project, commit with fsync) on a copy of a database of
   1k, 100k and 1M events, p50 and p99 of ``--appends`` notes on the incident
   that holds a fifth of all notes; yardstick: a bare SQLite transaction
   inserting one row with the same fsync settings in the same folder. Flat
   means the 1M figure is about the 1k one.
2. **verify** (the whole of ``msptui verify``: SQLite quick_check, chain,
   head, records) at 100k and 1M events, in a fresh child process so its
   peak memory (ru_maxrss) is its own; yardstick: read every event row and
   SHA-256 its canonical JSON once, in the same kind of child process.
   Also the CPU seconds verify used (it overlaps its SQL checks with the
   Python hash walk on a second core).
3. **backup** (``backup --full``: the online copy, then the whole verify
   of the copy) of the largest database, in a child process; yardstick:
   SQLite's online backup API alone, in the same kind of child.
4. **timeline page** of the incident with 200,000 notes (1M database):
   the newest 200 notes via ``Store.page``; yardstick: reading 200 rows of
   the events table by id. Then the incident screen's read
   (``incident_view`` with the newest 500 timeline events) beside reading
   the whole timeline, as the dossier does.

Databases come from benchmarks/fixtures.py (built once, cached in
$MSPTUI_BENCH_CACHE, default /tmp/msptui-bench; 1M events take a few minutes
the first time).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from fixtures import chain_db  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_append(n: int, appends: int, work: Path) -> tuple[float, float, float, float]:
    """Our appends and the yardstick's, interleaved one by one so both see the same disk and load."""
    from msptui.incidents import add_note
    from msptui.store import Store

    src, incidents = chain_db(n)
    db = work / f"append-{n}.db"
    shutil.copyfile(src, db)
    scratch = work / "yardstick.db"
    conn = sqlite3.connect(scratch, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
    times, yard = [], []
    with Store.open(db) as store:
        add_note(store, incidents[0], "warm-up")
        for i in range(appends):
            t0 = time.perf_counter()
            add_note(store, incidents[0], f"benchmark note {i}")
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (body) VALUES (?)", (f"benchmark note {i}" * 10,))
            conn.execute("COMMIT")
            yard.append(time.perf_counter() - t0)
    conn.close()
    for path in (db, scratch):
        for side in ("", "-wal", "-shm"):
            Path(f"{path}{side}").unlink(missing_ok=True)
    return statistics.median(times), pct(times, 99), statistics.median(yard), pct(yard, 99)


CHILD_VERIFY = """
import sys, time
from msptui.store import Store
from msptui.verify import verify
with Store.open(sys.argv[1]) as store:
    t0 = time.perf_counter()
    r = verify(store, record=False)
    print(time.perf_counter() - t0, r.ok, r.events, flush=True)
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")), flush=True)
"""

CHILD_YARD = """
import sys, time, hashlib, sqlite3, json
def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
conn = sqlite3.connect(sys.argv[1])
conn.row_factory = sqlite3.Row
t0 = time.perf_counter()
n = 0
for row in conn.execute("SELECT id, at, tz, actor, kind, payload, prev_hash FROM events ORDER BY id"):
    hashlib.sha256(canonical(dict(row)).encode()).hexdigest()
    n += 1
print(time.perf_counter() - t0, True, n, flush=True)
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")), flush=True)
"""


CHILD_BACKUP = """
import sys, time
from pathlib import Path
from msptui.backup import backup
from msptui.store import Store
with Store.open(sys.argv[1]) as store:
    t0 = time.perf_counter()
    dest, events = backup(store, Path(sys.argv[1] + ".backup"), full=True)
    print(time.perf_counter() - t0, True, events, flush=True)
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")), flush=True)
"""

CHILD_BACKUP_YARD = """
import sys, time, sqlite3
src = sqlite3.connect(sys.argv[1])
t0 = time.perf_counter()
with sqlite3.connect(sys.argv[1] + ".copy") as dest:
    src.backup(dest, pages=1024)
n = src.execute("SELECT count(*) FROM events").fetchone()[0]
print(time.perf_counter() - t0, True, n, flush=True)
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")), flush=True)
"""


def child(code: str, db: Path) -> tuple[float, int, float, float]:
    """(seconds, events, peak MiB, cpu seconds) of a child process running ``code`` on ``db``.

    Peak memory is the child's own VmHWM (ru_maxrss would include the parent's size at fork)."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds, ok, events, hwm_kib = out.split()
    assert proc.returncode == 0 and ok == "True", out
    return float(seconds), int(events), int(hwm_kib) / 1024, usage.ru_utime + usage.ru_stime


def bench_verify(n: int, work: Path) -> None:
    src, _ = chain_db(n)
    db = work / f"verify-{n}.db"
    shutil.copyfile(src, db)
    child(CHILD_YARD, db)  # warm the page cache for both
    yard, count, yard_mib, yard_cpu = child(CHILD_YARD, db)
    ours, events, mib, cpu = child(CHILD_VERIFY, db)
    assert events == count == n
    print(f"  verify {n:>9,} events   {ours:7.2f} s ({cpu:5.1f} s CPU), peak {mib:4.0f} MiB   "
          f"read+hash rows {yard:6.2f} s, peak {yard_mib:4.0f} MiB   ratio {ours / yard:4.2f}x "
          f"(CPU {cpu / yard_cpu:4.2f}x)  goal <= 1.5x, < 200 MiB", flush=True)
    for side in ("", "-wal", "-shm"):
        Path(f"{db}{side}").unlink(missing_ok=True)


def bench_backup(n: int, work: Path) -> None:
    """``backup --full`` (online copy, then the whole verify of the copy) beside SQLite's backup API alone."""
    src, _ = chain_db(n)
    db = work / f"backup-{n}.db"
    shutil.copyfile(src, db)
    yard, count, yard_mib, _ = child(CHILD_BACKUP_YARD, db)
    ours, events, mib, cpu = child(CHILD_BACKUP, db)
    assert events == count == n
    print(f"  backup --full {n:>9,} events   {ours:7.2f} s, peak {mib:4.0f} MiB   "
          f"SQLite backup API alone {yard:6.2f} s, peak {yard_mib:4.0f} MiB   ratio {ours / yard:4.2f}x   "
          f"goal: no gigabytes (was 2.6 GB at 1M)", flush=True)
    for path in (db, Path(f"{db}.copy"), Path(f"{db}.backup")):
        for side in ("", "-wal", "-shm"):
            Path(f"{path}{side}").unlink(missing_ok=True)


def bench_page(work: Path, n: int) -> None:
    from msptui.models import Note
    from msptui.store import Store

    src, incidents = chain_db(n)
    with Store.open(src) as store:
        total = store.conn.execute("SELECT count(*) FROM notes WHERE incident_id = ?", (incidents[0],)).fetchone()[0]
        store.page(Note, incident_id=incidents[0], limit=200)  # warm
        times, counted, yard = [], [], []
        for _ in range(20):
            t0 = time.perf_counter()
            page = store.page(Note, incident_id=incidents[0], limit=200)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            store.page(Note, incident_id=incidents[0], limit=200, count=True)
            counted.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            store.conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT 200", (n // 2,)).fetchall()
            yard.append(time.perf_counter() - t0)
        assert len(page.records) == 200
    ours, base, with_total = statistics.median(times), statistics.median(yard), statistics.median(counted)
    print(f"  timeline page, incident with {total:,} notes: newest 200 in {ours * 1000:6.1f} ms "
          f"({with_total * 1000:.1f} ms with the total count)   200 event rows by id {base * 1000:5.1f} ms   "
          f"ratio {ours / base:4.1f}x", flush=True)
    from msptui.views.incident import incident_view

    with Store.open(src) as store:
        opened = []
        for _ in range(5):
            t0 = time.perf_counter()
            view = incident_view(store, incidents[0], timeline_limit=500)
            opened.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        whole = incident_view(store, incidents[0])
        full = time.perf_counter() - t0
    assert view.timeline_more and view.timeline == whole.timeline[-len(view.timeline):]
    print(f"  incident screen opens (incident_view, newest 500 timeline events): {statistics.median(opened) * 1000:6.1f} ms   "
          f"the whole timeline ({len(whole.timeline):,} entries, what the dossier reads) {full:5.2f} s   "
          f"ratio {statistics.median(opened) / full:5.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--appends", type=int, default=60)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(dir=os.environ.get("MSPTUI_BENCH_CACHE", "/tmp")) as tmp:
        work = Path(tmp)
        print("append latency (add_note under the write lock, fsync'd commit):", flush=True)
        first = None
        for n in sizes:
            p50, p99, y50, y99 = bench_append(n, args.appends, work)
            first = first or p50
            print(f"  {n:>9,} events   p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms   "
                  f"bare insert+commit p50 {y50 * 1000:5.1f} ms  p99 {y99 * 1000:5.1f} ms   ratio {p50 / y50:4.1f}x   "
                  f"vs {sizes[0]:,} events {p50 / first:4.2f}x (flat = ~1)", flush=True)
        print("verify (quick_check + chain + head + records) vs reading and hashing every row once:", flush=True)
        for n in sizes:
            if n >= 100_000:
                bench_verify(n, work)
        print("backup (copy, then verify the copy) vs SQLite's online backup alone:", flush=True)
        bench_backup(max(sizes), work)
        if max(sizes) >= 1_000_000:
            bench_page(work, max(sizes))


if __name__ == "__main__":
    main()
