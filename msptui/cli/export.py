"""Dossier commands: export, verify-dossier, keys init / show / retire; and review-pack."""

from __future__ import annotations

import click

from ..errors import UserError
from .base import Context, emit_json, main, pass_ctx, say


def _timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A finite number of seconds, more than 0 and at most a day."""
    import math

    if not math.isfinite(value) or not 0 < value <= 86_400:
        raise click.BadParameter(f"{value!r} is not a number of seconds between 0 and 86400", ctx=ctx, param=param)
    return value


def _recipient(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[dict]:
    from ..export.distribution import parse_recipient

    return [parse_recipient(v) for v in value]


def _fingerprint_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import re

    if value is None:
        return None
    text = value.strip().lower().replace(":", "")
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise UserError(f"{max(param.opts, key=len)}: expected 64 hexadecimal digits (a SHA-256), got {len(value)} characters")
    return text


@main.command("export")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Base folder (default: the project's exports/); the dossier goes to DIR/<client>/<incident>/<UTC timestamp>/.")
@click.option("--to", "recipients", metavar='"NAME, ORG"', multiple=True, callback=_recipient,
              help="Who receives this dossier (repeatable); recorded in the history's distribution log and on the cover.")
@click.option("--privileged", is_flag=True, help="Mark every page 'privileged & confidential — prepared at the direction of counsel'.")
@click.option("--generated-at", "generated_at", metavar="ISO8601",
              help="Use this generation instant instead of now (re-rendering the same data gives byte-identical files).")
@click.option("--timeout", default=300.0, show_default=True, metavar="SECONDS", callback=_timeout,
              help="Give up (and write nothing) after this long.")
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output: {\"path\": ..., \"signing_key\": ..., \"recipients\": [...]}.")
@pass_ctx
def export_cmd(ctx: Context, incident_id: str, out_dir: str | None, recipients: list[dict], privileged: bool,
               generated_at: str | None, timeout: float, as_json: bool) -> None:
    """Write the signed incident dossier folder (PDF, JSON, chain, manifest, signature), record who it went to, print its path.

    With no signing key yet, one is created (owner-only) and recorded in the history first.
    """
    from ..export import export_in_child
    from ..export.bundle import signed_by
    from ..incidents import get_incident
    from ..timeutil import parse_local

    at = parse_local(generated_at, "UTC") if generated_at else None
    with ctx.open(writes=True) as store:
        get_incident(store, incident_id)
    path = export_in_child(
        ctx.db_path, incident_id, out_dir=out_dir, privileged=privileged, timeout=timeout, generated_at=at,
        progress=lambda stage: say(f"export: {stage}", err=True), recipients=recipients,
        notice=lambda text: say(f"msptui: {text}", err=True),
    )
    fingerprint = signed_by(path)
    if as_json:
        emit_json({"path": str(path), "signing_key": fingerprint, "recipients": recipients})
    else:
        say(str(path), f"signed by {fingerprint}")


@main.command("verify-dossier")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--no-db", is_flag=True, help="Do not compare with the MSP's database (then --key anchors the dossier).")
@click.option("--key", "key", metavar="FINGERPRINT", callback=_fingerprint_option,
              help="The signing key fingerprint the MSP gave you (64 hex digits): the dossier must be signed by it.")
@click.option("--head", "head", metavar="HASH", callback=_fingerprint_option,
              help="A chain head the MSP gave you: it must be this dossier's head or an earlier event of its history.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def verify_dossier_cmd(ctx: Context, folder: str, no_db: bool, key: str | None, head: str | None, as_json: bool) -> None:
    """Check that a dossier tells the truth: every file and the signature, the whole chain, the content rebuilt from it,
    the PDF re-rendered, and (given the database, or --key) that it is the MSP's.

    Exit 0 intact and anchored; 1 with the first discrepancy; 3 intact but not anchored (no database and no --key).
    """
    from ..export import verify_dossier

    options = {"key": key, "head": head}
    if no_db:
        report = verify_dossier(folder, db_note="database check not run (--no-db)", **options)
    elif not ctx.db_path.exists():
        report = verify_dossier(folder, db_note=f"database check not run: no database at {ctx.db_path} "
                                                f"(from {ctx.db_source})", **options)
    else:
        with ctx.open() as store:
            report = verify_dossier(folder, store=store, **options)
    if as_json:
        emit_json(report.as_json())
    elif report.problem is not None:
        say(f"FAILED: {report.problem}", err=True)
    else:
        head_ = report.head or {}
        if report.anchored:
            say(f"OK: dossier intact and anchored ({'; '.join(report.anchors)}); "
                f"chain head event {head_.get('id')} {head_.get('hash')}")
        else:
            say("INTACT BUT NOT ANCHORED: the folder agrees with itself, but nothing ties it to the MSP; "
                "give the MSP's key fingerprint with --key (or check it at the MSP with its database)")
        say(*(f"  {line}" for line in report.checks))
        say(*(f"  NOT checked: {line}" for line in report.not_checked))
        if report.db_checked or not report.db_note:
            say(f"  database check: {'ran' if report.db_checked else 'NOT run'}")
    if report.exit_code:
        raise SystemExit(report.exit_code)


@main.group()
def keys() -> None:
    """The Ed25519 key that signs dossiers, and its record in the history."""


@keys.command("init")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def keys_init(ctx: Context, as_json: bool) -> None:
    """Create the signing key (owner-only) in the config folder and record it in the history; refuses to replace one.

    With a key already there that this database does not record yet, records it.
    """
    from .. import keys as keymod

    created = not keymod.configured()
    info = keymod.init_key() if created else keymod.info()
    pinned = None
    if ctx.db_path.exists():
        with ctx.open(writes=True) as store:
            history = keymod.stored_history(store).get(info.fingerprint)
            if not created and history is not None:
                raise UserError(f"a signing key already exists at {info.private_path} (fingerprint {info.fingerprint}), "
                                f"recorded in this history at event {history.pinned_event}: to replace it, "
                                "run 'msptui keys retire' first")
            if history is not None and history.retired_event is not None:
                raise UserError(f"the key at {info.private_path} ({info.fingerprint}) was retired in this history "
                                f"(event {history.retired_event}); move it away and run 'msptui keys init' again")
            pinned = keymod.pin(store, info)
    elif not created:
        keymod.init_key()  # refuses, naming the existing key
    if as_json:
        emit_json({"public_key": str(info.public_path), "fingerprint": info.fingerprint, "created": created,
                   "pinned_event": pinned})
        return
    if created:
        say(f"created signing key in {info.private_path.parent} (private key mode 0600)")
    say(f"public key {info.public_path}", f"fingerprint {info.fingerprint}")
    if pinned is not None:
        say(f"recorded in the history of {ctx.db_path} as event {pinned}")
    else:
        say(f"not recorded in any history yet (no database at {ctx.db_path}): the first export records it")
    say("publish the fingerprint (e.g. to counsel and insurers) so signed dossiers can be tied to you")


@keys.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def keys_show(ctx: Context, as_json: bool) -> None:
    """Show this installation's key (location, fingerprint) and every key this database records, retired ones included."""
    from .. import keys as keymod

    here = keymod.configured()
    if not here and not ctx.db_path.exists():
        raise UserError(f"no signing key at {keymod.private_path()}: run 'msptui keys init'")
    info = keymod.info() if here else None
    history = {}
    if ctx.db_path.exists():
        with ctx.open() as store:
            history = keymod.stored_history(store)
    mine = history.get(info.fingerprint) if info else None
    if as_json:
        emit_json({"public_key": str(info.public_path) if info else None, "fingerprint": info.fingerprint if info else None,
                   "pinned_event": mine.pinned_event if mine else None,
                   "recorded": [{"fingerprint": k.fingerprint, "pinned_event": k.pinned_event or None,
                                 "retired_event": k.retired_event, "reason": k.reason} for k in history.values()]})
        return
    if info is None:
        say(f"no signing key at {keymod.private_path()}: the next export (or 'msptui keys init') creates one")
    else:
        say(f"public key {info.public_path}", f"fingerprint {info.fingerprint}")
        say(f"recorded in this history at event {mine.pinned_event}" if mine and mine.pinned_event
            else "NOT recorded in this history: the next export (or 'msptui keys init') records it")
    for k in history.values():
        if k.retired_event is not None:
            say(f"retired key {k.fingerprint} (pinned at event {k.pinned_event or '-'}, retired at event "
                f"{k.retired_event}: {k.reason or 'no reason given'})")
        elif info is None or k.fingerprint != info.fingerprint:
            say(f"recorded key {k.fingerprint} (pinned at event {k.pinned_event}; its private key is not here)")


