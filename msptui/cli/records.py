"""Record commands: demo, clients, show, import, dump, verify."""

from __future__ import annotations

import click

from ..models import Client
from ..picture import liability_picture, render_text
from ..recordfile import dump_file, import_file
from ..verify import verify
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
    if as_json:
        emit_json([{"id": c.id, "name": c.name, "engagement": c.engagement.value, "home_tz": c.home_tz} for c in rows])
        return
    for c in rows:
        echo_text(f"{c.id:<24} {c.engagement.value:<14} {c.name}")
    if not rows:
        click.echo("(no clients)")


@main.command()
@click.argument("client_id", metavar="CLIENT")
@click.option("--at", "at_text", metavar="DATE|ISO8601", help="Show what was in force on this date (noon local) or at this instant (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def show(ctx: Context, client_id: str, at_text: str | None, as_json: bool) -> None:
    """The liability picture of one client: agreements, scope, insurance, reviews."""
    with ctx.open() as store:
        at = None
        if at_text is not None:
            from ..inputs import as_of
            from ..picture import load_client

            at = as_of(at_text, load_client(store, client_id).home_tz)
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
    with ctx.open(create=True, writes=True) as store:
        events = import_file(store, path)
    click.echo(f"imported {path}: {len(events)} records changed")


@main.command()
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_ctx
def dump(ctx: Context, path: str) -> None:
    """Write every record to FILE in the format 'import' reads."""
    with ctx.open() as store:
        count = dump_file(store, path)
    click.echo(f"wrote {count} records to {path}")


@main.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def verify_cmd(ctx: Context, as_json: bool) -> None:
    """Walk the event chain and check the records still match it. Exit 1 on the first discrepancy."""
    with ctx.open() as store:
        result = verify(store)
    if as_json:
        emit_json({"ok": result.ok, "events": result.events, "head": result.head_hash, "problem": result.problem})
    elif result.ok:
        click.echo(f"OK: {result.events} events, chain intact, records match; head {result.head_hash}")
    else:
        click.echo(f"TAMPERED: {result.problem}", err=True)
    if not result.ok:
        raise SystemExit(1)


@main.command("backup")
@click.argument("dest", metavar="DEST", type=click.Path())
@pass_ctx
def backup_cmd(ctx: Context, dest: str) -> None:
    """Copy the database to DEST while others keep writing (SQLite online backup), then verify the copy."""
    from ..backup import backup

    with ctx.open() as store:
        path, events = backup(store, dest)
    click.echo(f"backup written to {path}: {events} events, chain verified")
