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

Output for people goes through one function, ``say``: each argument is one
line, and every control, bidi and line-separator character inside it is shown
as an escape (``literal.one_line``), so record text (a client name, a
checklist section, a note id) can never clear the screen or print a line of
its own. ``emit_json`` escapes the characters JSON leaves raw. Errors, click's
own included, are one line on stderr.

Input: every option and argument value is checked before a command runs
(``check_params``), before any file or database is touched: over-long values,
and control, bidi or line-separator characters in ids, zones, instants, paths
and codes, are refused with one line naming the option. Record text (a name,
a title, a note) may hold any character but NUL: it is data, stored exactly
and always shown escaped.
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
from ..literal import json_text, one_line, visible  # noqa: E402
from ..paths import resolve_db  # noqa: E402
from ..store import Store  # noqa: E402

#: command name -> the module under msptui.cli that defines it (imported on first use)
COMMANDS: dict[str, str] = {
    "demo": "records", "catalog": "records", "clients": "records", "show": "records", "import": "records",
    "dump": "records", "verify": "records", "clock-step": "records", "backup": "records",
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
        say(f"msptui: database {self.db_path} (from {self.db_source})", err=True)
        if writes:
            from ..environment import actor
            from ..identity import current

            if current() is None:
                say(f"msptui: no operator name set, so this change is recorded under the OS login "
                    f"{actor()!r} only; run: msptui operator set \"NAME <EMAIL>\"", err=True)
        return store


def _user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean "bad input", each carrying a one-line message."""
    from ..obligations import RulesError, UnknownRuleError
    from ..timeutil import TimeError

    return (UserError, TimeError, UnknownRuleError, RulesError)


# -- input ------------------------------------------------------------------------

#: options and arguments whose value becomes record text (a name, a title, a note, a summary): any text is
#: data there, attacker-written included (a phishing subject with a bidi override, a name with an escape
#: sequence): it is stored exactly and always shown escaped. Only NUL and undecodable bytes are refused.
RECORD_TEXT_METAVARS = {"TEXT", "NAME", "ORG", "REF", "ROLE", '"NAME[, TITLE]"', '"[ROLE:] NAME [<EMAIL>] [PHONE]"'}
RECORD_TEXT_NAMES = {"text", "note", "notes", "summary", "reason", "systems"}
RECORD_TEXT_MAX = 20_000
PATH_MAX = 4096
NAME_MAX_BYTES = 255
SHORT_MAX = 500
_LINE_BREAKS = {"\u2028", "\u2029"}
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"}


def param_label(param: click.Parameter) -> str:
    """How an error names a parameter: its longest option ('--summary') or its metavar ('INCIDENT')."""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.metavar or (param.name or "argument").upper()


def _is_path(param: click.Parameter) -> bool:
    return (isinstance(param.type, click.Path) or param.name in {"db", "dest", "folder", "path", "paths", "out_dir"}
            or param.metavar in {"FILE", "PATH", "DIR", "FILE...", "DEST"})


def is_record_text(param: click.Parameter) -> bool:
    """Whether the value is record text (any characters, stored exactly) rather than an id, zone, date, path or code."""
    return param.metavar in RECORD_TEXT_METAVARS or param.name in RECORD_TEXT_NAMES


def value_problem(param: click.Parameter, value: str) -> str | None:
    """Why ``value`` is refused for ``param`` (None: acceptable).

    Ids, zones, instants, paths and codes: at most 500 characters (paths 4096), no control, bidi or
    line-separator character. Record text: at most 20,000 characters, no NUL, no undecodable byte.
    """
    import unicodedata

    text = is_record_text(param)
    limit = RECORD_TEXT_MAX if text else PATH_MAX if _is_path(param) else SHORT_MAX
    if len(value) > limit:
        return f"{len(value):,} characters is longer than the {limit:,} allowed"
    for index, ch in enumerate(value):
        category = unicodedata.category(ch)
        if text and ch != "\x00" and category != "Cs":
            continue
        if category in ("Cc", "Cs") or ch in _LINE_BREAKS or ch in _BIDI:
            what = ("a NUL byte" if ch == "\x00" else "a control character" if category == "Cc"
                    else "an undecodable byte" if category == "Cs" else "a bidi or line-separator character")
            return f"contains {what} ({one_line(ch)} at position {index + 1}); remove it"
    if param.metavar == "ZONE" and not value.strip():
        # '--tz ""' silently meant "the default zone"
        return "is empty; give an IANA zone name such as Europe/Berlin, or leave the option out"
    if _is_path(param) and not value.strip():
        # '' is the current folder to the OS: '--db ""' opened the default (real) database, 'backup ""' and
        # 'dump ""' wrote into the current folder, 'verify-dossier ""' checked it
        return "is empty; give a path"
    if _is_path(param):
        for part in value.split("/"):
            if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
                return f"has a path component longer than {NAME_MAX_BYTES} bytes"
    return None


def check_params(command: click.Command, ctx: click.Context) -> None:
    """Refuse over-long values and control characters in every string value, with one line naming the option."""
    for param in command.params:
        value = ctx.params.get(param.name) if param.name else None
        values = value if isinstance(value, (tuple, list)) else (value,)
        for item in values:
            if isinstance(item, str):
                problem = value_problem(param, item)
                if problem:
                    raise click.ClickException(f"{param_label(param)}: {problem}")


class CheckedCommand(click.Command):
    """A command whose option and argument values are checked (``check_params``) before it runs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        check_params(self, ctx)
        return rest


# -- errors -------------------------------------------------------------------------

ERROR_MAX = 1000


def error_line(exc: click.ClickException) -> str:
    """Any click error (usage errors included) as one line: 'Error: ...'."""
    message = exc.format_message()
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        message += f" (see '{exc.ctx.command_path} --help')"
    line = one_line(message)
    if len(line) > ERROR_MAX:
        line = line[: ERROR_MAX - 40] + " ... " + line[-35:]
    return f"Error: {line}"


def exit_code(exc: click.ClickException) -> int:
    """1 for bad input, 2 for a malformed command line.

    A value the command cannot use (an unknown channel, party, category or
    status; a folder given as a file; a date that does not parse) is bad
    input like any other, exit 1 (issues 12 and 14: "unknown channel or
    party ...: exit 1"); only a command line click cannot parse (an unknown
    option or command, a missing option or argument, an extra argument) is a
    usage error, exit 2.
    """
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter):
        return 1
    return exc.exit_code


