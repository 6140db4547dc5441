"""The ``msptui`` command line: a contract other tools and tests drive.

``msptui [--db PATH] COMMAND``; exit 0 on success, 1 on a user-facing error
(one line on stderr), 2 on usage errors (click's own). With no command it
opens the TUI. The group and shared helpers live in ``base``; each command
family lives in a sibling module, imported only when one of its commands runs
(``base.COMMANDS``), so a command starts without loading the others.
"""

from __future__ import annotations

from .base import main

__all__ = ["main"]
