"""Closures entered by hand (data/closures.toml): non-business days no holiday library knows.

They move business-day deadlines later, so each needs a source; the file says so.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache

from .errors import UserError
from .paths import DATA_DIR

CLOSURES_FILE = DATA_DIR / "closures.toml"


@lru_cache(maxsize=1)
def load_closures() -> frozenset[date]:
    data = tomllib.loads(CLOSURES_FILE.read_text(encoding="utf-8"))
    days = set()
    for index, entry in enumerate(data.get("closures", [])):
        if not isinstance(entry.get("date"), date) or not entry.get("source"):
            raise UserError(f"{CLOSURES_FILE}: closures[{index}]: needs a date (YYYY-MM-DD) and a source")
        days.add(entry["date"])
    return frozenset(days)
