"""Report breach: a short form that creates the incident and opens it.

Discovered-at defaults to now in the client's zone; the line under it shows
the instant in local time and UTC as it is typed. Data types and
jurisdictions are pre-filled from the client record; narrow them. ctrl+s
(or F10, or the Create button) submits; the incident and its checklist are
written in one transaction by ``msptui.incidents.open_incident`` in a worker.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, Select

from msptui.models import INCIDENT_CATEGORIES
from msptui.obligations import DATA_KINDS
from screens.messages import OpenIncident
from screens.widgets import SafeInput, ConfirmScreen, DbMixin, Footer, SafeStatic, clean, topbar


def load_client(store, client_id: str):
    from msptui.picture import load_client as load

    return load(store, client_id)


def draft_from_form(client_id: str, values: dict[str, Any]):
    """The form's strings as the same input model ``msptui incident open`` builds from its options."""
    from msptui.inputs import IncidentDraft

    return IncidentDraft(
        client_id=client_id, discovered=values["discovered"], tz=values["tz"], category=values["category"],
        summary=values["summary"], reported_by=values["reported_by"], data_types=values["data_types"],
        countries=values["countries"], us_states=values["us_states"], ransom_paid=bool(values["ransom_paid"]),
        msp_caused=bool(values["msp_caused"]),
    )


def check_form(client, values: dict[str, Any]) -> None:
    """Raise the UserError the core would (the same one-line message), before anything is written."""
    draft_from_form(client.id, values).resolve(client)


def create_incident(store, client_id: str, values: dict[str, Any], plan):
    """Open the incident from the form (one transaction) and read its view on the same connection."""
    from msptui.incidents import open_from_draft
    from msptui.views.incident import TIMELINE_PAGE, incident_view

    incident, _items = open_from_draft(store, draft_from_form(client_id, values), plan=plan)
    # the page the incident screen reads (it read the client's whole history: ~14 ms of every report-breach)
    return incident_view(store, incident.id, timeline_limit=TIMELINE_PAGE)