@keys.command("retire")
@click.argument("fingerprint", metavar="FINGERPRINT", required=False, callback=_fingerprint_option)
@click.option("--reason", metavar="TEXT", help="Why (e.g. 'laptop lost', 'staff change'); recorded.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def keys_retire(ctx: Context, fingerprint: str | None, reason: str | None, as_json: bool) -> None:
    """Retire a signing key (default: this installation's): recorded in the history, its files moved aside.

    Dossiers it signed before keep verifying; a dossier generated after the retirement does not. The next export
    creates and records a new key.
    """
    from .. import keys as keymod

    if fingerprint is None:
        if not keymod.configured():
            raise UserError(f"no signing key at {keymod.private_path()}: give the FINGERPRINT of the key to retire")
        fingerprint = keymod.info().fingerprint
    with ctx.open(writes=True) as store:
        event_id, moved = keymod.retire(store, fingerprint, (reason or "").strip() or None)
    if as_json:
        emit_json({"fingerprint": fingerprint, "retired_event": event_id, "moved_to": str(moved) if moved else None})
        return
    say(f"retired key {fingerprint}: recorded as event {event_id}")
    if moved:
        say(f"its private key was moved to {moved}; the next export creates and records a new key")


@main.command("review-pack")
@click.argument("client_id", metavar="CLIENT")
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Folder for the PDF (default: the project's exports/<client>/); the file is review-pack-<UTC timestamp>.pdf.")
@click.option("--msp-name", "msp_name", metavar="NAME",
              help="How the pack names the MSP (default: $MSPTUI_MSP_NAME, else the MSP record from 'msptui msp set', else 'your MSP').")
@click.option("--generated-at", "generated_at", metavar="ISO8601",
              help="Use this generation instant instead of now (the same data and instant give identical bytes).")
@click.option("--timeout", default=300.0, show_default=True, metavar="SECONDS", callback=_timeout,
              help="Give up (and write nothing) after this long.")
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
        progress=lambda stage: say(f"review-pack: {stage}", err=True),
    )
    if as_json:
        emit_json({"path": str(path), "sha256": sha256})
    else:
        say(str(path))
