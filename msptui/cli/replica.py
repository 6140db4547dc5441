"""Disaster recovery commands: ``replicate`` (a continuous Litestream replica) and ``restore``."""

from __future__ import annotations

from pathlib import Path

import click

from .base import Context, emit_json, main, pass_ctx, say


@main.command("replicate")
@click.option("--to", "url", required=True, metavar="URL",
              help="Replica: file:///DIR (a local or mounted folder), sftp://USER@HOST/PATH or s3://BUCKET/PATH.")
@click.option("--sync-interval", default="1s", show_default=True, metavar="DURATION",
              help="How often changes are shipped: the most a restore can lose (Litestream duration, e.g. 1s, 10s).")
@click.option("--ssh-key", metavar="PATH", help="Private key for an sftp:// replica.")
@click.option("--endpoint", metavar="URL", help="Endpoint of an S3-compatible store (MinIO, Backblaze, ...).")
@click.option("--print-config", is_flag=True, help="Print the Litestream configuration and a systemd unit instead of running.")
@pass_ctx
def replicate_cmd(ctx: Context, url: str, sync_interval: str, ssh_key: str | None, endpoint: str | None,
                  print_config: bool) -> None:
    """Keep a continuous replica of the database (Litestream) until stopped (ctrl+c).

    Events written in the last sync interval before the jump box is lost may
    be missing from the replica; 'msptui restore' gives the chain as of the
    last sync, verified.
    """
    from .. import replica as rep

    target = rep.parse_url(url)
    sync_interval = rep.sync_interval(sync_interval)
    rep.replica_options(target, ssh_key=ssh_key, endpoint=endpoint, running=not print_config)
    if print_config:
        if not ctx.db_path.exists():
            say(f"msptui: note: no database at {ctx.db_path} yet", err=True)
        click.echo(rep.config_yaml(ctx.db_path, target, sync_interval=sync_interval, ssh_key=ssh_key, endpoint=endpoint))
        click.echo(rep.systemd_unit(ctx.db_path, target, sync_interval=sync_interval, ssh_key=ssh_key, endpoint=endpoint),
                   nl=False)
        return
    with ctx.open() as store:
        if store.mode != "rw":
            from ..errors import UserError

            raise UserError(f"{store.path} is open read-only here: replicate it from the machine that writes it")
    say(f"msptui: replicating {ctx.db_path} to {target.url} every {sync_interval} (ctrl+c stops)", err=True)
    rep.replicate(ctx.db_path, target, sync_interval=sync_interval, ssh_key=ssh_key, endpoint=endpoint,
                  say=lambda line: say(f"msptui: {line}", err=True))


@main.command("restore")
@click.option("--from", "source", required=True, metavar="URL|FILE",
              help="A replica URL (file:///DIR, sftp://..., s3://...) or a backup file written by 'msptui backup'.")
@click.option("--to", "dest", required=True, metavar="PATH", type=click.Path(dir_okay=False),
              help="The database file to create.")
@click.option("--force", is_flag=True, help="Replace an existing PATH (refused while any process has it open).")
@click.option("--timestamp", metavar="ISO8601", help="Restore a replica as of this instant (default: its last sync).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def restore_cmd(source: str, dest: str, force: bool, timestamp: str | None, as_json: bool) -> None:
    """Restore a replica or backup into a new database file, verified (SQLite integrity_check, chain, records) before use."""
    from ..replica import restore

    done = restore(source, dest, force=force, timestamp=timestamp)
    if as_json:
        emit_json({"path": str(done.path), "events": done.events, "head": done.head, "source": done.source,
                   "kind": done.kind, "verified": True})
        return
    say(f"restored {done.kind} {done.source} to {done.path}: {done.events} events, head {done.head}, verified")
    since = "the replica's last sync" if done.kind == "replica" else "the backup was taken"
    step = "" if _is_default_db(done.path) else f", then point --db / MSPTUI_DB at {done.path}"
    say(f"msptui: events written after {since} are not in it; check the incident timelines "
        f"and re-enter what is missing{step}", err=True)


def _is_default_db(path: Path) -> bool:
    """Whether ``path`` is the database msptui opens without --db (then there is nothing to point at)."""
    from ..paths import resolve_db

    try:
        return resolve_db(None)[0].resolve() == Path(path).resolve()
    except OSError:
        return False
