"""Incident commands: incident open, incidents, checklist, check, note, evidence."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import click

from .base import Context, LazyChoice, echo_text, emit_json, main, pass_ctx


def _categories():
    from ..models import INCIDENT_CATEGORIES

    return INCIDENT_CATEGORIES


def _statuses():
    from ..incidents import STATUSES

    return STATUSES


def _csv_list(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


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
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def incident_open(ctx: Context, client_id, discovered, tz, category, summary, reported_by, data_types, countries,
                  states, affected, ransom_paid, msp_caused, as_json) -> None:
    """Open an incident and build its checklist; prints the new incident id."""
    from ..incidents import open_incident
    from ..timeutil import parse_local

    counts: dict[str, int] = {}
    for pair in affected:
        key, _, number = pair.partition("=")
        if not key or not number.isdigit():
            raise click.BadParameter(f"expected JUR=N, got {pair!r}", param_hint="--affected")
        counts[key.strip()] = int(number)
    with ctx.open(writes=True) as store:
        from ..picture import load_client

        client = load_client(store, client_id)
        zone = tz or client.home_tz
        at = parse_local(discovered, zone)
        inc, items = open_incident(
            store, client_id=client.id, discovered=at, tz=zone, category=category, summary=summary,
            reported_by=reported_by, data_types=_csv_list(data_types), countries=_csv_list(countries),
            us_states=_csv_list(states), affected_counts=counts, ransom_paid=ransom_paid, msp_caused=msp_caused,
        )
    if as_json:
        emit_json({"id": inc.id, "checklist_items": len(items)})
    else:
        click.echo(inc.id)
        click.echo(f"{len(items)} checklist items; see 'msptui checklist {inc.id}'", err=True)


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
        echo_text(f"{i.id:<32} {i.status:<9} {i.category:<22} {fmt_local_and_utc(i.discovered.at, i.discovered.tz)}")
    if not rows:
        click.echo("(no incidents)")


@main.command("checklist")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def checklist_cmd(ctx: Context, incident_id: str, as_json: bool) -> None:
    """The incident's checklist with deadlines."""
    from ..countdown import item_countdown
    from ..incidents import checklist, get_incident
    from ..obligations import DISCLAIMER
    from ..timeutil import fmt_local_and_utc, iso

    with ctx.open() as store:
        inc = get_incident(store, incident_id)
        items = checklist(store, incident_id)
    zone = ZoneInfo(inc.discovered.tz)

    def local(moment: datetime | None) -> str | None:
        return iso(moment.astimezone(zone)) if moment else None

    if as_json:
        emit_json([
            {"id": it.id, "step": it.step, "title": it.title, "section": it.section, "status": it.status,
             "due": local(it.due), "due_utc": iso(it.due) if it.due else None, "target": local(it.target),
             "rule": it.rule, "basis": it.basis, "reason": it.reason,
             "updated_by": it.updated_by, "updated_at": local(it.updated_at),
             "notes": it.notes, "evidence_ids": it.evidence_ids}
            for it in items
        ])
        return
    now = datetime.now(timezone.utc)
    section = None
    for it in items:
        if it.section != section:
            section = it.section
            click.echo(f"\n{section.upper()}")
        when = it.due or it.target
        due = fmt_local_and_utc(when, inc.discovered.tz) if when else ""
        echo_text(f"  [{'x' if it.status == 'done' else ' '}] {it.step:<34} {item_countdown(it, now)[0]:<20} {due}")
        echo_text(f"      {it.title}")
    click.echo(f"\n{DISCLAIMER}")


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--all", "show_all", is_flag=True, help="Also list the rules that do not apply, with the reason.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def obligations(ctx: Context, incident_id: str, show_all: bool, as_json: bool) -> None:
    """Which obligations apply to the incident and why (decided when it was opened)."""
    from ..incidents import get_incident
    from ..obligations import DISCLAIMER
    from ..timeutil import fmt_local_and_utc

    with ctx.open() as store:
        inc = get_incident(store, incident_id)
    rows = [a for a in inc.assessment if a.applies or show_all]
    if as_json:
        emit_json([a.model_dump(mode="json") for a in rows])
        return
    for a in sorted(rows, key=lambda a: (not a.applies, a.party, (a.due or a.target) is None, a.due or a.target or inc.discovered.at)):
        when = a.due or a.target
        clock = fmt_local_and_utc(when, inc.discovered.tz) if when else (a.basis or "no fixed period")
        flag = f" [{a.label}]" if a.label else ""
        verdict = "APPLIES" if a.applies else "does not apply"
        echo_text(f"{verdict:<15} {a.party:<6} {a.rule_id}{flag}\n    {'due ' if a.due else ('target ' if a.target else '')}{clock}\n    why: {a.reason}")
    click.echo(DISCLAIMER)


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("item", metavar="ITEM")
@click.option("--status", type=LazyChoice(_statuses))
@click.option("--note", metavar="TEXT", help="A note; required with --status not_applicable (the rationale).")
@click.option("--evidence", "evidence_id", metavar="ID", help="Link an evidence item (see 'evidence add') to this step.")
@pass_ctx
def check(ctx: Context, incident_id: str, item: str, status: str | None, note: str | None, evidence_id: str | None) -> None:
    """Change a checklist item (ITEM is its step id or full id)."""
    from ..incidents import set_item
    from ..timeutil import iso

    with ctx.open(writes=True) as store:
        changed = set_item(store, incident_id, item, status=status, note=note, evidence_id=evidence_id)
    echo_text(f"{changed.id}: {changed.status} ({changed.updated_by}, {iso(changed.updated_at)})")


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("text", metavar="TEXT")
@pass_ctx
def note(ctx: Context, incident_id: str, text: str) -> None:
    """Add a note to the incident's timeline."""
    from ..incidents import add_note

    with ctx.open(writes=True) as store:
        added = add_note(store, incident_id, text)
    click.echo(added.id)


@main.group()
def evidence() -> None:
    """Evidence items with SHA-256 and chain of custody."""


@evidence.command("add")
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--name", metavar="TEXT", help="Display name (default: the file name).")
@click.option("--source", metavar="TEXT", help="Where it came from (host, tenant, mailbox).")
@click.option("--method", metavar="TEXT", help="How it was acquired (tool, command).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def evidence_add(ctx: Context, incident_id: str, path: str, name, source, method, as_json: bool) -> None:
    """Hash FILE (streamed) and record it as evidence."""
    from ..incidents import add_evidence

    with ctx.open(writes=True) as store:
        item = add_evidence(store, incident_id, path, name=name, source=source, method=method)
    if as_json:
        emit_json({"id": item.id, "sha256": item.sha256, "size": item.size})
    else:
        click.echo(f"{item.id} {item.sha256} {item.size}")
