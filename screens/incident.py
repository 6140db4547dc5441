"""Incident: checklist with live countdowns, coverage, insurance clocks, timeline, evidence.

Everything shown comes from one ``msptui.views.incident.IncidentView`` read
in a worker: the same clocks, coverage and policy decisions the CLI and the
dossier print. This screen only formats them; the countdown words are
recomputed every 15 s from the view's stored instants, without touching the DB.

Tabs (keys 1-5): Checklist (most urgent first; ``o`` groups by section),
Coverage, Insurance, Timeline, Evidence. Countdowns are words, never colour
alone: "OVERDUE 2h", "DUE SOON 5h", "due 3d", "done".

Other engineers' changes: the app polls the chain head every 2 s (see
screens/shell.py) and this screen reloads in a worker only when the head
differs from the one its data was read at.

Evidence: the file is hashed in a thread worker (streamed, constant memory)
with a progress bar; Esc or c cancels between chunks and nothing is recorded.
A write is reported only once it succeeded; a failed note reopens with the
text still in it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ProgressBar, TabbedContent, TabPane

from msptui.countdown import item_countdown, span, urgency
from msptui.timeutil import fmt_local_and_utc, get_zone
from msptui.views.incident import TIMELINE_PAGE
from screens.widgets import (
    ConfirmScreen,
    DbMixin,
    Field,
    Footer,
    FormScreen,
    PaneText,
    PickScreen,
    PromptScreen,
    RowList,
    SafeStatic,
    ScrollBox,
    TextScreen,
    clean,
    fit,
    hotline_widget,
    money,
    run_job,
    topbar,
)

TABS = ("checklist", "coverage", "insurance", "timeline", "evidence", "log")
KIND_STYLE = {"overdue": "bold reverse", "soon": "bold", "late": "bold", "done": "dim", "na": "dim",
              "blocked": "bold underline", "due": "", "none": "", "waiting": "italic", "dormant": "italic"}
STATE_SHORT = {
    "included": "INCLUDED",
    "excluded": "EXCLUDED",
    "declined": "DECLINED",
    "client_responsibility": "CLIENT",
    "third_party": "3RD PARTY",
    "not_applicable": "N/A",
    "not_addressed": "NOT ADDRESSED",
}
TIMELINE_WORD = {"incident_opened": "OPENED", "checklist_created": "CHECKLIST", "note": "NOTE", "status": "STATUS",
                 "evidence": "EVIDENCE", "created": "CREATED", "changed": "CHANGED", "deleted": "DELETED", "event": "EVENT"}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def fmt_at(dt: datetime | None, tz: str) -> str:
    return "-" if dt is None else fmt_local_and_utc(dt, tz)


class HashProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class HashFinished(Message):
    def __init__(self, evidence_id: str | None, error: str | None) -> None:
        super().__init__()
        self.evidence_id = evidence_id
        self.error = error


# the timeline tab reads TIMELINE_PAGE of the newest events at first (msptui.views.incident), and twice as many
# each time the cursor reaches its last row (older entries)


class OlderEntries:
    """The timeline's last row when older events were not read: highlighting it reads more."""


OLDER = OlderEntries()


def load_view(store, incident_id: str, timeline_limit: int = TIMELINE_PAGE):
    from msptui.views.incident import incident_view

    return incident_view(store, incident_id, as_of=now_utc(), timeline_limit=timeline_limit)


def set_status(store, incident_id: str, item_id: str, status: str) -> str:
    from msptui.incidents import set_item

    return set_item(store, incident_id, item_id, status=status).status


def mark_na(store, incident_id: str, item_id: str, reason: str) -> str:
    from msptui.incidents import set_item

    return set_item(store, incident_id, item_id, status="not_applicable", note=reason).status


def note_item(store, incident_id: str, item_id: str, text: str) -> str:
    from msptui.incidents import set_item

    return set_item(store, incident_id, item_id, note=text).status


def set_facts(store, incident_id: str, values: dict) -> str:
    from msptui.incidents import set_facts as core

    return core(store, incident_id, facts_draft(values)).id


def facts_draft(values: dict):
    """The facts form as the same input model ``msptui incident set`` builds."""
    from msptui.errors import FieldError
    from msptui.inputs import FactsDraft

    def flag(name: str) -> bool | None:
        word = values[name].strip().lower()
        if word in ("", "-"):
            return None
        if word in ("yes", "y", "true"):
            return True
        if word in ("no", "n", "false"):
            return False
        raise FieldError(name, f"answer yes or no, not {values[name].strip()[:20]!r}")

    ransom, msp = flag("ransom_paid"), flag("msp_caused")
    return FactsDraft(status=values["status"].strip() or None, summary=values["summary"], category=values["category"].strip() or None,
                      data_types=values["data_types"], countries=values["countries"], us_states=values["us_states"],
                      affected=values["affected"].split(), ransom_paid=ransom, msp_caused=msp,
                      systems=values["systems"])


# The forms' writes: each builds the draft the CLI command builds (msptui.acts / msptui.incidents), from what was
# typed, and records it in one transaction. The form ran the same check before it closed; a refusal here (the
# incident changed meanwhile, a file went away) reopens the form with what was typed.


def record_trigger(store, incident_id: str, values: dict, name: str) -> str:
    from msptui.incidents import TriggerDraft, get_incident, record_trigger as core

    return core(store, incident_id, **TriggerDraft(name=name, **values).resolve(get_incident(store, incident_id))).id


def record_notification(store, incident_id: str, values: dict, item_id: str | None) -> str:
    from msptui.acts import NotificationDraft, notify
    from msptui.incidents import get_incident

    draft = NotificationDraft(**values, item=item_id)
    return notify(store, incident_id, **draft.resolve(get_incident(store, incident_id))).id


def record_decision(store, incident_id: str, values: dict) -> str:
    from msptui.acts import DecisionDraft, decide
    from msptui.incidents import get_incident

    return decide(store, incident_id, **DecisionDraft(**values).resolve(get_incident(store, incident_id))).id


def record_cost(store, incident_id: str, values: dict) -> str:
    from msptui.acts import CostDraft, add_cost
    from msptui.incidents import get_incident

    return add_cost(store, incident_id, **CostDraft(**values).resolve(get_incident(store, incident_id))).id