class BreachScreen(DbMixin, Screen):
    HELP = ("Fill in what you know now; everything can be added to later as notes. "
            "Tab / shift+Tab move between fields. ctrl+s or F10 creates the incident.")
    BINDINGS = [
        Binding("f1", "app.help", "Help", key_display="F1"),
        Binding("ctrl+s,f10", "submit", "Create", key_display="^s F10"),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+t", "now", "Time = now", key_display="^t"),
    ]
    DEFAULT_CSS = """
    BreachScreen #form { height: 1fr; padding: 0 1; }
    BreachScreen Label { margin-top: 0; text-style: bold; width: 100%; }
    BreachScreen Input { height: 1; background: $boost; }
    BreachScreen Input:focus { text-style: bold; }
    BreachScreen .row { height: auto; }
    BreachScreen .row Input { width: 1fr; }
    BreachScreen #when { color: $text-muted; }
    BreachScreen #problem { text-style: bold; }
    BreachScreen Select { width: 1fr; }
    """

    def __init__(self, client_id: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield SafeStatic(topbar(self.app, "report breach", first=self.client_id), classes="topbar")
        with VerticalScroll(id="form"):
            yield SafeStatic(Content("loading client..."), id="who")
            yield Label("Discovered at (local time in the zone on the right; ctrl+t = now)", id="l-when")
            with Horizontal(classes="row"):
                yield SafeInput(compact=True, id="discovered", placeholder="YYYY-MM-DDTHH:MM")
                yield SafeInput(compact=True, id="tz", placeholder="IANA zone")
            yield SafeStatic("", id="when")
            yield Label("Category", id="l-category")
            yield Select([(c.replace("_", " "), c) for c in INCIDENT_CATEGORIES], prompt="choose a category", id="category", compact=True)
            yield Label("Summary (one line: what happened, how it was found)", id="l-summary")
            yield SafeInput(compact=True, id="summary", max_length=20000, placeholder="e.g. files encrypted on FS01, ransom note found 01:10")
            yield Label("Reported by", id="l-reported_by")
            yield SafeInput(compact=True, id="reported_by", value=self.app.operator)
            yield Label("Data types involved (comma-separated: " + ", ".join(DATA_KINDS) + ")", id="l-data_types")
            yield SafeInput(compact=True, id="data_types")
            yield Label("Affected countries / US states (two-letter codes, comma-separated)", id="l-places")
            with Horizontal(classes="row"):
                yield SafeInput(compact=True, id="countries")
                yield SafeInput(compact=True, id="us_states")
            yield Checkbox("Ransom paid: NO", id="ransom_paid", compact=True)
            yield Checkbox("MSP's own systems or staff were the vector: NO", id="msp_caused", compact=True)
            yield SafeStatic("", id="problem")
            yield Button("Create incident (ctrl+s)", id="create", variant="error", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.db("client", load_client, self.client_id)

    def loaded_client(self, client) -> None:
        self.client = client
        self.query_one("#who", SafeStatic).update(Content(f"Client: {clean(client.name, limit=70)} ({client.id})"))
        self.query_one("#tz", Input).value = client.home_tz
        self.action_now()
        self.query_one("#data_types", Input).value = ", ".join(client.data_held)
        self.query_one("#countries", Input).value = ", ".join(client.countries)
        self.query_one("#us_states", Input).value = ", ".join(client.us_states)
        self.query_one("#category", Select).focus()

    def failed_client(self, error: str) -> None:
        self.query_one("#who", SafeStatic).update(Content("! " + clean(error, limit=300)))

    def action_now(self) -> None:
        tz = self.query_one("#tz", Input).value.strip() or "UTC"
        try:
            now = datetime.now(ZoneInfo(tz))
        except Exception:
            now = datetime.now(timezone.utc)
        self.query_one("#discovered", Input).value = now.strftime("%Y-%m-%dT%H:%M")
        self.update_when()

    #: which label names each field: the focused field's label is marked with '>' (visible with NO_COLOR too)
    LABEL_OF = {"discovered": "when", "tz": "when", "category": "category", "summary": "summary",
                "reported_by": "reported_by", "data_types": "data_types", "countries": "places", "us_states": "places"}

    def on_descendant_focus(self, event) -> None:
        focused = self.LABEL_OF.get(event.widget.id or "")
        for label in self.query(Label):
            text = str(label.content).removeprefix("> ")
            label.update(Content(("> " if label.id == f"l-{focused}" else "") + text))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("discovered", "tz"):
            self.update_when()

    def update_when(self) -> None:
        from msptui.timeutil import fmt_local_and_utc, parse_local

        text = self.query_one("#discovered", Input).value
        tz = self.query_one("#tz", Input).value.strip()
        try:
            at = parse_local(text, tz)
            shown = "= " + fmt_local_and_utc(at, tz)
            mine = datetime.now().astimezone()
            shown += f"  | your clock: {at.astimezone(mine.tzinfo):%Y-%m-%d %H:%M %Z}"
        except Exception as exc:
            shown = "! " + str(exc)
        self.query_one("#when", SafeStatic).update(Content(clean(shown, limit=300)))

    def values(self) -> dict[str, Any]:
        def val(name: str) -> str:
            return self.query_one(f"#{name}", Input).value

        category = self.query_one("#category", Select).value
        return {
            "discovered": val("discovered"),
            "tz": val("tz"),
            "category": category if isinstance(category, str) else "",
            "summary": val("summary"),
            "reported_by": val("reported_by"),
            "data_types": val("data_types"),
            "countries": val("countries"),
            "us_states": val("us_states"),
            "ransom_paid": self.query_one("#ransom_paid", Checkbox).value,
            "msp_caused": self.query_one("#msp_caused", Checkbox).value,
        }

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        base = str(event.checkbox.label).rsplit(":", 1)[0]
        event.checkbox.label = f"{base}: {'YES' if event.value else 'NO'}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_submit()

    def action_submit(self) -> None:
        if self.busy:
            return
        if self.client is None:
            self.app.say("the client is still loading", severity="warning")  # type: ignore[attr-defined]
            return
        values = self.values()
        try:
            check_form(self.client, values)
        except Exception as exc:
            self.problem(str(exc))
            return
        self.busy = True
        self.problem("creating the incident...")
        self.db("create", create_incident, self.client_id, values, getattr(self.app, "plan", None), write=True)

    def problem(self, text: str) -> None:
        self.query_one("#problem", SafeStatic).update(Content("! " + clean(text, limit=300) if text else ""))
        self.query_one("#problem", SafeStatic).scroll_visible(animate=False)

    def loaded_create(self, view) -> None:
        self.busy = False
        self.app.say(f"incident {view.incident.id} created")  # type: ignore[attr-defined]
        self.post_message(OpenIncident(view.incident.id, view=view, replace=True))

    def failed_create(self, error: str) -> None:
        self.busy = False
        self.problem(error)
        self.app.say(error, severity="error")  # type: ignore[attr-defined]

    def action_cancel(self) -> None:
        if self.query_one("#summary", Input).value.strip():
            def done(yes: bool | None) -> None:
                if yes:
                    self.app.pop_screen()

            self.app.push_screen(ConfirmScreen("Discard this breach report? Nothing has been saved."), done)
        else:
            self.app.pop_screen()
