"""Benchmark: long unbroken text (pasted base64, a log line) in a dossier wraps in bounded time.

Run: ``.venv/bin/python benchmarks/longtext_bench.py [--notes N] [--chars N]``

An incident gets 70 notes of 20,000 characters each (the longest a note may
be) with no space in them, and is exported the way the CLI does (in the
child process). The yardstick, measured in the same run: the same incident
with 70 notes of 20,000 characters of ordinary prose (words and spaces).
Target: under 60 s on a 2-core machine, and close to the yardstick.
A standalone script, not a test.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.export_bench import DISCOVERED, populate  # noqa: E402
from msptui.models import Note  # noqa: E402
from msptui.store import Store  # noqa: E402

TARGET_S = 60.0
WORDS = ("the attacker moved laterally from the file server to the domain controller using a stolen service "
         "account and encrypted shares before the backup job ran").split()


def unbroken(chars: int, rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(chars)).decode("ascii")[:chars]


def prose(chars: int, rng: random.Random) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:chars]


def run_case(name: str, notes: int, chars: int, make, workdir: Path) -> tuple[float, int]:
    from msptui.export import export_in_child

    rng = random.Random(13)
    db = workdir / f"{name}.db"
    with Store.open(db, create=True) as store:
        incident_id = populate(store, events=20, evidence=2, reviews=1, client_id=f"long-{name}")
        store.put_many([Note.model_validate({
            "id": f"{incident_id}:note-long-{n}", "incident_id": incident_id, "client_id": f"long-{name}",
            "at": {"at": (DISCOVERED + timedelta(minutes=n)).isoformat(), "tz": "UTC"}, "author": "pat",
            "text": make(chars, rng)}) for n in range(notes)])
    start = time.perf_counter()
    path = export_in_child(db, incident_id, out_dir=workdir / "out", timeout=900)
    seconds = time.perf_counter() - start
    return seconds, (path / "dossier.pdf").stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=70)
    parser.add_argument("--chars", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("MSPTUI_KEY_DIR", tempfile.mkdtemp(prefix="msptui-bench-keys-"))
    workdir = Path(tempfile.mkdtemp(prefix="msptui-longtext-bench-"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f}; {args.notes} notes of {args.chars:,} characters")
    yard_s, yard_size = run_case("prose", args.notes, args.chars, prose, workdir)
    ours_s, ours_size = run_case("unbroken", args.notes, args.chars, unbroken, workdir)
    print(f"{'case':<28} {'export s':>9} {'PDF KiB':>8}")
    print(f"{'unbroken (base64), ours':<28} {ours_s:>9.2f} {ours_size // 1024:>8}")
    print(f"{'prose, yardstick':<28} {yard_s:>9.2f} {yard_size // 1024:>8}   ratio {ours_s / yard_s:.2f}x")
    ok = ours_s < TARGET_S
    print(f"target: under {TARGET_S:.0f} s: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