def add_note(store, incident_id: str, values: dict) -> str:
    from msptui import incidents

    args = incidents.NoteDraft(**values).resolve(incidents.get_incident(store, incident_id))
    return incidents.add_note(store, incident_id, **args).id


def check_draft(kind: str, values: dict, incident: Any, **context: Any) -> None:
    """The check a form runs before it closes: the act's draft resolved against the incident on screen
    (UserError / FieldError naming the field; nothing is written)."""
    from msptui import acts, incidents

    if kind == "facts":
        facts_draft(values).resolve(incident)
        return
    draft = {"note": lambda: incidents.NoteDraft(**values), "evidence": lambda: incidents.EvidenceDraft(**values),
             "trigger": lambda: incidents.TriggerDraft(name=context["name"], **values),
             "notify": lambda: acts.NotificationDraft(**values), "decide": lambda: acts.DecisionDraft(**values),
             "cost": lambda: acts.CostDraft(**values)}[kind]()
    draft.resolve(incident)


#: what each form's write calls in the worker, and the context it needs beyond the values
WRITERS = {"facts": (set_facts, ()), "trigger": (record_trigger, ("name",)), "notify": (record_notification, ("item_id",)),
           "decide": (record_decision, ()), "cost": (record_cost, ()), "note": (add_note, ())}
#: how a recorded act is reported, and named when it was not saved
FORM_WORDS = {"facts": "the facts", "trigger": "the trigger", "notify": "the notification", "decide": "the decision",
              "cost": "the cost", "note": "the note", "evidence": "the evidence"}


