"""A modal list to choose one row (incidents of a client, and the like)."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen

from screens.widgets import DIALOG_CSS, RowList, SafeStatic, lit


class PickScreen(ModalScreen[Any]):
    """Enter picks the highlighted row, Esc cancels."""

    DEFAULT_CSS = DIALOG_CSS + "PickScreen RowList { height: auto; max-height: 16; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, rows: list[Any], formatter: Callable[[Any, int], Text]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows
        self.formatter = formatter

    def compose(self):
        with Vertical(classes="dialog"):
            yield SafeStatic(lit(self.title_text), classes="title")
            yield RowList(self.formatter, id="pick")
            yield SafeStatic(lit("Enter = open    Esc = cancel    j/k move"), classes="hint")

    def on_mount(self) -> None:
        rows = self.query_one(RowList)
        rows.styles.height = min(16, max(1, len(self.rows)))
        rows.set_rows(self.rows, keep=False)
        rows.focus()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self.dismiss(self.rows[event.index])

    def action_cancel(self) -> None:
        self.dismiss(None)
