"""What every command shares: the ``main`` group, the database context, output helpers.

Command modules import from here (never from the package ``__init__``), so
the package imports them without an import cycle.

Fast start: ``main`` knows which module defines each command (``COMMANDS``)
and imports only that one when the command runs, so ``msptui note`` never
pays for the deadline rules, the posture engine or the PDF code. ``--help``
imports them all (it has to describe every command).

Errors: a ``UserError`` (and the other "bad input" types), any SQLite error
and any OS error (disk full, read-only mount, permission denied) becomes one
line naming the file, exit 1: never a traceback. A damaged record that no
longer parses says which record and how to recover.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# msptui uses no pydantic plugins; without this, defining the models scans every installed package's
# entry points for them (~50 ms of every command's start-up). A value set by the user is kept.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import click  # noqa: E402

from ..errors import UserError, describe_os_error, describe_sqlite_error  # noqa: E402
from ..literal import visible  # noqa: E402
from ..paths import resolve_db  # noqa: E402
from ..store import Store  # noqa: E402

#: command name -> the module under msptui.cli that defines it (imported on first use)
COMMANDS: dict[str, str] = {
    "demo": "records", "catalog": "records", "clients": "records", "show": "records", "import": "records",
    "dump": "records", "verify": "records", "backup": "records",
    "incident": "incidents", "incidents": "incidents", "checklist": "incidents", "obligations": "incidents",
    "check": "incidents", "note": "incidents", "evidence": "incidents", "triggers": "incidents",
    "notify": "acts", "notifications": "acts", "notification": "acts", "decide": "acts", "decisions": "acts",
    "cost": "acts", "costs": "acts",
    "client": "prepare", "agreement": "prepare", "scope": "prepare", "clause": "prepare", "sign": "prepare",
    "policy": "prepare", "review": "prepare", "recommend": "prepare", "acknowledge": "prepare",
    "reaffirm": "prepare", "msp": "prepare",
    "edit": "edit",
    "deadline": "clock", "rules": "clock",
    "export": "export", "verify-dossier": "export", "keys": "export", "review-pack": "export",
    "posture": "posture",
    "operator": "operator",
    "replicate": "replica", "restore": "replica",
}


class Context:
    def __init__(self, db: str | None):
        self.db_path, self.db_source = resolve_db(db)

    def open(self, *, create: bool = False, writes: bool = False) -> Store:
        """Open the DB and say which one; ``writes`` also reminds an anonymous user to name themselves."""
        store = Store.open(self.db_path, create=create)
        click.echo(f"msptui: database {self.db_path} (from {self.db_source})", err=True)
        if writes:
            from ..environment import actor
            from ..identity import current

            if current() is None:
                click.echo(f"msptui: no operator name set, so this change is recorded under the OS login "
                           f"{visible(actor(), keep_newlines=False)!r} only; run: msptui operator set \"NAME <EMAIL>\"",
                           err=True)
        return store


def _user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean "bad input", each carrying a one-line message."""
    from ..obligations import RulesError, UnknownRuleError
    from ..timeutil import TimeError

    return (UserError, TimeError, UnknownRuleError, RulesError)


def _db_of(ctx: click.Context) -> object:
    obj = ctx.find_root().obj
    return getattr(obj, "db_path", None) or "the database"


class Group(click.Group):
    """Turns user errors into click's one-line error and exit code 1; loads command modules on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            import importlib

            importlib.import_module(f"msptui.cli.{COMMANDS[name]}")  # registers its commands on ``main``
        return self.commands.get(name)

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        try:
            return super().invoke(ctx)
        except sqlite3.Error as exc:
            raise click.ClickException(visible(describe_sqlite_error(_db_of(ctx), exc), keep_newlines=False)) from None
        except OSError as exc:
            raise click.ClickException(visible(describe_os_error(exc), keep_newlines=False)) from None
        except Exception as exc:
            if isinstance(exc, _user_errors()):
                raise click.ClickException(visible(str(exc), keep_newlines=False)) from None
            raise


class LazyChoice(click.Choice):
    """A click.Choice whose values come from ``load()`` only when an option is parsed or described
    (so defining a command does not import the models that list the values)."""

    def __init__(self, load, case_sensitive: bool = True) -> None:
        self._load, self._loaded, self.case_sensitive = load, None, case_sensitive

    @property
    def choices(self):  # type: ignore[override]
        if self._loaded is None:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value) -> None:
        self._loaded = tuple(value)


def act_time(store: Store, incident_id: str, at_text: str | None, tz: str | None):
    """``--at`` (default now) in ``--tz`` (default the incident's zone): when an act happened, and the zone."""
    from datetime import datetime, timezone

    from ..incidents import get_incident
    from ..inputs import instant, zone

    inc = get_incident(store, incident_id)
    observed = zone(tz.strip(), "--tz") if tz else inc.discovered.tz
    if at_text is None:
        return datetime.now(timezone.utc), observed
    return instant(at_text, observed, "--at"), observed


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def echo_text(text: str) -> None:
    click.echo(visible(text))


pass_ctx = click.make_pass_decorator(Context)


@click.group(cls=Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", metavar="PATH", help="Database file (default: $MSPTUI_DB, else the platform data dir).")
@click.version_option(package_name="msptui")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """msptui: what the MSP was responsible for, ready on the worst day."""
    ctx.obj = Context(db)
    if ctx.invoked_subcommand is None:
        from .tui import run_tui

        sys.exit(run_tui(ctx.obj))


