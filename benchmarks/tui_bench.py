"""TUI benchmark (a script, not a test): python benchmarks/tui_bench.py [--clients N]

Measures, each beside the same figure for a bare Textual app (Header,
DataTable, Footer) in the same run, both driven headless by Textual's Pilot
at 80x24:

1. cold start: process start -> home screen interactive with its rows drawn
   (fresh interpreter per sample; median of 3). msptui's posture badges
   arrive later from a worker; that time is printed too.
2. one filter keystroke over N clients: key press -> list redrawn.
3. report-breach submit (ctrl+s) -> incident screen fully populated: the first of the session, and the median
   of the next four (each a new incident, back to the client screen in between).
4. peak memory (ru_maxrss) of the cold-start process with N clients.

The bare app shows 200 rows (a page) in its DataTable: loading all N rows
into a stock DataTable takes seconds at 10k and would flatter msptui.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.procenv import child_env  # noqa: E402
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")  # as screens.app.run() does

BARE_ROWS = 200
#: report-breach submits measured in one session: the first (imports, styles, caches cold) and the later ones
SUBMITS = 5


def build_db(path: Path, n: int) -> Path:
    from msptui.demo import load_demo
    from msptui.models import Client
    from msptui.store import Store

    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    with Store.open(tmp, create=True) as store:
        load_demo(store)
        batch = []
        for i in range(n - store.count("clients")):
            batch.append(Client(id=f"bench-{i:05d}", name=f"Bench Client {i:05d} {['Dental', 'Logistics', 'CPA', 'Auto'][i % 4]}",
                                engagement="managed", home_tz="America/New_York", countries=["US"], us_states=["NY"]))
            if len(batch) == 2000:
                store.put_many(batch)
                batch = []
        if batch:
            store.put_many(batch)
    tmp.rename(path)
    return path


# ---------------------------------------------------------------------------
# child processes: cold start
# ---------------------------------------------------------------------------

CHILD_MSPTUI = r"""
import sys, time, resource, asyncio
t0 = float(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from screens.app import prepare_environment, check_db
prepare_environment()
assert check_db(Path(sys.argv[1])) is None  # what run() does before the UI
from screens.shell import MspApp
async def main():
    app = MspApp(sys.argv[1], poll=False, ask_operator=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        while not screen.all_rows:
            await pilot.pause(0.005)
        await pilot.pause(0)
        ready = time.time() - t0
        while screen.badge_state == "badges loading":
            await pilot.pause(0.01)
        badges = time.time() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT", ready, badges, rss, flush=True)
asyncio.run(main())
"""

CHILD_BARE = r"""
import sys, time, resource, asyncio, sqlite3
t0 = float(sys.argv[2])
from textual.app import App
from textual.widgets import Header, DataTable, Footer
class Bare(App):
    def compose(self):
        yield Header(); yield DataTable(); yield Footer()
    def on_mount(self):
        conn = sqlite3.connect(sys.argv[1])
        rows = conn.execute("SELECT id, json_extract(data, '$.name'), json_extract(data, '$.engagement') FROM clients ORDER BY 2 LIMIT %d").fetchall()
        t = self.query_one(DataTable); t.add_columns("id", "name", "engagement"); t.add_rows(rows)
        self.loaded = True
async def main():
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        while not getattr(app, "loaded", False):
            await pilot.pause(0.005)
        await pilot.pause(0)
        ready = time.time() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT", ready, ready, rss, flush=True)
asyncio.run(main())
""" % BARE_ROWS


def cold(script: str, db: Path) -> tuple[float, float, float]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", script, str(db), repr(t0), str(ROOT)], capture_output=True, text=True,
                         env=child_env(TEXTUAL_ANIMATIONS="none"))
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"child failed:\n{out.stdout}\n{out.stderr}")
    _, ready, badges, rss = line.split()
    return float(ready), float(badges), float(rss)


# ---------------------------------------------------------------------------
# in-process: filter keystroke and report-breach submit
# ---------------------------------------------------------------------------


async def msptui_interactive(db: Path, plan) -> dict:
    from screens.incident import IncidentScreen
    from screens.shell import MspApp

    app = MspApp(db, poll=False, plan=plan, ask_operator=False)
    res: dict = {}
    async with app.run_test(size=(80, 24)) as pilot:
        home = app.screen
        while not home.all_rows:
            await pilot.pause(0.01)
        while home.badge_state == "badges loading":
            await pilot.pause(0.01)
        await pilot.press("slash")
        handler, roundtrip = [], []
        original = home.apply_filter

        def timed(keep: bool) -> None:
            t = time.perf_counter()
            original(keep)
            handler.append(time.perf_counter() - t)

        home.apply_filter = timed
        for ch in "bench 0123" * 2:
            t = time.perf_counter()
            await pilot.press(ch if ch != " " else "space")
            await pilot._wait_for_screen()
            roundtrip.append(time.perf_counter() - t)
        for _ in range(20):
            t = time.perf_counter()
            await pilot.press("backspace")
            await pilot._wait_for_screen()
            roundtrip.append(time.perf_counter() - t)
        res["filter_handler_ms"] = statistics.median(handler) * 1000
        res["filter_handler_max_ms"] = max(handler) * 1000
        res["filter_roundtrip_ms"] = statistics.median(roundtrip) * 1000
        await pilot.press("escape")
        await pilot.pause(1.0)  # the engineer reads the list; warm-up imports finish
        app.open_client("lakeshore-cpa")
        while getattr(app.screen, "picture", None) is None:
            await pilot.pause(0.01)
        original_loaded = IncidentScreen.loaded_view
        populated, painted = [], []
        for _ in range(SUBMITS):  # the first in the session, then later ones (each a new incident)
            await pilot.press("f2")
            while getattr(app.screen, "client", None) is None:
                await pilot.pause(0.01)
            app.screen.query_one("#category").value = "ransomware"
            app.screen.query_one("#summary").value = "bench: files encrypted"
            marks: dict = {}

            async def loaded(self, view, marks=marks):  # timestamps: widgets filled, then the next completed refresh
                await original_loaded(self, view)
                marks.setdefault("populated", time.perf_counter())
                self.call_after_refresh(lambda: marks.setdefault("painted", time.perf_counter()))

            IncidentScreen.loaded_view = loaded
            t = time.perf_counter()
            await pilot.press("ctrl+s")
            while "painted" not in marks:
                await pilot.pause(0.001)
            populated.append((marks["populated"] - t) * 1000)
            painted.append((marks["painted"] - t) * 1000)
            res["checklist_items"] = len(app.screen.view.checklist)
            IncidentScreen.loaded_view = original_loaded
            await pilot.press("escape")  # back to the client, as an engineer opening the next one would
            while getattr(app.screen, "picture", None) is None:
                await pilot.pause(0.01)
            await pilot.pause(0.3)
        res["submit_to_incident_ms"] = populated[0]
        res["submit_to_paint_ms"] = painted[0]
        res["later_submits_ms"] = statistics.median(populated[1:]) if len(populated) > 1 else None
    return res


async def bare_interactive(db: Path) -> dict:
    import sqlite3

    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import DataTable, Footer, Header, Input

    conn = sqlite3.connect(db)
    names = [r for r in conn.execute("SELECT id, json_extract(data, '$.name'), json_extract(data, '$.engagement') FROM clients ORDER BY 2")]

    class Detail(Screen):
        def compose(self):
            yield Header(); yield DataTable(); yield Footer()

        def on_mount(self):
            rows = sqlite3.connect(db).execute("SELECT id, data FROM checklist_items LIMIT 30").fetchall() or [("-", "-")]
            t = self.query_one(DataTable)
            t.add_columns("id", "data")
            t.add_rows([(r[0], r[1][:60]) for r in rows])
            self.app.marks["populated"] = time.perf_counter()
            self.call_after_refresh(lambda: self.app.marks.setdefault("painted", time.perf_counter()))

    class Bare(App):
        BINDINGS = [("ctrl+s", "detail", "detail")]

        def compose(self):
            yield Header(); yield Input(); yield DataTable(); yield Footer()

        def on_mount(self):
            t = self.query_one(DataTable)
            t.add_columns("id", "name", "engagement")
            t.add_rows(names[:BARE_ROWS])

        def on_input_changed(self, event):
            q = event.value.casefold()
            t = self.query_one(DataTable)
            t.clear()
            t.add_rows([r for r in names if q in r[1].casefold()][:BARE_ROWS])

        def action_detail(self):
            self.loaded = False
            self.push_screen(Detail())

    app = Bare()
    res: dict = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        app.query_one(Input).focus()
        roundtrip = []
        for ch in "bench 0123" * 2:
            t = time.perf_counter()
            await pilot.press(ch if ch != " " else "space")
            await pilot._wait_for_screen()
            roundtrip.append(time.perf_counter() - t)
        for _ in range(20):
            t = time.perf_counter()
            await pilot.press("backspace")
            await pilot._wait_for_screen()
            roundtrip.append(time.perf_counter() - t)
        res["filter_roundtrip_ms"] = statistics.median(roundtrip) * 1000
        marks: dict = {}
        app.marks = marks
        t = time.perf_counter()
        await pilot.press("ctrl+s")
        while "painted" not in marks:
            await pilot.pause(0.001)
        res["submit_to_incident_ms"] = (marks["populated"] - t) * 1000
        res["submit_to_paint_ms"] = (marks["painted"] - t) * 1000
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--db", type=Path, default=None, help="where to build/keep the benchmark DB")
    ap.add_argument("--samples", type=int, default=7)
    args = ap.parse_args()
    db = args.db or Path(os.environ.get("TMPDIR", "/tmp")) / f"msptui-tui-bench-{args.clients}.db"
    t = time.perf_counter()
    build_db(db, args.clients)
    print(f"DB {db} ({args.clients:,} clients) ready in {time.perf_counter() - t:.1f} s")

    import shutil
    import tempfile

    # interleaved, so a burst of load on this shared machine hits both sides alike
    m_samples, b_samples = [], []
    for _ in range(args.samples):
        m_samples.append(cold(CHILD_MSPTUI, db))
        b_samples.append(cold(CHILD_BARE, db))
    m_ready = statistics.median(s[0] for s in m_samples)
    m_badges = statistics.median(s[1] for s in m_samples)
    m_rss = max(s[2] for s in m_samples)
    b_ready = statistics.median(s[0] for s in b_samples)
    b_rss = max(s[2] for s in b_samples)

    try:
        from msptui.plan import plan_checklist as plan
        plan_name = "msptui.plan"
    except ImportError:
        from screens.testing import small_plan as plan
        plan_name = "screens.testing.small_plan"
    with tempfile.TemporaryDirectory() as tmp:
        work_db = Path(tmp) / "work.db"
        shutil.copy(db, work_db)
        m = asyncio.run(msptui_interactive(work_db, plan))
        b = asyncio.run(bare_interactive(work_db))

    rows = [
        ("cold start -> interactive home (s)", f"{m_ready:.3f}", f"{b_ready:.3f}", f"ratio {m_ready / b_ready:.2f}x (target <= 1.3x)"),
        ("  ... posture badges drawn (s)", f"{m_badges:.3f}", "-", "worker, after the list is usable"),
        ("filter keystroke, handler (ms)", f"{m['filter_handler_ms']:.2f}", "-", f"max {m['filter_handler_max_ms']:.2f} ms (target < 16 ms)"),
        ("filter keystroke, key -> repaint (ms)", f"{m['filter_roundtrip_ms']:.1f}", f"{b['filter_roundtrip_ms']:.1f}", "Pilot round trip, median"),
        ("submit -> incident populated, first (ms)", f"{m['submit_to_incident_ms']:.1f}", f"{b['submit_to_incident_ms']:.1f}",
         f"target < 100 ms; planner {plan_name}, {m['checklist_items']} items"),
        (f"  ... later submits, median of {SUBMITS - 1} (ms)", f"{m['later_submits_ms']:.1f}", "-",
         "the same session, each a new incident"),
        ("submit -> incident painted (ms)", f"{m['submit_to_paint_ms']:.1f}", f"{b['submit_to_paint_ms']:.1f}",
         "first completed refresh after populate"),
        ("peak RSS, cold start (MiB)", f"{m_rss:.1f}", f"{b_rss:.1f}", "target < 100 MiB"),
    ]
    print(f"\n{'measure':<40} {'msptui':>9} {'bare':>9}  note")
    for name, a, bb, note in rows:
        print(f"{name:<40} {a:>9} {bb:>9}  {note}")
    print(json.dumps({"msptui": {"cold_s": m_ready, "badges_s": m_badges, "rss_mib": m_rss, **m},
                      "bare": {"cold_s": b_ready, "rss_mib": b_rss, **b}}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
