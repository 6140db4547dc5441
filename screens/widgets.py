"""Shared widgets: literal text, a virtual row list, dialogs and the DB worker helper.

Literal text: every string that comes from a record goes through ``lit()``
(msptui.literal.visible, then a Textual ``Content`` or Rich ``Text``), so
``Acme [/prod]`` or ``[@click=app.quit]x`` is shown as typed and never parsed
as markup, and ANSI escapes / bidi overrides are shown as ``\\x1b`` / ``\\u202e``.

RowList renders only the lines on screen (Textual's line API), so a list of
10,000 clients costs the same to paint and to filter as a list of 20; the
stock DataTable measures every row on first paint.

Database work: ``DbMixin.db(key, fn, *args)`` runs ``fn(store, *args)`` in a
thread worker that opens its *own* ``Store`` (SQLite connections are per
thread) and closes it afterwards, then posts ``DbDone`` to the screen; the
screen's message handler (main thread) owns every UI change.
"""

from __future__ import annotations

import inspect
import traceback
from pathlib import Path
from typing import Any, Callable, NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer as _Footer
from textual.widgets import Input, Static

from msptui.literal import symbols, visible


def clean(text: Any, *, limit: int | None = 400, newlines: bool = False) -> str:
    """Record text made safe to show: control/bidi characters visible, optionally shortened."""
    s = visible("" if text is None else str(text), keep_newlines=newlines)
    if not newlines:
        s = s.replace("\t", " ")
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def lit(text: Any, *, limit: int | None = 400, newlines: bool = False, style: str = "") -> Content:
    """A Textual Content that shows ``text`` literally (never parsed as markup)."""
    return Content.styled(clean(text, limit=limit, newlines=newlines), style) if style else Content(clean(text, limit=limit, newlines=newlines))


def ltext(text: Any, style: str | Style = "", *, limit: int | None = 400) -> Text:
    """A Rich Text that shows ``text`` literally."""
    return Text(clean(text, limit=limit), style=style, no_wrap=True, overflow="ellipsis")


def fit(text: str, width: int) -> str:
    """Pad or cut a plain string to ``width`` cells."""
    if width <= 0:
        return ""
    n = cell_len(text)
    if n <= width:
        return text + " " * (width - n)
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…" + " " * (width - 1 - used)


class PaneText:
    """A fixed-height pane's text (a Rich renderable, laid out at the pane's width when drawn).

    ``parts`` are ``(text, lines)``: each text wrapped to the width and kept to at most that many lines, the
    last one cut with "…"; the whole is filled to ``height`` lines and ``hint`` ("i: all") is written at the
    right of the last one, so the hint is always on the pane's last line whatever the text above it.
    """

    def __init__(self, parts: list[tuple[Text, int]], height: int, hint: str = "") -> None:
        self.parts = parts
        self.height = height
        self.hint = hint

    def __rich_console__(self, console: Any, options: Any):
        width = max(1, options.max_width)
        lines: list[Text] = []
        for text, most in self.parts:
            room = min(most, self.height - len(lines))
            if room <= 0:
                continue
            if room == 1:  # one line: cut where the width ends, not at the last word that fits
                line = text.copy()
                line.plain = line.plain.replace("\n", " ")
                if line.cell_len > width:
                    _cut_line(line, width - 1)
                lines.append(line)
                continue
            wrapped = list(text.wrap(console, width, overflow="fold"))
            if len(wrapped) > room:
                wrapped = wrapped[:room]
                _cut_line(wrapped[-1], width - 1)
            lines.extend(wrapped)
        lines += [Text("") for _ in range(self.height - len(lines))]
        if self.hint:
            last = lines[-1]
            last.rstrip()
            room = width - cell_len(self.hint) - 2
            if last.cell_len > room:
                _cut_line(last, room - 1)
            last.append(" " * max(1, width - last.cell_len - cell_len(self.hint)))
            last.append(self.hint, style="bold")
        for line in lines:
            line.end, line.no_wrap, line.overflow = "\n", True, "ellipsis"
            yield line


def _cut_line(line: Text, width: int) -> None:
    """Cut ``line`` to ``width`` cells and end it with "…" (it went on)."""
    line.rstrip()
    line.truncate(max(0, width))
    line.rstrip()
    line.append("…")


