"""Large databases for the benchmarks, built once and kept in a cache folder.

``chain_db(n)`` returns the path of a database holding exactly ``n`` events:
the demo portfolio, a few open incidents, and notes on them (a fifth of all
notes on one "big" incident, as a long-running breach accumulates), written
through the real store (every event sealed and projected) in batches.
Building 1,000,000 events takes a few minutes; the file is kept in
``$MSPTUI_BENCH_CACHE`` (default /tmp/msptui-bench) and reused by later runs.
Benchmarks copy it before writing to it.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msptui.demo import load_demo  # noqa: E402
from msptui.incidents import open_incident  # noqa: E402
from msptui.models import Note  # noqa: E402
from msptui.store import Store  # noqa: E402

CACHE = Path(os.environ.get("MSPTUI_BENCH_CACHE", "/tmp/msptui-bench"))
INCIDENTS = [("tallgrass-vet", "America/Chicago", "ransomware"), ("meridian-insurance", "America/New_York", "bec"),
             ("sunvale-health", "America/Los_Angeles", "data_exfiltration")]
BATCH = 10_000


def cache_path(name: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE / name


def chain_db(n: int, *, quiet: bool = False) -> tuple[Path, list[str]]:
    """(path, incident ids) of a cached database with exactly ``n`` events (n >= 300)."""
    from msptui.migrations import LATEST

    path = cache_path(f"chain-{n}-schema{LATEST}.db")  # a cache built by another schema is not reused
    ids_file = path.with_suffix(".incidents")
    if path.exists() and ids_file.exists():
        return path, ids_file.read_text().split()
    tmp = path.with_suffix(".building")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    with Store.open(tmp, create=True) as store:
        load_demo(store, today=date(2026, 11, 27))
        incidents = []
        for client, tz, category in INCIDENTS:
            inc, _ = open_incident(store, client_id=client, discovered=datetime.now(timezone.utc) - timedelta(days=3), tz=tz,
                                   category=category, summary=f"benchmark incident for {client}")
            incidents.append((inc.id, inc.client_id))
        remaining = n - store.head()[0]
        if remaining < 0:
            raise SystemExit(f"chain_db: {n} events is fewer than the fixture's base ({store.head()[0]})")
        counters = {iid: 0 for iid, _ in incidents}
        start = datetime.now(timezone.utc) - timedelta(days=2)
        done = 0
        while done < remaining:
            batch = []
            for k in range(min(BATCH, remaining - done)):
                i = done + k
                iid, cid = incidents[0] if i % 5 == 0 else incidents[1 + i % 2]
                counters[iid] += 1
                batch.append(Note(id=f"{iid}:note-{counters[iid]}", incident_id=iid, client_id=cid,
                                  at={"at": start + timedelta(seconds=i * 0.1), "tz": "UTC"}, author="bench",
                                  text=f"note {i}: checked the firewall logs for host-{i % 977} and found nothing new"))
            store.put_many(batch)
            done += len(batch)
            if not quiet:
                print(f"\r  building {path.name}: {store.head()[0]:,} / {n:,} events", end="", file=sys.stderr, flush=True)
        if not quiet:
            print(file=sys.stderr)
        assert store.head()[0] == n
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, path)
    ids_file.write_text("\n".join(iid for iid, _ in incidents))
    return path, [iid for iid, _ in incidents]


def copy_db(src: Path, dest: Path) -> Path:
    shutil.copyfile(src, dest)
    return dest
