"""The demo portfolio: fictional clients built to show every posture.

data/demo.json is written as if today were its ``reference_date``; loading
shifts every date and instant by the days since then, so "review overdue" or
"policy expires in 20 days" stay true whenever the demo is loaded.

Demo data never mixes with real records. Loading it into an empty database
first appends a history-only ``database.demo`` event, so event 1 of every
demo database says what it is (in the hash chain: it cannot be removed
without breaking ``verify``), and ``is_demo`` is one indexed read. A database
whose first event is anything else holds real records and is refused.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from .chain import Event
from .errors import UserError
from .paths import DATA_DIR
from .recordfile import validate
from .store import DEMO_KIND, Store

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


def is_demo(store: Store) -> bool:
    """Whether the database was made by loading the demo (its first event is the demo marker)."""
    return store.is_demo()


def load_demo(store: Store, today: date | None = None) -> list[Event]:
    """Load (or refresh) the demo into an empty or demo database; the record events, in one transaction."""
    data = demo_data(today)
    records = validate(DEMO_FILE, data, store)
    with store.transaction():
        if store.conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None:
            store.append_in_transaction(DEMO_KIND, {
                "note": "fictional demo portfolio: not real client records",
                "source": "data/demo.json",
            })
        elif not is_demo(store):
            raise UserError(
                f"{store.path} holds real records (it was not made by 'msptui demo'): the demo is never "
                "loaded into it; run 'msptui demo' without --db for the separate demo database"
            )
        return [e for e in (store.put_in_transaction(r) for r in records) if e is not None]
