"""Entry point of the TUI: ``run(db_path) -> int`` (called by ``msptui`` with no command).

Textual is imported only inside ``run()``, after the environment it reads at
import time is set: over SSH a higher ESCDELAY keeps escape sequences from
being read as a lone Esc, and animations are switched off (every frame costs
bandwidth on a jump box). NO_COLOR is honoured by Textual itself.

Exit codes are honest: 0 after a normal quit, 1 if the database cannot be
opened or the UI failed (App.run() returns normally after an unhandled
exception, so ``app.return_code`` is what is returned), 129 after SIGHUP (a
dropped SSH connection) and 143 after SIGTERM. Every write is a single SQLite
transaction, so leaving at any moment leaves either the whole change or none.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def prepare_environment() -> None:
    """Settings Textual reads when it is first imported."""
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        os.environ.setdefault("ESCDELAY", "200")
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


def check_db(db_path: Path) -> str | None:
    """Open the database once before the screen is taken over (upgrading its schema if it is older):
    a missing or unreadable file is refused with one line instead of a broken UI. Returns the problem or None."""
    from msptui.store import Store

    try:
        Store.open(db_path).close()
    except Exception as exc:  # UserError: one line; anything else is reported, not raised
        return str(exc)
    return None


def run(db_path: Path, **options: Any) -> int:
    """Open the TUI on ``db_path``; returns the process exit code."""
    prepare_environment()
    db_path = Path(db_path)
    problem = check_db(db_path)
    if problem:  # refuse a missing or unreadable DB before the screen is taken over
        from msptui.literal import visible

        print(f"msptui: {visible(problem, keep_newlines=False)}", file=sys.stderr)
        return 1

    from screens.shell import MspApp

    app = MspApp(db_path, **options)
    app.run()
    code = app.return_code
    if code is None:
        return 1
    return int(code)