class IncidentScreen(DbMixin, Screen):
    HELP = ("Work the checklist (most urgent first): space ticks the highlighted item (open <-> done; reopening "
            "asks first), x marks it not applicable with a rationale, o groups it by section, i shows all of it (basis, "
            "citation, reason, notes). f changes the facts "
            "(status, places, people affected, ransom: obligations are recomputed), t records when a trigger happened "
            "(ransom payment, law-enforcement delay, materiality ...). n adds a timeline "
            "note, a adds evidence (hashed with a progress bar; Esc cancels), r records a notification for the "
            "highlighted step (prefilled; completes it as of when it was sent), w a decision or consent, l a cost; "
            "e exports the dossier. Tabs: "
            "1 checklist 2 coverage 3 insurance 4 timeline 5 evidence 6 log. Changes by others appear within ~2 s.")
    BINDINGS = [
        Binding("f1,question_mark", "app.help", "Help", key_display="? F1"),
        Binding("escape", "back", "Back", show=False),  # universal, and in the help: the footer keeps room for Export
        Binding("space", "toggle", "Tick", key_display="spc"),
        Binding("n,ctrl+n,f3", "note", "Note", key_display="n F3"),
        Binding("a,ctrl+o,f4", "add_evidence", "Evidence", key_display="a F4"),
        Binding("e,ctrl+e,f9", "export", "Export", key_display="e F9"),
        Binding("x,f8", "not_applicable", "Not applicable", show=False),
        Binding("m", "item_note", "Note on item", show=False),
        Binding("i", "item_details", "All of the highlighted item: title, clocks, basis, reason, notes", show=False),
        Binding("o", "order", "Urgency / section order", show=False),
        Binding("f", "facts", "Facts (status, places, people, ransom)", show=False),
        Binding("t", "trigger", "Record a trigger (payment, LE delay ...)", show=False),
        Binding("c", "cancel_hash", "Cancel hashing", show=False),
        Binding("p,f6", "app.posture", "Posture findings", show=False),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False),
        Binding("1", "tab('checklist')", "Checklist tab", show=False),
        Binding("2", "tab('coverage')", "Coverage tab", show=False),
        Binding("3", "tab('insurance')", "Insurance tab", show=False),
        Binding("4", "tab('timeline')", "Timeline tab", show=False),
        Binding("5", "tab('evidence')", "Evidence tab", show=False),
        Binding("6", "tab('log')", "Log tab: notifications, decisions, costs", show=False),
        Binding("r", "notify", "Record a notification (for the highlighted step)", show=False),
        Binding("w", "decide", "Record a decision or consent", show=False),
        Binding("l", "cost", "Add a cost or hours", show=False),
    ]
    PALETTE = [
        ("note", ("Add a note to the incident timeline", "n, ctrl+n, F3")),
        ("add_evidence", ("Add evidence (hash a file)", "a, ctrl+o, F4")),
        ("export", ("Export the dossier", "e, ctrl+e, F9")),
        ("toggle", ("Tick / untick the highlighted checklist item", "space")),
        ("order", ("Checklist: most urgent first / by section", "o")),
        ("item_details", ("Show all of the highlighted checklist item (basis, citation, reason, notes)", "i")),
        ("facts", ("Change the incident's facts (status, places, people affected, ransom)", "f")),
        ("trigger", ("Record when a trigger happened (ransom payment, LE delay, materiality ...)", "t")),
        ("notify", ("Record a notification: who was told, when, how (completes the highlighted step)", "r")),
        ("decide", ("Record a decision or consent (client refusal, insurer consent and cap ...)", "w")),
        ("cost", ("Add a cost or hours to the ledger", "l")),
    ]
    DEFAULT_CSS = """
    IncidentScreen #summary { height: 3; text-wrap: nowrap; text-overflow: ellipsis; }
    IncidentScreen TabbedContent { height: 1fr; }
    IncidentScreen TabPane { padding: 0; }
    IncidentScreen .detail { height: 4; border-top: solid $primary; }
    IncidentScreen #item-detail { height: 6; }
    IncidentScreen #event-detail { height: 7; }
    IncidentScreen #hashbox { height: auto; display: none; }
    IncidentScreen #hashbox.busy { display: block; }
    """

    def __init__(self, incident_id: str, *, view: Any = None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.view: Any = None
        self._initial = view
        self._clocks_for: int | None = None
        self.data_head: int | None = None
        self.by_section = False
        self.timeline_limit = TIMELINE_PAGE
        self._reading_older = False
        self._cancel = threading.Event()
        self.hashing = False
        self._last_progress = 0.0
        self._overdue_seen: int | None = None
        self._moved_to_overdue: int | None = None

    def compose(self) -> ComposeResult:
        yield SafeStatic(topbar(self.app, first=self.incident_id), classes="topbar", id="topbar")
        yield SafeStatic(Content(" loading incident..."), id="summary")
        with TabbedContent(id="tabs"):
            with TabPane("1 Checklist", id="checklist"):
                yield RowList(self.format_item, empty="(no checklist items)", id="items")
                yield SafeStatic("", classes="detail", id="item-detail")
            with TabPane("2 Coverage", id="coverage"):
                yield SafeStatic("", id="coverage-source")
                yield RowList(self.format_coverage, id="cov")
                yield SafeStatic("", classes="detail", id="cov-detail")
            with TabPane("3 Insurance", id="insurance"):
                yield ScrollBox(id="clocks")
            with TabPane("4 Timeline", id="timeline"):
                yield RowList(self.format_event, id="events")
                yield SafeStatic("", classes="detail", id="event-detail")
            with TabPane("5 Evidence", id="evidence"):
                yield RowList(self.format_evidence, empty="(no evidence yet: a or F4 adds a file)", id="ev")
                with Vertical(id="hashbox"):
                    yield SafeStatic("", id="hash-label")
                    yield ProgressBar(total=100, show_eta=True, id="hashbar")
                yield SafeStatic("", classes="detail", id="ev-detail")
            with TabPane("6 Log", id="log"):
                yield SafeStatic("", id="log-summary")
                yield RowList(self.format_log, empty="(nothing logged yet: r notification, w decision, l cost)", id="logrows")
                yield SafeStatic("", classes="detail", id="log-detail")
        yield Footer()

    async def on_mount(self) -> None:
        self.set_interval(15, self.tick)
        if self._initial is not None:  # handed over by the breach form: no second read
            view, self._initial = self._initial, None
            await self.loaded_view(view)
        else:
            self.action_refresh()

    # -- data ------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.db("view", load_view, self.incident_id, self.timeline_limit)

    def read_older(self) -> None:
        """The cursor reached the timeline's 'older entries' row: read twice as far back (in the worker)."""
        if self._reading_older:
            return
        self._reading_older = True
        self.timeline_limit *= 2
        self.query_one("#event-detail", SafeStatic).update(Content(" reading older entries..."))
        self.action_refresh()

    def external_change(self, head: int) -> None:
        if self.data_head != head:
            self.action_refresh()

    def operator_changed(self) -> None:
        self.query_one("#topbar", SafeStatic).update(topbar(self.app, first=self.incident_id))

    def failed_view(self, error: str) -> None:
        self._reading_older = False
        self.query_one("#summary", SafeStatic).update(Content(" " + clean(error, limit=300)))
        self.app.say(error, severity="error")  # type: ignore[attr-defined]

    def checklist_rows(self) -> list:
        v = self.view
        return v.by_section() if self.by_section else self.sorted_by_urgency()

    def sorted_by_urgency(self) -> list:
        """The view's urgency order, recomputed as clocks move on (a 'due' item becomes 'DUE SOON')."""
        now = now_utc()
        return sorted(self.view.checklist, key=lambda e: urgency(item_countdown(e.item, now)[1], e.item.due,
                                                                 e.item.target, e.item.order))

    async def loaded_view(self, view: Any) -> None:
        first = self.view is None
        self.view = view
        self.data_head = view.head
        self.refresh_checklist(first=first)
        self.update_summary()
        relevant = sum(1 for c in view.coverage if c.relevant)
        others = len(view.coverage) - relevant
        self.query_one("#coverage-source", SafeStatic).update(Content(
            f" {relevant} scope items relevant to {view.incident.category.replace('_', ' ')}"
            + (f" + {others} other(s) the client declined or owns" if others else "")
            + f", state as of discovery ({clean(view.coverage_basis, limit=120)})"))
        self.query_one("#cov", RowList).set_rows(view.coverage, keep=True)
        self._reading_older = False
        self.query_one("#events", RowList).set_rows([*reversed(view.timeline), *([OLDER] if view.timeline_more else [])],
                                                    keep=not first)
        self.query_one("#ev", RowList).set_rows(view.evidence, keep=True)
        self.query_one("#logrows", RowList).set_rows(self.log_rows(), keep=True)
        self.query_one("#log-summary", SafeStatic).update(Content(clean(
            f" {len(view.notifications)} notifications, {len(view.decisions)} decisions, {len(view.costs)} costs; total: "
            + ("; ".join(f"{cur} {t['total']}" for cur, t in view.cost_totals.items()) or "nothing recorded"), limit=200)))
        if self.query_one("#tabs", TabbedContent).active == "insurance":
            await self.render_clocks()
        self.show_details()
        if first:
            self.action_tab(self.query_one("#tabs", TabbedContent).active or "checklist")

    def tick(self) -> None:
        """Countdowns move on: redraw from memory, no DB access."""
        if self.view is None:
            return
        self.refresh_checklist(first=False)
        self.update_summary()
        self.show_details()

    def refresh_checklist(self, *, first: bool) -> None:
        """The checklist in its order, the cursor where it was. When more items are OVERDUE than
        before (a trigger recorded, a clock ran out), the first OVERDUE item is brought into view: by scrolling
        if the highlighted item can stay on screen too, else by moving the cursor to it (the summary says so)."""
        items = self.query_one("#items", RowList)
        items.set_rows(self.checklist_rows(), keep=True)
        now = now_utc()
        overdue = [i for i, e in enumerate(items.rows) if item_countdown(e.item, now)[1] == "overdue"]
        grew = not first and self._overdue_seen is not None and len(overdue) > self._overdue_seen
        self._overdue_seen = len(overdue)
        if grew and not items.show_with_cursor(overdue[0]):
            self._moved_to_overdue = overdue[0]
            items.move_to(overdue[0])

    def update_summary(self) -> None:
        v = self.view
        if v is None:
            return
        inc = v.incident
        now = now_utc()
        counts = {"overdue": 0, "soon": 0, "done": 0}
        for e in v.checklist:
            _label, kind = item_countdown(e.item, now)
            if kind in counts:
                counts[kind] += 1
        open_n = sum(1 for e in v.checklist if e.item.status in ("open", "blocked"))
        line1 = Text(" ", no_wrap=True, overflow="ellipsis")
        line1.append(f"{inc.status.upper()} ", style="bold reverse")
        line1.append(f" {inc.category.replace('_', ' ')} ", style="bold")
        line1.append(clean(v.client.name, limit=40))
        line1.append(f"  {'RANSOM PAID' if inc.ransom_paid else 'ransom not paid'}")
        line2 = Text(f" discovered {fmt_at(inc.discovered.at, inc.discovered.tz)}, {span((now - inc.discovered.at).total_seconds())} ago",
                     no_wrap=True, overflow="ellipsis")
        line3 = Text(" checklist: ", no_wrap=True, overflow="ellipsis")
        line3.append(f"{counts['overdue']} OVERDUE", style="bold reverse" if counts["overdue"] else "")
        if self._moved_to_overdue is not None:
            line3.append(" (cursor moved to the first)", style="bold")
        line3.append(f", {counts['soon']} DUE SOON", style="bold" if counts["soon"] else "")
        line3.append(f", {open_n} open, {counts['done']} done" + (" (by section)" if self.by_section else ""))
        self.query_one("#summary", SafeStatic).update(Group(line1, line2, line3))

    # -- formatters ------------------------------------------------------------
    def format_item(self, entry, width: int) -> Text:
        it = entry.item
        label, kind = item_countdown(it, now_utc())
        box = {"done": "[x]", "not_applicable": "[-]", "blocked": "[!]"}.get(it.status, "[ ]")
        line = Text(box + " ", no_wrap=True)
        line.append(fit(label, 16), style=KIND_STYLE.get(kind, ""))
        line.append(" ")
        line.append(clean(it.title, limit=300), style="dim" if it.status in ("done", "not_applicable") else "")
        return line

    def format_coverage(self, row, width: int) -> Text:
        line = Text(no_wrap=True)
        state = STATE_SHORT.get(row.state, row.state.upper())
        line.append(fit(state, 14), style="bold reverse" if row.state == "not_addressed" else "bold")
        line.append(fit(clean(row.label, limit=60), 32) + " ")
        line.append(clean(row.clause or "-", limit=60), style="italic")
        if row.reviews:
            line.append(f"  ({len(row.reviews)} review ref)")
        return line

    def format_event(self, entry, width: int) -> Text:
        """In the order it was recorded (the chain's order), stamped when it was entered; an act
        entered more than an hour after it happened says when it happened."""
        if entry is OLDER:
            return Text(f"... older entries: move here to read {self.timeline_limit:,} more", style="italic", no_wrap=True)
        tz = self.view.incident.discovered.tz if self.view else "UTC"
        line = Text(no_wrap=True)
        line.append(fmt_at(entry.recorded_at, tz)[:16] + " ", style="dim")
        line.append(fit(TIMELINE_WORD.get(entry.kind, entry.kind.upper()), 10) + " ", style="bold")
        line.append(fit(clean(entry.who, limit=20), 10) + " ")
        if entry.entered_late:
            line.append(f"(happened {fmt_at(entry.occurred_at, tz)[5:16]}) ", style="italic")
        line.append(clean(entry.row, limit=500))  # what changed first, then which item (msptui.timeline)
        return line

    def log_rows(self) -> list[tuple[str, Any]]:
        """Notifications, decisions and costs in the order they happened."""
        v = self.view
        rows = [("NOTIFIED", n) for n in v.notifications] + [("DECIDED", d) for d in v.decisions] + [("COST", c) for c in v.costs]
        return sorted(rows, key=lambda r: r[1].at.at, reverse=True)

    def format_log(self, row, width: int) -> Text:
        what, rec = row
        tz = self.view.incident.discovered.tz if self.view else "UTC"
        line = Text(no_wrap=True)
        line.append(fmt_at(rec.at.at, tz)[:16] + " ", style="dim")
        line.append(fit(what, 9) + " ", style="bold")
        if what == "NOTIFIED":
            done = "" if rec.item_id is None else (" (step done)" if rec.completes_item else " (NOT written notice)")
            line.append(clean(f"{rec.channel} to {rec.to}" + (f" ({rec.org})" if rec.org else "") + done, limit=300))
        elif what == "DECIDED":
            line.append(clean(f"{rec.party}: {rec.by}: {rec.text}", limit=300))
        else:
            line.append(clean(f"{rec.kind} {rec.currency} {rec.amount}" + (f" {rec.hours} h" if rec.hours is not None else "")
                              + (f" {rec.person}" if rec.person else "") + (f" {rec.vendor}" if rec.vendor else ""), limit=300))
        return line

    def format_evidence(self, e, width: int) -> Text:
        line = Text(no_wrap=True)
        line.append(fit(clean(e.name, limit=80), 28) + " ", style="bold")
        line.append(f"{e.size:>12,} B  sha256 {e.sha256[:16]}...  ")
        line.append(clean(e.acquired_by, limit=30))
        return line

    # -- details ---------------------------------------------------------------
    def show_details(self) -> None:
        if self.view is None:
            return
        tz = self.view.incident.discovered.tz
        entry = self.query_one("#items", RowList).current
        if entry is not None:
            self.query_one("#item-detail", SafeStatic).update(self.item_pane(entry.item, tz))
        cov = self.query_one("#cov", RowList).current
        if cov is not None:
            t = Text()
            t.append(clean(cov.basis, limit=300) + "\n")
            refs = "; ".join(r.get("text", "") for r in cov.reviews)
            t.append(clean(refs or "no review recommended or declined this item", limit=400), style="italic")
            self.query_one("#cov-detail", SafeStatic).update(t)
        ev = self.query_one("#events", RowList).current
        if ev is OLDER:
            self.read_older()
        elif ev is not None:
            t = Text(f"{TIMELINE_WORD.get(ev.kind, ev.kind)} by {clean(ev.who, limit=40)}"
                     + (f" (login {clean(ev.login, limit=20)})" if ev.login != ev.who else ""), style="bold")
            if ev.entered_late:
                t.append(f" happened {fmt_at(ev.occurred_at, tz)}, entered {span(ev.entered_late)} later")
            t.append(f" (event {ev.event_id})\n", style="dim")
            if ev.row != ev.text:  # the row's words first, then the record by its id
                t.append(clean(ev.row, limit=300, newlines=True) + "\n")
            t.append(clean(ev.text, limit=600, newlines=True), style="dim" if ev.row != ev.text else "")
            self.query_one("#event-detail", SafeStatic).update(t)
        row = self.query_one("#logrows", RowList).current
        if row is not None:
            what, rec = row
            t = Text(f"{what} {fmt_at(rec.at.at, tz)}  recorded by {clean(rec.recorded_by, limit=40)}\n", style="bold")
            if what == "NOTIFIED":
                t.append(clean(f"by {rec.by}; address {rec.address or '-'}; ref {rec.ref or '-'}"
                               + (f"; {rec.note}" if rec.note else "")
                               + (f"; content sha256 {rec.content.sha256[:16]}..." if rec.content else ""), limit=400))
            elif what == "DECIDED":
                t.append(clean((f"{rec.role}, " if rec.role else "") + (f"{rec.org}; " if rec.org else "") + rec.text
                               + (f"; cap {rec.currency} {rec.cap}" if rec.cap is not None else "")
                               + (f"; ref {rec.ref}" if rec.ref else ""), limit=400))
            else:
                t.append(clean(f"{rec.task or ''} {('invoice ' + rec.invoice.file_name) if rec.invoice else ''}", limit=400))
            self.query_one("#log-detail", SafeStatic).update(t)
        e = self.query_one("#ev", RowList).current
        if e is not None:
            t = Text(f"sha256 {e.sha256}\n")
            t.append(f"acquired {fmt_at(e.acquired.at, e.acquired.tz)} by {clean(e.acquired_by, limit=30)}\n")
            t.append("source " + clean(e.source or "-", limit=200) + "  method " + clean(e.method or "-", limit=120))
            self.query_one("#ev-detail", SafeStatic).update(t)

    def item_when(self, it: Any, tz: str) -> str:
        """The item's clock in one line: the instant it is due (or its target), then the countdown in words."""
        label, _ = item_countdown(it, now_utc())
        when = f"due {fmt_at(it.due, tz)}" if it.due else (f"target {fmt_at(it.target, tz)}" if it.target else "")
        label = "in " + label.removeprefix("due ") if label.startswith("due ") else label.removeprefix("target ")
        return f"{when} | {label}" if when else label

    def item_extra(self, it: Any, tz: str, *, note: bool = True) -> list[str]:
        """Why it is in its state, the latest note (``note``) and the last change (each whole; the pane cuts
        them)."""
        extra = []
        if it.status == "not_applicable" and it.reason:
            by = " (msptui's recomputation, not a person)" if it.retired_by == "replan" else ""
            extra.append(f"NOT APPLICABLE{by} because: " + clean(it.reason, limit=None))
        elif it.reason:
            extra.append("reason: " + clean(it.reason, limit=None))
        if note and it.notes and it.notes[-1] != it.reason:
            extra.append("note: " + clean(it.notes[-1], limit=None))
        if it.updated_by:
            extra.append(f"last change {clean(it.updated_by, limit=30)} {fmt_at(it.updated_at, tz)}")
        return extra

    def item_pane(self, it: Any, tz: str) -> PaneText:
        """The pane under the checklist (5 lines at any width): the title, its clock, why it is in its state,
        then the start of its basis; "i: all" on the last line opens all of it (``action_item_details``)."""
        where = clean(it.section, limit=30) + (f" | rule {clean(it.rule, limit=60)}" if it.rule else "")
        extra = self.item_extra(it, tz)
        return PaneText([
            (Text(clean(it.title, limit=300), style="bold"), 1),
            (Text(f"{self.item_when(it, tz)} | {where}"), 1),
            (Text(" | ".join(extra[:1])), 1 if extra else 0),
            (Text(clean(it.basis, limit=600), style="italic"), 5),
        ], height=5, hint="i: all")

    def item_text(self, it: Any, tz: str) -> Group:
        """All of a checklist item, whole, for the TextScreen ``i`` opens (every record text literal)."""
        from msptui.views.incident import rule_source

        def head(title: str) -> Text:
            return Text("\n" + title, style="bold")

        lines: list[Any] = [Text(clean(it.title, limit=None, newlines=True), style="bold"),
                            Text(f"status {it.status.replace('_', ' ')} | {self.item_when(it, tz)}")]
        if it.due and it.target:
            lines.append(Text(f"internal target {fmt_at(it.target, tz)}"))
        if it.waits_for:
            lines.append(Text("waits for " + clean(it.waits_for, limit=None)))
        lines.append(Text(f"section {clean(it.section, limit=None)}" + (f" | rule {clean(it.rule, limit=None)}" if it.rule else "")
                          + (f" | policy {clean(it.policy_id, limit=None)}" if it.policy_id else "")))
        lines += [head("Basis"), Text(clean(it.basis or "(none recorded)", limit=None, newlines=True))]
        source = rule_source(it.rule)
        if source is not None:
            lines += [head("Rule source (the rules file on this machine)"),
                      Text(clean(source["citation"], limit=None)),
                      Text(clean(f"{source['source_url']} ({source['source_quality']} source, confidence "
                                 f"{source['confidence']}, checked {source['checked_on']})", limit=None))]
        extra = self.item_extra(it, tz, note=False)  # every note follows
        if extra:
            lines += [head("Status"), *(Text(e) for e in extra)]
        if it.notes:
            lines.append(head(f"Notes ({len(it.notes)})"))
            lines += [Text("- " + clean(n, limit=None, newlines=True)) for n in it.notes]
        if it.evidence_ids:
            lines += [head("Evidence"), Text(clean(", ".join(it.evidence_ids), limit=None))]
        return Group(*lines)

    def action_item_details(self) -> None:
        """All of the highlighted checklist item, scrollable: the pane under the list shows only its start."""
        it = self.current_item()
        if it is None or self.view is None:
            return
        self.app.push_screen(TextScreen(f"Checklist item {clean(it.step, limit=60)}", self.item_text(it, self.view.incident.discovered.tz)))

    def on_row_list_highlighted(self, event: RowList.Highlighted) -> None:
        if event.rowlist.id == "items" and self._moved_to_overdue is not None and event.index != self._moved_to_overdue:
            self._moved_to_overdue = None  # the engineer moved on: the note has been read
            self.update_summary()
        self.show_details()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        """Enter on a checklist item shows all of it, as ``i`` does. It used to tick the item: an Enter typed
        ahead of the screen (``i`` then Enter, expecting a list of incidents) recorded a legal notification as
        done. Ticking is space only, a key nobody presses to open something."""
        event.stop()
        if event.rowlist.id == "items":
            self.action_item_details()

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "insurance":
            await self.render_clocks()

    async def render_clocks(self) -> None:
        """Insurance tab, built when shown (and rebuilt only when the data changed).

        Each policy shows its status at discovery; only a policy in force gets
        a live notice countdown (the clock of the checklist step that sends its
        notice) and a big hotline box.
        """
        v = self.view
        if v is None or self._clocks_for == v.head:
            return
        self._clocks_for = v.head
        box = self.query_one("#clocks", ScrollBox)
        await box.remove_children()
        widgets: list[Any] = []
        now = now_utc()
        tz = v.incident.discovered.tz
        if not any(p.side == "client" and p.in_force for p in v.policies):
            widgets.append(SafeStatic(Text("CLIENT: NO CYBER POLICY IN FORCE ON RECORD", style="bold reverse")))
        for entry in v.policies:
            p = entry.policy
            head = Text()
            head.append(f"{entry.side.upper()} {p.type.replace('_', ' ')}  ", style="bold")
            head.append(clean(p.carrier, limit=50) + "  #" + clean(p.policy_number, limit=40))
            body: list[Text] = [Text(f"at discovery: {entry.status_text}", style="" if entry.in_force else "bold reverse")]
            item = v.entry(entry.item_id) if entry.item_id else None
            if item is not None and entry.in_force:
                label, _kind = item_countdown(item.item, now)
                when = item.item.due or item.item.target
                t = Text()
                t.append(f"INSURER NOTICE: {label}  ", style="bold reverse" if "OVERDUE" in label else "bold")
                t.append(f"{'by' if item.item.due else 'target'} {fmt_at(when, tz)}" if when else "")
                body.append(t)
            elif entry.in_force:
                body.append(Text("no notice step for this policy on this incident's checklist", style="italic"))
            body.append(Text(clean(entry.notice_text, limit=300)))
            t = Text(f"limit {money(p.currency, p.limit_aggregate)}  retention {money(p.currency, p.retention)}")
            if v.incident.category in p.sublimits:
                t.append(f"  {v.incident.category} sublimit {money(p.currency, p.sublimits[v.incident.category])}")
            body.append(t)
            body.extend(Text("! " + clean(w, limit=200)) for w in entry.warnings)
            if p.claims_email:
                body.append(Text("claims email " + clean(p.claims_email, limit=80)))
            if p.hotline and not entry.in_force:
                body.append(Text("hotline (policy not in force) " + clean(p.hotline, limit=60)))
            # each line indented as a block, so a line that wraps at 80 columns keeps its indent
            widgets.append(SafeStatic(Group(head, *(Padding(line, (0, 0, 0, 2)) for line in body))))
            if p.hotline and entry.in_force:
                widgets.append(hotline_widget(p.hotline, p.carrier))
        await box.mount_all(widgets)

    # -- actions ---------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        target = {"checklist": "#items", "coverage": "#cov", "timeline": "#events", "evidence": "#ev", "insurance": "#clocks",
                  "log": "#logrows"}[tab]
        self.query_one(target).focus()

    def action_order(self) -> None:
        if self.view is None:
            return
        self.by_section = not self.by_section
        self.query_one("#items", RowList).set_rows(self.checklist_rows(), keep=False)
        self.update_summary()
        self.app.say("checklist by section" if self.by_section else "checklist: most urgent first")  # type: ignore[attr-defined]

    def current_item(self):
        if self.query_one("#tabs", TabbedContent).active != "checklist":
            self.app.say("switch to the checklist (1) to work an item")  # type: ignore[attr-defined]
            return None
        entry = self.query_one("#items", RowList).current
        return entry.item if entry is not None else None

    def action_toggle(self) -> None:
        it = self.current_item()
        if it is None:
            return
        if it.status == "done":
            def done(yes: bool | None) -> None:
                if yes:
                    self.db("write", set_status, self.incident_id, it.id, "open", exclusive=False, write=True)

            self.app.push_screen(ConfirmScreen(f"Reopen '{clean(it.title, limit=120)}'? It is marked done."), done)
            return
        self.db("write", set_status, self.incident_id, it.id, "done", exclusive=False, write=True)

    def loaded_write(self, _value: Any) -> None:
        self.action_refresh()

    def failed_write(self, error: str) -> None:
        self.app.say(error, severity="error", timeout=8)  # type: ignore[attr-defined]
        self.action_refresh()

    def action_not_applicable(self) -> None:
        it = self.current_item()
        if it is None:
            return

        def done(reason: str | None) -> None:
            if reason:
                self.db("write", mark_na, self.incident_id, it.id, reason, exclusive=False, write=True)

        self.app.push_screen(PromptScreen(
            f"Not applicable: {clean(it.title, limit=100)}", placeholder="rationale: who decided and why",
            hint="The rationale is recorded (a decision not to act). Enter = save, Esc = cancel",
            validate=lambda v: None if v.strip() else "a rationale is required"), done)

    def action_item_note(self) -> None:
        it = self.current_item()
        if it is None:
            return

        def done(text: str | None) -> None:
            if text and text.strip():
                self.db("write", note_item, self.incident_id, it.id, text, exclusive=False, write=True)

        self.app.push_screen(PromptScreen(f"Note on: {clean(it.title, limit=100)}"), done)

    # -- the incident's forms -----------------------------------------------------
    # Each form checks what was typed with the act's own draft before it closes (check_draft): a refusal stays
    # in the form, in its terms, and nothing typed is lost. The write runs in a worker; if it is refused after
    # all, the form reopens with what was typed and the reason.

    def open_form(self, kind: str, values: dict[str, str] | None = None, problem: Any = None, **context: Any) -> None:
        if self.view is None:
            return
        title, fields, aliases = getattr(self, f"form_{kind}")(**context)
        if values:
            fields = [f._replace(value=values.get(f.name, f.value)) for f in fields]
        incident = self.view.incident

        def done(typed: dict[str, str] | None) -> None:
            if typed is not None:
                self.submit_form(kind, typed, context)

        self.app.push_screen(FormScreen(title, fields, validate=lambda v: check_draft(kind, v, incident, **context),
                                        problem=problem, aliases=aliases, hint=self.FORM_HINTS.get(kind, ""),
                                        submit_on_enter=kind == "note"), done)

    FORM_HINTS = {"note": "Enter save   Tab to change when it happened   Esc cancel"}

    def submit_form(self, kind: str, values: dict[str, str], context: dict[str, Any]) -> None:
        if kind == "evidence":
            self.start_hash(values["file"].strip(), values)
            return
        writer, needs = WRITERS[kind]
        self._pending_form = (kind, values, context)
        self.db("form", writer, self.incident_id, values, *(context[k] for k in needs), exclusive=False, write=True)
        if kind == "facts":
            self.app.say("recording the facts and recomputing the obligations...")  # type: ignore[attr-defined]

    def loaded_form(self, record_id: str) -> None:
        kind = self._pending_form[0]
        self.app.say(f"{FORM_WORDS[kind].removeprefix('the ')} recorded ({record_id})")  # type: ignore[attr-defined]
        self.action_refresh()

    def failed_form(self, error: str) -> None:
        """Nothing typed is lost: say it was not saved and reopen the form with what was typed and why."""
        kind, values, context = self._pending_form
        self.app.say(f"{FORM_WORDS[kind]} was NOT saved: {clean(error, limit=120)}", severity="error",  # type: ignore[attr-defined]
                     timeout=8)
        self.open_form(kind, values, error, **context)

    def when_field(self, label: str = "When") -> Field:
        tz = self.view.incident.discovered.tz
        return Field("at", f"{label} ({tz} local time, or with an offset)",
                     now_utc().astimezone(get_zone(tz)).strftime("%Y-%m-%dT%H:%M"), "empty: now", short="When")

    def form_facts(self) -> tuple:
        inc = self.view.incident
        yn = lambda b: "yes" if b else "no"  # noqa: E731
        return ("Incident facts (saved as one change; obligations and the checklist are recomputed)", [
            Field("status", "Status: open, contained or closed", inc.status),
            Field("category", "Category", inc.category),
            Field("summary", "Summary", inc.summary),
            Field("data_types", "Data types involved (comma-separated)", ", ".join(inc.data_types), "e.g. pii, phi"),
            Field("countries", "Affected countries (ISO codes)", ", ".join(inc.countries), "e.g. US, DE"),
            Field("us_states", "Affected US states", ", ".join(inc.us_states), "e.g. CA, NY"),
            Field("affected", "People affected, JUR=N separated by spaces (adds or replaces those counts)", "",
                  "e.g. US-CA=600 DE=12", short="People affected"),
            Field("ransom_paid", "Ransom paid (yes/no)", yn(inc.ransom_paid)),
            Field("msp_caused", "The MSP's own systems or staff were the vector (yes/no)", yn(inc.msp_caused),
                  short="MSP caused"),
            Field("systems", "Systems affected (hosts, applications, tenants; comma-separated)", ", ".join(inc.systems),
                  "e.g. FS01, DC01, Microsoft 365 tenant", short="Systems")],
            {"data": "data_types", "states": "us_states"})

    def form_trigger(self, name: str, label: str) -> tuple:
        tz = self.view.incident.discovered.tz
        return (f"Record {name}: {label}", [
            self.when_field("When it happened"),
            Field("tz", "Zone it was observed in (empty: the incident's)", "", f"empty: {tz}", short="Zone"),
            Field("by", "Who did or declared it (for a law-enforcement delay: the official)", "", "", short="Who"),
            Field("agency", "Agency (law-enforcement delay)", ""),
            Field("until", "Delay ends (law-enforcement delay)", "", "empty: no end given"),
            Field("note", "Note", "")], {})

    def form_notify(self, item_id: str | None, title: str) -> tuple:
        from msptui.acts import CHANNELS, notice_prefill

        entry = self.view.entry(item_id) if item_id else None
        pre = (notice_prefill(self.view, entry.item) if entry is not None
               else {"to": "", "org": "", "address": "", "channel": "email"})
        return (f"Notification for: {clean(title, limit=80)}" if item_id else "Notification (not tied to a checklist step)", [
            Field("to", "To (person or body)", pre["to"], short="To"),
            Field("org", "Organisation", pre["org"]),
            Field("address", "Address / number / portal", pre["address"], short="Address"),
            Field("channel", f"Channel: {', '.join(CHANNELS)}", pre["channel"]),
            self.when_field("When it was sent"),
            Field("by", "By (default: you)", "", "empty: you", short="By"),
            Field("ref", "Reference / claim / case number", "", short="Reference"),
            Field("content", "Content sent (file path, hashed)", ""),
            Field("proof", "Proof of delivery (file path, hashed)", "")], {})

    def form_decide(self) -> tuple:
        from msptui.acts import PARTIES

        return ("Decision or consent", [
            Field("party", f"Party: {', '.join(PARTIES)}", "client"),
            Field("by", "Who decided (a person)", ""),
            Field("role", "Role", "", "e.g. CEO, claims adjuster"),
            Field("org", "Organisation", ""),
            Field("text", "What was decided, refused or consented to", "", short="What was decided"),
            self.when_field(),
            Field("ref", "Reference", ""),
            Field("cap", "Spending cap (amount, optional)", "", "e.g. 25000 (empty: no cap)"),
            Field("currency", "Currency of the cap", "", "e.g. USD (needed with a cap)"),
            Field("document", "Document (file path, hashed)", "")], {})

    def form_cost(self) -> tuple:
        from msptui.acts import COST_KINDS

        return ("Cost or hours for the ledger (exact amounts)", [
            Field("kind", f"Kind: {', '.join(COST_KINDS)}", "time"),
            Field("amount", "Amount", "", "e.g. 1234.50"),
            Field("currency", "Currency", "USD"),
            Field("hours", "Hours (time entries)", "", "e.g. 1.5"),
            Field("person", "Person", self.app.operator),
            Field("task", "Task", ""),
            Field("vendor", "Vendor", ""),
            self.when_field(),
            Field("invoice", "Invoice (file path, hashed)", "")], {})

    def form_note(self) -> tuple:
        return ("Add a note to the timeline", [
            Field("text", "Note: what happened / was decided", "", short="Note"),
            self.when_field("When it happened")], {})

    def form_evidence(self) -> tuple:
        return ("Add evidence: the file is hashed (SHA-256, streamed) and recorded with chain of custody", [
            Field("file", "File", "", "e.g. /srv/ir/fs01-memory.raw"),
            Field("name", "Name (default: the file name)", "", "e.g. FS01 memory image"),
            Field("source", "Source: where it came from (host, tenant, mailbox)", "", "e.g. FS01 / tenant contoso"),
            Field("method", "Method: how it was acquired (tool, command)", "", "e.g. winpmem 4.0, export from M365 portal"),
            self.when_field("When it was acquired")], {})

    def action_facts(self) -> None:
        """The incident facts form: what is known now; obligations and the checklist are recomputed on save."""
        self.open_form("facts")

    def action_trigger(self) -> None:
        """Record when a named trigger happened: pick it, then when, who and (for a delay) the agency and end."""
        if self.view is None:
            return
        rows = self.view.trigger_choices()  # this incident's triggers first, with how many of its clocks each starts
        tz = self.view.incident.discovered.tz

        def fmt(row: dict, width: int) -> Text:
            line = Text(fit(str(row["clocks"]) if row["clocks"] else "-", 3), no_wrap=True)
            line.append(fit(row["name"], 34) + " ", style="bold")
            line.append(clean(row["label"], limit=120))
            return line

        def detail(row: dict) -> Text:
            """The highlighted trigger in full: its name, what recording it does here, what it means."""
            n = row["clocks"]
            t = Text(clean(row["name"], limit=80) + "\n", style="bold")
            t.append(f"starts {n} of this incident's clocks" if n else "no clock of this incident")
            if row["preconditions"]:
                t.append(f"; {row['preconditions']} step(s) here must be met before it")
            if row["recorded"] is not None:
                t.append(f"; already recorded: {fmt_at(row['recorded'], tz)}")
            t.append("\n" + clean(row["meaning"] or row["label"], limit=300), style="italic")
            return t

        def chosen(row: dict | None) -> None:
            if row is not None:
                self.open_form("trigger", name=row["name"], label=row["label"])

        self.app.push_screen(PickScreen("Which trigger happened? (Enter picks, Esc cancels)", rows, fmt, detail), chosen)

    def action_notify(self) -> None:
        """Record a notification; from the checklist it is for the highlighted step and starts prefilled."""
        if self.view is None:
            return
        entry = self.query_one("#items", RowList).current if self.query_one("#tabs", TabbedContent).active == "checklist" else None
        item = entry.item if entry is not None else None
        self.open_form("notify", item_id=item.id if item else None, title=item.title if item else "")

    def action_decide(self) -> None:
        self.open_form("decide")

    def action_cost(self) -> None:
        self.open_form("cost")

    def action_note(self) -> None:
        self.open_form("note")

    def action_add_evidence(self) -> None:
        if self.hashing:
            self.app.say("already hashing a file; c or Esc cancels it", severity="warning")  # type: ignore[attr-defined]
            return
        self.open_form("evidence")

    def start_hash(self, path: str, values: dict[str, str] | None = None) -> None:
        """Hash ``path`` in a worker with a progress bar and record it (``values``: the evidence form as typed)."""
        from pathlib import Path

        values = values or {"file": path}
        try:
            size = Path(path).expanduser().stat().st_size
        except OSError as exc:  # gone since the form checked it
            self._pending_form = ("evidence", values, {})
            self.failed_form(f"file: cannot read {path} ({exc.strerror})")
            return
        self.hashing = True
        self._cancel.clear()
        self.action_tab("evidence")
        self.query_one("#hashbox").add_class("busy")
        self.query_one("#hash-label", SafeStatic).update(Content(f"hashing {clean(path, limit=60)} ... (c or Esc cancels)"))
        bar = self.query_one("#hashbar", ProgressBar)
        bar.update(total=max(1, size), progress=0)
        self._pending_form = ("evidence", values, {})
        self._hash(values)

    @work(thread=True, group="hash", exit_on_error=False)
    def _hash(self, values: dict[str, str]) -> None:
        from msptui.incidents import EvidenceDraft, add_evidence, get_incident

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - self._last_progress > 0.1 or done == total:
                self._last_progress = now
                self.post_message(HashProgress(done, total))

        def record(store) -> str:
            args = EvidenceDraft(**values).resolve(get_incident(store, self.incident_id))
            return add_evidence(store, self.incident_id, **args, progress=progress, cancelled=self._cancel.is_set).id

        value, error = run_job(self.app.db_path, record, (), {}, write=True)
        self.post_message(HashFinished(value, error))

    def on_hash_progress(self, message: HashProgress) -> None:
        self.query_one("#hashbar", ProgressBar).update(total=max(1, message.total), progress=message.done)

    def on_hash_finished(self, message: HashFinished) -> None:
        self.hashing = False
        self.query_one("#hashbox").remove_class("busy")
        if message.error and "cancel" in message.error:
            self.app.say(message.error, severity="warning", timeout=8)  # type: ignore[attr-defined]
        elif message.error:
            self.failed_form(message.error)
        else:
            self.app.say(f"evidence recorded: {message.evidence_id}")  # type: ignore[attr-defined]
        self.action_refresh()

    def cancel_background_work(self) -> None:
        """Called by the app on SIGHUP/SIGTERM: stop hashing (nothing is recorded for a cancelled hash)."""
        self._cancel.set()

    def action_cancel_hash(self) -> None:
        if self.hashing:
            self._cancel.set()

    def action_export(self) -> None:
        self.app.say("exporting the dossier in a separate process...")  # type: ignore[attr-defined]
        self._export()

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self) -> None:
        try:
            from msptui.export import export_in_child

            def progress(stage: str) -> None:
                self.app.call_from_thread(self.app.say, f"export: {stage}...", timeout=3)  # type: ignore[attr-defined]

            result = export_in_child(self.app.db_path, self.incident_id, progress=progress)
            from msptui.export.bundle import signed_by

            self.app.call_from_thread(self.app.say, f"dossier written: {result}, signed by {signed_by(result)}", timeout=15)  # type: ignore[attr-defined]
        except Exception as exc:
            self.app.call_from_thread(self.app.say, f"export failed: {exc}", severity="error", timeout=10)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        if self.hashing:
            self._cancel.set()
            return
        self.app.pop_screen()
