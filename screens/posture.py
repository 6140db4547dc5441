"""Posture: every client's findings, sortable by severity or client (s); Enter opens the gap.

Findings are the ones ``msptui posture`` prints (msptui.views.portfolio, in a
worker). Severity is a word in its own column (CRITICAL, HIGH ...), never
colour alone.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen


from screens.messages import OpenClient
from screens.widgets import DbMixin, Footer, RowList, SafeStatic, clean, fit, topbar


def load_findings(store) -> tuple[list[Any], dict[str, str], int]:
    from msptui.views.portfolio import client_rows, findings as all_findings

    findings = all_findings(store)
    names = {r.id: r.name for r in client_rows(store)}
    return findings, names, store.head()[0]


def severity_rank(severity: str) -> int:
    from msptui.posture import SEVERITY_RANK

    return SEVERITY_RANK.get(severity, 9)


class PostureScreen(DbMixin, Screen):
    HELP = "Findings that matter in a breach. s toggles the sort (severity / client); Enter opens the client at the gap."
    BINDINGS = [
        Binding("f1,question_mark", "app.help", "Help", key_display="? F1"),
        Binding("escape", "back", "Back"),
        Binding("s,f7", "sort", "Sort", key_display="s F7"),
        Binding("enter", "open", "Open", show=False),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False),
    ]
    PALETTE = [("sort", ("Toggle posture sort (severity / client)", "s"))]
    DEFAULT_CSS = """
    PostureScreen #detail { height: 5; border-top: solid $primary; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[Any] = []
        self.names: dict[str, str] = {}
        self.sort_by = "severity"
        self.data_head: int | None = None

    def compose(self) -> ComposeResult:
        yield SafeStatic(topbar(self.app, "posture"), classes="topbar")
        yield SafeStatic(Content(" loading findings..."), classes="status", id="pstatus")
        yield RowList(self.format_row, empty="(loading...)", id="findings")
        yield SafeStatic("", id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#findings", RowList).focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.db("findings", load_findings)

    def external_change(self, head: int) -> None:
        if self.data_head != head:
            self.action_refresh()

    def loaded_findings(self, value) -> None:
        self.findings, self.names, self.data_head = value
        self.query_one("#findings", RowList).empty = "(no findings)"
        self.resort(keep=True)

    def resort(self, keep: bool) -> None:
        if self.sort_by == "severity":
            key = lambda f: (severity_rank(f.severity), self.name_of(f).casefold(), str(f.code))  # noqa: E731
        else:
            key = lambda f: (self.name_of(f).casefold(), severity_rank(f.severity), str(f.code))  # noqa: E731
        rows = sorted(self.findings, key=key)
        self.query_one("#findings", RowList).set_rows(rows, keep=keep)
        self.query_one("#pstatus", SafeStatic).update(Content(
            f" {len(rows)} findings, sorted by {self.sort_by} (s toggles); Enter opens the client at the gap"))
        self.show_detail()

    def name_of(self, f: Any) -> str:
        if f.client_id is None:
            return "(the MSP itself)"
        return self.names.get(f.client_id, f.client_id)

    def format_row(self, f: Any, width: int) -> Text:
        line = Text(no_wrap=True)
        line.append(fit(f.severity.upper(), 9), style="bold")
        line.append(fit(clean(self.name_of(f), limit=60), 26) + " ")
        line.append_text(Text(clean(f.message, limit=300)))
        return line

    def show_detail(self) -> None:
        f = self.query_one("#findings", RowList).current
        if f is None:
            self.query_one("#detail", SafeStatic).update("")
            return
        lines = Text()
        lines.append(f"{f.severity.upper()} {clean(f.code, limit=40)}", style="bold")
        lines.append(f"  {clean(self.name_of(f), limit=60)}\n")
        if getattr(f, "why", ""):
            lines.append("why: ", style="bold")
            lines.append(clean(f.why, limit=300) + "\n")
        if getattr(f, "fix", ""):
            lines.append("fix: ", style="bold")
            lines.append(clean(f.fix, limit=300) + "\n")
        if getattr(f, "evidence", None):
            lines.append("evidence: ", style="bold")
            lines.append(clean(f.evidence, limit=300))
        self.query_one("#detail", SafeStatic).update(lines)

    def on_row_list_highlighted(self, event: RowList.Highlighted) -> None:
        self.show_detail()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        f = self.query_one("#findings", RowList).current
        if f is None:
            return
        if f.client_id is None:
            self.app.say("this finding is about the MSP's own records, not a client")  # type: ignore[attr-defined]
            return
        from msptui.views.portfolio import finding_target

        self.post_message(OpenClient(f.client_id, highlight=finding_target(f)))

    def action_sort(self) -> None:
        self.sort_by = "client" if self.sort_by == "severity" else "severity"
        self.resort(keep=False)

    def action_back(self) -> None:
        self.app.pop_screen()
