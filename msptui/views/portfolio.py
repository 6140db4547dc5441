"""The portfolio view: every client for the home list, and the badges that matter in a breach.

``client_rows`` is the home screen's first paint, so it reads SQLite directly
with one query and imports nothing heavy (no pydantic, no models): at 10,000
clients the rows come back as ONE JSON array (json_group_array), because
sqlite3 gives up and re-takes the GIL around every step and one step per
client made the TUI's loader wait on the busy UI thread 10,000 times.

``badges`` is the home screen's posture column: the labels of the findings
``msptui posture`` prints, from the per-chain-head cache of
``msptui.posture_stream`` (a few milliseconds when nothing changed, only the
touched clients re-assessed after a write), plus the open-incident badge, a
fact of the day rather than a readiness gap and so never cached. ``findings``
is the posture screen's list, streamed a chunk of clients at a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..posture import Finding
    from ..store import Store


@dataclass
class ClientRow:
    id: str
    name: str
    engagement: str
    key: str = ""  # case-folded "name id" for filtering

    def __post_init__(self) -> None:
        self.key = f"{self.name} {self.id}".casefold()


def client_rows(store: "Store") -> list[ClientRow]:
    """Every client, by name: one SQL query, no model validation (10k rows in ~25 ms)."""
    (packed,) = store.conn.execute(
        "SELECT json_group_array(json_array(id, json_extract(data, '$.name'), json_extract(data, '$.engagement'))) FROM clients"
    ).fetchone()
    out = [ClientRow(cid, name or cid, eng or "") for cid, name, eng in json.loads(packed or "[]")]
    out.sort(key=lambda r: (r.name.casefold(), r.id))
    return out


def filter_rows(rows: list[ClientRow], query: str) -> list[ClientRow]:
    """Every whitespace-separated word of ``query`` must occur in the name or id."""
    words = query.casefold().split()
    if not words:
        return rows
    if len(words) == 1:
        w = words[0]
        return [r for r in rows if w in r.key]
    return [r for r in rows if all(w in r.key for w in words)]


def open_incident_counts(store: "Store") -> dict[str, int]:
    rows = store.conn.execute(
        "SELECT client_id AS cid, count(*) AS n FROM incidents "
        "WHERE json_extract(data, '$.status') != 'closed' GROUP BY client_id"
    ).fetchall()
    return {r["cid"]: r["n"] for r in rows}


def incident_badge(count: int) -> str:
    return "INCIDENT" if count == 1 else f"INCIDENTx{count}"


def badges(store: "Store", now: datetime | None = None) -> dict[str | None, list[str]]:
    """Badge labels per client (None: the MSP): posture's, most severe first, then the open-incident badge."""
    from ..posture_stream import badges as cached_badges

    out = {cid: list(labels) for cid, labels in cached_badges(store, now=now).by_client.items()}
    for cid, n in open_incident_counts(store).items():
        out.setdefault(cid, []).append(incident_badge(n))
    return out


def findings(store: "Store", now: datetime | None = None) -> list["Finding"]:
    """Every posture finding, MSP first then by client (the list ``msptui posture`` prints)."""
    from ..posture_stream import assess_streamed

    return list(assess_streamed(store, now=now or datetime.now(timezone.utc)))


def finding_target(finding: Any) -> tuple[str, str | None]:
    """The client-screen section a finding points at, and what to mark there (a scope item, else the record)."""
    from ..posture import SECTION

    section = SECTION.get(finding.code, "agreements")
    return section, (finding.item or finding.record_id) if section == "scope" else finding.record_id


def legend() -> tuple[tuple[str, str], ...]:
    """(badge, meaning) for every badge, in legend order."""
    from ..posture import BADGE_LEGEND

    return BADGE_LEGEND
