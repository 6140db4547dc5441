"""The scope editor: every catalogue item of one agreement, its state and clause reference (o on a client).

Keyboard only. j/k (or arrows) move through the scope catalogue; one key
sets the highlighted item's state: i included, x excluded, d declined,
c client responsibility, t third party, n not applicable (or 1-6), and
Delete / 0 clears it (the agreement says nothing: "not addressed"). Enter
(or e) edits the clause reference ("Schedule B §3.2"). Changed rows are
marked with *. ctrl+s (F10) saves every change as one event
(``msptui.records.set_scope``, what ``msptui scope set`` calls once per
line); a signed agreement is read only (its scope is changed by a signed
amendment). Esc leaves, asking first if there are unsaved changes.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Select

from msptui.record_inputs import SCOPE_STATES, ScopeLineDraft
from screens.widgets import ConfirmScreen, DbMixin, Footer, PromptScreen, RowList, SafeStatic, clean, fit, lit, topbar

#: (key, state) in the order shown; 0 / Delete clear
KEYS = [("i", "included"), ("x", "excluded"), ("d", "declined"), ("c", "client_responsibility"), ("t", "third_party"),
        ("n", "not_applicable")]
WORDS = {"included": "INCLUDED", "excluded": "EXCLUDED", "declined": "DECLINED", "client_responsibility": "CLIENT",
         "third_party": "3RD PARTY", "not_applicable": "N/A", None: "-"}
LEGEND = "i incl  x excl  d declined  c client  t 3rd party  n n/a  0/del clear  ⏎ clause"


def load(store, client_id: str):
    from msptui.records import client_agreements, get_client

    return get_client(store, client_id), client_agreements(store, client_id)


def save(store, agreement_id: str, lines: list[dict[str, Any]]):
    from msptui.records import set_scope

    return set_scope(store, agreement_id, drafts(lines))


def drafts(lines: list[dict[str, Any]]) -> list[ScopeLineDraft]:
    """Each changed row as the input model ``scope set`` builds (an empty state clears the item)."""
    return [ScopeLineDraft(item=line["item"], state=line["state"] or "", clause=line["clause"] or None,
                           notes=line.get("notes") or None) for line in lines]


class ScopeRow:
    """One catalogue item in the editor: its state and clause on record, and as edited."""

    def __init__(self, item: Any, line: Any | None) -> None:
        self.item = item
        self.saved_state = line.state.value if line is not None else None
        self.saved_clause = line.clause if line is not None else None
        self.notes = line.notes if line is not None else ""
        self.state = self.saved_state
        self.clause = self.saved_clause

    @property
    def changed(self) -> bool:
        return (self.state, self.clause) != (self.saved_state, self.saved_clause)


class ScopeScreen(DbMixin, Screen):
    HELP = ("Every scope catalogue item of one agreement: set the highlighted item's state with one key "
            "(i included, x excluded, d declined, c client responsibility, t third party, n not applicable; "
            "or 1-6; Delete or 0 clears), Enter edits its clause reference. Changed rows show *. ctrl+s saves all "
            "changes as one event. A signed agreement is read only: its scope changes by a signed amendment.")
    BINDINGS = [
        Binding("f1,question_mark", "app.help", "Help", key_display="? F1"),
        Binding("ctrl+s,f10", "save", "Save", key_display="^s F10"),
        Binding("enter,e", "clause", "Clause", key_display="⏎"),
        Binding("escape", "back", "Back"),
        Binding("a", "choose_agreement", "Agreement", key_display="a"),
        *[Binding(f"{key},{n}", f"set_state('{state}')", f"Set {state.replace('_', ' ')}", show=False)
          for n, (key, state) in enumerate(KEYS, 1)],
        Binding("delete,backspace,0", "set_state('')", "Clear (not addressed)", show=False),
    ]
    DEFAULT_CSS = """
    ScopeScreen #agreement { width: 1fr; }
    ScopeScreen #items { height: 1fr; }
    ScopeScreen #legend { height: 1; color: $text-muted; }
    ScopeScreen #problem { height: auto; text-style: bold; }
    """

    def __init__(self, client_id: str, agreement_id: str | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.agreement_id = agreement_id
        self.client = None
        self.agreements: list[Any] = []
        self.agreement: Any = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield SafeStatic(topbar(self.app, "scope", first=self.client_id), classes="topbar", id="topbar")
        yield Select([], prompt="choose the agreement (a)", id="agreement", compact=True)
        yield SafeStatic(Content(" loading..."), id="status")
        yield RowList(self.format_row, empty="(choose an agreement above: a, or Tab)", id="items")
        yield SafeStatic(Content(LEGEND), id="legend")
        yield SafeStatic(Content(""), id="problem")
        yield Footer()

    def on_mount(self) -> None:
        self.db("context", load, self.client_id)

    # -- data --------------------------------------------------------------------
    def loaded_context(self, value: tuple[Any, list[Any]]) -> None:
        self.client, self.agreements = value
        box = self.query_one("#agreement", Select)
        box.set_options([(lit(self.agreement_label(a), limit=120), a.id) for a in self.agreements])
        unsigned = [a for a in self.agreements if a.signature.status == "unsigned"]
        preset = self.agreement_id or (unsigned[-1].id if unsigned else None)
        if preset and any(a.id == preset for a in self.agreements):
            box.value = preset
            self.show(preset)
            self.query_one("#items", RowList).focus()
        else:
            self.status(f"{self.client.name}: no agreement on record (msptui agreement add)" if not self.agreements
                        else "choose the agreement whose scope to state")
            box.focus()

    def failed_context(self, error: str) -> None:
        self.status(f"! {error}")

    @staticmethod
    def agreement_label(a: Any) -> str:
        status = "unsigned" if a.signature.status == "unsigned" else "SIGNED, read only"
        return f"{a.type.upper()} {a.title} v{a.version} ({a.id}) - {status}"

    def show(self, agreement_id: str) -> None:
        from msptui.catalog import load_catalog

        self.agreement = next(a for a in self.agreements if a.id == agreement_id)
        lines = {}
        for line in self.agreement.scope:
            lines.setdefault(line.item, line)
        rows = [ScopeRow(item, lines.get(item.id)) for item in load_catalog().items.values()]
        self.query_one("#items", RowList).set_rows(rows, keep=False)
        self.status()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "agreement" and isinstance(event.value, str):
            if self.agreement is not None and event.value != self.agreement.id and self.changes():
                self.problem("unsaved changes were discarded when another agreement was chosen")
            self.show(event.value)
            self.query_one("#items", RowList).focus()

    # -- display -----------------------------------------------------------------
    def rows(self) -> list[ScopeRow]:
        return self.query_one("#items", RowList).rows

    def changes(self) -> list[ScopeRow]:
        return [r for r in self.rows() if r.changed]

    def status(self, text: str | None = None) -> None:
        if text is None:
            rows = self.rows()
            stated = sum(1 for r in rows if r.state)
            gaps = sum(1 for r in rows if not r.state and r.item.security_relevant)
            locked = " SIGNED: read only (record an amendment)" if self.locked() else ""
            name = clean(self.client.name, limit=30) if self.client is not None else ""
            text = f" {name}: {stated}/{len(rows)} items stated, {gaps} security gaps, {len(self.changes())} unsaved{locked}"
        self.query_one("#status", SafeStatic).update(lit(text, limit=200))

    def problem(self, text: str) -> None:
        self.query_one("#problem", SafeStatic).update(Content("! " + clean(text, limit=300)) if text else Content(""))

    def locked(self) -> bool:
        return self.agreement is not None and self.agreement.signature.status != "unsigned"

    def format_row(self, row: ScopeRow, width: int) -> Text:
        line = Text(no_wrap=True)
        line.append("*" if row.changed else " ", style="bold")
        word = WORDS.get(row.state, row.state or "-")
        gap = not row.state and row.item.security_relevant
        line.append(fit("GAP" if gap else word, 10) + " ", style="bold reverse" if gap else "bold")
        clause = clean(row.clause or "", limit=60)
        label_w = max(12, width - 12 - (min(len(clause), 28) + 1 if clause else 0))
        line.append(fit(clean(row.item.label, limit=120), label_w))
        if clause:
            line.append(" " + fit(clause, max(1, width - 12 - label_w - 1)), style="italic")
        return line

    # -- editing -----------------------------------------------------------------
    def current(self) -> ScopeRow | None:
        if self.agreement is None:
            self.problem("choose an agreement first (a)")
            return None
        if self.locked():
            self.problem(f"{self.agreement.id} is signed: its scope is what was signed; record an amendment "
                         "(msptui agreement add --type amendment --parent ...) and state the change there")
            return None
        return self.query_one("#items", RowList).current

    def action_set_state(self, state: str) -> None:
        row = self.current()
        if row is None:
            return
        if state and state not in SCOPE_STATES:  # pragma: no cover - bindings only pass known states
            return
        row.state = state or None
        if not row.state:
            row.clause = None
        self.problem("")
        rows = self.query_one("#items", RowList)
        rows.redraw()
        rows.action_cursor(1)
        self.status()

    def action_clause(self) -> None:
        row = self.current()
        if row is None:
            return

        def done(text: str | None) -> None:
            if text is None:
                return
            row.clause = text if text.strip() else None
            if row.clause and not row.state:
                self.problem("a clause needs a state: set one (i x d c t n) for this item")
            self.query_one("#items", RowList).redraw()
            self.status()

        self.app.push_screen(PromptScreen(f"Clause reference for {clean(row.item.label, limit=60)}",
                                          value=row.clause or "", placeholder="e.g. Schedule B §3.2",
                                          hint="Where the agreement says so. Enter = OK, Esc = cancel, empty = none"), done)

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self.action_clause()

    def action_choose_agreement(self) -> None:
        self.query_one("#agreement", Select).focus()

    def action_save(self) -> None:
        if self.busy or self.agreement is None:
            return
        changed = self.changes()
        if not changed:
            self.problem("nothing to save: no row changed")
            return
        orphan = next((r for r in changed if r.clause and not r.state), None)
        if orphan is not None:
            self.problem(f"clause: {orphan.item.id} has a clause reference but no state: set its state, or clear it")
            return
        lines = [{"item": r.item.id, "state": r.state, "clause": r.clause, "notes": r.notes} for r in changed]
        try:
            for d in drafts(lines):
                d.parse(allow_clear=True)
        except Exception as exc:
            self.problem(str(exc))
            return
        self.busy = True
        self.problem("")
        self.status("saving...")
        self.db("save", save, self.agreement.id, lines, write=True)

    def loaded_save(self, outcome: Any) -> None:
        self.busy = False
        self.app.say(f"scope of {outcome.record.id} recorded ({len(self.changes())} item(s) changed)")  # type: ignore[attr-defined]
        index = self.agreements.index(self.agreement)
        self.agreements[index] = self.agreement = outcome.record
        cursor = self.query_one("#items", RowList).cursor
        self.show(outcome.record.id)
        self.query_one("#items", RowList).move_to(cursor)
        changed = getattr(self.app, "data_changed", None)
        if changed is not None:
            changed()

    def failed_save(self, error: str) -> None:
        self.busy = False
        self.problem(error)
        self.status()

    def action_back(self) -> None:
        if self.busy:
            return
        if self.changes():
            def done(yes: bool | None) -> None:
                if yes:
                    self.app.pop_screen()

            self.app.push_screen(ConfirmScreen(f"Leave without saving {len(self.changes())} scope change(s)?"), done)
            return
        self.app.pop_screen()
