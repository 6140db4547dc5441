"""The demo portfolio: fictional clients built to show every posture.

data/demo.json is written as if today were its ``reference_date``; loading
shifts every date and instant by the days since then, so "review overdue" or
"policy expires in 20 days" stay true whenever the demo is loaded.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from .chain import Event
from .paths import DATA_DIR
from .recordfile import validate
from .store import Store

DEMO_FILE = DATA_DIR / "demo.json"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _shift(value: Any, days: timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str):
        if _DATE.match(value):
            return (date.fromisoformat(value) + days).isoformat()
        if _INSTANT.match(value):
            return (datetime.fromisoformat(value.replace("Z", "+00:00")) + days).isoformat().replace("+00:00", "Z")
    return value


def demo_data(today: date | None = None) -> dict:
    raw = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    reference = date.fromisoformat(raw["reference_date"])
    days = (today or date.today()) - reference
    return _shift(raw, days)


def load_demo(store: Store, today: date | None = None) -> list[Event]:
    data = demo_data(today)
    return store.put_many(validate(DEMO_FILE, data, store))


def is_demo(store: Store) -> bool:
    """Whether this database holds the fictional demo portfolio (every demo client is in it)."""
    ids = [c["id"] for c in json.loads(DEMO_FILE.read_text(encoding="utf-8"))["clients"]]
    marks = ",".join("?" * len(ids))
    (found,) = store.conn.execute(f"SELECT count(*) FROM clients WHERE id IN ({marks})", ids).fetchone()
    return found == len(ids)
