"""Text snapshots of every screen at 80x24 (no pytest-textual-snapshot: plain text golden files).

Each test drives the app with Pilot on a copy of the demo portfolio loaded as
of 2026-11-27, waits until the screen has settled, and compares the terminal's
exact 80x24 character grid (screens.testing.screen_grid) with
tests/snapshots/<name>.txt.

Deterministic by construction:
- "now" is frozen at NOW for every clock the screens read: screens.incident.now_utc
  (incident countdowns, posture), msptui.picture's datetime (client picture),
  msptui.incidents._now (records written while building the DB), and the
  breach form's datetime (default discovered-at, "your clock" shown in UTC);
- the operator is OPERATOR (msptui.environment.actor, with no identity set)
  and the machine zone is America/Chicago; events are recorded at NOW
  (msptui.store.utc_stamp);
- the DB is opened by a relative name from the test's tmp directory, so the
  header shows "DB msptui-demo.db" wherever pytest puts tmp files;
- the incident's discovery time, note, ticked item and evidence are fixed;
  the checklist comes from screens.testing.small_plan (not the rules engine).

Updating: a missing golden file, or MSPTUI_UPDATE_SNAPSHOTS=1, writes the file
and FAILS saying so (never a silent pass). Read the new file, then run again.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import shutil
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.cells import cell_len

from screens.testing import screen_grid, small_plan

SNAP_DIR = Path(__file__).parent / "snapshots"
SIZE = (80, 24)
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)  # 09:00 in Chicago
OPERATOR = "operator"
MACHINE_ZONE = "America/Chicago"
CLIENT = "lakeshore-cpa"
DISCOVERED = NOW - timedelta(hours=3)  # 06:00 in Chicago
DB_NAME = "msptui-demo.db"
UPDATE = os.environ.get("MSPTUI_UPDATE_SNAPSHOTS") == "1"


class FrozenDatetime(datetime):
    """datetime whose now() is NOW; a naive local now() converts to UTC (the machine zone is UTC)."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        if tz is None:
            return cls(*NOW.timetuple()[:6])
        return NOW.astimezone(tz)

    def astimezone(self, tz=None):  # type: ignore[override]
        if tz is None and self.tzinfo is None:
            return datetime(*self.timetuple()[:6], tzinfo=timezone.utc)
        return datetime.astimezone(self, tz)


def freeze(mp: pytest.MonkeyPatch, now=lambda: NOW) -> None:
    from msptui.chain import utc_stamp

    mp.setattr("screens.incident.now_utc", now)
    mp.setattr("msptui.picture.datetime", FrozenDatetime)
    # posture judges each client on its local date: with the real clock the posture screen's "238 days" became
    # "239 days" when Chicago's date turned, so the snapshot failed from one run to the next
    mp.setattr("msptui.views.portfolio.datetime", FrozenDatetime)
    mp.setattr("msptui.posture_stream.datetime", FrozenDatetime)
    mp.setattr("msptui.posture.datetime", FrozenDatetime)
    mp.setattr("msptui.incidents._now", now)
    mp.setattr("msptui.store.utc_stamp", lambda: utc_stamp(now()))
    mp.setattr("screens.breach.datetime", FrozenDatetime)
    mp.setattr("screens.review_form.datetime", FrozenDatetime)
    mp.setattr("screens.sign_form.datetime", FrozenDatetime)
    mp.setattr("msptui.environment.actor", lambda: OPERATOR)
    mp.setattr("msptui.environment.local_zone", lambda: MACHINE_ZONE)


