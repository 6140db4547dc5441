"""Benchmark: command start-up, beside ``sqlite-utils query`` on the same file (a script, not a test).

Run: ``.venv/bin/python benchmarks/startup_bench.py [--runs N]``

Each sample is a fresh process, as a shell loop or script runs msptui:
``msptui clients --json`` and ``msptui note INCIDENT TEXT`` (a write: the
write lock, the next note id, the model, an fsync'd commit) against
``sqlite-utils query DB "select id, data from clients"`` (click + sqlite-utils
reading the same table). Runs are interleaved so load affects all three
alike; the median of ``--runs`` is reported. Goal: <= 1.5x. Children cache
bytecode as an installed msptui does (``benchmarks.procenv``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.procenv import child_env  # noqa: E402

BIN = Path(sys.executable).parent


def timed(args: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    from msptui.demo import load_demo
    from msptui.incidents import open_incident
    from msptui.store import Store

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "msptui.db"
        with Store.open(db, create=True) as store:
            load_demo(store, today=date(2026, 11, 27))
            inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                                   tz="America/Chicago", category="ransomware", summary="start-up benchmark")
        env = child_env(MSPTUI_CONFIG_DIR=str(Path(tmp) / "config"))
        runs = {
            "sqlite-utils query": [str(BIN / "sqlite-utils"), "query", str(db), "select id, data from clients"],
            "msptui clients --json": [str(BIN / "msptui"), "--db", str(db), "clients", "--json"],
            "msptui note": [str(BIN / "msptui"), "--db", str(db), "note", inc.id, "start-up benchmark note"],
        }
        for cmd in runs.values():  # warm the page cache and .pyc files
            timed(cmd, env)
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, cmd in runs.items():
                samples[name].append(timed(cmd, env))
        base = statistics.median(samples["sqlite-utils query"])
        print(f"  {'sqlite-utils query (yardstick)':<32} {base * 1000:6.0f} ms", flush=True)
        for name in ("msptui clients --json", "msptui note"):
            ours = statistics.median(samples[name])
            print(f"  {name:<32} {ours * 1000:6.0f} ms   ratio {ours / base:4.2f}x   goal <= 1.5x", flush=True)


if __name__ == "__main__":
    main()
