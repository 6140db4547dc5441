"""Help (? or F1): every key of the screen underneath, read from its live bindings."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen

from screens.widgets import DIALOG_CSS, SafeStatic, lit

NOISE = {"Scroll Left", "Scroll Right", "Page Left", "Page Right", "Scroll Up", "Scroll Down",
         "Scroll Home", "Scroll End", "Page Up", "Page Down", ""}
GLOBAL = [
    ("ctrl+p", "command palette: main actions and 'open client NAME'"),
    ("ctrl+q", "quit from anywhere"),
    ("? F1", "this help"),
    ("p F6", "posture findings"),
    ("Esc", "back / clear / cancel"),
    ("Tab / shift+Tab", "move focus between parts of the screen"),
]
LIST_KEYS = [
    ("j k / arrows", "move in a list"),
    ("g G / Home End", "top / bottom of a list"),
    ("PgUp PgDn", "page"),
    ("Enter", "open the highlighted row"),
]


def key_rows(screen: Screen) -> list[tuple[str, str]]:
    """(keys, description) for every binding active on ``screen`` (hidden ones too)."""
    seen: dict[str, list[str]] = {}
    order: list[str] = []
    app = screen.app
    actives = [a for a in screen.active_bindings.values() if a.binding.description not in NOISE]
    actives.sort(key=lambda a: (a.node is not screen, a.node is app))
    for active in actives:
        binding = active.binding
        desc = binding.description or binding.action
        keys = [app.get_key_display(Binding(k.strip(), binding.action)) for k in binding.key.split(",")]
        if desc not in seen:
            seen[desc] = []
            order.append(desc)
        for k in keys:
            if k not in seen[desc]:
                seen[desc].append(k)
    return [(" ".join(seen[d]), d) for d in order]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = DIALOG_CSS + "HelpScreen VerticalScroll { height: auto; max-height: 18; }"
    BINDINGS = [
        Binding("escape,q,f1,question_mark", "close", "Close"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False),
        Binding("pagedown,space", "scroll(8)", "Page down", show=False),
        Binding("pageup", "scroll(-8)", "Page up", show=False),
    ]

    def __init__(self, target: Screen) -> None:
        super().__init__()
        self.target = target

    def compose(self):
        name = type(self.target).__name__.replace("Screen", "")
        lines = [Text(f"Keys: {name}", style="bold")]
        intro = getattr(self.target, "HELP", "")
        if intro:
            lines.append(Text(intro, style="italic"))
        lines.append(Text(""))
        for keys, desc in key_rows(self.target):
            lines.append(Text(f"  {keys:<22} ") + Text(desc))
        sections = getattr(self.target, "help_sections", None)
        for title, rows in (sections() if callable(sections) else []):
            lines.append(Text(f"\n{title}", style="bold"))
            for key, desc in rows:
                lines.append(Text(f"  {key:<22} ") + Text(desc))
        lines.append(Text("\nEverywhere", style="bold"))
        for keys, desc in GLOBAL + LIST_KEYS:
            lines.append(Text(f"  {keys:<22} {desc}"))
        lines.append(Text("\nSingle-letter keys do not work while a text box has focus: "
                          "press Esc first, or use the ctrl/F-key shown. In tmux, ctrl+b is the "
                          "tmux prefix: use F2 to report a breach.", style="italic"))
        from rich.console import Group

        with Vertical(classes="dialog"):
            with VerticalScroll():
                yield SafeStatic(Group(*lines), id="help-text")
            yield SafeStatic(lit("Esc / q / F1 = close   j/k or arrows scroll"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_scroll(self, delta: int) -> None:
        box = self.query_one(VerticalScroll)
        box.scroll_to(y=box.scroll_y + delta, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
