"""The Textual application: screens, global keys, the command palette, change polling.

Seeing other engineers' changes
-------------------------------
Several engineers on the same jump box may work the same incident. Every
change appends an event to the hash chain, so the chain head id (the last
event id, ``Store.head()[0]``) changes whenever *anything* changes. Every
``POLL_SECONDS`` (2 s) a thread worker reads that id over its own short-lived
read-only SQLite connection (never the main thread's, never a write lock) and
posts ``HeadChanged`` only when it differs from the last one seen; the active
screen then reloads its data in its own worker if the head it was built from
is older. Nothing is re-read while nothing changes.

Keys typed ahead
----------------
Over SSH keystrokes arrive in bursts: ``a`` (add evidence), then the file
name, Tab, the name ... all in one read. Textual hands each key to the widget
focused *when the app dequeues it*, but the effect of a key (a form pushed by
``a``, the focus moved by Tab, a screen opened by a navigation message) only
happens after that key has travelled through the widget's and the screen's
message queues. So in a burst every key after ``a`` reached the checklist
underneath and was lost, and every letter after a Tab landed in the field the
Tab was leaving. ``MspApp.on_event`` therefore takes keys one at a time: a key
that arrives while the previous one is still being handled (any message queue
not drained, a callback pending, a screen still mounting) waits, in order,
and is handed on once the UI has settled, at most ``KEY_HOLD_MAX`` later.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, TextArea

from msptui.literal import visible
from screens.messages import NewClient, OpenClient, OpenIncident, RecordForClient, ReportBreach
from screens.widgets import run_job

POLL_SECONDS = 2.0
#: the longest a typed-ahead key waits for the previous one to be handled (then it is handed on anyway)
KEY_HOLD_MAX = 2.0


class HeadChanged(Message):
    def __init__(self, head: int) -> None:
        super().__init__()
        self.head = head


def read_head(db_path: Path) -> int | None:
    """The chain head id (None if unreadable), over the TUI's one way in (a read-only Store)."""
    value, error = run_job(db_path, lambda store: store.head()[0], (), {})
    return None if error else value


