"""Where things live: the database, bundled data files and exports.

The DB path is resolved as ``--db PATH``, else ``$MSPTUI_DB``, else the
platform data directory (``~/.local/share/msptui/msptui.db`` on Linux). The
CLI always says which one it opened. ``msptui demo`` has its own database
beside it (``demo.db``).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
EXPORTS_DIR = ROOT / "exports"


def exports_dir() -> Path:
    """Where dossiers go without --out: $MSPTUI_EXPORT_DIR, else exports/ in the project."""
    env = os.environ.get("MSPTUI_EXPORT_DIR")
    return Path(env).expanduser() if env else EXPORTS_DIR


def default_db() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("msptui", appauthor=False)) / "msptui.db"


def demo_db() -> Path:
    """The demo's own database, beside the default one: demo data never goes into real records."""
    return default_db().with_name("demo.db")


def resolve_db(cli_value: str | None) -> tuple[Path, str]:
    """The DB path and where it came from (for the "using database" line)."""
    if cli_value:
        return Path(cli_value).expanduser(), "--db"
    env = os.environ.get("MSPTUI_DB")
    if env:
        return Path(env).expanduser(), "MSPTUI_DB"
    return default_db(), "default"


def group_mode() -> bool:
    """Shared jump-box mode: files readable/writable by the owning group.

    Off by default: the DB holds client contracts and incident notes, so it is
    created owner-only unless MSPTUI_GROUP_MODE=1 says otherwise.
    """
    return os.environ.get("MSPTUI_GROUP_MODE", "") in {"1", "true", "yes"}


def file_mode() -> int:
    return 0o660 if group_mode() else 0o600


def dir_mode() -> int:
    return 0o770 if group_mode() else 0o700
