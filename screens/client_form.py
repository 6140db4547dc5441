"""New client: the form behind ``msptui client add`` (ctrl+n or F7 on the home screen).

The id is filled in from the name as it is typed (until it is edited by
hand); the home zone starts as this machine's zone. Lists (countries, US
states, data held, sectors) are comma-separated codes. Saving opens the new
client's screen.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label

from msptui.record_inputs import DATA_KINDS, ENGAGEMENTS, SECTORS, ClientDraft, slugify
from screens.formkit import RecordForm, select, value
from screens.messages import OpenClient
from screens.widgets import SafeInput


def add_client(store, values: dict[str, str]):
    from msptui.records import add_client as add

    return add(store, draft(values))


def draft(values: dict[str, str]) -> ClientDraft:
    """The form's strings as the input model ``client add`` builds from its options."""
    return ClientDraft(id=values["id"], name=values["name"], engagement=values["engagement"], tz=values["tz"],
                       countries=values["countries"], us_states=values["us_states"], data_held=values["data_held"],
                       sectors=values["sectors"], industry=values["industry"] or None)


class NewClientScreen(RecordForm):
    TITLE_TEXT = "new client"
    HELP = ("A new client: name, id (filled in from the name), engagement and home zone are needed; lists are "
            "comma-separated codes. Tab / shift+Tab move between fields; ctrl+s or F10 saves; Esc leaves.")
    FIELDS = ("name", "id", "engagement", "tz", "countries", "us_states", "data_held", "sectors", "industry")

    def __init__(self) -> None:
        super().__init__(None)
        self._id_typed = False

    def fields(self) -> ComposeResult:
        from msptui.environment import local_zone

        yield Label("Name (as the client is known; stored exactly as typed)")
        yield SafeInput(compact=True, id="name", placeholder="e.g. Harbor Dental, PLLC")
        yield Label("Id (lower-case letters, digits, '.', '_', '-'; other records refer to it)")
        yield SafeInput(compact=True, id="id", placeholder="e.g. harbor-dental")
        yield Label("Engagement and home time zone (IANA)")
        with Horizontal(classes="row"):
            yield select([(e.replace("_", " "), e) for e in ENGAGEMENTS], prompt="engagement", id="engagement")
            yield SafeInput(compact=True, id="tz", value=local_zone(), placeholder="e.g. America/New_York")
        yield Label("Countries (ISO codes) / US states whose residents' data it holds")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="countries", placeholder="e.g. US, CA")
            yield SafeInput(compact=True, id="us_states", placeholder="e.g. IL, WI")
        yield Label("Data held (" + ", ".join(DATA_KINDS) + ")")
        yield SafeInput(compact=True, id="data_held", placeholder="e.g. pii, phi")
        yield Label("Sectors (" + ", ".join(SECTORS) + ")")
        yield SafeInput(compact=True, id="sectors", placeholder="leave empty if none")
        yield Label("Industry (free text)")
        yield SafeInput(compact=True, id="industry")

    def on_mount(self) -> None:
        super().on_mount()
        self.say_who("A new client. Needed: name, id, engagement, home zone.")
        self.query_one("#name", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        super().on_input_changed(event)
        if event.input.id == "id" and event.input.has_focus:
            self._id_typed = True
        elif event.input.id == "name" and not self._id_typed:
            self.query_one("#id", Input).value = slugify(event.value)

    def values(self) -> dict[str, str]:
        return {name: value(self.query_one(f"#{name}")) for name in self.FIELDS}

    def check(self) -> tuple[Callable[..., Any], tuple]:
        values = self.values()
        draft(values).fields(new=True)
        return add_client, (values,)

    def saved(self, outcome: Any) -> None:
        self.app.say(f"client {outcome.record.id} added")  # type: ignore[attr-defined]
        self.post_message(OpenClient(outcome.record.id, replace=True))
