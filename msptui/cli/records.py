"""Record commands: demo, clients, show, import, dump, verify."""

from __future__ import annotations

import click

from ..literal import visible
from .base import Context, echo_text, emit_json, main, pass_ctx


@main.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Load the fictional demo portfolio (creates the database if needed)."""
    from ..demo import load_demo

    with ctx.open(create=True, writes=True) as store:
        events = load_demo(store)
        click.echo(f"demo portfolio loaded: {len(events)} records changed, {store.count('clients')} clients in the database")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (the columns 'import' reads), safe to open in a spreadsheet.")
@pass_ctx
def clients(ctx: Context, as_json: bool, as_csv: bool) -> None:
    """List every client."""
    if as_json:
        # straight from the stored JSON: no model validation, so a shell loop pays only for SQLite and click
        import json as _json

        with ctx.open() as store:
            cur = store.conn.execute("SELECT id, data FROM clients ORDER BY id")
            out = []
            for r in cur:
                try:
                    c = _json.loads(r["data"])
                    out.append({"id": c["id"], "name": c["name"], "engagement": c["engagement"], "home_tz": c["home_tz"]})
                except (ValueError, KeyError, TypeError) as exc:
                    from ..errors import RECOVER, DamagedDatabase

                    raise DamagedDatabase(f"{store.path}: record clients/{r['id']} no longer parses ({exc}); {RECOVER}") from None
        emit_json(out)
        return
    from ..models import Client

    with ctx.open() as store:
        rows = store.all(Client)
    if as_csv:
        from ..csvout import to_csv

        header = ["id", "name", "engagement", "home_tz", "industry", "countries", "us_states", "data_held", "sectors",
                  "public_company", "nydfs_regulated"]
        click.echo(to_csv(header, [
            [c.id, c.name, c.engagement.value, c.home_tz, c.industry or "", ";".join(c.countries), ";".join(c.us_states),
             ";".join(c.data_held), ";".join(c.sectors), str(c.public_company).lower(), str(c.nydfs_regulated).lower()]
            for c in rows
        ]), nl=False)
        return
    for c in rows:
        echo_text(f"{c.id:<24} {c.engagement.value:<14} {c.name}")
    if not rows:
        click.echo("(no clients)")


@main.command()
@click.argument("client_id", metavar="CLIENT")
@click.option("--at", "at_text", metavar="ISO8601", help="Show what was in force at this instant (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def show(ctx: Context, client_id: str, at_text: str | None, as_json: bool) -> None:
    """The liability picture of one client: agreements, scope, insurance, reviews."""
    from ..picture import liability_picture, render_text

    with ctx.open() as store:
        at = None
        if at_text:
            from ..picture import load_client
            from ..timeutil import parse_local

            at = parse_local(at_text, load_client(store, client_id).home_tz)
        picture = liability_picture(store, client_id, at)
    if as_json:
        emit_json(picture)
    else:
        echo_text(render_text(picture))


@main.command("import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_ctx
def import_(ctx: Context, path: str) -> None:
    """Import records from a JSON record file (or a CSV of clients). All or nothing."""
    from ..recordfile import import_count

    with ctx.open(create=True, writes=True) as store:
        changed = import_count(store, path)
    click.echo(f"imported {path}: {changed} records changed")


@main.command()
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_ctx
def dump(ctx: Context, path: str) -> None:
    """Write every record to FILE in the format 'import' reads."""
    from ..recordfile import dump_file

    with ctx.open() as store:
        count = dump_file(store, path)
    click.echo(f"wrote {count} records to {path}")


def _trusted_text(trusted: dict | None) -> str:
    if not trusted:
        return ""
    who = (trusted.get("operator") or {}).get("name") or trusted.get("actor")
    return f"event {trusted['event_id']} {trusted['hash'][:16]}..., verified {trusted['at'][:19]}Z by {who}"


@main.command("verify")
@click.option("--since-last", "since_last", is_flag=True,
              help="Check only what was appended after the last verified head (says which head it trusted).")
@click.option("--full", is_flag=True, help="Run SQLite's full integrity_check instead of quick_check.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def verify_cmd(ctx: Context, since_last: bool, full: bool, as_json: bool) -> None:
    """Check the file (SQLite), the event chain and that the records still match it. Exit 1 on the first discrepancy.

    Backward steps in recorded time (a clock set back) are reported as warnings.
    Each successful run is recorded (head, when, by whom) for --since-last.
    """
    from ..verify import verify

    with ctx.open() as store:
        result = verify(store, since_last=since_last, full=full)
    if as_json:
        emit_json({"ok": result.ok, "events": result.events, "head": result.head_hash, "problem": result.problem,
                   "scope": result.scope, "checked": result.checked, "page_check": result.page_check,
                   "trusted": result.trusted, "clock_steps": result.clock_steps,
                   "clock_steps_total": result.clock_steps_total, "recorded": result.recorded})
    elif result.ok:
        scope = (f"{result.checked} new events since the trusted head ({_trusted_text(result.trusted)})"
                 if result.scope == "since-last" else f"{result.events} events")
        if since_last and result.scope == "full":
            click.echo("msptui: no verified head recorded yet: verified the whole chain", err=True)
        click.echo(f"OK: {scope}, chain intact, records match, SQLite {result.page_check} ok; head event "
                   f"{result.events} {result.head_hash}")
    else:
        label = "DAMAGED" if (result.problem or "").startswith("SQLite") else "TAMPERED"
        hint = "; restore from a backup or the replica ('msptui restore')" if label == "DAMAGED" else ""
        click.echo(visible(f"{label}: {result.problem}{hint}", keep_newlines=False), err=True)
    if not as_json:
        for step in result.clock_steps:
            click.echo(f"WARNING: {step}", err=True)
        if result.clock_steps_total > len(result.clock_steps):
            click.echo(f"WARNING: ... and {result.clock_steps_total - len(result.clock_steps)} more backward clock steps",
                       err=True)
    if not result.ok:
        raise SystemExit(1)


@main.command("backup")
@click.argument("dest", metavar="DEST", type=click.Path())
@click.option("--full", is_flag=True, help="Verify the copy's whole chain even when a verified head is recorded.")
@pass_ctx
def backup_cmd(ctx: Context, dest: str, full: bool) -> None:
    """Copy the database to DEST while others keep writing (SQLite online backup), then verify the copy."""
    from ..backup import backup

    with ctx.open() as store:
        path, events = backup(store, dest, full=full)
    click.echo(f"backup written to {path}: {events} events, chain verified")