class SafeInput(Input):
    """A text box that never writes its text's control, bidi or line-separator characters to the terminal.

    Textual's Input draws its value as it is: a stored system name holding ESC]2;...BEL retitled the window and ESC[2J
    cleared the screen when the facts form opened. Each such character is drawn as one visible symbol (ESC as U+241B,
    the rest as U+FFFD), one for one so the cursor stays put; the value itself, which is what gets saved, is exactly
    what was stored or typed.
    """

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(symbols(self.value), no_wrap=True, overflow="ignore", end="")
        if self.highlighter is not None:
            text = self.highlighter(text)
        return text


class SafeStatic(Static):
    """A Static that never parses markup in what it is given as a string."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(content, markup=False, **kwargs)


class Footer(_Footer):
    """Textual's Footer, recomposed only when the keys it shows change.

    The stock Footer rebuilds all its keys on every ``bindings_updated``
    signal (every focus change, every mount that touches focus): five times
    before the home list is drawn, each rebuild mounting and styling six
    FooterKey widgets. Here a rebuild is scheduled only when what the footer
    would show (key, label, enabled, tooltip, the palette key) differs from
    what it last scheduled.
    """

    _shown: tuple | None = None

    def _signature(self, screen: Any) -> tuple:
        try:
            active = screen.active_bindings
        except Exception:  # pragma: no cover - a screen being torn down
            return ()
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return (
            tuple((b.key, b.action, b.description, b.key_display, id(b.group), enabled, tooltip)
                  for (_, b, enabled, tooltip) in active.values() if b.show),
            (palette.enabled, palette.tooltip) if palette is not None else None,
        )

    def bindings_changed(self, screen: Any) -> None:
        will_recompose = screen.app.app_focus and self.is_attached and screen is self.screen
        if will_recompose:
            signature = self._signature(screen)
            if self._bindings_ready and signature == self._shown:
                return
            self._shown = signature
        super().bindings_changed(screen)


class ScrollBox(VerticalScroll):
    """A scrolling column of widgets with the list keys: j/k and the arrows a line, g/G and Home/End the top and
    bottom, ctrl+d/ctrl+u and PgDn/PgUp a page (the help promises them for every list)."""

    BINDINGS = [
        Binding("j", "scroll_down", "Scroll down", show=False),
        Binding("k", "scroll_up", "Scroll up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
        Binding("ctrl+d", "page_down", "Page down", show=False),
        Binding("ctrl+u", "page_up", "Page up", show=False),
    ]


class RowList(ScrollView, can_focus=True):
    """A keyboard-first list that renders only its visible rows.

    ``formatter(row, width) -> Text`` builds one line on demand. The cursor row
    is shown reversed and prefixed with ``>`` (not colour alone).
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(0)", "Top", show=False),
        Binding("end,G", "edge(1)", "Bottom", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    DEFAULT_CSS = """
    RowList { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    RowList:focus { border: none; }
    """

    class Highlighted(Message):
        def __init__(self, rowlist: "RowList", index: int) -> None:
            super().__init__()
            self.rowlist = rowlist
            self.index = index

        @property
        def control(self) -> "RowList":
            return self.rowlist

    class Selected(Highlighted):
        pass

    def __init__(self, formatter: Callable[[Any, int], Text], *, empty: str = "(nothing to show)", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.formatter = formatter
        self.rows: list[Any] = []
        self.cursor = 0
        self.marked: int | None = None
        self.empty = empty
        self._cache: dict[tuple[int, int, bool, bool], Strip] = {}

    # -- data --------------------------------------------------------------
    def set_rows(self, rows: list[Any], *, keep: bool = True) -> None:
        self.rows = rows
        self._cache.clear()
        if not keep:
            self.cursor = 0
        self.cursor = max(0, min(self.cursor, len(rows) - 1))
        self.virtual_size = Size(self.size.width, len(rows))
        if not keep:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._follow()
        self.refresh()

    def redraw(self) -> None:
        """Re-run the formatter for every row (e.g. countdowns moved on)."""
        self._cache.clear()
        self.refresh()

    @property
    def current(self) -> Any | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def move_to(self, index: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self._cache.clear()
        self._follow()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor))

    def show_with_cursor(self, index: int) -> bool:
        """Scroll so row ``index`` is on screen without moving the cursor; False if both cannot be shown."""
        height = max(1, self.scrollable_content_region.height)
        top = min(index, self.cursor)
        if max(index, self.cursor) - top >= height:
            return False
        if not int(self.scroll_y) <= index < int(self.scroll_y) + height:
            self.scroll_to(y=top, animate=False, immediate=True)
        return True

    def _follow(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    # -- actions -----------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        self.move_to(len(self.rows) - 1 if end else 0)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.cursor))

    async def _on_click(self, event: events.Click) -> None:
        index = int(self.scroll_y) + event.y
        if 0 <= index < len(self.rows):
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            else:
                self.move_to(index)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.rows))
        self._cache.clear()

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()

    # -- rendering ---------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        index = int(self.scroll_y) + y
        base = self.rich_style
        if not self.rows:
            if y == 0:
                return Strip([*Text(fit(self.empty, width), style="italic").render(self.app.console)]).apply_style(base)
            return Strip.blank(width, base)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        is_cursor = index == self.cursor
        is_marked = index == self.marked
        key = (index, width, is_cursor and self.has_focus, is_cursor)
        strip = self._cache.get(key)
        if strip is None:
            try:
                text = self.formatter(self.rows[index], max(1, width - 2))
            except Exception as exc:  # a bad record must not take the screen down
                text = Text(f"(cannot show this row: {type(exc).__name__})")
            prefix = ">" if is_cursor else ("*" if is_marked else " ")
            line = Text(prefix + " ", no_wrap=True)
            line.append_text(text)
            line.truncate(width, overflow="ellipsis", pad=True)
            if is_cursor:
                line.stylize(Style(reverse=True) if self.has_focus else Style(underline=True, bold=True))
            elif is_marked:
                line.stylize(Style(bold=True, underline=True))
            strip = Strip(list(line.render(self.app.console)), width).apply_style(base)
            if len(self._cache) > 400:
                self._cache.clear()
            self._cache[key] = strip
        return strip


