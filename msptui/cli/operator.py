"""``msptui operator set|show``: the named person every event records beside the OS login."""

from __future__ import annotations

import click

from .. import environment, identity
from .base import emit_json, main, say


@main.group()
def operator() -> None:
    """Who you are: recorded with every change you make (set once per user)."""


@operator.command("set")
@click.argument("who", metavar='"NAME <EMAIL>"')
@click.option("--role", metavar="ROLE", help="Your role, e.g. 'incident lead' (optional).")
@click.option("--json", "as_json", is_flag=True)
def operator_set(who: str, role: str | None, as_json: bool) -> None:
    """Set your name (and optionally email and role), kept in your own config folder."""
    op = identity.parse(who, role=role)
    path = identity.save(op)
    import os

    if (os.environ.get("MSPTUI_OPERATOR") or "").strip():
        # 'operator set' then 'operator show' named someone else, with no word why
        say(f"msptui: note: $MSPTUI_OPERATOR is set ({os.environ['MSPTUI_OPERATOR']}) and is who this shell's "
            "changes are recorded as; unset it to use the identity just saved", err=True)
    if as_json:
        emit_json({**op.model_dump(), "path": str(path)})
        return
    say(f"operator set: {op.text()} (saved in {path})")


@operator.command("show")
@click.option("--json", "as_json", is_flag=True)
def operator_show(as_json: bool) -> None:
    """Show who your changes are recorded as."""
    op = identity.current()
    login = environment.actor()
    if as_json:
        emit_json({"name": None, "email": None, "role": None, **(op.as_dict() if op else {}), "os_login": login})
        return
    if op is None:
        say(f"no operator set: changes are recorded under the OS login {login!r} only; "
                  'run: msptui operator set "NAME <EMAIL>"')
    else:
        say(f"{op.text()} (OS login {login})")