class MainCommands(Provider):
    """Ctrl+P: the main actions, plus "open client NAME"."""

    def _actions(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: MspApp = self.app  # type: ignore[assignment]
        screen = self.screen  # the screen the palette was opened on (app.screen is the palette itself)
        actions = [
            ("Report breach", "open the breach form for the selected client (b, ctrl+b, F2)", lambda: app.run_screen_action("report_breach")),
            ("Posture findings", "every client's gaps, sortable (p, F6)", app.action_posture),
            ("Home: client list", "back to all clients", app.action_home),
            ("Refresh", "reload from the database (ctrl+r)", lambda: app.run_screen_action("refresh")),
            ("Help", "keys for this screen (?, F1)", app.action_help),
            ("Quit", "leave msptui (ctrl+q)", app.action_quit),
        ]
        for name, help_text in getattr(screen, "PALETTE", []):
            actions.append((help_text[0], help_text[1], lambda name=name: app.run_screen_action(name)))
        return actions

    async def discover(self) -> Hits:
        for title, help_text, cb in self._actions():
            yield DiscoveryHit(Content(title), cb, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, cb in self._actions():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, Content(title), cb, text=title, help=help_text)
        app: MspApp = self.app  # type: ignore[assignment]
        count = 0
        for row in app.client_cache:
            label = f"Open client {visible(row.name, keep_newlines=False)[:120]} ({row.id})"
            score = matcher.match(label)
            if score > 0:
                # never matcher.highlight(): it parses the candidate as markup
                yield Hit(score, Content(label), lambda cid=row.id: app.open_client(cid), text=label)
                count += 1
                if count >= 30:
                    break


class MspApp(App):
    """msptui's terminal UI."""

    TITLE = "msptui"
    COMMANDS = App.COMMANDS | {MainCommands}
    ENABLE_COMMAND_PALETTE = True
    CSS = """
    Screen { layers: base overlay; }
    .topbar { height: 1; background: $primary-background; color: $text; text-style: bold; }
    .status { height: 1; color: $text-muted; }
    .section-title { text-style: bold reverse; margin-top: 1; }
    .gap { border-left: thick $error; }
    .hotline { border: heavy $warning; height: auto; padding: 0 1; }
    /* DIALOG_CSS's "ModalScreen { align: ... }" is scoped to each dialog class by Textual, so it never matched */
    HelpScreen, ConfirmScreen, PromptScreen, ErrorScreen, PickScreen, FormScreen, TextScreen { align: center middle; }
    """
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="? F1", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding("f6", "posture", "Posture", show=False),
    ]

    def __init__(self, db_path: Path, *, plan: Callable | None = None, poll: bool = True, ask_operator: bool = True,
                 demo: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.db_path = Path(db_path)
        self.operator = self._operator_name()
        self.plan = plan
        self.poll_enabled = poll
        self.ask_operator = ask_operator
        self.demo = demo
        self.head: int | None = None
        self.client_cache: list[Any] = []
        self._polling = False
        self._poll_again = False
        self._held_keys: deque[events.Key] = deque()
        self._released_keys: set[int] = set()
        self._releasing = False
        self._release_task: asyncio.Task | None = None
        self._typing_into: Any = None

    # -- keys, one at a time (see the module docstring) ------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if id(event) in self._released_keys:
                self._released_keys.discard(id(event))
                if not self._screen_stack:  # the app is closing
                    return
            elif self._held_keys or not (self._types_on(event) or self._settled()):
                self._held_keys.append(event)
                if not self._releasing:
                    self._releasing = True
                    self._release_task = asyncio.get_running_loop().create_task(self._release_keys())
                return
            focused = self.focused
            self._typing_into = focused if event.is_printable and isinstance(focused, (Input, TextArea)) else None
        await super().on_event(event)

    def _types_on(self, event: events.Key) -> bool:
        """A printable key for the text box that took the key before it goes straight in: a text box takes
        printable keys itself (no binding sees them), so typing a burst of text does not wait key by key."""
        return event.is_printable and self._typing_into is not None and self.focused is self._typing_into

    def _settled(self) -> bool:
        """Whether every key handed on so far has been handled: no message waiting in any queue (the app's,
        a screen's, a widget's), no callback pending, no widget or screen still mounting.

        Reads Textual's message pumps (``_registry``, ``_message_queue``, ``_next_callbacks``,
        ``_mounted_event``; Textual 8.2): tests/test_tui.py's typed-ahead tests fail if that changes."""
        for pump in (self, *self._registry):
            if pump._closing or pump._closed:
                continue
            if pump._next_callbacks or not pump._message_queue.empty():
                return False
            if pump is not self and not pump._mounted_event.is_set():
                return False
        return True

    async def _release_keys(self) -> None:
        """Hand the held keys on in order, each once the previous one has been handled."""
        try:
            since = time.monotonic()
            while self._held_keys:
                await asyncio.sleep(0.002)
                late = time.monotonic() - since > KEY_HOLD_MAX  # a safety net: never hold keys for good
                if self._settled() or late or self._types_on(self._held_keys[0]):
                    batch = [self._held_keys.popleft()]
                    if batch[0].is_printable and isinstance(self.focused, (Input, TextArea)):
                        while self._held_keys and self._held_keys[0].is_printable:  # text for the focused box:
                            batch.append(self._held_keys.popleft())                 # it takes them all, in order
                    for event in batch:
                        self._released_keys.add(id(event))
                        if not self.post_message(event):  # closing: nobody is left to type to
                            self._held_keys.clear()
                            self._released_keys.clear()
                            break
                    since = time.monotonic()
        finally:
            self._releasing = False

    # -- lifecycle ----------------------------------------------------------
    def on_mount(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._hangup, 129)
            loop.add_signal_handler(signal.SIGTERM, self._hangup, 143)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests) or no signals
            pass
        if self.poll_enabled:
            self.set_interval(POLL_SECONDS, self._poll)
        if self.ask_operator:
            self.call_after_refresh(self._ask_operator)

    @staticmethod
    def _operator_name() -> str:
        from msptui import identity

        try:
            return identity.person()
        except Exception:  # a damaged identity file: the prompt below replaces it
            from msptui.environment import actor

            return actor()

    def _ask_operator(self) -> None:
        """First start without an identity: ask who is working (every change records it)."""
        from msptui import identity
        from screens.widgets import FormScreen

        try:
            if identity.current() is not None:
                return
        except Exception:
            pass

        def check(values: dict[str, str]) -> str | None:
            try:
                identity.parse(values["who"], role=values["role"].strip() or None)
            except Exception as exc:
                return str(exc)
            return None

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                self.say(f"no name set: changes are recorded under the OS login {self.operator!r} only", severity="warning")
                return
            op = identity.parse(values["who"], role=values["role"].strip() or None)
            identity.save(op)
            self.operator = op.name
            self.say(f"you are {op.text()}: every change you make records it")
            for screen in self.screen_stack:
                hook = getattr(screen, "operator_changed", None)
                if hook is not None:
                    hook()

        self.push_screen(FormScreen(
            "Who is working? Your name is recorded with every change (set once; msptui operator set changes it)",
            [("who", "Name and email, e.g. Dana Reyes <dana@example.net>", "", "NAME <EMAIL>"),
             ("role", "Role (optional), e.g. incident lead", "", "")],
            validate=check), done)

    def get_default_screen(self):
        from screens.home import HomeScreen

        return HomeScreen()

    def _hangup(self, code: int) -> None:
        """The terminal went away (SSH dropped) or we were told to stop: leave, non-zero.

        Long work in thread workers (evidence hashing) is cancelled first: nobody
        is left to see it finish, and a cancelled hash records nothing, so the
        process exits at once instead of lingering for minutes on a 40 GB image.
        """
        for screen in self.screen_stack:
            hook = getattr(screen, "cancel_background_work", None)
            if hook is not None:
                hook()
        self.exit(return_code=code)

    def _poll(self) -> None:
        if not self._polling:
            self._polling = True
            self._poll_head()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll_head(self) -> None:
        head = read_head(self.db_path)
        self.post_message(HeadChanged(-1 if head is None else head))

    @on(HeadChanged)
    def _head_changed(self, message: HeadChanged) -> None:
        self._polling = False
        if self._poll_again:
            self._poll_again = False
            self._poll()
        if message.head < 0 or message.head == self.head:
            return
        self.head = message.head
        for screen in self.screen_stack:  # each screen reloads only if its data is older
            hook = getattr(screen, "external_change", None)
            if hook is not None:
                hook(message.head)

    # -- navigation: the one place that knows every screen ----------------------
    def open_client(self, client_id: str, *, replace: bool = False, **kwargs: Any) -> None:
        from screens.client import ClientScreen

        screen = ClientScreen(client_id, **kwargs)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def open_incident(self, incident_id: str, *, view: Any = None, replace: bool = False) -> None:
        from screens.incident import IncidentScreen

        screen = IncidentScreen(incident_id, view=view)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    @on(OpenClient)
    def _on_open_client(self, message: OpenClient) -> None:
        self.open_client(message.client_id, highlight=message.highlight, at=message.at, replace=message.replace)

    @on(NewClient)
    def _on_new_client(self, message: NewClient) -> None:
        from screens.client_form import NewClientScreen

        self.push_screen(NewClientScreen())

    @on(RecordForClient)
    def _on_record(self, message: RecordForClient) -> None:
        if message.form == "agreement":
            from screens.agreement_form import AgreementScreen

            self.push_screen(AgreementScreen(message.client_id))
        elif message.form == "review":
            from screens.review_form import ReviewScreen

            self.push_screen(ReviewScreen(message.client_id))
        elif message.form == "signature":
            from screens.sign_form import SignScreen

            self.push_screen(SignScreen(message.client_id, message.record_id))
        elif message.form == "scope":
            from screens.scope_editor import ScopeScreen

            self.push_screen(ScopeScreen(message.client_id, message.record_id))
        else:
            from screens.policy_form import PolicyScreen

            self.push_screen(PolicyScreen(message.client_id, message.record_id))

    def data_changed(self) -> None:
        """A screen recorded something: read the chain head now, so the screens underneath reload."""
        if self._polling:
            self._poll_again = True  # the read in flight may have started before the write
        else:
            self._poll()

    @on(OpenIncident)
    def _on_open_incident(self, message: OpenIncident) -> None:
        self.open_incident(message.incident_id, view=message.view, replace=message.replace)

    @on(ReportBreach)
    def _on_report_breach(self, message: ReportBreach) -> None:
        from screens.breach import BreachScreen

        self.push_screen(BreachScreen(message.client_id))

    def run_screen_action(self, name: str) -> None:
        method = getattr(self.screen, f"action_{name}", None)
        if method is None:
            self.notify(f"'{name.replace('_', ' ')}' is not available on this screen", severity="warning", markup=False)
            return
        method()

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    def action_posture(self) -> None:
        from screens.posture import PostureScreen

        if not isinstance(self.screen, PostureScreen):
            self.push_screen(PostureScreen())

    def action_home(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def say(self, message: str, *, severity: str = "information", timeout: float = 5) -> None:
        """notify() with literal text (notify parses markup by default)."""
        self.notify(visible(message, keep_newlines=False)[:500], severity=severity, markup=False, timeout=timeout)  # type: ignore[arg-type]