def topbar(app: Any, extra: str = "", *, first: str = "") -> Content:
    """``first`` (e.g. the incident id, which must survive 80 columns), DEMO, the operator, the DB path's end, context."""
    parts = []
    if first:
        parts.append(clean(first, limit=60))
    if getattr(app, "demo", False):
        parts.append("DEMO DATA")
    parts.append(clean(app.operator, limit=20))
    path = clean(str(app.db_path), limit=None)
    room = max(12, 38 - (len(parts[0]) if first else 0))
    if len(path) > room:
        path = "…" + path[-(room - 1):]
    parts.append(f"DB {path}")
    if extra:
        parts.append(clean(extra, limit=60))
    return Content(" msptui | " + " | ".join(parts))


DIGIT_CHARS = set(" 0123456789+-")


def money(currency: str, amount: int | None) -> str:
    return "-" if amount is None else f"{currency} {amount:,}"


def spaced_phone(number: str) -> str:
    """A hotline laid out to be read aloud: digit groups separated by wide gaps."""
    groups = [g for g in number.replace("-", " ").replace(".", " ").split() if g]
    return "   ".join(groups) if groups else number


def hotline_widget(number: str, carrier: str) -> Any:
    """A hotline big enough to read out on a phone call (only for a policy in force)."""
    from textual.widgets import Digits

    label = SafeStatic(Text("BREACH HOTLINE  ", style="bold") + Text(clean(carrier, limit=40))
                       + Text("   " + clean(spaced_phone(number), limit=60), style="bold reverse"))
    parts: list = [label]
    if set(number) <= DIGIT_CHARS and len(number) <= 24:
        parts.append(Digits(number))
    return Vertical(*parts, classes="hotline")


# ---------------------------------------------------------------------------
# Dialogs
# ---------------------------------------------------------------------------

