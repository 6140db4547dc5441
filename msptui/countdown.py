"""Countdowns in words, and the urgency order of a checklist.

"OVERDUE 2h", "DUE SOON 5h", "due 3d", "target in 20h", "done": the word
carries the severity, so the CLI, a 16-colour terminal and NO_COLOR all say
the same thing; colour only repeats it. One implementation for the CLI, the
TUI and the dossier.

Urgency order (``urgency``): what an incident lead must act on first comes
first: OVERDUE, then DUE SOON, then by due instant, then internal targets
(passed first), then clocks waiting on a trigger, then items without a clock,
then done and not-applicable items.
"""

from __future__ import annotations

from datetime import datetime, timezone

#: an open item due within this many seconds is "DUE SOON" (a 23 h clock is due soon)
SOON_SECONDS = 24 * 3600

#: countdown kinds in urgency order (see module docstring); ties are broken by instant, then checklist order
URGENCY = ("overdue", "soon", "due", "late", "target", "blocked", "waiting", "dormant", "none", "done", "na")
_FAR = datetime.max.replace(tzinfo=timezone.utc)


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
              waiting: bool = False, dormant: bool = False) -> tuple[str, str]:
    """(label, kind); kind is one of ``URGENCY``.

    ``waiting``: the clock starts when an earlier report is recorded as
    submitted; ``dormant``: it starts only if an event that may never happen is
    recorded (a ransom payment, a law-enforcement delay request).
    """
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
        if dormant:
            return f"{prefix}dormant until triggered", "dormant"
        return prefix + "no fixed due", "blocked" if prefix else "none"
    left = (due - now).total_seconds()
    if left < 0:
        return f"{prefix}OVERDUE {span(left)}", "overdue"
    if left <= SOON_SECONDS:
        return f"{prefix}DUE SOON {span(left)}", "soon"
    return f"{prefix}due {span(left)}", "blocked" if prefix else "due"


def item_countdown(item, now: datetime) -> tuple[str, str]:
    """The countdown of a checklist item (due, internal target, or waiting on a trigger)."""
    waits = getattr(item, "waits_for", None)
    return countdown(item.due, item.status, now, target=item.target,
                     waiting=bool(waits) and waits.startswith("submitted:"),
                     dormant=bool(waits) and not waits.startswith("submitted:"))


def urgency(kind: str, due: datetime | None, target: datetime | None, order: int = 0) -> tuple:
    """Sort key: kind rank (``URGENCY``), then the instant that matters, then checklist order."""
    return (URGENCY.index(kind) if kind in URGENCY else len(URGENCY), due or target or _FAR, order)