@pytest.fixture(scope="session")
def snapshot_template(tmp_path_factory) -> tuple[Path, str]:
    """The demo portfolio as of TODAY plus one ransomware incident at CLIENT with a note, a tick and evidence."""
    from msptui import incidents
    from msptui.demo import load_demo
    from msptui.store import Store

    root = tmp_path_factory.mktemp("tui-snap")
    path = root / DB_NAME
    log = root / "firewall.log"
    log.write_bytes(b"deny tcp 203.0.113.9 -> 10.0.0.5:445\n" * 200)
    with pytest.MonkeyPatch.context() as mp:
        freeze(mp)
        with Store.open(path, create=True) as store:
            load_demo(store, today=TODAY)
            incident, _ = incidents.open_incident(
                store, client_id=CLIENT, discovered=DISCOVERED, tz="America/Chicago", category="ransomware",
                summary="files encrypted on FS01, ransom note found at 06:00", reported_by="Sam Rivera", plan=small_plan)
            mp.setattr("msptui.incidents._now", lambda: DISCOVERED + timedelta(minutes=40))
            incidents.add_note(store, incident.id, "called the carrier's breach hotline, claim ref pending", tz="America/Chicago")
            mp.setattr("msptui.incidents._now", lambda: DISCOVERED + timedelta(hours=1, minutes=15))
            incidents.add_evidence(store, incident.id, log, name="firewall.log", source="fs01:/var/log/firewall.log",
                                   location="evidence share \\\\nas01\\case")
            incidents.set_item(store, incident.id, "counsel", status="done", note="engaged breach counsel",
                               at=DISCOVERED + timedelta(hours=2))
    return path, incident.id


@pytest.fixture
def snap_env(snapshot_template, tmp_path, monkeypatch) -> str:
    """A fresh copy of the template in the cwd (the header shows its relative name); clocks frozen."""
    path, incident_id = snapshot_template
    shutil.copy(path, tmp_path / DB_NAME)
    monkeypatch.chdir(tmp_path)
    freeze(monkeypatch)
    return incident_id


def make_app():
    from screens.shell import MspApp

    return MspApp(Path(DB_NAME), plan=small_plan, poll=False, ask_operator=False)


async def until(pilot, cond, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except Exception:
            pass
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}\n{screen_grid(pilot.app)}")


async def settled(pilot) -> str:
    """The grid once DB workers are idle and two consecutive renders agree."""
    app = pilot.app
    await until(pilot, lambda: not [w for w in app.workers if (w.group or "").startswith("db-") and not w.is_finished],
                "DB workers to finish")
    previous = None
    for _ in range(50):
        await pilot.pause(0.03)
        text = screen_grid(app)
        if text == previous:
            return text
        previous = text
    return previous or ""


async def at_home(pilot) -> None:
    home = pilot.app.screen
    await until(pilot, lambda: home.all_rows and home.badge_state != "badges loading", "home rows and badges")


def check(name: str, text: str) -> None:
    lines = text.split("\n")
    assert len(lines) == SIZE[1], f"{name}: {len(lines)} lines, expected {SIZE[1]}"
    assert all(cell_len(line) == SIZE[0] for line in lines), f"{name}: a line is not {SIZE[0]} cells wide"
    path = SNAP_DIR / f"{name}.txt"
    if UPDATE or not path.exists():
        SNAP_DIR.mkdir(exist_ok=True)
        existed = path.exists()
        path.write_text(text + "\n", encoding="utf-8")
        pytest.fail(f"snapshot {path} was {'rewritten' if existed else 'missing and has been written'}: "
                    "read it, then run the tests again without MSPTUI_UPDATE_SNAPSHOTS", pytrace=False)
    expected = path.read_text(encoding="utf-8").removesuffix("\n")
    if text != expected:
        diff = "\n".join(difflib.unified_diff(expected.split("\n"), lines, f"{name}.txt (golden)", f"{name} (rendered)",
                                              lineterm=""))
        pytest.fail(f"screen {name} differs from {path} (MSPTUI_UPDATE_SNAPSHOTS=1 rewrites it after review):\n{diff}",
                    pytrace=False)


def snapshot(name: str, steps) -> None:
    async def go() -> str:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await at_home(pilot)
            await steps(pilot)
            return await settled(pilot)

    check(name, asyncio.run(go()))


# ---------------------------------------------------------------------------
# the screens
# ---------------------------------------------------------------------------


def test_home(snap_env):
    async def steps(pilot):
        pass

    snapshot("home", steps)


def test_home_filtered(snap_env):
    async def steps(pilot):
        await pilot.press("slash", *"ea")
        await until(pilot, lambda: len(pilot.app.screen.query_one("#clients").rows) < len(pilot.app.screen.all_rows),
                    "the filter")

    snapshot("home_filtered", steps)


