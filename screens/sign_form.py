"""Record a signature on an agreement: the form behind ``msptui sign`` (s on a client).

Which agreement, when it was signed (local time in the client's zone), who
signed on each side ("NAME, TITLE", people separated by ';'), how, and the
signed file. The file is hashed in a thread worker (streamed SHA-256) with a
progress bar, as evidence is; Esc cancels the hashing between chunks and
nothing is recorded. An agreement already signed is signed again only with
"re-sign" ticked.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, ProgressBar, Select

from msptui.record_inputs import SignDraft
from screens.formkit import RecordForm, entries, select, value
from screens.widgets import SafeInput, SafeStatic, clean, lit, run_job

METHODS = [("wet ink (paper)", "wet"), ("electronic signature", "electronic"), ("click-through", "click"),
           ("email acceptance", "email")]


class HashProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class SignFinished(Message):
    def __init__(self, outcome: Any, error: str | None) -> None:
        super().__init__()
        self.outcome = outcome
        self.error = error


def load(store, client_id: str):
    from msptui.records import client_agreements, get_client

    return get_client(store, client_id), client_agreements(store, client_id)


def draft(values: dict[str, Any]) -> SignDraft:
    """The form's strings as the input model ``msptui sign`` builds from its options."""
    return SignDraft(signed_at=values["signed_at"], msp=entries(values["msp"]), client=entries(values["client"]),
                     method=values["method"] or None, document=values["document"] or None, resign=values["resign"])


def agreement_label(a: Any) -> str:
    status = "SIGNED" if a.signature.status == "signed" else a.signature.status.upper().replace("_", " ")
    return f"{a.type.upper()} {a.title} v{a.version} from {a.effective_from} - {status} ({a.id})"


