"""Thin read adapters between the headless core and the screens.

Everything here takes an open ``Store`` and returns plain Python values
(dataclasses, dicts, strings); nothing imports Textual, so these functions are
safe to call inside thread workers (each worker opens its own ``Store``: one
SQLite connection per thread) and easy to test without a terminal.

Record text is passed through ``msptui.literal.visible`` by the *widgets*, not
here, so the values stay faithful to the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any


# The core (pydantic models, sqlite_utils) is imported inside the functions that
# need it: the home screen's first paint needs only client_rows(), which reads
# SQLite directly, so a cold start does not wait for those imports.
if TYPE_CHECKING:
    from msptui.models import ChecklistItem, Client, Evidence, Incident, InsurancePolicy, Note, Review, RiskAcceptance
    from msptui.store import Store


def load_catalog():
    from msptui.catalog import load_catalog as load

    return load()


SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "moderate": 2, "low": 3, "info": 4, "information": 4}
EXPIRING_DAYS = 30


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------
# Home
# ---------------------------------------------------------------------------


@dataclass
class ClientRow:
    id: str
    name: str
    engagement: str
    key: str = ""  # lower-cased "name id" for filtering

    def __post_init__(self) -> None:
        self.key = f"{self.name} {self.id}".casefold()


def client_rows(store: Store) -> list[ClientRow]:
    """Every client, by name: one SQL query, no model validation (10k rows in ~25 ms).

    The rows come back as ONE JSON array (json_group_array), not one Python row
    per client. At start-up this runs in a worker beside a busy UI thread, and
    sqlite3 gives up and re-takes the GIL around every step: one step per client
    made the worker wait on the UI thread 10,000 times (cold start at 10,000
    clients: ~0.42 s with per-row fetching, ~0.37 s with one JSON array).
    """
    import json

    (packed,) = store.conn.execute(
        "SELECT json_group_array(json_array(id, json_extract(data, '$.name'), json_extract(data, '$.engagement'))) FROM clients"
    ).fetchone()
    out = [ClientRow(cid, name or cid, eng or "") for cid, name, eng in json.loads(packed or "[]")]
    out.sort(key=lambda r: (r.name.casefold(), r.id))
    return out


def open_incident_counts(store: Store) -> dict[str, int]:
    rows = store.conn.execute(
        "SELECT json_extract(data, '$.client_id') AS cid, count(*) AS n FROM incidents "
        "WHERE json_extract(data, '$.status') != 'closed' GROUP BY cid"
    ).fetchall()
    return {r["cid"]: r["n"] for r in rows}


def filter_rows(rows: list[ClientRow], query: str) -> list[ClientRow]:
    """Every whitespace-separated word of ``query`` must occur in the name or id."""
    words = query.casefold().split()
    if not words:
        return rows
    if len(words) == 1:
        w = words[0]
        return [r for r in rows if w in r.key]
    return [r for r in rows if all(w in r.key for w in words)]


# ---------------------------------------------------------------------------
# Posture (msptui.posture) plus the open-incident badge
# ---------------------------------------------------------------------------


def posture(store: Store, now: datetime | None = None) -> tuple[list[Any], dict[str, list[str]], str]:
    """(findings, badges per client, source) from msptui.posture.

    "open incident" is added from the incident table: posture judges
    readiness; an open incident is a fact of the day.
    """
    from msptui import posture as engine

    findings = list(engine.assess(store, now=now or now_utc()))
    badges = {k: list(v) for k, v in engine.badges(findings).items()}
    for cid, n in open_incident_counts(store).items():
        tag = "INCIDENT" if n == 1 else f"INCIDENTx{n}"
        if not any(b.upper().startswith("INCIDENT") for b in badges.get(cid, [])):
            badges.setdefault(cid, []).append(tag)
    return findings, badges, "msptui.posture"


def severity_rank(severity: Any) -> int:
    return SEVERITY_RANK.get(str(getattr(severity, "value", severity)).lower(), 9)


def severity_word(severity: Any) -> str:
    return str(getattr(severity, "value", severity)).upper()


def finding_section(finding: Any) -> tuple[str, str | None]:
    """Which client-screen section a finding points at, and the record or scope item to mark."""
    code = str(getattr(finding, "code", "")).lower()
    evidence = getattr(finding, "evidence", None)
    record = getattr(finding, "record_id", None)
    catalog = load_catalog()
    words = evidence if isinstance(evidence, (list, tuple)) else str(evidence or "").replace(",", " ").replace(":", " ").split()
    item = next((w for w in words if isinstance(w, str) and w in catalog.items), None)
    if "incident" in code:
        return "incidents", record
    if "declin" in code or "accept" in code:
        return "declined", record or item
    if "scope" in code or "silent" in code or "address" in code:
        return "scope", item
    if "review" in code or "educ" in code:
        return "reviews", record
    if "insur" in code or "polic" in code or "cyber" in code:
        return "insurance", record
    if "msa" in code or "agree" in code or "sign" in code or "contract" in code or "liab" in code or "clause" in code:
        return "agreements", record
    return ("scope", item) if item else ("agreements", record)


# ---------------------------------------------------------------------------
# Incident
# ---------------------------------------------------------------------------


def relevant_items(category: str) -> tuple[list[str], str]:
    """Scope items relevant to an incident category, and where that list came from (msptui.coverage)."""
    from msptui.coverage import relevant_items as core

    basis, items = core(category)
    return items, basis


def _fmt(dt: datetime | None, tz: str) -> str:
    if dt is None:
        return "-"
    from msptui.timeutil import fmt_local_and_utc

    return fmt_local_and_utc(dt, tz)


from msptui.countdown import countdown, item_countdown, span  # noqa: E402,F401  (re-exported for the screens)


@dataclass
class CoverageRow:
    item: str
    label: str
    state: str
    clause: str
    basis: str
    reviews: list[str] = field(default_factory=list)


@dataclass
class PolicyClock:
    side: str
    policy: InsurancePolicy
    status: str
    notice: str
    due: datetime | None
    target: datetime | None
    warnings: list[str]


@dataclass
class IncidentBundle:
    incident: Incident
    client: Client
    items: list[ChecklistItem]
    coverage: list[CoverageRow]
    coverage_source: str
    clocks: list[PolicyClock]
    timeline: list[tuple[datetime, str, str, str]]  # at, who, what, text
    evidence: list[Evidence]
    head: int


def coverage(store: Store, client: Client, incident: Incident) -> tuple[list[CoverageRow], str]:
    """The incident's coverage panel: msptui.coverage rows as of discovery, shaped for the list widget."""
    from msptui.coverage import coverage_rows
    from msptui.models import Agreement, Review, RiskAcceptance
    from msptui.scope import scope_as_of

    acceptances = store.all(RiskAcceptance, client_id=client.id)
    scope = scope_as_of(client, store.all(Agreement, client_id=client.id), incident.discovered.at, acceptances=acceptances)
    basis, rows = coverage_rows(incident.category, scope, store.all(Review, client_id=client.id), acceptances)
    return [
        CoverageRow(r["item"], r["label"], r["state"], r.get("clause") or "-", r["basis"], [x["text"] for x in r["reviews"]])
        for r in rows
    ], basis


