"""What the record forms share (new client, business review, signature, policy): not a screen itself.

A ``RecordForm`` is a full screen at 80x24: the top bar, a scrolling column
of labelled fields, a one-line problem under them, the footer. ctrl+s or F10
saves; Esc leaves (asking first if something was typed). Saving builds the
same input model the CLI command builds (msptui.record_inputs), so a bad
field is refused with the command's one-line message, shown inline under the
form; nothing typed is lost. The write itself runs in a worker
(``DbMixin.db(..., write=True)``) calling the act in msptui.records: one
transaction, one event per record. A refusal that needs the database (an
agreement already signed) comes back the same way and is shown in the same
line.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Label, Select, TextArea

from screens.widgets import ConfirmScreen, DbMixin, Footer, SafeStatic, clean, lit, topbar

FORM_CSS = """
RecordForm #form { height: 1fr; padding: 0 1; }
RecordForm Label { text-style: bold; width: 100%; }
RecordForm Input { height: 1; background: $boost; }
RecordForm Input:focus { text-style: bold; border-left: outer $accent; }
RecordForm Select { width: 1fr; }
RecordForm Select:focus-within { border-left: outer $accent; }
RecordForm TextArea { height: 3; }
RecordForm TextArea:focus { border-left: outer $accent; }
RecordForm .row { height: auto; }
RecordForm .row Input { width: 1fr; }
RecordForm .hint { color: $text-muted; }
RecordForm #problem { text-style: bold; }
"""


def value(widget: Any) -> str:
    """A field's text: an Input's or TextArea's text, a Select's value ('' when nothing is chosen)."""
    if isinstance(widget, Select):
        chosen = widget.value
        return chosen if isinstance(chosen, str) else ""
    if isinstance(widget, TextArea):
        return widget.text
    return widget.value


def lines(text: str) -> list[str]:
    """A TextArea's entries, one per line (blank lines dropped by the input model)."""
    return text.split("\n")


def entries(text: str) -> list[str]:
    """An Input listing several people: 'Pat Kim, CEO; Lee Park' -> ['Pat Kim, CEO', 'Lee Park'] (the spaces
    around a ';' are the separator's)."""
    return [part.strip() for part in text.split(";")]


def select(options: list[tuple[str, str]], *, prompt: str, id: str, value: str | None = None) -> Select:
    """A Select whose labels are shown literally."""
    return Select([(lit(label, limit=120), code) for label, code in options], prompt=prompt, id=id, compact=True,
                  value=value if value is not None else Select.NULL)


class RecordForm(DbMixin, Screen):
    """Base of the record forms: subclasses yield ``fields()``, ``check()`` the input and say how to ``save()``."""

    TITLE_TEXT = "record"
    BINDINGS = [
        Binding("f1", "app.help", "Help", key_display="F1"),
        Binding("ctrl+s,f10", "save", "Save", key_display="^s F10"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = FORM_CSS

    def __init__(self, client_id: str | None) -> None:
        super().__init__()
        self.client_id = client_id
        self.busy = False
        self.dirty = False
        self._ready = False

    # -- layout ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield SafeStatic(topbar(self.app, self.TITLE_TEXT, first=self.client_id or ""), classes="topbar", id="topbar")
        with VerticalScroll(id="form"):
            yield SafeStatic(Content(""), id="who")
            yield from self.fields()
            yield SafeStatic(Content(""), id="problem")
        yield Footer()

    def fields(self) -> ComposeResult:  # pragma: no cover - every form overrides it
        yield Label("")

    def on_mount(self) -> None:
        self.call_after_refresh(self._arm)

    def _arm(self) -> None:
        self._ready = True

    def say_who(self, text: str) -> None:
        self.query_one("#who", SafeStatic).update(lit(text, limit=300))

    # -- editing ---------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if self._ready:
            self.dirty = True

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._ready:
            self.dirty = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def problem(self, text: str) -> None:
        line = self.query_one("#problem", SafeStatic)
        line.update(Content("! " + clean(text, limit=400)) if text else Content(""))
        if text:
            line.scroll_visible(animate=False)

    # -- saving ----------------------------------------------------------------
    def check(self) -> tuple[Callable[..., Any], tuple]:  # pragma: no cover - every form overrides it
        """Validate what was typed (UserError / ValueError with the one-line message) and return (act, args)."""
        raise NotImplementedError

    def action_save(self) -> None:
        if self.busy:
            return
        try:
            act, args = self.check()
        except Exception as exc:  # UserError, or pydantic's ValueError: the same one line the CLI prints
            self.problem(str(exc))
            return
        self.busy = True
        self.problem("")
        self.query_one("#problem", SafeStatic).update(Content("saving..."))
        self.db("save", act, *args, write=True)

    def loaded_save(self, outcome: Any) -> None:
        self.busy = False
        self.dirty = False
        self.saved(outcome)
        changed = getattr(self.app, "data_changed", None)
        if changed is not None:
            changed()

    def failed_save(self, error: str) -> None:
        self.busy = False
        self.problem(error)

    def saved(self, outcome: Any) -> None:
        self.app.say(f"recorded: {outcome.record.id}")  # type: ignore[attr-defined]
        self.app.pop_screen()

    def action_cancel(self) -> None:
        if self.busy:
            return
        if self.dirty:
            def done(yes: bool | None) -> None:
                if yes:
                    self.app.pop_screen()

            self.app.push_screen(ConfirmScreen(f"Discard this {self.TITLE_TEXT}? Nothing has been saved."), done)
            return
        self.app.pop_screen()