class SignScreen(RecordForm):
    TITLE_TEXT = "signature"
    HELP = ("Record that an agreement was signed: when (local time in the client's zone), who signed for each side "
            "('NAME, TITLE', several separated by ';'), how, and the signed file (hashed with a progress bar; Esc "
            "cancels the hashing). An agreement already signed needs 're-sign' ticked. ctrl+s or F10 saves.")
    BINDINGS = [*RecordForm.BINDINGS, Binding("ctrl+t", "now", "Time = now", key_display="^t", show=False)]
    DEFAULT_CSS = RecordForm.DEFAULT_CSS + """
    SignScreen #hashbox { height: auto; display: none; }
    SignScreen #hashbox.busy { display: block; }
    """

    def __init__(self, client_id: str, agreement_id: str | None = None) -> None:
        super().__init__(client_id)
        self.agreement_id = agreement_id
        self.client = None
        self.agreements: list[Any] = []
        self.hashing = False
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def fields(self) -> ComposeResult:
        yield Label("Agreement")
        yield Select([], prompt="choose the agreement that was signed", id="agreement", compact=True)
        yield Label("Signed at (local time in the client's zone; ctrl+t = now) / method")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="signed_at", placeholder="YYYY-MM-DDTHH:MM")
            yield select(METHODS, prompt="method", id="method")
        yield Label("Signed for the MSP: NAME, TITLE (several: separate with ';')")
        yield SafeInput(compact=True, id="msp", placeholder="e.g. Pat Kim, CEO")
        yield Label("Signed for the client: NAME, TITLE (several: separate with ';')")
        yield SafeInput(compact=True, id="client", placeholder="e.g. Dr. Ana Ruiz, Owner")
        yield Label("Signed file (hashed with SHA-256 and recorded; optional)")
        yield SafeInput(compact=True, id="document", placeholder="/path/to/signed.pdf")
        yield Checkbox("Re-sign: replace a signature already on record: NO", id="resign", compact=True)
        with Vertical(id="hashbox"):
            yield SafeStatic("", id="hash-label")
            yield ProgressBar(total=100, show_eta=True, id="hashbar")

    def on_mount(self) -> None:
        super().on_mount()
        self.say_who("loading agreements...")
        self.db("context", load, self.client_id)

    def loaded_context(self, value: tuple[Any, list[Any]]) -> None:
        self.client, self.agreements = value
        box = self.query_one("#agreement", Select)
        box.set_options([(lit(agreement_label(a), limit=120), a.id) for a in self.agreements])
        unsigned = [a for a in self.agreements if a.signature.status != "signed"]
        preset = self.agreement_id or (unsigned[0].id if len(unsigned) == 1 else None)
        if preset and any(a.id == preset for a in self.agreements):
            box.value = preset
        if not self.agreements:
            self.say_who(f"Client: {self.client.name} ({self.client.id}) has no agreement on record: add one first "
                         "(msptui agreement add)")
        else:
            self.say_who(f"Client: {self.client.name} ({self.client.id}); times are local in {self.client.home_tz}.")
        box.focus()

    def failed_context(self, error: str) -> None:
        self.say_who(f"! {error}")

    def action_now(self) -> None:
        tz = self.client.home_tz if self.client else "UTC"
        self.query_one("#signed_at", Input).value = datetime.now(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        base = str(event.checkbox.label).rsplit(":", 1)[0]
        event.checkbox.label = f"{base}: {'YES' if event.value else 'NO'}"

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: value(self.query_one(f"#{name}"))
                               for name in ("agreement", "signed_at", "method", "msp", "client", "document")}
        out["resign"] = self.query_one("#resign", Checkbox).value
        return out

    def check(self) -> tuple[Callable[..., Any], tuple]:
        raise NotImplementedError  # saving hashes first: see action_save

    def action_save(self) -> None:
        if self.busy or self.hashing:
            return
        if self.client is None:
            self.problem("the client is still loading")
            return
        values = self.values()
        try:
            if not values["agreement"]:
                from msptui.errors import UserError

                raise UserError("agreement: choose the agreement that was signed")
            draft(values).parse(self.client.home_tz)
        except Exception as exc:
            self.problem(str(exc))
            return
        self.problem("")
        self.start(values)

    def start(self, values: dict[str, Any]) -> None:
        self.hashing = self.busy = True
        self._cancel.clear()
        path = values["document"].strip()
        box = self.query_one("#hashbox")
        if path:
            try:
                size = Path(path).expanduser().stat().st_size
            except OSError as exc:  # gone since it was checked
                self.hashing = self.busy = False
                self.problem(f"document: {exc.strerror}: {path}")
                return
            box.add_class("busy")
            self.query_one("#hash-label", SafeStatic).update(Content(f"hashing {clean(path, limit=60)} ... (Esc cancels)"))
            self.query_one("#hashbar", ProgressBar).update(total=max(1, size), progress=0)
        else:
            self.query_one("#problem", SafeStatic).update(Content("saving..."))
        self._sign(values)

    @work(thread=True, group="hash", exit_on_error=False)
    def _sign(self, values: dict[str, Any]) -> None:
        from msptui.records import sign_agreement

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - self._last_progress > 0.1 or done == total:
                self._last_progress = now
                self.post_message(HashProgress(done, total))

        outcome, error = run_job(self.app.db_path, lambda store: sign_agreement(
            store, values["agreement"], draft(values), progress=progress, cancelled=self._cancel.is_set), (), {},
            write=True)
        self.post_message(SignFinished(outcome, error))

    def on_hash_progress(self, message: HashProgress) -> None:
        self.query_one("#hashbar", ProgressBar).update(total=max(1, message.total), progress=message.done)

    def on_sign_finished(self, message: SignFinished) -> None:
        self.hashing = self.busy = False
        self.query_one("#hashbox").remove_class("busy")
        if message.error:
            self.problem(message.error)
            return
        self.dirty = False
        self.app.say(f"signature recorded on {message.outcome.record.id}")  # type: ignore[attr-defined]
        changed = getattr(self.app, "data_changed", None)
        if changed is not None:
            changed()
        self.app.pop_screen()

    def cancel_background_work(self) -> None:
        """Called by the app on SIGHUP/SIGTERM: stop hashing (nothing is recorded for a cancelled hash)."""
        self._cancel.set()

    def action_cancel(self) -> None:
        if self.hashing:
            self._cancel.set()
            return
        super().action_cancel()
