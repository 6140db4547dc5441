"""Client: the liability picture, now or as of any date (key d).

Sections: agreements in force (with signature status and key clauses), scope
by state with clause references, insurance on both sides (hotlines drawn
large to read out on a call), business reviews with recommendations and
decisions, declined recommendations, incidents. Opened from the posture
screen, the section of the gap is scrolled to and marked ("GAP >>>").
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen

from screens.messages import OpenIncident, RecordForClient, ReportBreach
from screens.widgets import DbMixin, Footer, PickScreen, PromptScreen, SafeStatic, clean, fit, hotline_widget, money, topbar

SECTIONS = ("agreements", "scope", "insurance", "reviews", "declined", "incidents")
STATE_WORDS = {
    "included": "INCLUDED",
    "excluded": "EXCLUDED",
    "declined": "DECLINED",
    "client_responsibility": "CLIENT RESPONSIBILITY",
    "third_party": "THIRD PARTY",
    "not_applicable": "NOT APPLICABLE",
    "not_addressed": "NOT ADDRESSED (gap)",
}


def _t(value: Any, style: str = "", limit: int | None = 300) -> Text:
    return Text(clean(value, limit=limit), style=style)


def hang(line: Any) -> Any:
    """A line indented with spaces, as a block: when it wraps at 80 columns the rest keeps the indent."""
    if not isinstance(line, Text):
        return line
    plain = line.plain
    n = len(plain) - len(plain.lstrip(" "))
    if n == 0 or n == len(plain):
        return line
    return Padding(line[n:], (0, 0, 0, n))


def load_picture(store, client_id: str, at: datetime | None) -> dict:
    from msptui.picture import liability_picture

    picture = liability_picture(store, client_id, at)
    picture["_head"] = store.head()[0]
    return picture


def parse_as_of(text: str, tz: str) -> datetime:
    """The CLI's ``show --at`` rule (msptui.inputs.as_of): a date means noon local that day."""
    from msptui.inputs import as_of

    return as_of(text, tz, field="as of")