def policy_clocks(store: Store, client: Client, incident: Incident) -> list[PolicyClock]:
    from msptui.applicability import policy_deadline
    from msptui.models import InsurancePolicy
    from msptui.picture import notice_text, policy_status

    day = incident.discovered.local().date()
    out = []
    for p in store.all(InsurancePolicy):
        if p.owner == "client" and p.client_id != client.id:
            continue
        try:
            d = policy_deadline(p, incident.discovered.at, incident.discovered.tz)
            due, target, warnings = d.due, d.internal_target, list(d.warnings)
        except Exception as exc:  # a policy we cannot compute must not hide the others
            due, target, warnings = None, None, [f"cannot compute the notice clock: {exc}"]
        out.append(PolicyClock(p.owner, p, policy_status(p, day), notice_text(p), due, target, warnings))
    out.sort(key=lambda c: (c.side != "client", c.policy.period_end < day, c.policy.id))
    return out


def timeline(incident: Incident, items: list[ChecklistItem], notes: list[Note], evidence: list[Evidence]) -> list[tuple[datetime, str, str, str]]:
    rows: list[tuple[datetime, str, str, str]] = [
        (incident.discovered.at, incident.reported_by or "-", "discovered", incident.summary),
    ]
    for n in notes:
        rows.append((n.at.at, n.author, "note", n.text))
    for it in items:
        if it.updated_at and it.status != "open":
            rows.append((it.updated_at, it.updated_by or "-", it.status.replace("_", " "), it.title))
    for e in evidence:
        rows.append((e.acquired.at, e.acquired_by, "evidence", f"{e.name} sha256 {e.sha256[:16]}... {e.size} bytes"))
    rows.sort(key=lambda r: r[0])
    return rows


def incident_bundle(store: Store, incident_id: str) -> IncidentBundle:
    from msptui.incidents import checklist, get_incident
    from msptui.models import Client, Evidence, Note

    incident = get_incident(store, incident_id)
    client = store.get(Client, incident.client_id)
    items = checklist(store, incident_id)
    notes = store.all(Note, incident_id=incident_id)
    evidence = store.all(Evidence, incident_id=incident_id)
    cov, source = coverage(store, client, incident)
    return IncidentBundle(
        incident=incident,
        client=client,
        items=items,
        coverage=cov,
        coverage_source=source,
        clocks=policy_clocks(store, client, incident),
        timeline=timeline(incident, items, notes, evidence),
        evidence=evidence,
        head=store.head()[0],
    )


def fmt_at(dt: datetime | None, tz: str) -> str:
    return _fmt(dt, tz)


def money(currency: str, amount: int | None) -> str:
    return "-" if amount is None else f"{currency} {amount:,}"


def spaced_phone(number: str) -> str:
    """A hotline laid out to be read aloud: digit groups separated by wide gaps."""
    groups = [g for g in number.replace("-", " ").replace(".", " ").split() if g]
    return "   ".join(groups) if groups else number


def today_for(client: Client, now: datetime | None = None) -> date:
    from zoneinfo import ZoneInfo

    return (now or now_utc()).astimezone(ZoneInfo(client.home_tz)).date()
