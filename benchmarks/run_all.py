"""``make bench``: run every benchmark script, each in its own process, and
report its peak memory (the child's own ru_maxrss from wait4).

Every script prints its figures beside a yardstick measured in the same run:
machines here are shared and noisy, so compare ratios, not absolute times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ("core (verify, evidence hashing)", "core_bench.py", []),
    ("scale (append latency, verify at 100k/1M events, timeline page)", "scale_bench.py", []),
    ("start-up (clients --json, note vs sqlite-utils query)", "startup_bench.py", []),
    ("portfolio (20k-client import and posture, badges on 10k)", "portfolio_bench.py", []),
    ("soak (8 writers, export and backup loops, replicator)", "soak_bench.py", []),
    ("posture", "posture_bench.py", []),
    ("TUI", "tui_bench.py", []),
    ("export", "export_bench.py", []),
    ("long unbroken text in a dossier", "longtext_bench.py", []),
    ("import memory", "import_bench.py", []),
]


def main() -> int:
    failed = 0
    for title, script, args in SCRIPTS:
        path = HERE / script
        if not path.exists():
            print(f"== {title}: {script} not present, skipped")
            continue
        print(f"== {title} ({script})", flush=True)
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(path), *args])
        _, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        failed += code != 0
        print(f"   [{script}: exit {code}, {time.perf_counter() - start:.1f} s wall, peak RSS {usage.ru_maxrss / 1024:.0f} MiB]\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
