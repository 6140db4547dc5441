"""Who is acting and where: the OS login and the local IANA zone.

Every event records both, so the history says who changed a record and the
wall-clock zone they were looking at.
"""

from __future__ import annotations

import getpass
import os


def actor() -> str:
    """The OS login name of the person running msptui (never typed in)."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (e.g. some containers)
        return f"uid:{os.getuid()}"


def local_zone() -> str:
    """The IANA name of the machine's zone, overridable with MSPTUI_TZ."""
    override = os.environ.get("MSPTUI_TZ")
    if override:
        return override
    try:
        import tzlocal

        return tzlocal.get_localzone_name() or "UTC"
    except Exception:
        return "UTC"
