"""Record a business review: the form behind ``msptui review add`` and ``recommend`` (v on a client).

Who attended on each side, the topics, the security education given (one
entry per line), the minutes file, and the recommendations made with the
client's decision on each. ctrl+n (or F7) adds another recommendation; an
empty one is ignored. A declined recommendation also becomes a risk
acceptance for the client to sign. Saving writes the review (and those risk
acceptances) in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, TextArea

from msptui.record_inputs import DECISIONS, REVIEW_TYPES, RecommendationDraft, ReviewDraft
from screens.formkit import RecordForm, entries, lines, select, value
from screens.widgets import SafeInput


def load_client(store, client_id: str):
    from msptui.records import get_client

    return get_client(store, client_id)


def add_review(store, values: dict[str, Any]):
    from msptui.records import add_review as add

    return add(store, draft(values))


def draft(values: dict[str, Any]) -> ReviewDraft:
    """The form's strings as the input model ``review add`` (plus ``recommend`` per row) builds."""
    recs = [RecommendationDraft(item=r["item"] or None, text=r["text"], decision=r["decision"] or None,
                                decided_on=r["decided_on"] or None)
            for r in values["recommendations"] if any(v.strip() for v in r.values())]
    return ReviewDraft(client_id=values["client_id"], held_on=values["held_on"], type=values["type"] or None,
                       attendees_msp=entries(values["attendees_msp"]), attendees_client=entries(values["attendees_client"]),
                       topics=lines(values["topics"]), education=lines(values["education"]),
                       minutes=values["minutes"] or None, recommendations=recs)


class ReviewScreen(RecordForm):
    TITLE_TEXT = "business review"
    HELP = ("Record a business review that was held: attendees (separate people with ';'), topics and the security "
            "education given (one per line), the minutes file (hashed), and each recommendation with the client's "
            "decision. ctrl+n or F7 adds a recommendation; a declined one becomes a risk acceptance for the client "
            "to sign. ctrl+s or F10 saves; Esc leaves.")
    BINDINGS = [*RecordForm.BINDINGS, Binding("ctrl+n,f7", "add_recommendation", "Add rec.", key_display="^n F7")]
    DEFAULT_CSS = RecordForm.DEFAULT_CSS + """
    ReviewScreen .rec-item { width: 3fr; }
    ReviewScreen .row Input.rec-date { width: 14; }
    """

    def __init__(self, client_id: str) -> None:
        super().__init__(client_id)
        self.client = None
        self.rec_count = 0

    def fields(self) -> ComposeResult:
        yield Label("Held on (YYYY-MM-DD) / type")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="held_on", placeholder="YYYY-MM-DD")
            yield select([(t.replace("_", " "), t) for t in REVIEW_TYPES], prompt="type", id="type", value="qbr")
        yield Label("MSP attendees (separate people with ';')")
        yield SafeInput(compact=True, id="attendees_msp", placeholder="e.g. Pat Kim; Lee Park")
        yield Label("Client attendees (separate people with ';')")
        yield SafeInput(compact=True, id="attendees_client", placeholder="e.g. Dr. Ana Ruiz")
        yield Label("Topics (one per line)")
        yield TextArea(id="topics", compact=True)
        yield Label("Security education given (one per line: what the client was taught or warned about)")
        yield TextArea(id="education", compact=True)
        yield Label("Minutes file (optional: hashed and recorded)")
        yield SafeInput(compact=True, id="minutes", placeholder="/path/to/minutes.pdf")
        yield Label("Recommendations (ctrl+n or F7 adds another)")
        yield Vertical(id="recs")

    def on_mount(self) -> None:
        super().on_mount()
        self.say_who("loading client...")
        self.add_rec_row()
        self.db("client", load_client, self.client_id)

    def loaded_client(self, client: Any) -> None:
        self.client = client
        self.say_who(f"Client: {client.name} ({client.id}). Dates are the client's local dates ({client.home_tz}).")
        held = self.query_one("#held_on", Input)
        if not held.value:
            held.value = datetime.now(ZoneInfo(client.home_tz)).date().isoformat()
        self.query_one("#attendees_msp", Input).focus()

    def failed_client(self, error: str) -> None:
        self.say_who(f"! {error}")

    def add_rec_row(self) -> None:
        from msptui.catalog import load_catalog

        self.rec_count += 1
        n = self.rec_count
        items = [(f"{i.label} ({i.id})", i.id) for i in load_catalog().items.values()]
        item = select(items, prompt=f"{n}. catalogue item recommended", id=f"rec{n}-item")
        item.add_class("rec-item")
        decided = SafeInput(compact=True, id=f"rec{n}-decided_on", placeholder="decided on")
        decided.add_class("rec-date")
        row = Vertical(
            Horizontal(item, select([(d, d) for d in DECISIONS], prompt="decision", id=f"rec{n}-decision"),
                       classes="row"),
            Horizontal(decided, SafeInput(compact=True, id=f"rec{n}-text",
                                      placeholder=f"{n}. the recommendation, as given to the client"), classes="row"),
            classes="rec",
        )
        self.query_one("#recs", Vertical).mount(row)

    def action_add_recommendation(self) -> None:
        self.add_rec_row()
        self.call_after_refresh(lambda: self.query_one(f"#rec{self.rec_count}-item").focus())

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: value(self.query_one(f"#{name}"))
                               for name in ("held_on", "type", "attendees_msp", "attendees_client", "topics",
                                            "education", "minutes")}
        out["client_id"] = self.client_id
        out["recommendations"] = [
            {field: value(self.query_one(f"#rec{n}-{field}")) for field in ("item", "decision", "decided_on", "text")}
            for n in range(1, self.rec_count + 1)
        ]
        return out

    def check(self) -> tuple[Callable[..., Any], tuple]:
        values = self.values()
        draft(values).parse()
        return add_review, (values,)

    def saved(self, outcome: Any) -> None:
        review = outcome.record
        declines = [w.id for w in outcome.written[1:]]
        text = f"review {review.id} recorded with {len(review.recommendations)} recommendation(s)"
        if declines:
            text += f"; {len(declines)} decline(s) to have signed: {', '.join(declines)}"
        self.app.say(text, timeout=10)  # type: ignore[attr-defined]
        self.app.pop_screen()
