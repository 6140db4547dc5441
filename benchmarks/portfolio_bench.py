"""Benchmark: a 20,000-client portfolio, and posture badges for 10,000 (a script, not a test).

Run: ``.venv/bin/python benchmarks/portfolio_bench.py [--clients 20000] [--badge-clients 10000]``

Every figure beside a yardstick from the same run, each in a fresh child
process so its peak memory (VmHWM) is its own:

1. **import** of the portfolio's record file (``msptui import``: validate
   every record and reference, then one all-or-nothing transaction of sealed,
   projected events); yardstick: parse the same file with ``json`` and insert
   each record's JSON into one table in one transaction (no validation, no
   chain).
2. **posture** of the whole portfolio (``msptui posture --json``, streamed one
   chunk of clients at a time); yardstick: read and JSON-parse every record
   row of the database once.
3. **badges** on a ``--badge-clients`` portfolio, as the home screen gets
   them: the client list query (the yardstick: what the screen shows first),
   then ``portfolio.badges`` cold (nothing cached: a full assessment), from
   the cache (same chain head: a TUI restart), and after one more event
   (incremental: one client re-assessed). Goal: badges within 0.5 s of the list.

The portfolio is posture_bench.build's (every kind of gap, 10 reviews per
client here), written as an import file once and cached in
$MSPTUI_BENCH_CACHE (default /tmp/msptui-bench).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from fixtures import cache_path  # noqa: E402

HWM = 'print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")), flush=True)'


def record_file(n: int, reviews: int) -> Path:
    path = cache_path(f"portfolio-{n}-{reviews}.json")
    if path.exists():
        return path
    from posture_bench import build

    data = build(n, reviews)
    out = {"format": "msptui", "version": 1,
           "clients": [c.model_dump(mode="json") for c in data["clients"]],
           "agreements": [a.model_dump(mode="json") for a in data["agreements"]],
           "risk_acceptances": [r.model_dump(mode="json") for r in data["acceptances"]],
           "policies": [p.model_dump(mode="json") for p in data["policies"]],
           "reviews": [r.model_dump(mode="json") for r in data["reviews"]]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out), encoding="utf-8")
    os.replace(tmp, path)
    return path


def child(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(seconds, peak MiB, stdout) of a child process; ``args`` is a python -c program and its arguments."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent), **(env or {})})
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"child failed: {proc.stderr[-2000:]}")
    lines = proc.stdout.strip().splitlines()
    return elapsed, int(lines[-1]) / 1024, "\n".join(lines[:-1])


IMPORT = f"""
import sys
from msptui.cli import main
try:
    main(["--db", sys.argv[1], "import", sys.argv[2]], standalone_mode=False)
finally:
    {HWM}
"""

IMPORT_YARD = f"""
import sys, json, sqlite3
data = json.loads(open(sys.argv[2], encoding="utf-8").read())
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("CREATE TABLE records (kind TEXT, id TEXT, data TEXT)")
with conn:
    for kind, rows in data.items():
        if isinstance(rows, list):
            conn.executemany("INSERT INTO records VALUES (?, ?, ?)", ((kind, r["id"], json.dumps(r)) for r in rows))
conn.close()
{HWM}
"""

POSTURE = f"""
import sys, io, contextlib
from msptui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["--db", sys.argv[1], "posture", "--json"], standalone_mode=False)
print(out.getvalue().count('"code"'))
{HWM}
"""

POSTURE_YARD = f"""
import sys, json, sqlite3
conn = sqlite3.connect(sys.argv[1])
n = 0
for table in ("clients", "agreements", "risk_acceptances", "policies", "reviews"):
    for (data,) in conn.execute(f"SELECT data FROM {{table}}"):
        json.loads(data)
        n += 1
print(n)
{HWM}
"""


def bench_portfolio(n: int, reviews: int, work: Path) -> Path:
    path = record_file(n, reviews)
    size = path.stat().st_size / 2 ** 20
    db, yard_db = work / "portfolio.db", work / "yard.db"
    child([IMPORT_YARD, str(yard_db), str(path)])  # warm the page cache
    yard_db.unlink()
    for side in ("-wal", "-shm"):
        Path(f"{yard_db}{side}").unlink(missing_ok=True)
    y, ymib, _ = child([IMPORT_YARD, str(yard_db), str(path)])
    t, mib, out = child([IMPORT, str(db), str(path)], env={"MSPTUI_CONFIG_DIR": str(work / "config")})
    print(f"  import {n:,} clients ({size:.0f} MiB file)   {t:6.1f} s, peak {mib:5.0f} MiB   "
          f"json parse + raw insert {y:5.1f} s, peak {ymib:5.0f} MiB   ratio {t / y:4.1f}x time, {mib / ymib:4.1f}x memory",
          flush=True)
    yt, ymib, count = child([POSTURE_YARD, str(db)])
    t, mib, findings = child([POSTURE, str(db)], env={"MSPTUI_CONFIG_DIR": str(work / "config"),
                                                       "MSPTUI_CACHE_DIR": str(work / "cache")})
    print(f"  posture {n:,} clients ({int(count):,} records, {int(findings):,} findings)   {t:6.1f} s, peak {mib:5.0f} MiB   "
          f"read + parse every record {yt:5.1f} s, peak {ymib:5.0f} MiB   ratio {t / yt:4.1f}x", flush=True)
    return db


def bench_badges(n: int, reviews: int, work: Path) -> None:
    from msptui import posture_stream as portfolio
    from msptui.models import Client
    from msptui.store import Store

    os.environ["MSPTUI_CACHE_DIR"] = str(work / "badge-cache")
    db = work / "badges.db"
    path = record_file(n, reviews)
    subprocess.run([sys.executable, "-c", IMPORT, str(db), str(path)], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(HERE.parent), "MSPTUI_CONFIG_DIR": str(work / "config")})
    now = datetime.now(timezone.utc)
    with Store.open(db) as store:
        t0 = time.perf_counter()
        rows = store.conn.execute("SELECT id, json_extract(data, '$.name'), json_extract(data, '$.engagement') "
                                  "FROM clients ORDER BY id").fetchall()
        listed = time.perf_counter() - t0
        t0 = time.perf_counter()
        cold = portfolio.badges(store, now=now)
        t_cold = time.perf_counter() - t0
        portfolio._memory.clear()  # a TUI restart: the cache file on disk
        t0 = time.perf_counter()
        cached = portfolio.badges(store, now=now)
        t_cached = time.perf_counter() - t0
        client = store.get(Client, rows[len(rows) // 2][0])
        store.put(client.model_copy(update={"name": client.name + " (renamed)"}))
        t0 = time.perf_counter()
        changed = portfolio.badges(store, now=now)
        t_inc = time.perf_counter() - t0
    assert (cold.source, cached.source, changed.source) == ("full", "cache", "incremental")
    assert cached.by_client == cold.by_client
    print(f"  badges, {len(rows):,} clients: list query {listed * 1000:6.1f} ms (yardstick)   "
          f"from cache {t_cached * 1000:6.1f} ms   after a change {t_inc * 1000:6.1f} ms   "
          f"cold (nothing cached) {t_cold:5.2f} s   goal: within 0.5 s of the list "
          f"{'OK' if max(t_cached, t_inc) < 0.5 else 'OVER'} (cold: {'OK' if t_cold < 0.5 else 'OVER'})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--badge-clients", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(dir=os.environ.get("MSPTUI_BENCH_CACHE", "/tmp")) as tmp:
        work = Path(tmp)
        bench_portfolio(args.clients, args.reviews, work)
        bench_badges(args.badge_clients, args.reviews, work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
