"""Helpers for the TUI tests and the benchmark (no pytest import here)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any


def screen_text(app: Any) -> str:
    """What the terminal shows right now, as plain text (one line per row)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def screen_grid(app: Any) -> str:
    """The terminal as an exact width x height grid of characters (what a text snapshot compares).

    Unlike screen_text, screens below a modal (help, dialogs) are composed in
    as they are on the terminal, and every line is padded to the full width.
    """
    from rich.cells import cell_len
    from textual._context import visible_screen_stack

    width, height = app.size
    token = visible_screen_stack.set(list(app._background_screens))  # Screen.render pops from it: a copy
    try:
        strips = app.screen._compositor.render_strips()
    finally:
        visible_screen_stack.reset(token)
    lines = ["".join(seg.text for seg in strip) for strip in strips][:height]
    lines += [""] * (height - len(lines))
    return "\n".join(line + " " * max(0, width - cell_len(line)) for line in lines)


def demo_db(path: Path) -> Path:
    from msptui.demo import load_demo
    from msptui.store import Store

    with Store.open(path, create=True) as store:
        load_demo(store)
    return path


def small_plan(store, client, incident):
    """A small fixed checklist planner (same signature as msptui.plan.plan_checklist): four items, one undated."""
    from msptui.models import ChecklistItem

    t0 = incident.discovered.at
    specs = [
        ("contain", "Contain: isolate affected hosts", "response", t0 + timedelta(hours=1)),
        ("insurer-notice", "Written notice to the client's cyber insurer", "insurance", t0 + timedelta(hours=72)),
        ("preserve-logs", "Preserve logs and images before remediation", "evidence", t0 + timedelta(hours=4)),
        ("counsel", "Engage breach counsel", "legal", None),
    ]
    return incident, [
        ChecklistItem(id=f"{incident.id}:{step}", incident_id=incident.id, client_id=client.id, step=step,
                      title=title, section=section, order=n, due=due)
        for n, (step, title, section, due) in enumerate(specs)
    ]
