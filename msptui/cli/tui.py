"""Start the Textual UI (screens/) without importing Textual until asked.

The import lives inside the function so that every other command, and the
headless core, never pays for (or depends on) Textual.
"""

from __future__ import annotations


def run_tui(ctx) -> int:
    from screens.app import run  # noqa: PLC0415 - the UI is loaded only when wanted

    return run(ctx.db_path)
