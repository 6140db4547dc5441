"""Start the Textual UI (screens/) without importing Textual until asked."""

from __future__ import annotations

import click


def run_tui(ctx) -> int:
    try:
        from screens.app import run  # noqa: PLC0415 - the UI is loaded only when wanted
    except ImportError:
        click.echo("The TUI is not built yet; use 'msptui clients' and 'msptui show CLIENT'.", err=True)
        return 1
    return run(ctx.db_path)