DIALOG_CSS = """
ModalScreen { align: center middle; }
.dialog { width: 76; max-width: 100%; height: auto; max-height: 22; border: heavy $accent; padding: 0 1; background: $surface; }
.dialog .title { text-style: bold; }
.dialog .hint { color: $text-muted; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no for destructive actions: y or Enter confirms, n or Esc cancels."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self):
        with Vertical(classes="dialog"):
            yield SafeStatic(lit(self.question, limit=600, newlines=True))
            yield SafeStatic(Content("y / Enter = yes    n / Esc = no"), classes="hint")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class PromptScreen(ModalScreen[str | None]):
    """One line of text: Enter submits, Esc cancels."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", hint: str = "", validate: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.check = validate

    def compose(self):
        with Vertical(classes="dialog"):
            yield SafeStatic(lit(self.title_text), classes="title")
            yield SafeInput(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield SafeStatic(lit(self.hint or "Enter = OK    Esc = cancel", newlines=True), classes="hint", id="prompt-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value
        if self.check is not None:
            problem = self.check(value)
            if problem:
                self.query_one("#prompt-hint", Static).update(lit("! " + problem, newlines=True))
                return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Field(NamedTuple):
    """One field of a FormScreen. ``short`` names it in a refusal ("Spending cap: ..."); by default the label up
    to its first " (" or ":". A placeholder is only ever an example ("e.g. USD") or what empty means
    ("empty: now"): in monochrome a placeholder looks like a value."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    short: str = ""

    def short_label(self) -> str:
        return self.short or self.label.split(" (")[0].split(":")[0].strip()


def refusal_text(problem: Any, fields: list[Field], aliases: dict[str, str] | None = None) -> tuple[str, str | None]:
    """A refusal in a form's terms: ``("Spending cap: a currency ... ", "cap")`` for a FieldError (or a worker's
    Refusal) whose key names a field of the form; otherwise the message as it is (and no field)."""
    key = getattr(problem, "key", None)
    if key is not None:
        name = (aliases or {}).get(key, key)
        for f in fields:
            if f.name == name:
                return f"{f.short_label()}: {problem.problem}", name
    return str(problem), None


class FormScreen(ModalScreen[dict | None]):
    """A few labelled text fields: Tab moves, Enter on the last field (or ctrl+s) submits, Esc cancels
    (``submit_on_enter``: Enter in any field submits, for a one-line note with optional extras).

    ``fields`` is ``[Field(name, label, value, placeholder), ...]`` (plain 4-tuples too). Before the form
    closes, ``validate(values)`` checks what was typed (the same core check the act makes: it returns a problem
    or raises a UserError/FieldError); a refusal is one line at the top of the form, in the form's terms (the
    field's label, not a CLI option: ``aliases`` maps a core field key to a form field when they differ), the
    refused field gets the focus, and nothing typed is lost. ``problem`` opens the form already showing one (a
    write that failed after the form closed reopens it with what was typed). Esc with something typed asks
    before discarding it. The fields scroll, so a long form still fits 80x24; the focused one is marked with
    '>' and a bar, visible with 16 colours and with NO_COLOR.
    """

    DEFAULT_CSS = DIALOG_CSS + """
    FormScreen #form-fields { height: auto; max-height: 16; }
    FormScreen Input { height: 1; }
    FormScreen Input:focus { text-style: bold; border-left: outer $accent; }
    FormScreen Input > .input--placeholder { text-style: italic; }
    FormScreen .label { text-style: bold; }
    FormScreen #form-problem { text-style: bold; display: none; }
    FormScreen #form-problem.shown { display: block; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Save", key_display="^s")]

    def __init__(self, title: str, fields: list, *, hint: str = "",
                 validate: Callable[[dict[str, str]], str | None] | None = None, problem: Any = None,
                 aliases: dict[str, str] | None = None, submit_on_enter: bool = False) -> None:
        super().__init__()
        self.submit_on_enter = submit_on_enter
        self.title_text = title
        self.fields = [f if isinstance(f, Field) else Field(*f) for f in fields]
        self.hint = hint
        self.check = validate
        self.initial_problem = problem
        self.aliases = aliases or {}
        self.initial = {f.name: f.value for f in self.fields}

    def compose(self):
        from textual.containers import VerticalScroll

        with Vertical(classes="dialog"):
            yield SafeStatic(lit(self.title_text), classes="title")
            yield SafeStatic(lit(self.hint or "Tab next field   ctrl+s save (or Enter on the last field)   Esc cancel",
                                 newlines=True), classes="hint", id="form-hint")
            yield SafeStatic("", id="form-problem")
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    yield SafeStatic(lit("  " + f.label), classes="label", id=f"l-{f.name}")
                    yield SafeInput(value=f.value, placeholder=f.placeholder, id=f"f-{f.name}", compact=True)

    def on_mount(self) -> None:
        self.set_focus(self.query(Input).first())
        if self.initial_problem:
            self.show_problem(self.initial_problem)

    def on_descendant_focus(self, event) -> None:
        """Scroll the focused field into view and mark its label with '>' (a mark no colour setting can hide)."""
        self.query_one("#form-fields").scroll_to_widget(event.widget, animate=False)
        focused = (event.widget.id or "").removeprefix("f-")
        for f in self.fields:
            self.query_one(f"#l-{f.name}", Static).update(lit(("> " if f.name == focused else "  ") + f.label))

    def values(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#f-{f.name}", Input).value for f in self.fields}

    def show_problem(self, problem: Any) -> None:
        """One line at the top, in the form's terms; the refused field gets the focus."""
        text, field = refusal_text(problem, self.fields, self.aliases)
        line = self.query_one("#form-problem", Static)
        line.update(lit("! " + text, limit=300))
        line.set_class(True, "shown")
        if field is not None:
            self.set_focus(self.query_one(f"#f-{field}", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        if self.submit_on_enter or event.input is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        values = self.values()
        if self.check is not None:
            try:
                problem: Any = self.check(values)
            except Exception as exc:  # UserError / FieldError / ValueError: the act's own one-line refusal
                problem = exc
            if problem:
                self.show_problem(problem)
                return
        self.dismiss(values)

    def action_cancel(self) -> None:
        if self.values() == self.initial:
            self.dismiss(None)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard what you typed? Nothing has been saved."), done)


class PickScreen(ModalScreen[Any]):
    """Enter picks the highlighted row, Esc cancels. ``detail(row)``, if given, is shown under the list for the
    highlighted row (a Rich Text built from literal text: what a cut-short row leaves out)."""

    DEFAULT_CSS = DIALOG_CSS + """
    PickScreen RowList { height: auto; max-height: 16; }
    PickScreen #pick-detail { height: auto; max-height: 5; border-top: solid $primary; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, rows: list[Any], formatter: Callable[[Any, int], Text],
                 detail: Callable[[Any], Text] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows
        self.formatter = formatter
        self.detail = detail

    def compose(self):
        with Vertical(classes="dialog"):
            yield SafeStatic(lit(self.title_text), classes="title")
            yield RowList(self.formatter, id="pick")
            if self.detail is not None:
                yield SafeStatic("", id="pick-detail")
            yield SafeStatic(lit("Enter = choose    Esc = cancel    j/k move"), classes="hint")

    def on_mount(self) -> None:
        rows = self.query_one(RowList)
        # the detail (a rule and up to 4 lines) comes out of the list's room, so the dialog still fits 80x24
        rows.styles.height = min(16 if self.detail is None else 11, max(1, len(self.rows)))
        rows.set_rows(self.rows, keep=False)
        rows.focus()
        self.show_detail()

    def show_detail(self) -> None:
        if self.detail is None:
            return
        row = self.query_one(RowList).current
        self.query_one("#pick-detail", Static).update(self.detail(row) if row is not None else Text(""))

    def on_row_list_highlighted(self, event: RowList.Highlighted) -> None:
        event.stop()
        self.show_detail()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self.dismiss(self.rows[event.index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """A long text to read whole (all of a checklist item: its title, clocks, basis with its citation, reason
    and notes). It scrolls with the list keys: j/k and the arrows a line, g/G and Home/End the top and bottom,
    PgUp/PgDn and ctrl+u/ctrl+d a page; Esc (or q) closes. ``body`` is a Rich renderable built from literal text
    (``clean``/``Text``): record text is never parsed as markup."""

    DEFAULT_CSS = DIALOG_CSS + "TextScreen #text-body { height: auto; max-height: 18; }"
    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, title: str, body: Any, *, hint: str = "Esc = close    j/k g/G PgUp/PgDn scroll") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.hint = hint

    def compose(self):
        with Vertical(classes="dialog"):
            yield SafeStatic(lit(self.title_text), classes="title")
            with ScrollBox(id="text-body"):
                yield SafeStatic(self.body, id="text")
            yield SafeStatic(lit(self.hint), classes="hint")

    def on_mount(self) -> None:
        self.query_one(ScrollBox).focus()

    def action_close(self) -> None:
        self.dismiss(None)


class ErrorScreen(ModalScreen[None]):
    """An error shown in a dialog instead of a crash."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self):
        with Vertical(classes="dialog"):
            yield SafeStatic(Content("ERROR"), classes="title")
            yield SafeStatic(lit(self.message, limit=1500, newlines=True))
            yield SafeStatic(Content("Enter / Esc = close"), classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------
# Database worker
# ---------------------------------------------------------------------------


class DbDone(Message):
    """The result of a DB job (``error`` is a one-line message, or None)."""

    def __init__(self, key: str, token: int, value: Any, error: str | None) -> None:
        super().__init__()
        self.key = key
        self.token = token
        self.value = value
        self.error = error


class Refusal(str):
    """A worker's one-line error that still knows which field was refused (a FieldError's key and problem), so
    a form reopened with it can name the field by its own label."""

    key: str | None = None
    problem: str = ""


def user_message(exc: BaseException) -> str:
    from msptui.errors import FieldError, UserError

    if isinstance(exc, FieldError):
        refusal = Refusal(str(exc))
        refusal.key, refusal.problem = exc.key, exc.problem
        return refusal
    if isinstance(exc, (UserError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def run_job(db_path: Path, fn: Callable[..., Any], args: tuple, kwargs: dict, *, write: bool = False) -> tuple[Any, str | None]:
    """Open the database for this thread (the TUI's one way: ``Store.open``, read-only unless
    ``write``), run ``fn(store, ...)``, close it. Never raises."""
    try:
        from msptui.store import Store

        store = Store.open(db_path, readonly=not write)
    except Exception as exc:
        return None, user_message(exc)
    try:
        return fn(store, *args, **kwargs), None
    except Exception as exc:
        if not isinstance(exc, ValueError) and type(exc).__name__ not in {"UserError", "HashCancelled"}:
            traceback.print_exc(file=_log_stream())
        return None, user_message(exc)
    finally:
        store.close()


def _log_stream():
    import io
    import os

    path = os.environ.get("MSPTUI_TUI_LOG")
    return open(path, "a", encoding="utf-8") if path else io.StringIO()


class DbMixin:
    """For screens: ``self.db("key", fn, *args)`` then handle ``on_db_done``.

    A newer job with the same key makes older results stale (ignored), so a
    slow load never overwrites a fresher one. Reads run on a read-only
    connection; writes (``write=True``) on a normal one, each in its own
    transaction inside the core function.
    """

    _tokens: dict[str, int]

    def db(self, key: str, fn: Callable[..., Any], *args: Any, exclusive: bool = True, write: bool = False, **kwargs: Any) -> None:
        """Run ``fn(store, *args)`` in a thread worker; ``write=True`` for a job that records something."""
        tokens = self.__dict__.setdefault("_tokens", {})
        tokens[key] = token = tokens.get(key, 0) + 1
        screen = self
        path = self.app.db_path  # type: ignore[attr-defined]

        def job() -> None:
            value, error = run_job(path, fn, args, kwargs, write=write)
            screen.post_message(DbDone(key, token, value, error))  # type: ignore[attr-defined]

        self.run_worker(job, thread=True, group=f"db-{key}" if exclusive else "db-write", exit_on_error=False,  # type: ignore[attr-defined]
                        name=key)

    async def on_db_done(self, message: DbDone) -> None:
        message.stop()
        if self.__dict__.get("_tokens", {}).get(message.key) != message.token:
            return
        handler = getattr(self, f"loaded_{message.key}", None)
        if message.error is not None:
            failed = getattr(self, f"failed_{message.key}", None)
            if failed is not None:
                failed(message.error)
            else:
                self.app.notify(clean(message.error, limit=300), title="Error", severity="error", markup=False, timeout=8)  # type: ignore[attr-defined]
            return
        if handler is not None:
            result = handler(message.value)
            if inspect.isawaitable(result):
                await result


def region_for_line(y: int) -> Region:
    return Region(0, y, 1, 1)