def _db_of(ctx: click.Context) -> object:
    obj = ctx.find_root().obj
    return getattr(obj, "db_path", None) or "the database"


class CheckedGroup(click.Group):
    """A group whose own and whose commands' input is checked (``check_params``); user errors become one line, exit 1."""

    command_class = CheckedCommand
    group_class = type  # its subgroups are CheckedGroups too

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        check_params(self, ctx)
        return rest

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        try:
            return super().invoke(ctx)
        except sqlite3.Error as exc:
            raise click.ClickException(visible(describe_sqlite_error(_db_of(ctx), exc), keep_newlines=False)) from None
        except BrokenPipeError:
            # the reader went away ('msptui rules | head -1'): stop quietly with SIGPIPE's status, as Unix tools
            # do, not 'Error: ... Broken pipe; nothing was written' (a write command had already committed)
            import sys

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing more reaches the closed pipe when Python exits
            raise SystemExit(141) from None
        except OSError as exc:
            raise click.ClickException(visible(describe_os_error(exc), keep_newlines=False)) from None
        except Exception as exc:
            if isinstance(exc, _user_errors()):
                raise click.ClickException(visible(str(exc), keep_newlines=False)) from None
            from pydantic import ValidationError

            if isinstance(exc, ValidationError):
                # a value the record's model refuses (too long, out of range) where no earlier check caught it:
                # still one line naming the field, never pydantic's multi-line traceback
                err = exc.errors()[0]
                loc = ".".join(str(p) for p in err["loc"]) or "(record)"
                raise click.ClickException(visible(f"{exc.title} field '{loc}': {err['msg']}", keep_newlines=False)) from None
            raise


class Group(CheckedGroup):
    """``main``: a CheckedGroup that loads command modules on demand and prints every error, click's own included,
    as one line."""

    group_class = CheckedGroup

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            import importlib

            importlib.import_module(f"msptui.cli.{COMMANDS[name]}")  # registers its commands on ``main``
        return self.commands.get(name)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra: Any) -> Any:
        """click's main, except that every error (usage errors included) is one line on stderr."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            click.echo(error_line(exc), err=True)
            sys.exit(exit_code(exc))
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)


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
    """``--at`` (default now) in ``--tz`` (default the incident's zone): when an act happened, and the zone
    (``msptui.incidents.act_when``: refused in the future or before the incident began)."""
    from ..incidents import act_when, get_incident

    return act_when(get_incident(store, incident_id), at_text, tz)


# -- output -------------------------------------------------------------------------


def say(*lines: object, err: bool = False) -> None:
    """Print lines for a person: each argument is one line, its control, bidi and line-separator characters escaped.

    The one way human-readable output leaves msptui: a field can never start
    a line of its own or drive the terminal.
    """
    for line in lines:
        click.echo(one_line(str(line)), err=err)


def emit_json(value: Any) -> None:
    """Machine-readable output; C1 controls, bidi and format characters and U+2028/U+2029 as \\u escapes."""
    click.echo(json_text(json.dumps(value, indent=2, ensure_ascii=False, default=str)))


def emit_data(text: str) -> None:
    """Machine-readable text that is not JSON (a CSV ledger): exactly as given when written to a file or a pipe,
    with control, bidi and line-separator characters shown as escapes when written to a terminal.

    click.echo would strip what looks like an ANSI sequence from output that is not a terminal (a name holding
    ``\\x1b[2J`` lost those bytes in the CSV, so the round trip through ``import`` was not exact) and pass the
    same bytes raw to a terminal, where they clear the screen.
    """
    isatty = getattr(sys.stdout, "isatty", None)
    if isatty is not None and isatty():
        text = visible(text, keep_newlines=True)
    click.echo(text, nl=False, color=True)


def echo_text(*lines: object) -> None:
    """The same as ``say`` (kept for callers written before it): each argument is one line."""
    say(*lines)


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


