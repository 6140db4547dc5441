"""What every command shares: the ``main`` group, the database context, output helpers.

Command modules import from here (never from the package ``__init__``), so
the package imports them without an import cycle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import UserError
from ..literal import visible
from ..paths import resolve_db
from ..store import Store


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


class Group(click.Group):
    """Turns user errors into click's one-line error and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _user_errors() as exc:
            raise click.ClickException(visible(str(exc), keep_newlines=False)) from None


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


