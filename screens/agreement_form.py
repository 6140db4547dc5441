"""Add an agreement with its clauses: the form behind ``msptui agreement add`` and ``clause add`` (a on a client).

One document of the contract stack (MSA, schedule, SOW, SLA, amendment, DPA,
BAA), unsigned, with the clauses that decide liability (limitation of
liability, security disclaimer, the insurance the client must carry ...):
ctrl+n or F7 adds a clause row; an empty row is ignored. Then state its
scope (o) and record its signature (s).
"""

from __future__ import annotations

from typing import Any, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select

from msptui.record_inputs import AGREEMENT_TYPES, CLAUSE_KINDS, AgreementDraft, ClauseDraft
from screens.formkit import RecordForm, select, value
from screens.widgets import SafeInput, lit


def load(store, client_id: str):
    from msptui.records import client_agreements, get_client

    return get_client(store, client_id), client_agreements(store, client_id)


def add_agreement(store, values: dict[str, Any]):
    from msptui.records import add_agreement as add

    return add(store, draft(values))


def draft(values: dict[str, Any]) -> AgreementDraft:
    """The form's strings as the input model ``agreement add`` builds (plus ``clause add`` per row)."""
    clauses = [ClauseDraft(kind=c["kind"], section=c["section"], text=c["text"], amount=c["amount"] or None)
               for c in values["clauses"] if any(v.strip() for v in c.values())]
    return AgreementDraft(client_id=values["client_id"], type=values["type"], title=values["title"],
                          effective_from=values["effective_from"], effective_to=values["effective_to"] or None,
                          parent=values["parent"] or None, supersedes=values["supersedes"] or None,
                          version=values["version"] or None, document=values["document"] or None, clauses=clauses)


class AgreementScreen(RecordForm):
    TITLE_TEXT = "agreement"
    HELP = ("Add an agreement (unsigned) with its clauses: type, title, the days it is in force (client's local dates, "
            "both included), the MSA it hangs from or the agreement it replaces, its file (hashed). ctrl+n or F7 adds "
            "a clause. Then state its scope (o) and record its signature (s). ctrl+s or F10 saves; Esc leaves.")
    BINDINGS = [*RecordForm.BINDINGS, Binding("ctrl+n,f7", "add_clause", "Add clause", key_display="^n F7")]

    def __init__(self, client_id: str) -> None:
        super().__init__(client_id)
        self.clause_count = 0

    def fields(self) -> ComposeResult:
        yield Label("Type / version")
        with Horizontal(classes="row"):
            yield select([(t.upper(), t) for t in AGREEMENT_TYPES], prompt="type", id="type")
            yield SafeInput(compact=True, id="version", value="1")
        yield Label("Title")
        yield SafeInput(compact=True, id="title", placeholder="e.g. Master Services Agreement")
        yield Label("In force from / to (YYYY-MM-DD; 'to' empty = open-ended)")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="effective_from", placeholder="YYYY-MM-DD")
            yield SafeInput(compact=True, id="effective_to", placeholder="YYYY-MM-DD")
        yield Label("Hangs from (the MSA) / replaces (optional)")
        with Horizontal(classes="row"):
            yield Select([], prompt="parent: none", id="parent", compact=True)
            yield Select([], prompt="supersedes: none", id="supersedes", compact=True)
        yield Label("Document file (optional: hashed and recorded)")
        yield SafeInput(compact=True, id="document", placeholder="/path/to/agreement.pdf")
        yield Label("Clauses (ctrl+n or F7 adds another)")
        yield Vertical(id="clauses")

    def on_mount(self) -> None:
        super().on_mount()
        self.say_who("loading client...")
        self.add_clause_row()
        self.db("context", load, self.client_id)

    def loaded_context(self, value: tuple[Any, list[Any]]) -> None:
        client, agreements = value
        self.say_who(f"Client: {client.name} ({client.id}). The agreement is recorded unsigned.")
        options = [(lit(f"{a.type.upper()} {a.title} v{a.version} ({a.id})", limit=100), a.id) for a in agreements]
        self.query_one("#parent", Select).set_options(options)
        self.query_one("#supersedes", Select).set_options(options)
        self.query_one("#type", Select).focus()

    def failed_context(self, error: str) -> None:
        self.say_who(f"! {error}")

    def add_clause_row(self) -> None:
        self.clause_count += 1
        n = self.clause_count
        row = Vertical(
            Horizontal(
                select([(k.replace("_", " "), k) for k in CLAUSE_KINDS], prompt=f"{n}. clause kind", id=f"cl{n}-kind"),
                SafeInput(compact=True, id=f"cl{n}-section", placeholder="section, e.g. §9.2"),
                SafeInput(compact=True, id=f"cl{n}-amount", placeholder="amount (if any)"),
                classes="row",
            ),
            SafeInput(compact=True, id=f"cl{n}-text", placeholder=f"{n}. the clause's words, as signed"),
        )
        self.query_one("#clauses", Vertical).mount(row)

    def action_add_clause(self) -> None:
        self.add_clause_row()
        self.call_after_refresh(lambda: self.query_one(f"#cl{self.clause_count}-kind").focus())

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: value(self.query_one(f"#{name}"))
                               for name in ("type", "version", "title", "effective_from", "effective_to", "parent",
                                            "supersedes", "document")}
        out["client_id"] = self.client_id
        out["clauses"] = [{field: value(self.query_one(f"#cl{n}-{field}")) for field in ("kind", "section", "amount", "text")}
                          for n in range(1, self.clause_count + 1)]
        return out

    def check(self) -> tuple[Callable[..., Any], tuple]:
        values = self.values()
        draft(values).parse()
        return add_agreement, (values,)

    def saved(self, outcome: Any) -> None:
        a = outcome.record
        self.app.say(f"agreement {a.id} added with {len(a.clauses)} clause(s): state its scope (o), "  # type: ignore[attr-defined]
                     "then record its signature (s)", timeout=10)
        self.app.pop_screen()
