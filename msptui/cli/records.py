"""Record commands: demo, clients, show, import, dump, verify."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from ..errors import UserError
from ..store import Store
from .base import Context, LazyChoice, emit_data, emit_json, main, pass_ctx, say


def _engagements() -> list[str]:
    from ..models import Engagement

    return [e.value for e in Engagement]


@main.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Load the fictional demo portfolio into the separate demo database (never your real one).

    Without --db or $MSPTUI_DB it goes to demo.db beside the default
    database; open it with 'msptui --db PATH'. A database that holds real
    records, and the default database, are refused.
    """
    from ..demo import load_demo
    from ..paths import default_db, demo_db

    if ctx.db_source == "default":
        ctx.db_path, ctx.db_source = demo_db(), "the demo's own database"
    elif ctx.db_path.expanduser().resolve() == default_db().resolve():
        raise UserError(f"{ctx.db_path} is the default database, where real records go: the demo has its own "
                        "(run 'msptui demo' without --db)")
    with ctx.open(create=True, writes=True) as store:
        events = load_demo(store)
        say(f"demo portfolio loaded into {ctx.db_path}: {len(events)} records changed, "
            f"{store.count('clients')} clients")
    say(f"open it with: msptui --db {ctx.db_path}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog(as_json: bool) -> None:
    """List the scope catalogue: the item ids agreements, scope lines and service mappings use."""
    from ..catalog import load_catalog

    cat = load_catalog()
    if as_json:
        emit_json([{"id": i.id, "title": i.label, "description": i.description(), "category": i.category,
                    "default_owner": i.default_owner, "security_relevant": i.security_relevant,
                    "cis_v8": list(i.cis_v8)} for i in cat.items.values()])
        return
    say(f"scope catalogue {cat.version}: {len(cat.items)} items")
    import textwrap

    for item in cat.items.values():  # fits 80 columns: the id, then title and description wrapped
        say(item.id)
        for text in (item.label, item.description()):
            say(*textwrap.wrap(text, width=80, initial_indent="    ", subsequent_indent="      "))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (the columns 'import' reads), safe to open in a spreadsheet.")
@pass_ctx
def clients(ctx: Context, as_json: bool, as_csv: bool) -> None:
    """List every client."""
    if as_json and as_csv:  # the JSON won silently
        raise click.UsageError("--json and --csv: give one of them")
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
        emit_data(to_csv(header, [
            [c.id, c.name, c.engagement.value, c.home_tz, c.industry or "", ";".join(c.countries), ";".join(c.us_states),
             ";".join(c.data_held), ";".join(c.sectors), str(c.public_company).lower(), str(c.nydfs_regulated).lower()]
            for c in rows
        ]))
        return
    for c in rows:
        say(f"{c.id:<24} {c.engagement.value:<14} {c.name}")
    if not rows:
        say("(no clients)")


@main.command()
@click.argument("client_id", metavar="CLIENT")
@click.option("--at", "at_text", metavar="DATE|ISO8601", help="Show what was in force on this date (noon local) or at this instant (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def show(ctx: Context, client_id: str, at_text: str | None, as_json: bool) -> None:
    """The liability picture of one client: agreements, scope, insurance, reviews."""
    from ..picture import liability_picture, render_lines

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
        say(*render_lines(picture))


@main.command("import")
@click.argument("paths", metavar="FILE...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--map", "mappings", metavar="FILE", multiple=True, type=click.Path(dir_okay=False),
              help="Mapping file (TOML, the shape of data/psa/*.toml) for an export msptui does not recognise.")
@click.option("--services", metavar="FILE", type=click.Path(dir_okay=False),
              help="Service mapping: PSA products/services -> scope catalogue items (see data/psa/services-example.toml).")
@click.option("--engagement", type=LazyChoice(lambda: _engagements()),
              help="Engagement of new clients the export gives none for.")
@click.option("--tz", "home_tz", metavar="ZONE", help="IANA home zone of new clients the export gives none for.")
@click.option("--country", "countries", metavar="CC", multiple=True,
              help="Country (ISO code or name) of clients the export gives none for; repeatable.")
@click.option("--encoding", metavar="NAME", help="Read the files as NAME (default: BOM, else UTF-8, else Windows-1252).")
@click.option("--date-format", metavar="FMT", help="strptime format of non-ISO dates, e.g. %m/%d/%Y.")
@click.option("--dry-run", is_flag=True, help="Check everything and show what would be created or changed; write nothing.")
@pass_ctx
def import_(ctx: Context, paths: tuple[str, ...], mappings: tuple[str, ...], services: str | None,
            engagement: str | None, home_tz: str | None, countries: tuple[str, ...], encoding: str | None,
            date_format: str | None, dry_run: bool) -> None:
    """Import a JSON record file, or CSV exports (msptui's client CSV, or a PSA's). All or nothing.

    PSA exports of ConnectWise, Autotask, HaloPSA, IT Glue and Hudu are
    recognised by their headers; several files (companies, agreements and
    their lines) can be imported together.
    """
    from ..psa import Defaults, ImportProblems, Plan, changes_for, describe_plan, import_exports
    from ..recordfile import TABLE_SUFFIXES, read_file, validate

    _bounded(paths)
    tables = [p for p in paths if Path(p).suffix.lower() in TABLE_SUFFIXES]
    if tables and len(tables) != len(paths) or not tables and len(paths) > 1:
        raise UserError("import takes one JSON record file, or one or more CSV exports, not a mix")
    psa_options = {"--map": mappings, "--services": services, "--engagement": engagement, "--tz": home_tz,
                   "--country": countries, "--encoding": encoding, "--date-format": date_format}
    if not tables:
        given = [name for name, value in psa_options.items() if value]
        if given:
            raise UserError(f"{given[0]} applies to CSV exports, not to a JSON record file")
    defaults = Defaults(engagement=engagement, home_tz=_zone_option(home_tz),
                        countries=tuple(_country_option(c) for c in countries), date_format=date_format)

    def run(store: Store, dry: bool) -> tuple[list, list[str], list]:
        try:
            if tables:
                plan, events = import_exports(store, list(paths), dry_run=dry, mappings=list(mappings),
                                              services=services, defaults=defaults, encoding=encoding)
                return plan.changes, describe_plan(plan), events
            records = validate(paths[0], read_file(paths[0]), store)
            changes = changes_for(store, records)
            events = [] if dry else store.put_many(records)
            return changes, describe_plan(Plan(changes=changes)), events
        except ImportProblems as exc:
            for line in exc.problems:
                say(line, err=True)
            raise UserError(exc.summary()) from None

    if not dry_run and not ctx.db_path.exists():
        # check first, so a refused import leaves no empty database behind
        with _scratch_store() as scratch:
            run(scratch, True)
    with _import_store(ctx, dry_run) as store:
        _warn_if_demo(ctx, store)
        changes, lines, events = run(store, dry_run)
    for line in lines:
        say(line)
    creates = sum(1 for c in changes if c.action == "create")
    updates = sum(1 for c in changes if c.action == "change")
    if dry_run:
        say(f"dry run: nothing written ({creates} to create, {updates} to change)")
    else:
        say(f"imported {', '.join(paths)}: {len(events)} records changed")


#: the files of one import together (each is bounded by recordfile/tabular.MAX_FILE_BYTES): memory
IMPORT_MAX_TOTAL_BYTES = 64 * 1024 * 1024


def _bounded(paths: tuple[str, ...]) -> None:
    """Refuse, before reading a byte, files that together are more than one import may hold in memory
    (one file is checked against its own limit by the reader, with a message about that file)."""
    if len(paths) < 2:
        return
    total = 0
    for name in paths:
        try:
            total += Path(name).stat().st_size
        except OSError:
            continue  # the reader names a missing file
    if total > IMPORT_MAX_TOTAL_BYTES:
        raise UserError(f"these files total {total:,} bytes, more than the {IMPORT_MAX_TOTAL_BYTES:,} one import may read "
                        "(it holds every record in memory); import them in several runs")


def _zone_option(value: str | None) -> str | None:
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    from ..timeutil import refused_zone

    try:
        if refused_zone(value):
            raise ValueError(value)
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):
        raise UserError(f"--tz {value!r} is not an IANA time zone (e.g. America/New_York, Europe/London)") from None
    return value


def _country_option(value: str) -> str:
    from ..psa import CellError, country_code

    try:
        return country_code(value)
    except CellError:
        raise UserError(f"--country {value!r} is not a country name or ISO 3166 code (e.g. US, GB, DE)") from None


@contextmanager
def _scratch_store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as scratch:
        with Store.open(Path(scratch) / "check.db", create=True) as store:
            yield store


@contextmanager
def _import_store(ctx: Context, dry_run: bool) -> Iterator[Store]:
    """The database to import into; with none yet, a dry run checks against an empty scratch one."""
    if dry_run and not ctx.db_path.exists():
        say(f"msptui: no database at {ctx.db_path} yet: dry run against an empty one", err=True)
        with _scratch_store() as store:
            yield store
        return
    created = not ctx.db_path.exists()
    try:
        with ctx.open(create=not dry_run, writes=not dry_run) as store:
            yield store
    except BaseException:
        if created and not dry_run:  # a failed import leaves no database behind
            for suffix in ("", "-wal", "-shm", "-journal"):
                ctx.db_path.with_name(ctx.db_path.name + suffix).unlink(missing_ok=True)
        raise


def _warn_if_demo(ctx: Context, store: Store) -> None:
    from ..demo import is_demo

    if is_demo(store):
        say(f"msptui: note: {ctx.db_path} is a demo database (made by 'msptui demo'); "
            "keep real records in another (see README, 'Starting with real data')", err=True)


@main.command()
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_ctx
def dump(ctx: Context, path: str) -> None:
    """Write every record to FILE in the format 'import' reads."""
    from ..recordfile import dump_file

    with ctx.open() as store:
        count = dump_file(store, path)
    say(f"wrote {count} records to {path}")


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
            say("msptui: no verified head recorded yet: verified the whole chain", err=True)
        say(f"OK: {scope}, chain intact, records match, SQLite {result.page_check} ok; head event "
                   f"{result.events} {result.head_hash}")
    else:
        label = "DAMAGED" if (result.problem or "").startswith("SQLite") else "TAMPERED"
        hint = "" if "msptui restore" in (result.problem or "") else "; restore from a backup or the replica ('msptui restore')"
        say(f"{label}: {ctx.db_path}: {result.problem}{hint}", err=True)
    if not as_json:
        for step in result.clock_steps:
            say(f"WARNING: {step}", err=True)
        if result.clock_steps_total > len(result.clock_steps):
            say(f"WARNING: ... and {result.clock_steps_total - len(result.clock_steps)} more backward clock steps",
                       err=True)
    if not result.ok:
        raise SystemExit(1)


@main.command("clock-step")
@click.option("--reason", required=True, metavar="TEXT",
              help="Why this machine's clock is right (e.g. 'checked against NTP; the box was 3 days fast').")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def clock_step(ctx: Context, reason: str, as_json: bool) -> None:
    """Record that this clock is right and the last events were written by a fast clock.

    Writes are refused while this machine's clock reads more than 5 minutes
    before the last recorded event. When that is because the earlier clock was
    fast (since corrected), this records the step back, with your name and
    reason, so writing can go on; verify lists it as a recorded clock step.
    """
    with ctx.open(writes=True) as store:
        event = store.record_clock_step(reason)
    behind = event.payload["behind_s"]
    if as_json:
        emit_json({"event": event.id, "at": event.at, "last_event": event.payload["last_event"],
                   "last_at": event.payload["last_at"], "behind_s": behind})
    else:
        amount = f"{behind / 86400:.1f} days" if behind >= 86400 else f"{behind / 3600:.1f} h"
        say(f"clock step recorded as event {event.id}: {event.at[:19]}Z, {amount} before event "
            f"{event.payload['last_event']} ({event.payload['last_at'][:19]}Z); writes count from here")


@main.command("backup")
@click.argument("dest", metavar="DEST", type=click.Path())
@click.option("--full", is_flag=True, help="Verify the copy's whole chain even when a verified head is recorded.")
@pass_ctx
def backup_cmd(ctx: Context, dest: str, full: bool) -> None:
    """Copy the database to DEST while others keep writing (SQLite online backup), then verify the copy."""
    from ..backup import backup

    with ctx.open() as store:
        path, events = backup(store, dest, full=full)
    say(f"backup written to {path}: {events} events, chain verified")
