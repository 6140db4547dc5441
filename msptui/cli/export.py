"""Dossier commands: export, verify-dossier, keys init / keys show; and review-pack."""

from __future__ import annotations

import click

from ..errors import UserError
from ..literal import visible
from .base import Context, echo_text, emit_json, main, pass_ctx


@main.command("export")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Base folder (default: the project's exports/); the dossier goes to DIR/<client>/<incident>/<UTC timestamp>/.")
@click.option("--privileged", is_flag=True, help="Mark every page 'privileged & confidential — prepared at the direction of counsel'.")
@click.option("--generated-at", "generated_at", metavar="ISO8601",
              help="Use this generation instant instead of now (re-rendering the same data gives byte-identical files).")
@click.option("--timeout", default=300.0, show_default=True, metavar="SECONDS", help="Give up (and write nothing) after this long.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: {\"path\": ...}.")
@pass_ctx
def export_cmd(ctx: Context, incident_id: str, out_dir: str | None, privileged: bool, generated_at: str | None,
               timeout: float, as_json: bool) -> None:
    """Write the incident dossier folder (PDF, JSON, chain slice, manifest, signature) and print its path."""
    from ..export import export_in_child
    from ..incidents import get_incident
    from ..timeutil import parse_local

    at = parse_local(generated_at, "UTC") if generated_at else None
    with ctx.open() as store:
        get_incident(store, incident_id)
    path = export_in_child(
        ctx.db_path, incident_id, out_dir=out_dir, privileged=privileged, timeout=timeout, generated_at=at,
        progress=lambda stage: click.echo(f"export: {stage}", err=True),
    )
    if as_json:
        emit_json({"path": str(path)})
    else:
        echo_text(str(path))


@main.command("verify-dossier")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--no-db", is_flag=True, help="Do not compare with the live database.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def verify_dossier_cmd(ctx: Context, folder: str, no_db: bool, as_json: bool) -> None:
    """Recompute every hash, check the signature and chain slice, and (given the DB) that history was not rewritten.

    Exit 0 when intact, 1 with the first discrepancy.
    """
    from ..export import verify_dossier

    if no_db:
        report = verify_dossier(folder, db_note="database check not run (--no-db)")
    elif not ctx.db_path.exists():
        report = verify_dossier(folder, db_note=f"database check not run: no database at {ctx.db_path} (from {ctx.db_source})")
    else:
        with ctx.open() as store:
            report = verify_dossier(folder, store=store)
    if as_json:
        emit_json(report.as_json())
    elif report.ok:
        head = report.head or {}
        click.echo(f"OK: dossier intact; chain head event {head.get('id')} {head.get('hash')}")
        for line in report.checks:
            echo_text(f"  {line}")
        click.echo(f"  database check: {'ran' if report.db_checked else 'NOT run'}")
    else:
        click.echo(visible(f"FAILED: {report.problem}", keep_newlines=False), err=True)
    if not report.ok:
        raise SystemExit(1)


@main.group()
def keys() -> None:
    """The Ed25519 key that signs dossiers."""


@keys.command("init")
@click.option("--json", "as_json", is_flag=True)
def keys_init(as_json: bool) -> None:
    """Create the signing key (owner-only) in the config folder; refuses to replace one."""
    from .. import keys as keymod

    info = keymod.init_key()
    if as_json:
        emit_json({"public_key": str(info.public_path), "fingerprint": info.fingerprint})
        return
    echo_text(f"created signing key in {info.private_path.parent} (private key mode 0600)")
    echo_text(f"public key {info.public_path}")
    click.echo(f"fingerprint {info.fingerprint}")
    click.echo("publish the fingerprint (e.g. to counsel and insurers) so signed dossiers can be tied to you")


@keys.command("show")
@click.option("--json", "as_json", is_flag=True)
def keys_show(as_json: bool) -> None:
    """Show the public key's location and fingerprint."""
    from .. import keys as keymod

    if not keymod.configured():
        raise UserError(f"no signing key at {keymod.private_path()}: run 'msptui keys init'")
    info = keymod.info()
    if as_json:
        emit_json({"public_key": str(info.public_path), "fingerprint": info.fingerprint})
        return
    echo_text(f"public key {info.public_path}")
    click.echo(f"fingerprint {info.fingerprint}")


@main.command("review-pack")
@click.argument("client_id", metavar="CLIENT")
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Folder for the PDF (default: the project's exports/<client>/); the file is review-pack-<UTC timestamp>.pdf.")
@click.option("--msp-name", "msp_name", metavar="NAME",
              help="How the pack names the MSP (default: $MSPTUI_MSP_NAME, else the MSP record from 'msptui msp set', else 'your MSP').")
@click.option("--generated-at", "generated_at", metavar="ISO8601",
              help="Use this generation instant instead of now (the same data and instant give identical bytes).")
@click.option("--timeout", default=300.0, show_default=True, metavar="SECONDS", help="Give up (and write nothing) after this long.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: {\"path\": ..., \"sha256\": ...}.")
@pass_ctx
def review_pack_cmd(ctx: Context, client_id: str, out_dir: str | None, msp_name: str | None, generated_at: str | None,
                    timeout: float, as_json: bool) -> None:
    """Print the client-facing review pack PDF (covered, excluded, declined, open recommendations, insurance, signature block).

    Printing it is recorded in the history as a review_pack.printed event with the file's SHA-256.
    """
    from ..picture import load_client
    from ..review_pack import print_in_child
    from ..timeutil import parse_local

    at = parse_local(generated_at, "UTC") if generated_at else None
    with ctx.open(writes=True) as store:
        load_client(store, client_id)
    path, sha256 = print_in_child(
        ctx.db_path, client_id, out_dir=out_dir, generated_at=at, msp_name=msp_name, timeout=timeout,
        progress=lambda stage: click.echo(f"review-pack: {stage}", err=True),
    )
    if as_json:
        emit_json({"path": str(path), "sha256": sha256})
    else:
        echo_text(str(path))
