"""What was done, by whom: notify / notifications / notification ack, decide / decisions, cost / costs."""

from __future__ import annotations

import click

from .. import acts
from ..timeutil import fmt_local_and_utc, get_zone, iso
from .base import Context, act_time as when, emit_data, emit_json, main, pass_ctx, say


def attachment_json(a) -> dict | None:
    return None if a is None else {"file_name": a.file_name, "sha256": a.sha256, "size": a.size, "evidence_id": a.evidence_id}


def notification_json(n) -> dict:
    return {"id": n.id, "incident_id": n.incident_id, "to": n.to, "org": n.org, "address": n.address, "channel": n.channel,
            "at": iso(n.at.at.astimezone(get_zone(n.at.tz))),
            "at_utc": iso(n.at.at), "tz": n.at.tz, "by": n.by, "item": n.item_id, "completes_item": n.completes_item,
            "ref": n.ref, "content_sha256": n.content.sha256 if n.content else None,
            "proof_sha256": n.proof.sha256 if n.proof else None, "content": attachment_json(n.content),
            "proof": attachment_json(n.proof), "note": n.note, "recorded_by": n.recorded_by,
            "acks": [{"at": iso(a.at), "by": a.by, "proof_sha256": a.proof.sha256 if a.proof else None,
                      "recorded_by": a.recorded_by} for a in n.acks]}


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--to", "to", required=True, metavar="NAME", help="Who was notified (a person, or the body's name).")
@click.option("--org", metavar="ORG")
@click.option("--address", metavar="TEXT", help="Where: e-mail address, portal, postal address, phone number.")
@click.option("--channel", required=True, type=click.Choice(acts.CHANNELS))
@click.option("--at", "at_text", required=True, metavar="ISO8601", help="When it was sent or said (local in --tz, or with an offset).")
@click.option("--tz", metavar="ZONE", help="IANA zone --at was observed in (default: the incident's).")
@click.option("--by", metavar="NAME", help="Who notified (default: you, the operator).")
@click.option("--item", metavar="STEP", help="The checklist step this notification is for: it completes it as of --at.")
@click.option("--ref", metavar="TEXT", help="Reference, claim, case or IC3 number.")
@click.option("--content", type=click.Path(dir_okay=False), metavar="FILE", help="What was sent (hashed and kept as evidence).")
@click.option("--proof", type=click.Path(dir_okay=False), metavar="FILE", help="Proof of delivery (hashed and kept as evidence).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def notify(ctx: Context, incident_id, to, org, address, channel, at_text, tz, by, item, ref, content, proof, as_json) -> None:
    """Log a notification: to whom, when, how, by whom, with what reference, content and proof."""
    from ..incidents import get_incident

    draft = acts.NotificationDraft(to=to, channel=channel, at=at_text, tz=tz, org=org, address=address, by=by, item=item,
                                   ref=ref, content=content, proof=proof)
    with ctx.open(writes=True) as store:
        record = acts.notify(store, incident_id, **draft.resolve(get_incident(store, incident_id)))
    if as_json:
        emit_json({"id": record.id, "completes_item": record.completes_item, "note": record.note or None})
        return
    say(f"{record.id}: {record.channel} to {record.to} at {fmt_local_and_utc(record.at.at, record.at.tz)}")
    if record.item_id:
        say(f"  {'completed' if record.completes_item else 'did NOT complete'} {record.item_id}"
                  + (f": {record.note}" if record.note else ""))


@main.command("notifications")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def notifications_cmd(ctx: Context, incident_id: str, as_json: bool) -> None:
    """The notification log of an incident, oldest first."""
    with ctx.open() as store:
        rows = acts.notifications(store, incident_id)
    if as_json:
        emit_json([notification_json(n) for n in rows])
        return
    for n in rows:
        say(f"{fmt_local_and_utc(n.at.at, n.at.tz)}  {n.channel:<9} to {n.to}" + (f" ({n.org})" if n.org else "")
                  + f"  by {n.by}" + (f"  ref {n.ref}" if n.ref else "") + f"  [{n.id}]")
        if n.item_id:
            say(f"    for {n.item_id}: {'completed it' if n.completes_item else 'did not complete it: ' + n.note}")
        for a in n.acks:
            say(f"    acknowledged {fmt_local_and_utc(a.at, a.tz)}" + (f" by {a.by}" if a.by else ""))
    if not rows:
        say("(no notifications logged)")


@main.group("notification")
def notification_group() -> None:
    """Acknowledgements of logged notifications."""


@notification_group.command("ack")
@click.argument("notification_id", metavar="ID")
@click.option("--at", "at_text", required=True, metavar="ISO8601")
@click.option("--tz", metavar="ZONE")
@click.option("--by", metavar="NAME", help="Who acknowledged (the recipient).")
@click.option("--proof", type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def notification_ack(ctx: Context, notification_id, at_text, tz, by, proof, as_json) -> None:
    """Record that a notification was acknowledged (when, by whom, with what proof)."""
    from ..errors import UserError
    from ..models import Notification

    with ctx.open(writes=True) as store:
        record = store.get(Notification, notification_id)
        if record is None:
            raise UserError(f"no notification with id {notification_id!r} (see 'msptui notifications INCIDENT')")
        at, observed = when(store, record.incident_id, at_text, tz)
        updated = acts.acknowledge(store, notification_id, at=at, tz=observed, by=by, proof=proof)
    if as_json:
        emit_json({"id": updated.id, "acks": len(updated.acks)})
    else:
        say(f"{updated.id}: acknowledgement recorded ({len(updated.acks)} in all)")


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--by", required=True, metavar="NAME", help="Who decided (a person).")
@click.option("--role", metavar="ROLE")
@click.option("--org", metavar="ORG")
@click.option("--party", required=True, type=click.Choice(acts.PARTIES))
@click.option("--text", required=True, metavar="TEXT", help="What was decided, refused or consented to.")
@click.option("--at", "at_text", metavar="ISO8601", help="When (default now).")
@click.option("--tz", metavar="ZONE")
@click.option("--ref", metavar="TEXT", help="Reference (the insurer's consent number ...).")
@click.option("--cap", metavar="AMOUNT", help="A spending cap (with --currency), e.g. 20k or 25,000.")
@click.option("--currency", "currency_code", metavar="CUR")
@click.option("--document", type=click.Path(dir_okay=False), metavar="FILE", help="The signed refusal, the consent letter ...")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def decide(ctx: Context, incident_id, by, role, org, party, text, at_text, tz, ref, cap, currency_code, document, as_json) -> None:
    """Record a decision or consent: a client's refusal, an insurer's consent and cap, who retained whom."""
    from ..incidents import get_incident

    draft = acts.DecisionDraft(party=party, by=by, text=text, at=at_text, tz=tz, role=role, org=org, ref=ref, cap=cap,
                               currency=currency_code, document=document)
    with ctx.open(writes=True) as store:
        record = acts.decide(store, incident_id, **draft.resolve(get_incident(store, incident_id)))
    if as_json:
        emit_json({"id": record.id})
    else:
        say(record.id)


@main.command("decisions")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def decisions_cmd(ctx: Context, incident_id: str, as_json: bool) -> None:
    """The decisions and consents of an incident, oldest first."""
    with ctx.open() as store:
        rows = acts.decisions(store, incident_id)
    if as_json:
        emit_json([{"id": d.id, "party": d.party, "by": d.by, "role": d.role, "org": d.org, "text": d.text,
                    "at": iso(d.at.at), "tz": d.at.tz, "ref": d.ref, "cap": str(d.cap) if d.cap is not None else None,
                    "currency": d.currency, "document": attachment_json(d.document), "recorded_by": d.recorded_by}
                   for d in rows])
        return
    for d in rows:
        cap = f"  cap {d.currency} {d.cap}" if d.cap is not None else ""
        say(f"{fmt_local_and_utc(d.at.at, d.at.tz)}  {d.party:<15} {d.by}" + (f" ({d.role})" if d.role else "")
            + f"{cap}  [{d.id}]", f"    {d.text}")
    if not rows:
        say("(no decisions recorded)")


@main.command()
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--kind", required=True, type=click.Choice(acts.COST_KINDS))
@click.option("--amount", required=True, metavar="AMOUNT", help="Exact amount, e.g. 1234.50, 1,234.50 or 20k; no more decimals than the currency has.")
@click.option("--currency", "currency_code", required=True, metavar="CUR", help="ISO 4217 code, e.g. USD.")
@click.option("--hours", metavar="H")
@click.option("--person", metavar="NAME")
@click.option("--task", metavar="TEXT")
@click.option("--vendor", metavar="NAME")
@click.option("--invoice", type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--at", "at_text", metavar="ISO8601", help="When the work was done or the invoice dated (default now).")
@click.option("--tz", metavar="ZONE")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def cost(ctx: Context, incident_id, kind, amount, currency_code, hours, person, task, vendor, invoice, at_text, tz, as_json) -> None:
    """Add an entry to the cost and effort ledger (the proof of loss)."""
    from ..incidents import get_incident

    draft = acts.CostDraft(kind=kind, amount=amount, currency=currency_code, at=at_text, tz=tz, hours=hours, person=person,
                           task=task, vendor=vendor, invoice=invoice)
    with ctx.open(writes=True) as store:
        record = acts.add_cost(store, incident_id, **draft.resolve(get_incident(store, incident_id)))
    if as_json:
        emit_json({"id": record.id, "amount": str(record.amount), "currency": record.currency})
    else:
        say(f"{record.id}: {record.kind} {record.currency} {record.amount}")


@main.command("costs")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="One row per entry, spreadsheet-safe.")
@pass_ctx
def costs_cmd(ctx: Context, incident_id: str, as_json: bool, as_csv: bool) -> None:
    """The cost ledger with exact totals by kind, person and vendor, per currency."""
    if as_json and as_csv:  # the CSV won silently
        raise click.UsageError("--json and --csv: give one of them")
    with ctx.open() as store:
        rows = acts.costs(store, incident_id)
    if as_csv:
        emit_data(acts.costs_csv(rows))
        return
    sums = acts.totals(rows)
    if as_json:
        emit_json({"entries": [{"id": c.id, "kind": c.kind, "amount": str(c.amount), "currency": c.currency,
                                "hours": str(c.hours) if c.hours is not None else None, "person": c.person, "task": c.task,
                                "vendor": c.vendor, "at": iso(c.at.at), "invoice": attachment_json(c.invoice),
                                "recorded_by": c.recorded_by} for c in rows],
                   "totals": sums})
        return
    for c in rows:
        say(f"{fmt_local_and_utc(c.at.at, c.at.tz)}  {c.kind:<8} {c.currency} {c.amount:>12}"
                  + (f"  {c.hours} h" if c.hours is not None else "") + (f"  {c.person}" if c.person else "")
                  + (f"  {c.vendor}" if c.vendor else "") + (f"  {c.task}" if c.task else ""))
    for cur, t in sums.items():
        say(f"TOTAL {cur} {t['total']}  (" + ", ".join(f"{k} {v}" for k, v in t["by_kind"].items()) + ")")
    if not rows:
        say("(no costs recorded)")
