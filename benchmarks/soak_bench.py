"""Soak benchmark: 8 writers x N notes with export and backup loops and a running replicator (a script, not a test).

Run: ``.venv/bin/python benchmarks/soak_bench.py [--writers 8] [--notes 60]``

On one database (the demo portfolio plus an open incident):

- ``--writers`` processes each add ``--notes`` notes through the real CLI
  entry point (click, error handling, store opening, ``msptui note``) in a
  loop, timing each one (but the first, which pays for imports: start-up is
  startup_bench.py's figure) and printing an acknowledgement after it returns;
- one process exports the incident's dossier (PDF renderer child) again and
  again, one backs the database up again and again (online backup + verify
  of the copy), and ``msptui replicate`` ships it to a local replica folder;
- at the end: notes per second, p50/p99 latency of a note, **events lost**
  (acknowledged notes missing from the database, and from a restore of the
  replica after its last sync; must be 0), ``verify``, and the peak memory
  (VmHWM) of every kind of process.

Yardstick, same run, before the soak: one writer alone adding the same notes
(p50/p99 with no contention).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

HWM = 'next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM"))'

WRITER = textwrap.dedent(f"""
    import sys, time, io, contextlib
    from msptui.cli import main
    db, incident, who, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    for i in range(n):
        out = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            main(["--db", db, "note", incident, f"{{who}} soak note {{i}}"], standalone_mode=False)
        # the first note of a process pays for importing the models: start-up is startup_bench's, not this
        print("ACK" if i else "WARM", out.getvalue().strip(), time.perf_counter() - t0, flush=True)
    print("HWM", {HWM}, flush=True)
""")

LOOP = textwrap.dedent(f"""
    import sys, time, io, contextlib, os, signal
    from msptui.cli import main
    db, what, target, incident = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    stop = False
    def halt(*_):
        global stop
        stop = True
    signal.signal(signal.SIGTERM, halt)
    n = 0
    while not stop:
        args = (["export", incident, "--out", target] if what == "export" else ["backup", os.path.join(target, f"b{{n % 2}}.db")])
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                main(["--db", db, *args], standalone_mode=False)
            except SystemExit:
                pass
        n += 1
    print("DONE", n, {HWM}, flush=True)
""")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(HERE.parent)})


def run_writers(db: Path, incident: str, writers: int, notes: int) -> tuple[list[float], list[str], int, float]:
    t0 = time.perf_counter()
    procs = [spawn(WRITER, str(db), incident, f"w{k}", str(notes)) for k in range(writers)]
    latencies, acked, hwm = [], [], 0
    for proc in procs:
        out, err = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise SystemExit(f"a writer failed: {err[-2000:]}")
        for line in out.splitlines():
            if line.startswith(("ACK ", "WARM ")):
                tag, note_id, seconds = line.split()
                acked.append(note_id)
                if tag == "ACK":
                    latencies.append(float(seconds))
            elif line.startswith("HWM "):
                hwm = max(hwm, int(line.split()[1]))
    return latencies, acked, hwm, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--notes", type=int, default=60)
    args = parser.parse_args()
    from msptui.demo import load_demo
    from msptui.incidents import open_incident
    from msptui.store import Store

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["MSPTUI_CONFIG_DIR"] = str(work / "config")
        db = work / "msptui.db"
        with Store.open(db, create=True) as store:
            load_demo(store, today=date(2026, 11, 27))
            inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=2),
                                   tz="America/Chicago", category="ransomware", summary="soak")
        # yardstick: one writer alone
        alone, _, _, _ = run_writers(db, inc.id, 1, args.notes)
        # the soak
        replica = work / "replica"
        rep = subprocess.Popen([sys.executable, "-c", "from msptui.cli import main; main()", "--db", str(db), "replicate",
                                "--to", replica.as_uri(), "--sync-interval", "1s"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        (work / "exports").mkdir()
        (work / "backups").mkdir()
        loops = [spawn(LOOP, str(db), "export", str(work / "exports"), inc.id),
                 spawn(LOOP, str(db), "backup", str(work / "backups"), inc.id)]
        time.sleep(1.0)
        latencies, acked, writer_hwm, wall = run_writers(db, inc.id, args.writers, args.notes)
        loop_stats = []
        for proc in loops:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=600)
            done = [ln for ln in out.splitlines() if ln.startswith("DONE ")]
            if not done:
                raise SystemExit(f"a loop failed: {err[-2000:]}")
            _, count, hwm = done[-1].split()
            loop_stats.append((int(count), int(hwm)))
        time.sleep(3.0)  # past the replica's sync interval
        rep_rss = 0
        try:
            children = subprocess.run(["ps", "-o", "pid=,rss=", "--ppid", str(rep.pid)], capture_output=True, text=True).stdout
            rep_rss = max((int(r.split()[1]) for r in children.strip().splitlines() if r.strip()), default=0)
        except (OSError, ValueError):
            pass
        rep.send_signal(signal.SIGTERM)
        rep.wait(timeout=60)
        with Store.open(db) as store:
            present = {r[0] for r in store.conn.execute("SELECT id FROM notes WHERE incident_id = ?", (inc.id,))}
        lost = [n for n in acked if n not in present]
        check = subprocess.run([sys.executable, "-c", "from msptui.cli import main; main()", "--db", str(db), "verify"],
                               capture_output=True, text=True)
        restored = work / "restored.db"
        rest = subprocess.run([sys.executable, "-c", "from msptui.cli import main; main()", "restore", "--from",
                               replica.as_uri(), "--to", str(restored), "--json"], capture_output=True, text=True)
        replica_lost = None
        if rest.returncode == 0:
            with Store.open(restored) as store:
                in_replica = {r[0] for r in store.conn.execute("SELECT id FROM notes WHERE incident_id = ?", (inc.id,))}
            replica_lost = len([n for n in acked if n not in in_replica])
        n = len(latencies)
        print(f"  yardstick: 1 writer alone, {len(alone)} notes   p50 {statistics.median(alone) * 1000:6.1f} ms  "
              f"p99 {pct(alone, 99) * 1000:6.1f} ms", flush=True)
        print(f"  soak: {args.writers} writers x {args.notes} notes + export loop ({loop_stats[0][0]} dossiers) + backup loop "
              f"({loop_stats[1][0]} backups) + replicator", flush=True)
        print(f"    {n / wall:6.1f} notes/s   p50 {statistics.median(latencies) * 1000:6.1f} ms "
              f"({statistics.median(latencies) / statistics.median(alone):4.1f}x alone)   p99 {pct(latencies, 99) * 1000:6.1f} ms "
              f"({pct(latencies, 99) / pct(alone, 99):4.1f}x alone)", flush=True)
        print(f"    events lost: {len(lost)} in the database, {replica_lost if replica_lost is not None else 'restore failed: ' + rest.stderr.strip()[-200:]} "
              f"in the replica restored after its last sync (must be 0); verify: "
              f"{'OK' if check.returncode == 0 else check.stderr.strip()[-200:]}", flush=True)
        print(f"    peak memory (VmHWM): writer {writer_hwm / 1024:.0f} MiB, export loop {loop_stats[0][1] / 1024:.0f} MiB "
              f"(its PDF child not counted), backup loop {loop_stats[1][1] / 1024:.0f} MiB, litestream {rep_rss / 1024:.0f} MiB RSS",
              flush=True)
        if lost or replica_lost:
            sys.exit(1)


if __name__ == "__main__":
    main()
