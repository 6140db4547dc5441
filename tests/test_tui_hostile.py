"""Hostile record text: shown literally everywhere, never parsed as markup, never a crash.

Client names, incident summaries and notes carry Textual markup, a click
action, Rich tags, ANSI escapes, a right-to-left override and very long
strings. Each test checks the literal (made-visible) text is on screen and
the app is still running (``return_code is None``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from msptui.incidents import add_note, open_incident
from msptui.models import Client
from msptui.store import Store
from screens.testing import screen_text, small_plan
from tests.test_tui import SIZE, make_app, run, wait_for, wait_text

NAMES = {
    "acme-prod": "Acme [/prod]",
    "click": "[@click=app.quit]x",
    "bold": "[b]bold",
    "ansi": "\x1b[31mred",
    "rlo": "\u202eevil",
    "var": "Var [$accent]name\\",
    "long": "L" * 499 + "!",
}
# what each looks like on screen (msptui.literal.visible)
SHOWN = {
    "acme-prod": "Acme [/prod]",
    "click": "[@click=app.quit]x",
    "bold": "[b]bold",
    "ansi": "\\x1b[31mred",
    "rlo": "\\u202eevil",
    "var": "Var [$accent]name\\",
}
LONG = "[/prod] " + "Z" * 5_000


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.db"
    with Store.open(path, create=True) as store:
        store.put_many([
            Client(id=cid, name=name, engagement="managed", home_tz="America/New_York", countries=["US"],
                   us_states=["NY"], data_held=["pii"], notes="[/]" * 100)
            for cid, name in NAMES.items()
        ])
        inc, _ = open_incident(store, client_id="acme-prod", discovered=datetime.now(timezone.utc) - timedelta(hours=3),
                               tz="America/New_York", category="ransomware",
                               summary="[@click=app.quit]boom \x1b]0;pwned\x07 \u202eevil " + LONG, plan=small_plan)
        add_note(store, inc.id, "[b]note[/b] [/prod] \x1b[2J")
        add_note(store, inc.id, LONG)
    return path


def incident_id(db: Path) -> str:
    from msptui.models import Incident

    with Store.open(db) as store:
        return store.all(Incident)[0].id


def test_home_shows_hostile_names_literally(hostile_db):
    async def go():
        app = make_app(hostile_db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            text = await wait_text(pilot, "of 7 clients")
            for shown in SHOWN.values():
                assert shown in text, shown
            assert "LLLLLLLL" in text
            # clicking where the fake link is drawn does nothing
            await pilot.click("#clients", offset=(3, 1))
            await pilot.pause(0.1)
            assert app.return_code is None
            # hostile filter text
            await pilot.press("slash", "[", "/")
            text = await wait_text(pilot, "1 of 7 clients")
            assert "Acme [/prod]" in text
            await pilot.press("escape")
            await pilot.press("slash", *"[@click")
            await wait_text(pilot, "1 of 7 clients")
            assert app.return_code is None
    run(go())


@pytest.mark.parametrize("cid", list(NAMES))
def test_client_screen_hostile_name(hostile_db, cid):
    async def go():
        app = make_app(hostile_db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_text(pilot, "of 7 clients")
            app.open_client(cid)
            text = await wait_text(pilot, "AGREEMENTS IN FORCE")
            assert SHOWN.get(cid, "LLLLLLLLLL") in text
            assert "NO AGREEMENT IN FORCE" in text
            await pilot.press("f1")
            await wait_text(pilot, "Keys:")
            assert app.return_code is None
    run(go())


def test_incident_hostile_summary_and_notes(hostile_db):
    async def go():
        app = make_app(hostile_db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_text(pilot, "of 7 clients")
            app.open_incident(incident_id(hostile_db))
            text = await wait_text(pilot, "Acme [/prod]")
            await pilot.press("4")
            text = await wait_text(pilot, "[b]note[/b] [/prod] \\x1b[2J")
            assert "[/prod] ZZZZ" in text
            await pilot.press("G")
            text = await wait_text(pilot, "[@click=app.quit]boom \\x1b]0;pwned\\x07")  # shown literally
            assert "\\u202eevil" in text
            # add a hostile note through the UI
            await pilot.press("n")
            await wait_text(pilot, "Add a note")
            await pilot.press(*"[@click=app.quit]q [/x]", "enter")
            await wait_text(pilot, "[@click=app.quit]q [/x]")
            assert app.return_code is None
    run(go())


def test_notifications_and_dialogs_are_literal(hostile_db):
    async def go():
        app = make_app(hostile_db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_text(pilot, "of 7 clients")
            app.say("[/prod] [@click=app.quit]x \x1b[31m \u202e" + "W" * 5000)
            text = await wait_text(pilot, "[/prod] [@click=app.quit]x")
            assert "\\x1b[31m" in text
            assert app.return_code is None
            # an error text with markup goes through the error path too
            app.open_incident("no-such-incident-[/x]")
            await wait_text(pilot, "no-such-incident-[/x]")
            assert app.return_code is None
            del text
    run(go())


def test_posture_and_palette_with_hostile_names(hostile_db):
    async def go():
        from textual.command import CommandPalette

        app = make_app(hostile_db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_text(pilot, "of 7 clients")
            await pilot.press("p")
            text = await wait_text(pilot, "findings, sorted")
            await pilot.press("s")
            text = await wait_text(pilot, "sorted by client")
            assert "Acme [/prod]" in text or "[b]bold" in text
            await pilot.press("escape")
            await wait_text(pilot, "of 7 clients")
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"acme")
            await wait_text(pilot, "Open client Acme [/prod]")
            await pilot.press("enter")
            await wait_text(pilot, "AGREEMENTS IN FORCE")
            assert app.return_code is None
    run(go())


def test_breach_form_with_hostile_summary(hostile_db):
    async def go():
        from screens.incident import IncidentScreen

        app = make_app(hostile_db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_text(pilot, "of 7 clients")
            app.open_client("click")
            await wait_text(pilot, "AGREEMENTS IN FORCE")
            await pilot.press("f2")
            await wait_for(pilot, lambda: getattr(app.screen, "client", None) is not None)
            app.screen.query_one("#category").value = "bec"
            app.screen.query_one("#summary").value = "[@click=app.quit]x \u202e" + "Q" * 5000
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.view is not None)
            await pilot.press("4", "G")  # the oldest entry: the incident opened, with its summary
            text = await wait_text(pilot, "bec \u2014 [@click=app.quit]x")  # literal, never a link
            assert "\\u202eQQQ" in text
            assert app.return_code is None
    run(go())


def test_sighup_exits_nonzero_and_leaves_db_intact(hostile_db):
    """A dropped SSH connection: the process leaves with 129 and the DB still verifies."""
    import os
    import pty
    import signal
    import sys
    import time

    pid, fd = pty.fork()
    if pid == 0:  # child: the real entry point on a pseudo-terminal
        os.environ["TERM"] = "xterm-256color"
        os.environ["MSPTUI_OPERATOR"] = "Pat Engineer"
        os.execv(sys.executable, [sys.executable, "-c",
                                  f"import sys; from screens.app import run; sys.exit(run({str(hostile_db)!r}))"])
    deadline = time.monotonic() + 15
    seen = b""
    try:
        while time.monotonic() < deadline and b"clients" not in seen:
            import select

            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        assert b"clients" in seen, "the TUI did not start"
        os.kill(pid, signal.SIGHUP)
        end = time.monotonic() + 10
        status = None
        while time.monotonic() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            try:
                os.read(fd, 65536)
            except OSError:
                pass
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the TUI did not exit after SIGHUP")
    finally:
        os.close(fd)
    assert os.WIFEXITED(status), status
    assert os.WEXITSTATUS(status) == 129
    from msptui.verify import verify

    with Store.open(hostile_db) as store:
        assert store.count("clients") == len(NAMES)
        assert verify(store).ok


def test_forms_prefilled_with_record_text_never_write_it_raw_to_the_terminal(hostile_db):
    """The facts form filled its text boxes with the stored summary and systems as they were: ESC]0;...BEL retitled
    the terminal and ESC[2J cleared it. A box draws each such character as one symbol and keeps the value exact."""
    async def go():
        from msptui.incidents import get_incident

        inc_id = incident_id(hostile_db)
        with Store.open(hostile_db) as store:
            stored = get_incident(store, inc_id).summary
        app = make_app(hostile_db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_text(pilot, "of 7 clients")
            app.open_incident(inc_id)
            await wait_text(pilot, "Acme [/prod]")
            await pilot.press("f")
            await wait_text(pilot, "Incident facts")
            box = app.screen.query_one("#f-summary")
            assert box.value == stored  # the value is the stored text, exactly
            box.focus()
            await pilot.pause(0.05)
            await pilot.press("home")  # the start of the summary in view (the cursor went to its end)
            await pilot.pause(0.1)
            text = screen_text(app)
            assert "\u241b]0;pwned\u2407" in text and "\ufffdevil" in text, text
            assert not any(ch in text for ch in ("\x1b", "\x07", "\u202e")), "raw control or bidi characters drawn"
            app.screen.query_one("#f-systems").value = "FS01 \x1b[2J"
            app.screen.query_one("#f-status").value = "contained"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: app.screen.view is not None and app.screen.view.incident.status == "contained",
                           what="facts saved")
        with Store.open(hostile_db) as store:
            saved = get_incident(store, inc_id)
        assert saved.summary == stored and saved.systems == ["FS01 \x1b[2J"]  # exact, nothing escaped into the record
    run(go())
