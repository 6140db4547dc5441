"""Home: every client, instant type-to-filter, and the posture badges that matter in a breach.

The list is a RowList (renders only visible lines), so 10,000 clients paint
and filter as fast as 20. Rows come from msptui.views.portfolio in a worker;
badges (the posture findings ``msptui posture`` prints, plus open incidents)
come from a second worker and are drawn in when ready. The badge legend in
the help is generated from the same table as the badges.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input

from msptui.views.portfolio import ClientRow, client_rows, filter_rows
from screens.messages import NewClient, OpenClient, ReportBreach
from screens.widgets import SafeInput, DbMixin, Footer, RowList, SafeStatic, clean, fit, topbar


def warm_up() -> None:
    """Import what the next screens need while the engineer reads the list (off the UI thread),
    so report-breach -> incident is not slowed by first-time imports."""
    import importlib

    for name in ("msptui.picture", "msptui.incidents", "msptui.inputs", "msptui.views.incident", "msptui.timeutil",
                 "screens.client", "screens.breach", "screens.incident", "screens.posture"):
        try:
            importlib.import_module(name)
        except Exception:
            pass
    try:
        from msptui.plan import warm

        warm()
    except Exception:
        pass


def warm_styles(app: Any) -> None:
    """Parse the default CSS of every widget class the app has imported, on the UI thread, while the engineer reads
    the list (best effort). Textual parses a class's DEFAULT_CSS the first time one is mounted and rebuilds its
    rules map: ~30 ms of the first report-breach -> incident screen, paid here instead."""
    from textual.widget import Widget

    seen: set[type] = set()
    stack = list(Widget.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
    try:
        for cls in seen:
            node = cls.__new__(cls)  # not constructed: only its class's CSS is read
            for read_from, css, tie_breaker, scope in node._get_default_css():
                app.stylesheet.add_source(css, read_from=read_from, is_default_css=True, tie_breaker=tie_breaker,
                                          scope=scope)
        app.stylesheet.rules_map  # noqa: B018 - parse now, and build the map the next screen's styling reads
    except Exception:  # a Textual without these internals: the first screen pays, as before
        pass


def home_rows(store: Any) -> tuple[list[ClientRow], int, bool]:
    """Every client row, the chain head they were read at, and whether this is the demo database."""
    return client_rows(store), store.head()[0], store.is_demo()


def home_badges(store: Any) -> dict[str | None, list[str]]:
    from msptui.views.portfolio import badges

    return badges(store)


class HomeScreen(DbMixin, Screen):
    """All clients. Type / to filter, Enter to open."""

    AUTO_FOCUS = "#clients"  # the list, not the filter: focusing the Input first and then moving away costs a footer rebuild
    HELP = ("Type / then part of a client's name or id; the list narrows as you type. "
            "ctrl+n or F7 adds a new client.")
    PALETTE = [("new_client", ("New client", "ctrl+n, F7"))]
    BINDINGS = [
        Binding("f1,question_mark", "app.help", "Help", key_display="? F1"),
        Binding("slash", "focus_filter", "Filter", key_display="/"),
        Binding("enter", "open", "Open", show=False),
        Binding("b,ctrl+b,f2", "report_breach", "Breach", key_display="b F2"),
        Binding("p,f6", "app.posture", "Posture", key_display="p F6"),
        Binding("ctrl+n,f7", "new_client", "New", key_display="^n"),  # a new client; the footer has room for 3 letters
        Binding("ctrl+r,f5", "refresh", "Refresh", key_display="^r", show=False),
        Binding("escape", "clear", "Clear filter", show=False),
        Binding("q", "app.quit", "Quit"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.all_rows: list[ClientRow] = []
        self.badges: dict[str | None, list[str]] = {}
        self.badge_state = "badges loading"
        self.data_head: int | None = None

    def compose(self) -> ComposeResult:
        yield SafeStatic(topbar(self.app), classes="topbar", id="topbar")
        yield SafeInput(placeholder="/ filter clients by name or id", id="filter")
        yield RowList(self.format_row, empty="(loading clients...)", id="clients")
        yield SafeStatic("", classes="status", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#clients", RowList).focus()
        self.action_refresh()

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        from msptui.views.portfolio import legend

        return [("Badges", list(legend()))]

    def on_screen_resume(self) -> None:
        """Back from another screen with a filter typed: keep typing into it (letters are not actions then)."""
        box = self.query_one("#filter", Input)
        if box.value:
            self.set_focus(box)

    def operator_changed(self) -> None:
        self.query_one("#topbar", SafeStatic).update(topbar(self.app))

    # -- data ------------------------------------------------------------------
    def action_refresh(self) -> None:
        self._badges_pending = True
        self.db("rows", home_rows)

    def load_badges(self) -> None:
        """After the list is on screen: posture in a worker, then warm the other screens' imports."""
        if getattr(self, "_badges_pending", False):
            self._badges_pending = False
            self.db("badges", home_badges)

    def external_change(self, head: int) -> None:
        if self.data_head != head:
            self.action_refresh()

    def loaded_rows(self, value: tuple[list[ClientRow], int, bool]) -> None:
        self.all_rows, self.data_head, demo = value
        if demo != getattr(self.app, "demo", False):
            self.app.demo = demo  # type: ignore[attr-defined]
            self.query_one("#topbar", SafeStatic).update(topbar(self.app))
        self.app.client_cache = self.all_rows  # type: ignore[attr-defined]
        rows = self.query_one("#clients", RowList)
        rows.empty = "(no client matches the filter)" if self.all_rows else "(no clients in this database: run 'msptui demo' or 'msptui import FILE')"
        self.apply_filter(keep=True)
        self.call_after_refresh(self.load_badges)

    def loaded_badges(self, value: dict[str | None, list[str]]) -> None:
        self.badges, self.badge_state = value, "posture badges shown"
        self.query_one("#clients", RowList).redraw()
        self.update_status()
        if not getattr(self.app, "_warm", False):
            self.app._warm = True  # type: ignore[attr-defined]
            app = self.app

            def warm() -> None:
                warm_up()
                app.call_from_thread(warm_styles, app)

            self.run_worker(warm, thread=True, group="warm", exit_on_error=False)

    def failed_badges(self, error: str) -> None:
        self.badge_state = f"badges unavailable: {error}"
        self.update_status()

    # -- filter ----------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.apply_filter(keep=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self.action_open()

    def apply_filter(self, keep: bool) -> None:
        query = self.query_one("#filter", Input).value
        shown = filter_rows(self.all_rows, query)
        self.query_one("#clients", RowList).set_rows(shown, keep=keep)
        self.update_status()

    def update_status(self) -> None:
        shown = len(self.query_one("#clients", RowList).rows)
        total = len(self.all_rows)
        text = f" {shown:,} of {total:,} clients | {self.badge_state} | Enter open, ? help"
        self.query_one("#status", SafeStatic).update(Content(text))

    def format_row(self, row: ClientRow, width: int) -> Text:
        badges = self.badges.get(row.id, [])
        name_w = max(16, min(40, width - 14 - 24))
        line = Text(no_wrap=True)
        line.append(fit(clean(row.name, limit=200, newlines=False), name_w))
        line.append(" " + fit(row.engagement.replace("_", " "), 12) + " ", style="dim")
        for b in badges:
            style = "bold reverse" if b.upper().startswith(("INCIDENT", "NO-MSA", "INS-EXPIRED")) else "bold"
            line.append(clean(b, limit=20), style=style)
            line.append(" ")
        return line

    # -- actions ---------------------------------------------------------------
    def action_focus_filter(self) -> None:
        # set_focus is immediate (widget.focus() is deferred): keys typed right after "/"
        # (tmux send-keys, a fast typist) must land in the filter, not in the list
        self.set_focus(self.query_one("#filter", Input))

    def on_key(self, event) -> None:
        """Type-to-filter: a printable key no binding uses goes into the filter."""
        box = self.query_one("#filter", Input)
        if box.has_focus or not event.is_printable or not event.character:
            return
        if event.character in "qbpjkgG/? ":
            return
        event.stop()
        event.prevent_default()
        self.set_focus(box)
        box.insert_text_at_cursor(event.character)

    def action_clear(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.query_one("#clients", RowList).focus()

    def action_move(self, delta: int) -> None:
        self.query_one("#clients", RowList).action_cursor(delta)

    def action_page(self, direction: int) -> None:
        self.query_one("#clients", RowList).action_page(direction)

    def selected(self) -> ClientRow | None:
        return self.query_one("#clients", RowList).current

    def action_open(self) -> None:
        row = self.selected()
        if row is None:
            self.app.say("no client selected")  # type: ignore[attr-defined]
            return
        self.post_message(OpenClient(row.id))

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self.action_open()

    def action_new_client(self) -> None:
        self.post_message(NewClient())

    def action_report_breach(self) -> None:
        row = self.selected()
        if row is None:
            self.app.say("select a client first")  # type: ignore[attr-defined]
            return
        self.post_message(ReportBreach(row.id))