class ClientScreen(DbMixin, Screen):
    HELP = ("The liability picture as of now; d shows it as of another date (e.g. the day of a breach). "
            "Sections: agreements, scope by state, insurance (hotlines large), reviews, declined recommendations, incidents. "
            "Keys 1-6 jump to a section. r (F7) records the preparation work: an agreement with its clauses (a), "
            "its scope (o) and signature (s), a business review (v), an insurance policy added or renewed (y).")
    BINDINGS = [
        Binding("f1,question_mark", "app.help", "Help", key_display="? F1"),
        Binding("escape", "back", "Back", show=False),  # universal, and in the help: the footer keeps room for Record
        Binding("b,ctrl+b,f2", "report_breach", "Breach", key_display="b F2"),
        Binding("d,f3", "as_of", "As of date", key_display="d F3"),
        Binding("i,f4", "incidents", "Incidents", key_display="i F4"),
        Binding("r,f7", "record", "Record", key_display="r"),  # F7 too (in the help): the footer is full at 80 columns
        Binding("p,f6", "app.posture", "Posture findings", show=False),
        Binding("a", "record_agreement", "Add an agreement with its clauses", show=False),
        Binding("v", "record_review", "Record a business review", show=False),
        Binding("s", "record_signature", "Record a signature on an agreement", show=False),
        Binding("o", "edit_scope", "Edit the scope of an agreement", show=False),
        Binding("y", "record_policy", "Add or renew an insurance policy", show=False),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False),
        Binding("j,down", "scroll(1)", "Scroll down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False),
        Binding("pagedown,space", "scroll_page(1)", "Page down", show=False),
        Binding("pageup", "scroll_page(-1)", "Page up", show=False),
        Binding("g,home", "edge(0)", "Top", show=False),
        Binding("G,end", "edge(1)", "Bottom", show=False),
        Binding("1", "jump('agreements')", "Agreements", show=False),
        Binding("2", "jump('scope')", "Scope", show=False),
        Binding("3", "jump('insurance')", "Insurance", show=False),
        Binding("4", "jump('reviews')", "Reviews", show=False),
        Binding("5", "jump('declined')", "Declined", show=False),
        Binding("6", "jump('incidents')", "Incidents", show=False),
    ]
    PALETTE = [("as_of", ("Show the picture as of a date", "d, F3")), ("incidents", ("Open an incident of this client", "i, F4")),
               ("record_agreement", ("Add an agreement", "MSA, schedule, SOW ... with its clauses (a)")),
               ("record_review", ("Record a business review", "attendees, education, recommendations, decisions (v)")),
               ("record_signature", ("Record a signature on an agreement", "signatories, method, signed file (s)")),
               ("edit_scope", ("Edit the scope of an agreement", "catalogue items x states, clause references (o)")),
               ("record_policy", ("Add or renew an insurance policy", "the client's or the MSP's own (y)"))]
    #: the record menu (r, F7): (action, what it records, its own key)
    RECORD_MENU = [("record_agreement", "Agreement: an MSA, schedule, SOW ... with its clauses", "a"),
                   ("edit_scope", "Scope of an agreement: catalogue items x states, clause references", "o"),
                   ("record_signature", "Signature on an agreement: signatories, method, signed file", "s"),
                   ("record_review", "Business review: attendees, education, recommendations, decisions", "v"),
                   ("record_policy", "Insurance policy: add, or renew one on record", "y")]

    DEFAULT_CSS = """
    ClientScreen #title { text-wrap: nowrap; text-overflow: ellipsis; }
    ClientScreen #body { height: 1fr; }
    ClientScreen .section { height: auto; }
    ClientScreen Digits { width: auto; }
    """

    def __init__(self, client_id: str, *, highlight: tuple[str, str | None] | None = None, at: datetime | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.highlight = highlight
        self.at = at
        self.picture: dict | None = None
        self.data_head: int | None = None
        self._highlight_done = False

    def compose(self) -> ComposeResult:
        yield SafeStatic(topbar(self.app, self.client_id), classes="topbar", id="topbar")
        yield SafeStatic(Content(" loading..."), id="title")
        yield VerticalScroll(id="body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#body").focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.db("picture", load_picture, self.client_id, self.at)

    def external_change(self, head: int) -> None:
        if self.data_head != head:
            self.action_refresh()

    def failed_picture(self, error: str) -> None:
        self.query_one("#title", SafeStatic).update(Content(" " + clean(error, limit=300)))
        self.app.say(error, severity="error")  # type: ignore[attr-defined]

    async def loaded_picture(self, picture: dict) -> None:
        self.picture = picture
        self.data_head = picture.pop("_head", None)
        c = picture["client"]
        when = "now" if self.at is None else f"as of {picture['as_of_local_date']} (local date)"
        self.query_one("#topbar", SafeStatic).update(topbar(self.app, c["id"]))
        title = Text(" ", no_wrap=True, overflow="ellipsis")  # one line: the date first, the zone may be cut
        title.append(clean(c["name"], limit=60), style="bold")
        title.append(f"  picture {when}  {c['engagement'].replace('_', ' ')}  {c['home_tz']}")
        self.query_one("#title", SafeStatic).update(title)
        body = self.query_one("#body", VerticalScroll)
        y = body.scroll_y
        await body.remove_children()
        widgets = []
        for section in SECTIONS:
            widgets.extend(getattr(self, f"section_{section}")(picture))
        await body.mount_all(widgets)
        if self.highlight and not self._highlight_done:
            self._highlight_done = True
            self.call_after_refresh(self._show_highlight)
        else:
            body.scroll_to(y=y, animate=False)

    # -- sections --------------------------------------------------------------
    def _head(self, section: str, title: str) -> SafeStatic:
        number = SECTIONS.index(section) + 1
        gap = self.highlight is not None and self.highlight[0] == section
        label = f" {number} {title} " + ("  GAP >>> (from posture)" if gap else "")
        return SafeStatic(Content(label), classes="section-title" + (" gap" if gap else ""), id=f"sec-{section}")

    def _block(self, section: str, lines: list[Text]) -> SafeStatic:
        gap = self.highlight is not None and self.highlight[0] == section
        return SafeStatic(Group(*map(hang, lines)) if lines else Text("(none)"), classes="section" + (" gap" if gap else ""))

    def section_agreements(self, p: dict) -> list:
        lines: list[Text] = []
        if not p["agreements_in_force"]:
            lines.append(Text("NO AGREEMENT IN FORCE on this date: nothing written governs the work", style="bold reverse"))
        mark = self.highlight[1] if self.highlight and self.highlight[0] == "agreements" else None
        for a in p["agreements_in_force"]:
            line = Text(">>> " if mark == a["id"] else "", style="bold")
            line.append(f"{a['type'].upper():<9} ", style="bold")
            line.append_text(_t(a["title"], limit=80))
            line.append(f"  v{a['version']}  from {a['effective_from']}" + (f" to {a['effective_to']}" if a["effective_to"] else ""))
            lines.append(line)
            sig = Text("          ")
            if a["signature_status"] == "signed":
                sig.append("SIGNED ", style="bold")
                sig.append_text(_t(a["signature"]))
            else:
                sig.append(f"!! {a['signature']} !! no signature on record", style="bold reverse")
            lines.append(sig)
            for clause in a["clauses"]:
                cl = Text(f"          {clause['kind'].replace('_', ' ')}: ")
                cl.append_text(_t(clause["section"], style="italic", limit=80))
                if clause.get("amount"):
                    cl.append(f" (amount {clause['amount']:,})")
                lines.append(cl)
        later = [a for a in p["agreements"] if a["id"] not in {x["id"] for x in p["agreements_in_force"]}]
        if later:
            lines.append(Text(f"({len(later)} other agreement(s) on record not in force on this date)", style="dim"))
        return [self._head("agreements", "AGREEMENTS IN FORCE"), self._block("agreements", lines)]

    def section_scope(self, p: dict) -> list:
        lines: list[Text] = []
        mark_item = self.highlight[1] if self.highlight and self.highlight[0] == "scope" else None
        for state, rows in p["scope"].items():
            lines.append(Text(f"{STATE_WORDS.get(state, state.upper())} ({len(rows)})", style="bold underline"))
            for r in rows:
                marked = r["item"] == mark_item
                line = Text(">>> " if marked else "    ", style="bold")
                line.append(f"{clean(r['label'], limit=40):<38}", style="reverse" if marked else "")
                ref = r.get("clause")
                line.append(" " + (f"[{clean(ref, limit=40)}]" if ref else "-"), style="italic")
                if state == "not_addressed" and r.get("security_relevant"):
                    line.append("  security item", style="bold")
                if state == "declined":
                    line.append("  acceptance " + ("signed" if r.get("acceptance_signed") else "NOT SIGNED"), style="bold")
                lines.append(line)
        return [self._head("scope", "SCOPE BY STATE"), self._block("scope", lines)]

    def _policy_widgets(self, side: str, pol: dict) -> list:
        lines: list[Text] = []
        mark = self.highlight[1] if self.highlight and self.highlight[0] == "insurance" else None
        head = Text(">>> " if mark == pol["id"] else "", style="bold")
        head.append(f"{side.upper():<6} {pol['type'].replace('_', ' ')}  ", style="bold")
        head.append_text(_t(pol["carrier"], limit=50))
        head.append("  #")
        head.append_text(_t(pol["policy_number"], limit=40))
        lines.append(head)
        status = pol["status"]
        lines.append(Text(f"       {status}", style="" if pol["status_code"] == "in_force" else "bold reverse"))
        lines.append(Text(
            f"       limit {money(pol['currency'], pol['limit_aggregate'])}"
            f"  per claim {money(pol['currency'], pol.get('limit_per_claim'))}"
            f"  retention {money(pol['currency'], pol['retention'])}"
        ))
        for name, amount in (pol.get("sublimits") or {}).items():
            lines.append(Text(f"       sublimit {clean(name, limit=30)}: {money(pol['currency'], amount)}"))
        lines.append(Text("       NOTICE: ", style="bold") + _t(pol["notice_text"]))
        if pol.get("claims_email"):
            lines.append(Text("       claims email ") + _t(pol["claims_email"]))
        if pol.get("panel_vendors"):
            lines.append(Text("       panel: ") + _t("; ".join(pol["panel_vendors"]), limit=200))
        out: list = [SafeStatic(Group(*map(hang, lines)), classes="section")]
        hotline = pol.get("hotline")
        if hotline and pol["status_code"] == "in_force":  # a lapsed policy's hotline is not the one to call
            out.append(hotline_widget(hotline, pol["carrier"]))
        elif hotline:
            lines.append(Text("       hotline (policy not in force) ") + _t(hotline, limit=60))
            out[0] = SafeStatic(Group(*map(hang, lines)), classes="section")
        return out

    def section_insurance(self, p: dict) -> list:
        out: list = [self._head("insurance", "INSURANCE (client and MSP)")]
        for side in ("client", "msp"):
            if not p["insurance"][side]:
                out.append(SafeStatic(Text(f"{side.upper():<6} NO POLICY ON RECORD", style="bold reverse"), classes="section"))
            for pol in p["insurance"][side]:
                out.extend(self._policy_widgets(side, pol))
        return out

    def section_reviews(self, p: dict) -> list:
        lines: list[Text] = []
        cadence = p["client"].get("review_cadence_days", 90)
        lines.append(Text(f"promised cadence: every {cadence} days", style="dim"))
        mark = self.highlight[1] if self.highlight and self.highlight[0] == "reviews" else None
        for r in p["reviews"]:
            line = Text(">>> " if mark == r["id"] else "", style="bold")
            line.append(f"{r['held_on']}  {r['type']:<10} ", style="bold")
            edu = "security education given" if r["security_education"] else "NO security education recorded"
            line.append(edu)
            lines.append(line)
            if r["attendees_client"]:
                lines.append(Text("    client: ") + _t(", ".join(r["attendees_client"]), limit=150))
            for rec in r["recommendations"]:
                rl = Text("    rec ")
                rl.append(f"{clean(rec.get('item') or '-', limit=30)}: ", style="bold")
                rl.append(f"{rec['decision'].upper()}" + (f" {rec['decided_on']}" if rec.get("decided_on") else "") + "  ")
                rl.append_text(_t(rec["text"], limit=160))
                lines.append(rl)
        if not p["reviews"]:
            lines.append(Text("NO BUSINESS REVIEW ON RECORD", style="bold reverse"))
        return [self._head("reviews", "REVIEWS (newest first)"), self._block("reviews", lines)]

    def section_declined(self, p: dict) -> list:
        lines: list[Text] = []
        mark_item = self.highlight[1] if self.highlight and self.highlight[0] == "declined" else None
        for d in p["declined"]:
            marked = mark_item is not None and mark_item in (d["item"], d["id"])
            line = Text(">>> " if marked else "", style="bold")
            line.append(f"{clean(d['item'], limit=30):<22}", style="reverse" if marked else "bold")
            line.append(f" declined {d['decided_on']}  ")
            line.append("signed acceptance" if d["signed"] else "NOT SIGNED", style="" if d["signed"] else "bold reverse")
            lines.append(line)
            lines.append(Text("    ") + _t(d["recommendation"], limit=200))
        return [self._head("declined", "DECLINED RECOMMENDATIONS"), self._block("declined", lines)]

    def section_incidents(self, p: dict) -> list:
        lines: list[Text] = []
        for inc in sorted(p["incidents"], key=lambda i: i["discovered"]["at"], reverse=True):
            line = Text(f"{inc['status'].upper():<10}", style="bold")
            line.append_text(_t(inc["id"], limit=60))
            line.append(f"  {inc['category']}  discovered {inc['discovered']['at'][:16]}Z")
            lines.append(line)
            lines.append(Text("    ") + _t(inc["summary"], limit=150))
        if lines:
            lines.append(Text("i or F4 opens an incident", style="dim"))
        return [self._head("incidents", "INCIDENTS"), self._block("incidents", lines)]

    # -- navigation ------------------------------------------------------------
    def _show_highlight(self) -> None:
        if not self.highlight:
            return
        try:
            target = self.query_one(f"#sec-{self.highlight[0]}")
        except Exception:
            return
        self.query_one("#body", VerticalScroll).scroll_to_widget(target, top=True, animate=False)

    def action_jump(self, section: str) -> None:
        try:
            target = self.query_one(f"#sec-{section}")
        except Exception:
            return
        self.query_one("#body", VerticalScroll).scroll_to_widget(target, top=True, animate=False)

    def action_scroll(self, delta: int) -> None:
        body = self.query_one("#body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + delta, animate=False)

    def action_scroll_page(self, direction: int) -> None:
        body = self.query_one("#body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + direction * max(1, body.size.height - 2), animate=False)

    def action_edge(self, end: int) -> None:
        body = self.query_one("#body", VerticalScroll)
        body.scroll_to(y=body.max_scroll_y if end else 0, animate=False)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_report_breach(self) -> None:
        self.post_message(ReportBreach(self.client_id))

    # -- recording the preparation work --------------------------------------------
    def action_record(self) -> None:
        def fmt(entry: tuple[str, str, str], width: int) -> Text:
            return Text(fit(entry[1], max(1, width - 3)) + "  " + entry[2])

        def chosen(entry: tuple[str, str, str] | None) -> None:
            if entry is not None:
                getattr(self, f"action_{entry[0]}")()

        self.app.push_screen(PickScreen("Record for this client (Enter = open)", self.RECORD_MENU, fmt), chosen)

    def action_record_agreement(self) -> None:
        self.post_message(RecordForClient(self.client_id, "agreement"))

    def action_record_review(self) -> None:
        self.post_message(RecordForClient(self.client_id, "review"))

    def action_record_signature(self) -> None:
        self.post_message(RecordForClient(self.client_id, "signature"))

    def action_edit_scope(self) -> None:
        self.post_message(RecordForClient(self.client_id, "scope"))

    def action_record_policy(self) -> None:
        self.post_message(RecordForClient(self.client_id, "policy"))

    def action_as_of(self) -> None:
        tz = self.picture["client"]["home_tz"] if self.picture else "UTC"

        def check(value: str) -> str | None:
            if not value.strip():
                return None
            try:
                parse_as_of(value, tz)
            except Exception as exc:
                return str(exc)
            return None

        def done(value: str | None) -> None:
            if value is None:
                return
            self.at = parse_as_of(value, tz).astimezone(timezone.utc) if value.strip() else None
            self.action_refresh()

        self.app.push_screen(
            PromptScreen("Show the picture as of (client's local date; empty = now)",
                         value=(self.picture or {}).get("as_of_local_date", "") if self.at else "",
                         placeholder="YYYY-MM-DD or YYYY-MM-DDTHH:MM",
                         hint=f"Interpreted in the client's zone {tz}. Enter = show, Esc = cancel, empty = now",
                         validate=check),
            done,
        )

    def action_incidents(self) -> None:
        incidents = sorted((self.picture or {}).get("incidents", []), key=lambda i: i["discovered"]["at"], reverse=True)
        if not incidents:
            self.app.say("this client has no incidents; b or F2 reports one")  # type: ignore[attr-defined]
            return
        if len(incidents) == 1:
            self.post_message(OpenIncident(incidents[0]["id"]))
            return
        def fmt(inc: dict, width: int) -> Text:
            line = Text(f"{inc['status'].upper():<9} ", style="bold")
            line.append_text(_t(inc["id"], limit=50))
            line.append(f"  {inc['category']}  ")
            line.append_text(_t(inc["summary"], limit=200))
            return line

        def chosen(inc: dict | None) -> None:
            if inc is not None:
                self.post_message(OpenIncident(inc["id"]))

        self.app.push_screen(PickScreen("Open which incident?", incidents, fmt), chosen)
