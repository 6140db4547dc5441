"""Benchmark: verify over 100,000 events and evidence hashing on 1 GiB, each beside a yardstick.

Run: ``.venv/bin/python benchmarks/core_bench.py [--events N] [--mib N]``

- verify: the whole chain walk + head check + replay-and-compare, beside the
  least any verifier must do on the same DB: read every event row and
  SHA-256 its canonical encoding once (no linking, no replay).
- hashing: msptui's streamed, cancellable, change-detecting hash_file beside
  coreutils ``sha256sum`` on the same file (warm page cache for both: the
  file is read once before timing).
Peak memory is the process's maximum RSS (ru_maxrss) after each stage.
A standalone script, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msptui.chain import canonical  # noqa: E402
from msptui.evidence import hash_file  # noqa: E402
from msptui.models import Client  # noqa: E402
from msptui.store import Store  # noqa: E402
from msptui.verify import verify  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line(name: str, ours: float, yard_name: str, yard: float, extra: str = "") -> None:
    print(f"{name:<34} ours {ours:8.3f} s   {yard_name} {yard:8.3f} s   ratio {ours / yard:5.2f}x  {extra}", flush=True)


def bench_verify(folder: Path, n_events: int) -> None:
    db = folder / "bench.db"
    with Store.open(db, create=True) as store:
        batch = []
        for i in range(n_events):
            batch.append(Client(id=f"c{i % (n_events // 2 or 1)}", name=f"Client {i}", engagement="managed", home_tz="UTC"))
            if len(batch) == 5000:
                store.put_many(batch)
                batch = []
        if batch:
            store.put_many(batch)
        count = store.head()[0]
        t0 = time.perf_counter()
        for row in store.conn.execute("SELECT id, at, tz, actor, kind, payload, prev_hash FROM events ORDER BY id"):
            hashlib.sha256(canonical(dict(row)).encode()).hexdigest()
        yard = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = verify(store)
        ours = time.perf_counter() - t0
        assert result.ok
    line(f"verify {count:,} events", ours, "read+hash rows", yard, f"peak {peak_mib():.0f} MiB")


def bench_hash(folder: Path, mib: int) -> None:
    path = folder / "image.bin"
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        for _ in range(mib):
            handle.write(block)
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    t0 = time.perf_counter()
    ref = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]
    yard = time.perf_counter() - t0
    before = peak_mib()
    t0 = time.perf_counter()
    ours = hash_file(path)
    elapsed = time.perf_counter() - t0
    assert ours.sha256 == ref
    line(f"hash evidence {mib:,} MiB", elapsed, "sha256sum", yard,
         f"{mib / elapsed:.0f} MiB/s; RSS grew {peak_mib() - before:.0f} MiB (constant memory)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_verify(Path(tmp), args.events)
        bench_hash(Path(tmp), args.mib)


if __name__ == "__main__":
    main()
