"""Benchmark: import memory stays bounded (a 200 MB record file is refused up front; the largest accepted peaks under 1.5 GiB).

Run: ``.venv/bin/python benchmarks/import_bench.py [--quick]``

Each import runs as ``msptui import`` in its own process; its peak memory is
that process's own ru_maxrss (from wait4). Printed side by side, from the
same run:

* a 200 MB record file: refused before it is read (time and peak memory);
* the largest record file accepted (100,000 client records, just under the
  32 MiB limit) and the largest CSV (100,000 rows): peak memory of the import;
* yardsticks: ``msptui --version`` (the interpreter and msptui loaded), and
  Python's own ``json.load`` of the same record file (parsing alone).

Target: every import's peak under 1.5 GiB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MSPTUI = [sys.executable, "-m", "msptui.cli"] if not (Path(sys.executable).parent / "msptui").exists() else [
    str(Path(sys.executable).parent / "msptui")]
LIMIT_MIB = 1536


def measure(argv: list[str], env: dict | None = None) -> tuple[int, float, float, str]:
    """exit code, seconds, peak RSS MiB of the process itself, last stderr line."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=str(ROOT))
        _, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss / 1024, (lines or [""])[-1]


def client(i: int) -> dict:
    return {"id": f"c{i:07d}", "name": f"Client number {i} Dental Group LLC", "engagement": "managed",
            "home_tz": "America/New_York", "countries": ["US"], "us_states": ["NY"], "data_held": ["pii"],
            "notes": "x" * 60}


def record_file(path: Path, *, records: int | None = None, megabytes: float | None = None) -> int:
    target = int(megabytes * 1024 * 1024) if megabytes else None
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"format": "msptui", "version": 1, "clients": [\n')
        while (records is None or count < records) and (target is None or out.tell() < target):
            out.write(("," if count else "") + json.dumps(client(count)) + "\n")
            count += 1
        out.write("]}\n")
    return count


def csv_file(path: Path, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "engagement", "home_tz", "countries", "us_states", "data_held", "notes"])
        for i in range(rows):
            c = client(i)
            writer.writerow([c["id"], c["name"], "managed", "America/New_York", "US", "NY", "pii", c["notes"]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 records instead of 100,000 (a smoke run)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from msptui import recordfile, tabular

    work = Path(tempfile.mkdtemp(prefix="msptui-import-bench-"))
    env = {**os.environ, "MSPTUI_CONFIG_DIR": str(work / "config"), "PYTHONPATH": str(ROOT)}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f}; limits: {recordfile.MAX_FILE_BYTES // 2**20} MiB and "
          f"{recordfile.MAX_RECORDS:,} records per record file, {tabular.MAX_ROWS:,} rows per CSV")
    n = 10_000 if args.quick else recordfile.MAX_RECORDS

    huge = work / "huge.json"
    record_file(huge, megabytes=200)
    at_limit = work / "limit.json"
    record_file(at_limit, records=n)
    table = work / "limit.csv"
    csv_file(table, min(n, tabular.MAX_ROWS))

    rows = []
    rows.append(("msptui --version (yardstick)", *measure([*MSPTUI, "--version"], env)))
    rows.append(("json.load of the limit file (yardstick)",
                 *measure([sys.executable, "-c", f"import json; json.load(open({str(at_limit)!r}))"], env)))
    rows.append((f"import 200 MB record file ({huge.stat().st_size / 2**20:.0f} MiB)",
                 *measure([*MSPTUI, "--db", str(work / "huge.db"), "import", str(huge)], env)))
    rows.append((f"import {n:,} records ({at_limit.stat().st_size / 2**20:.1f} MiB JSON)",
                 *measure([*MSPTUI, "--db", str(work / "limit.db"), "import", str(at_limit)], env)))
    rows.append((f"import {min(n, tabular.MAX_ROWS):,} CSV rows ({table.stat().st_size / 2**20:.1f} MiB)",
                 *measure([*MSPTUI, "--db", str(work / "csv.db"), "import", str(table)], env)))
    print(f"{'case':<46} {'exit':>4} {'seconds':>8} {'peak MiB':>9}")
    for name, code, seconds, peak, _last in rows:
        print(f"{name:<46} {code:>4} {seconds:>8.1f} {peak:>9.0f}")
    refused = rows[2]
    print(f"200 MB file: {refused[4][:150]}")
    imports = rows[2:]
    ok = all(peak < LIMIT_MIB for _, _, _, peak, _ in imports) and refused[1] == 1 and all(r[1] == 0 for r in rows[3:])
    print(f"target: every import under {LIMIT_MIB} MiB, the 200 MB file refused up front: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
