"""Incident commands: incident open, incidents, checklist, check, note, evidence."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from ..timeutil import fmt_local_and_utc, iso
from .base import Context, LazyChoice, emit_json, main, pass_ctx, say

# The models, the rules and the read model are imported inside each command: ``msptui note`` must not pay
# for the deadline engine and its holiday tables (start-up is measured: tests/test_layout.py, make bench).
if TYPE_CHECKING:
    from ..views.incident import ChecklistEntry, ObligationEntry

CHECK_STATUSES = ("open", "done", "not_applicable", "blocked")
FACT_STATUSES = ("open", "contained", "closed")


def _categories() -> tuple[str, ...]:
    from ..models import INCIDENT_CATEGORIES

    return INCIDENT_CATEGORIES


def _disclaimer() -> str:
    from ..obligations import DISCLAIMER

    return DISCLAIMER


@main.group()
def incident() -> None:
    """Open and inspect incidents."""


@incident.command("open")
@click.option("--client", "client_id", required=True, metavar="ID")
@click.option("--discovered", required=True, metavar="ISO8601", help="When the breach was discovered (local in --tz, or with offset).")
@click.option("--tz", metavar="ZONE", help="IANA zone the discovery was observed in (default: the client's home zone).")
@click.option("--category", required=True, type=LazyChoice(_categories))
@click.option("--summary", required=True, metavar="TEXT")
@click.option("--reported-by", metavar="NAME")
@click.option("--data", "data_types", metavar="LIST", help="Data types involved, comma-separated (default: what the client holds).")
@click.option("--countries", metavar="LIST", help="Affected countries, ISO codes (default: the client's).")
@click.option("--states", metavar="LIST", help="Affected US states (default: the client's).")
@click.option("--affected", "affected", multiple=True, metavar="JUR=N", help="People affected per jurisdiction, e.g. US-CA=600 (repeatable).")
@click.option("--ransom-paid", is_flag=True)
@click.option("--msp-caused", is_flag=True, help="The MSP's own systems or staff were the vector.")
@click.option("--systems", metavar="LIST", help="Affected systems as the team names them (hosts, applications, "
                                               "tenants), separated by commas.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def incident_open(ctx: Context, client_id, discovered, tz, category, summary, reported_by, data_types, countries,
                  states, affected, ransom_paid, msp_caused, systems, as_json) -> None:
    """Open an incident and build its checklist; prints the new incident id."""
    from ..incidents import open_from_draft
    from ..inputs import IncidentDraft

    draft = IncidentDraft(client_id=client_id, discovered=discovered, tz=tz, category=category, summary=summary,
                          reported_by=reported_by, data_types=data_types, countries=countries, us_states=states,
                          affected=list(affected), ransom_paid=ransom_paid, msp_caused=msp_caused, systems=systems)
    with ctx.open(writes=True) as store:
        inc, items = open_from_draft(store, draft)
    if as_json:
        emit_json({"id": inc.id, "checklist_items": len(items)})
    else:
        say(inc.id)
        say(f"{len(items)} checklist items; see 'msptui checklist {inc.id}'", err=True)


@incident.command("set")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--status", type=click.Choice(FACT_STATUSES), help="open, contained or closed.")
@click.option("--summary", metavar="TEXT")
@click.option("--category", type=LazyChoice(_categories))
@click.option("--data", "data_types", metavar="LIST", help="Data types involved, comma-separated (replaces the list).")
@click.option("--countries", metavar="LIST", help="Affected countries, ISO codes (replaces the list).")
@click.option("--states", metavar="LIST", help="Affected US states (replaces the list).")
@click.option("--affected", "affected", multiple=True, metavar="JUR=N", help="People affected per jurisdiction, e.g. US-AZ=1200 (repeatable; sets those counts).")
@click.option("--ransom-paid/--no-ransom-paid", default=None)
@click.option("--msp-caused/--no-msp-caused", default=None, help="The MSP's own systems or staff were the vector.")
@click.option("--systems", metavar="LIST", help="Affected systems, separated by commas (replaces the list; '' clears it).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def incident_set(ctx: Context, incident_id, status, summary, category, data_types, countries, states, affected,
                 ransom_paid, msp_caused, systems, as_json) -> None:
    """Change what is known about an incident; its obligations and checklist are recomputed.

    New obligations add checklist items; open items that no longer apply are
    marked not applicable with the reason; done items stay done.
    """
    from ..incidents import set_facts
    from ..inputs import FactsDraft
    from ..views.incident import incident_view

    draft = FactsDraft(status=status, summary=summary, category=category, data_types=data_types, countries=countries,
                       us_states=states, affected=list(affected), ransom_paid=ransom_paid, msp_caused=msp_caused,
                       systems=systems)
    with ctx.open(writes=True) as store:
        inc = set_facts(store, incident_id, draft)
        view = incident_view(store, inc.id)
    if as_json:
        emit_json({"id": inc.id, "status": inc.status, "obligations_apply": sum(1 for o in view.obligations if o.state == "applies"),
                   "checklist_items": len(view.checklist)})
    else:
        say(f"{inc.id}: facts recorded; {view.counts.open} open checklist items "
                  f"({sum(1 for o in view.obligations if o.state == 'applies')} obligations apply)")


@incident.command("trigger")
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("name", metavar="NAME")
@click.option("--at", "at_text", required=True, metavar="ISO8601", help="When it happened (local in --tz, or with an offset).")
@click.option("--tz", metavar="ZONE", help="IANA zone it was observed in (default: the incident's).")
@click.option("--by", metavar="NAME", help="Who did or declared it (for a law-enforcement delay: the official).")
@click.option("--agency", metavar="TEXT", help="For a law-enforcement delay: the agency.")
@click.option("--until", "until_text", metavar="ISO8601", help="For a law-enforcement delay: when the delay ends.")
@click.option("--note", metavar="TEXT")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def incident_trigger(ctx: Context, incident_id, name, at_text, tz, by, agency, until_text, note, as_json) -> None:
    """Record when a named trigger happened (see 'msptui triggers'): the clocks that run from it start."""
    from ..incidents import TriggerDraft, get_incident, record_trigger
    from ..views.incident import incident_view

    draft = TriggerDraft(name=name, at=at_text, tz=tz, by=by, agency=agency, until=until_text, note=note)
    with ctx.open(writes=True) as store:
        inc = get_incident(store, incident_id)
        args = draft.resolve(inc)
        at, observed = args["at"], args["tz"]
        inc = record_trigger(store, inc.id, **args)
        view = incident_view(store, inc.id)
    started = [o for o in view.obligations if o.assessment.trigger == name and o.state == "applies"]
    if as_json:
        emit_json({"id": inc.id, "trigger": name, "at": iso(at),
                   "obligations": [{"rule_id": o.assessment.rule_id, "due": iso(o.clock.due) if o.clock.due else None}
                                   for o in started]})
    else:
        say(f"{inc.id}: {name} recorded at {fmt_local_and_utc(at, observed)}")
        for o in started:
            when = o.clock.due or o.clock.target
            say(f"  {o.assessment.rule_id}: {o.clock.label}" + (f" ({fmt_local_and_utc(when, observed)})" if when else ""))


@main.command("triggers")
@click.option("--json", "as_json", is_flag=True)
def triggers_cmd(as_json: bool) -> None:
    """Every named trigger: what it means, how it starts a clock, which rules use it."""
    from ..triggers import report

    rows = report()
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        mark = "" if r["recordable"] else " (derived, not recorded by hand)"
        say(f"{r['name']}  [{r['kind']}]{mark}", f"    {r['meaning']}", f"    rules: {', '.join(r['rules']) or 'none'}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def incidents(ctx: Context, as_json: bool) -> None:
    """List incidents, newest first."""
    from ..models import Incident
    from ..timeutil import fmt_local_and_utc, iso

    with ctx.open() as store:
        rows = sorted(store.all(Incident), key=lambda i: i.discovered.at, reverse=True)
    if as_json:
        emit_json([
            {"id": i.id, "client_id": i.client_id, "category": i.category, "status": i.status,
             "discovered": iso(i.discovered.local()), "summary": i.summary}
            for i in rows
        ])
        return
    for i in rows:
        say(f"{i.id:<32} {i.status:<9} {i.category:<22} {fmt_local_and_utc(i.discovered.at, i.discovered.tz)}")
    if not rows:
        say("(no incidents)")


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return iso(moment.astimezone(zone)) if moment else None


def checklist_row(entry: ChecklistEntry, zone: ZoneInfo) -> dict:
    """One checklist item as ``checklist --json`` prints it (instants in the incident's zone, plus UTC)."""
    it = entry.item
    return {"id": it.id, "step": it.step, "title": it.title, "section": it.section, "status": it.status,
            "due": _local(it.due, zone), "due_utc": iso(it.due) if it.due else None, "target": _local(it.target, zone),
            "target_utc": iso(it.target) if it.target else None,
            "countdown": entry.clock.label, "clock": entry.clock.kind, "waits_for": it.waits_for,
            "rule": it.rule, "policy_id": it.policy_id, "basis": it.basis, "reason": it.reason,
            "updated_by": it.updated_by, "updated_at": _local(it.updated_at, zone),
            "notes": it.notes, "evidence_ids": it.evidence_ids}


@main.command("checklist")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--by-section", is_flag=True, help="Group by section in the template's order instead of most urgent first.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def checklist_cmd(ctx: Context, incident_id: str, by_section: bool, as_json: bool) -> None:
    """The incident's checklist with countdowns, most urgent first (OVERDUE, DUE SOON, by due instant ...)."""
    from ..views.incident import incident_view

    with ctx.open() as store:
        view = incident_view(store, incident_id)
    zone = ZoneInfo(view.incident.discovered.tz)
    entries = view.by_section() if by_section else view.checklist
    if as_json:
        emit_json([checklist_row(e, zone) for e in entries])
        return
    c = view.counts
    say(f"{view.incident.id}: {c.overdue} OVERDUE, {c.soon} due soon (within 24 h), {c.open} open, "
              f"{c.done} done, {c.not_applicable} not applicable")
    section = None
    for e in entries:
        it = e.item
        if by_section and it.section != section:
            section = it.section
            say("", section.upper())
        when = it.due or it.target
        due = fmt_local_and_utc(when, view.incident.discovered.tz) if when else ""
        say(f"  [{'x' if it.status == 'done' else ' '}] {it.step:<34} {e.clock.label:<20} {due}")
        say(f"      {it.title}")
    say("", _disclaimer())


def obligation_row(o: ObligationEntry, zone: ZoneInfo) -> dict:
    """One obligation as ``obligations --json`` prints it: the assessment and its one clock."""
    a = o.assessment
    return {**a.model_dump(mode="json"), "state": o.state,
            "due": iso(o.clock.due) if o.clock.due else None, "target": iso(o.clock.target) if o.clock.target else None,
            "due_local": _local(o.clock.due, zone), "target_local": _local(o.clock.target, zone),
            "waits_for": o.clock.waits_for, "countdown": o.clock.label, "clock": o.clock.kind, "item_id": o.item_id}


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--all", "show_all", is_flag=True, help="Also list the rules that do not apply, with the reason.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def obligations(ctx: Context, incident_id: str, show_all: bool, as_json: bool) -> None:
    """Which obligations apply to the incident and why, with their clocks (most urgent first)."""
    from ..views.incident import incident_view

    with ctx.open() as store:
        view = incident_view(store, incident_id)
    zone = ZoneInfo(view.incident.discovered.tz)
    rows = [o for o in view.obligations if o.state != "not_applicable" or show_all]
    if as_json:
        emit_json([obligation_row(o, zone) for o in rows])
        return
    words = {"applies": "APPLIES", "dormant": "DORMANT", "no_rule": "NO RULE", "not_applicable": "does not apply"}
    for o in rows:
        a = o.assessment
        when = o.clock.due or o.clock.target
        clock = f"{o.clock.label}: {fmt_local_and_utc(when, view.incident.discovered.tz)}" if when else (a.basis or "no fixed period")
        flag = f" [{a.label}]" if a.label else ""
        policy = f" (policy {a.policy_id})" if a.policy_id else ""
        name = a.rule_id or f"({a.jurisdiction}: assess manually)"
        say(f"{words[o.state]:<15} {a.party:<6} {name}{policy}{flag}", f"    {clock}", f"    why: {a.reason}")
    say(*_unrecorded_lines(view))
    say(_disclaimer())


#: unrecorded client fields: how to name them, and the option that records them
_UNRECORDED = {
    "hipaa_role": ("HIPAA role", "--hipaa-role covered_entity|business_associate|none"),
    "nis2_entity": ("NIS2 entity status", "--nis2-entity essential|important|none"),
    "dora_entity": ("DORA status", "--dora-entity TYPE|none"),
    "sectors": ("regulatory sector", "--sector LIST|none"),
}


def _unrecorded_lines(view) -> list[str]:
    """What the client record does not say that decides rules here: unknown, never read as "no"."""
    assumed: dict[str, int] = {}
    left_out: dict[str, int] = {}
    for o in view.obligations:
        for field in o.assessment.unrecorded:
            bucket = left_out if o.state == "not_applicable" else assumed
            bucket[field] = bucket.get(field, 0) + 1
    fields = [f for f in _UNRECORDED if f in assumed or f in left_out]
    if not fields:
        return []
    lines = ["", f"NOT RECORDED for client {view.client.id} (shown as 'not recorded: confirm', never as 'no'):"]
    for field in fields:
        words, option = _UNRECORDED[field]
        parts = []
        if assumed.get(field):
            parts.append(f"{assumed[field]} rule(s) taken to apply")
        if left_out.get(field):
            parts.append(f"{left_out[field]} not applied for want of it (--all)")
        lines.append(f"  {words}: {', '.join(parts)}; record it: msptui client edit {view.client.id} {option}")
    return lines


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("item", metavar="ITEM")
@click.option("--status", type=click.Choice(CHECK_STATUSES))
@click.option("--note", metavar="TEXT", help="A note; required with --status not_applicable (the rationale).")
@click.option("--evidence", "evidence_id", metavar="ID", help="Link an evidence item (see 'evidence add') to this step.")
@click.option("--at", "at_text", metavar="ISO8601", help="When it was done (default now; local in --tz or with an offset).")
@click.option("--tz", metavar="ZONE", help="IANA zone --at was observed in (default: the incident's).")
@pass_ctx
def check(ctx: Context, incident_id: str, item: str, status: str | None, note: str | None, evidence_id: str | None,
          at_text: str | None, tz: str | None) -> None:
    """Change a checklist item (ITEM is its step id or full id); --at says when it was actually done."""
    from ..incidents import get_incident, set_item, typed_when

    with ctx.open(writes=True) as store:
        at = typed_when(get_incident(store, incident_id), at_text, tz)
        changed = set_item(store, incident_id, item, status=status, note=note, evidence_id=evidence_id, at=at)
    say(f"{changed.id}: {changed.status} ({changed.updated_by}, {iso(changed.updated_at)})")


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("text", metavar="TEXT")
@click.option("--at", "at_text", metavar="ISO8601", help="When what the note says happened (default now).")
@click.option("--tz", metavar="ZONE", help="IANA zone --at was observed in (default: the incident's).")
@pass_ctx
def note(ctx: Context, incident_id: str, text: str, at_text: str | None, tz: str | None) -> None:
    """Add a note to the incident's timeline."""
    from ..incidents import NoteDraft, add_note, get_incident

    draft = NoteDraft(text=text, at=at_text, tz=tz)
    with ctx.open(writes=True) as store:
        added = add_note(store, incident_id, **draft.resolve(get_incident(store, incident_id) if draft.timed else None))
    say(added.id)


@main.group()
def evidence() -> None:
    """Evidence items with SHA-256 and chain of custody."""


@evidence.command("add")
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--name", metavar="TEXT", help="Display name (default: the file name).")
@click.option("--source", metavar="TEXT", help="Where it came from (host, tenant, mailbox).")
@click.option("--method", metavar="TEXT", help="How it was acquired (tool, command).")
@click.option("--at", "at_text", metavar="ISO8601", help="When it was acquired (default now).")
@click.option("--tz", metavar="ZONE", help="IANA zone --at was observed in (default: the incident's).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def evidence_add(ctx: Context, incident_id: str, path: str, name, source, method, at_text, tz, as_json: bool) -> None:
    """Hash FILE (streamed) and record it as evidence."""
    from ..incidents import EvidenceDraft, add_evidence, get_incident

    draft = EvidenceDraft(file=path, name=name, source=source, method=method, at=at_text, tz=tz)
    with ctx.open(writes=True) as store:
        item = add_evidence(store, incident_id, **draft.resolve(get_incident(store, incident_id)))
    if as_json:
        emit_json({"id": item.id, "sha256": item.sha256, "size": item.size})
    else:
        say(f"{item.id} {item.sha256} {item.size}")
