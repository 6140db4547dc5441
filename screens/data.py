"""Thin read adapters between the headless core and the screens.

Everything here takes an open ``Store`` and returns plain Python values
(dataclasses, dicts, strings); nothing imports Textual, so these functions are
safe to call inside thread workers (each worker opens its own ``Store``: one
SQLite connection per thread) and easy to test without a terminal.

Record text is passed through ``msptui.literal.visible`` by the *widgets*, not
here, so the values stay faithful to the records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

from msptui.paths import DATA_DIR

# The core (pydantic models, sqlite_utils) is imported inside the functions that
# need it: the home screen's first paint needs only client_rows(), which reads
# SQLite directly, so a cold start does not wait for those imports.
if TYPE_CHECKING:
    from msptui.models import ChecklistItem, Client, Evidence, Incident, InsurancePolicy, Note, Review, RiskAcceptance
    from msptui.store import Store


def load_catalog():
    from msptui.catalog import load_catalog as load

    return load()

#: incident category (msptui.models.INCIDENT_CATEGORIES) -> incident type in veris-scope-map.json
CATEGORY_TO_VERIS = {
    "ransomware": "ransomware",
    "bec": "bec",
    "phishing": "phishing_malware",
    "credential_compromise": "credential_stuffing",
    "lost_device": "lost_stolen_device",
    "insider_misuse": "insider_misuse",
    "third_party": "third_party_supply_chain",
    "exploited_vulnerability": "exploited_vulnerability",
    "misconfiguration": "misconfiguration_exposure",
    "ddos": "dos",
}

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
    """Every client, by name: one SQL query, no model validation (10k rows in ~10 ms)."""
    rows = store.conn.execute(
        "SELECT id, json_extract(data, '$.name') AS name, json_extract(data, '$.engagement') AS eng FROM clients"
    ).fetchall()
    out = [ClientRow(r["id"], r["name"] or r["id"], r["eng"] or "") for r in rows]
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
# Posture: msptui.posture when present, else built-in checks
# ---------------------------------------------------------------------------


@dataclass
class SimpleFinding:
    """The shape of msptui.posture.Finding, for the built-in fallback checks."""

    client_id: str
    code: str
    severity: str
    message: str
    evidence: Any = None
    fix: str = ""
    why: str = ""


def _group(records: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for r in records:
        out[getattr(r, "client_id", None)].append(r)
    return out


def builtin_findings(store: Store, today: date | None = None) -> list[SimpleFinding]:
    """Breach-relevant gaps, computed here only while msptui.posture does not exist."""
    from msptui.models import Agreement, Client, Incident, InsurancePolicy, Review, RiskAcceptance
    from msptui.scope import agreements_in_force, scope_as_of

    today = today or date.today()
    catalog = load_catalog()
    clients = store.all(Client)
    agreements = _group(store.all(Agreement))
    acceptances = _group(store.all(RiskAcceptance))
    reviews = _group(store.all(Review))
    policies = _group(p for p in store.all(InsurancePolicy) if p.owner == "client")
    incidents = _group(i for i in store.all(Incident) if i.status != "closed")
    out: list[SimpleFinding] = []
    for c in clients:
        ags = agreements.get(c.id, [])
        live = agreements_in_force(ags, today)
        if not any(a.type == "msa" and a.signature.status == "signed" for a in live):
            out.append(SimpleFinding(c.id, "no_signed_msa", "critical", "no signed MSA in force today",
                                     fix="get the MSA signed", why="no written agreement: scope is whatever a court infers"))
        scope = scope_as_of(c, ags, today, acceptances=acceptances.get(c.id, []), catalog=catalog)
        silent = [s.item for s in scope.values() if s.security_relevant and s.state == "not_addressed"]
        if silent:
            out.append(SimpleFinding(c.id, "scope_silent", "high", f"scope silent on {len(silent)} security items",
                                     evidence=silent, fix="state each item's scope in writing",
                                     why="an item the contract never mentions is argued either way after a breach"))
        unsigned = [s.item for s in scope.values() if s.state == "declined" and not s.acceptance_signed]
        if unsigned:
            out.append(SimpleFinding(c.id, "declined_unsigned", "high", f"{len(unsigned)} declined without a signature",
                                     evidence=unsigned, fix="get the risk acceptance signed",
                                     why="a verbal decline is the MSP's word against the client's"))
        revs = reviews.get(c.id, [])
        last = max((r.held_on for r in revs), default=None)
        if last is None or (today - last).days > c.review_cadence_days:
            msg = "no review on record" if last is None else f"review overdue (last {last.isoformat()})"
            out.append(SimpleFinding(c.id, "review_overdue", "medium", msg, fix="hold the business review",
                                     why="promised reviews that did not happen decided lawsuits against MSPs"))
        pols = policies.get(c.id, [])
        current = [p for p in pols if p.period_start <= today <= p.period_end]
        if not current:
            msg = "client insurance expired" if pols else "no client insurance on record"
            out.append(SimpleFinding(c.id, "insurance_expired", "high", msg, fix="record the current policy"))
        elif all((p.period_end - today).days <= EXPIRING_DAYS for p in current):
            end = max(p.period_end for p in current)
            out.append(SimpleFinding(c.id, "insurance_expiring", "medium", f"client insurance ends {end.isoformat()}",
                                     fix="confirm the renewal"))
        for inc in incidents.get(c.id, []):
            out.append(SimpleFinding(c.id, "open_incident", "critical", f"open incident {inc.id} ({inc.category})",
                                     evidence=inc.id))
    return out


_BADGE = {
    "no_signed_msa": "NO-MSA",
    "scope_silent": "SILENT",
    "declined_unsigned": "DECL-UNSIGNED",
    "review_overdue": "REVIEW",
    "insurance_expired": "INS-EXPIRED",
    "insurance_expiring": "INS-EXPIRING",
    "open_incident": "INCIDENT",
}


def builtin_badges(findings: Iterable[SimpleFinding]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        badge = _BADGE.get(f.code, f.code.upper()[:12])
        if badge not in out[f.client_id]:
            out[f.client_id].append(badge)
    return dict(out)


def posture(store: Store, now: datetime | None = None) -> tuple[list[Any], dict[str, list[str]], str]:
    """(findings, badges per client, source) from msptui.posture, else the built-in checks.

    "open incident" is always added from the incident table (a posture engine
    judges readiness; an open incident is a fact of the day).
    """
    now = now or now_utc()
    try:
        from msptui import posture as engine  # noqa: PLC0415 - optional, written concurrently
    except ImportError:
        engine = None
    if engine is not None:
        findings = list(engine.assess(store, now=now))
        badges = {k: list(v) for k, v in engine.badges(findings).items()}
        source = "msptui.posture"
    else:
        findings = builtin_findings(store, now.date())
        badges = builtin_badges(findings)
        return findings, badges, "built-in checks (msptui.posture not installed)"
    for cid, n in open_incident_counts(store).items():
        tag = "INCIDENT" if n == 1 else f"INCIDENTx{n}"
        if not any(b.upper().startswith("INCIDENT") for b in badges.get(cid, [])):
            badges.setdefault(cid, []).append(tag)
    return findings, badges, source


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
    """Scope items relevant to an incident category, and where that list came from."""
    catalog = load_catalog()
    path = DATA_DIR / "veris-scope-map.json"
    veris = CATEGORY_TO_VERIS.get(category)
    if veris and path.exists():
        try:
            types = json.loads(path.read_text(encoding="utf-8")).get("incident_types", {})
            primary = [i for i in types.get(veris, {}).get("primary", []) if isinstance(i, str)]
        except (OSError, ValueError):
            primary = []
        if primary:
            return primary, f"veris-scope-map.json incident type '{veris}'"
    return [i.id for i in catalog.security_items()], "all security-relevant scope items (no specific map for this category)"


def _fmt(dt: datetime | None, tz: str) -> str:
    if dt is None:
        return "-"
    from msptui.timeutil import fmt_local_and_utc

    return fmt_local_and_utc(dt, tz)


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


SOON_SECONDS = 6 * 3600


def countdown(due: datetime | None, status: str, now: datetime) -> tuple[str, str]:
    """(label, kind): words, never colour alone. kind in done/na/blocked/overdue/soon/due/none."""
    if status == "done":
        return "done", "done"
    if status == "not_applicable":
        return "n/a", "na"
    prefix = "BLOCKED " if status == "blocked" else ""
    if due is None:
        return prefix + "no fixed due", "blocked" if prefix else "none"
    left = (due - now).total_seconds()
    if left < 0:
        return f"{prefix}OVERDUE {span(left)}", "overdue"
    if left <= SOON_SECONDS:
        return f"{prefix}DUE SOON {span(left)}", "soon"
    return f"{prefix}due {span(left)}", "blocked" if prefix else "due"


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


def _review_refs(reviews: list[Review], acceptances: list[RiskAcceptance]) -> dict[str, list[str]]:
    refs: dict[str, list[str]] = defaultdict(list)
    for r in sorted(reviews, key=lambda r: r.held_on):
        for rec in r.recommendations:
            if rec.item:
                when = f" {rec.decided_on.isoformat()}" if rec.decided_on else ""
                refs[rec.item].append(f"review {r.id} ({r.held_on.isoformat()}): recommended, {rec.decision}{when}")
    for a in acceptances:
        if a.review_id is None:
            signed = "signed" if a.acknowledgement else "NOT signed"
            refs[a.item].append(f"risk acceptance {a.id}: {a.decision} ({signed})")
    return refs


def coverage(store: Store, client: Client, incident: Incident) -> tuple[list[CoverageRow], str]:
    from msptui.models import Agreement, Review, RiskAcceptance
    from msptui.scope import scope_as_of

    items, source = relevant_items(incident.category)
    acceptances = store.all(RiskAcceptance, client_id=client.id)
    scope = scope_as_of(client, store.all(Agreement, client_id=client.id), incident.discovered.at, acceptances=acceptances)
    refs = _review_refs(store.all(Review, client_id=client.id), acceptances)
    catalog = load_catalog()
    rows = []
    for item in items:
        entry = scope.get(item)
        if entry is None:
            rows.append(CoverageRow(item, catalog.label(item), "not_addressed", "-", "not in the scope catalogue", refs.get(item, [])))
            continue
        rows.append(CoverageRow(item, entry.label, entry.state, entry.clause or "-", entry.describe(), refs.get(item, [])))
    return rows, source


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