async def open_client(pilot) -> None:
    from screens.client import ClientScreen

    pilot.app.open_client(CLIENT)
    await until(pilot, lambda: isinstance(pilot.app.screen, ClientScreen) and pilot.app.screen.picture is not None,
                "the client picture")


def test_client(snap_env):
    snapshot("client", open_client)


def test_client_as_of(snap_env):
    async def steps(pilot):
        await open_client(pilot)
        await pilot.press("d")
        await until(pilot, lambda: pilot.app.screen.query_one("#prompt-input"), "the as-of prompt")
        await pilot.press(*"2026-01-15", "enter")
        await until(pilot, lambda: pilot.app.screen.at is not None and pilot.app.screen.picture["as_of_local_date"] == "2026-01-15",
                    "the picture as of 2026-01-15")

    snapshot("client_as_of", steps)


def test_posture(snap_env):
    async def steps(pilot):
        from screens.posture import PostureScreen

        await pilot.press("p")
        await until(pilot, lambda: isinstance(pilot.app.screen, PostureScreen) and pilot.app.screen.data_head is not None,
                    "posture findings")

    snapshot("posture", steps)


def test_breach_form(snap_env):
    async def steps(pilot):
        from screens.breach import BreachScreen

        pilot.app.push_screen(BreachScreen(CLIENT))
        await until(pilot, lambda: isinstance(pilot.app.screen, BreachScreen) and pilot.app.screen.client is not None,
                    "the breach form's client")

    snapshot("breach_form", steps)


@pytest.mark.parametrize("number,tab", [(1, "checklist"), (2, "coverage"), (3, "insurance"), (4, "timeline"), (5, "evidence")])
def test_incident_tab(snap_env, number, tab):
    async def steps(pilot):
        from screens.incident import IncidentScreen

        pilot.app.open_incident(snap_env)
        await until(pilot, lambda: isinstance(pilot.app.screen, IncidentScreen) and pilot.app.screen.view is not None,
                    "the incident")
        await pilot.press(str(number))
        await until(pilot, lambda: pilot.app.screen.query_one("#tabs").active == tab, f"the {tab} tab")
        if tab == "insurance":
            await until(pilot, lambda: pilot.app.screen._clocks_for is not None, "the insurance clocks")

    snapshot(f"incident_{number}_{tab}", steps)


def test_help_overlay(snap_env):
    async def steps(pilot):
        from screens.help import HelpScreen

        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help overlay")

    snapshot("help", steps)


# ---------------------------------------------------------------------------
# the record forms (issue 14)
# ---------------------------------------------------------------------------


def test_record_menu(snap_env):
    async def steps(pilot):
        from screens.widgets import PickScreen

        await open_client(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, PickScreen), "the record menu")

    snapshot("record_menu", steps)


def test_new_client_form(snap_env):
    async def steps(pilot):
        await pilot.press("ctrl+n")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "NewClientScreen", "the new-client form")

    snapshot("new_client_form", steps)


@pytest.mark.parametrize("name, module, cls, client, loaded", [
    ("agreement_form", "screens.agreement_form", "AgreementScreen", CLIENT, lambda s: "recorded unsigned" in str(s.query_one("#who").render())),
    ("scope_editor", "screens.scope_editor", "ScopeScreen", "orchard-dental", lambda s: s.agreement is not None),
    ("sign_form", "screens.sign_form", "SignScreen", "brightline-auto", lambda s: s.client is not None),
    ("review_form", "screens.review_form", "ReviewScreen", CLIENT, lambda s: s.client is not None),
    ("policy_form", "screens.policy_form", "PolicyScreen", CLIENT, lambda s: bool(s.policies)),
])
def test_record_form(snap_env, name, module, cls, client, loaded):
    async def steps(pilot):
        import importlib

        screen = getattr(importlib.import_module(module), cls)(client)
        pilot.app.push_screen(screen)
        await until(pilot, lambda: pilot.app.screen is screen and loaded(screen), f"the {name}")

    snapshot(name, steps)
