"""Countdowns in words: how an engineer reads a clock at a glance.

"OVERDUE 2h", "DUE SOON 5h", "due 3d", "target in 20h", "done": the word
carries the severity, so the CLI, a 16-colour terminal and NO_COLOR all say
the same thing; colour only repeats it. One implementation for the CLI and
the TUI.
"""

from __future__ import annotations

from datetime import datetime

#: an open item due within this many seconds is "DUE SOON"
SOON_SECONDS = 6 * 3600


def span(seconds: float) -> str:
    """Compact duration: 45m, 5h, 5h30m, 3d4h."""
    seconds = abs(int(seconds))
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m" if minutes and hours < 10 else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


def countdown(due: datetime | None, status: str, now: datetime, *, target: datetime | None = None,
              waiting: bool = False) -> tuple[str, str]:
    """(label, kind); kind in done/na/blocked/overdue/soon/due/target/late/waiting/none."""
    if status == "done":
        return "done", "done"
    if status == "not_applicable":
        return "n/a", "na"
    prefix = "BLOCKED " if status == "blocked" else ""
    if due is None:
        if target is not None:
            left = (target - now).total_seconds()
            if left < 0:
                return f"{prefix}TARGET PASSED {span(left)} ago", "late"
            return f"{prefix}target in {span(left)}", "blocked" if prefix else "target"
        if waiting:
            return f"{prefix}waits on submission", "waiting"
        return prefix + "no fixed due", "blocked" if prefix else "none"
    left = (due - now).total_seconds()
    if left < 0:
        return f"{prefix}OVERDUE {span(left)}", "overdue"
    if left <= SOON_SECONDS:
        return f"{prefix}DUE SOON {span(left)}", "soon"
    return f"{prefix}due {span(left)}", "blocked" if prefix else "due"


def item_countdown(item, now: datetime) -> tuple[str, str]:
    """The countdown of a checklist item (due, internal target, or waiting on a chained submission)."""
    return countdown(item.due, item.status, now, target=item.target, waiting="starts when" in (item.basis or ""))
