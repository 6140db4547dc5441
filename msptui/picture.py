"""The liability picture of one client, as of a moment.

One function gathers what ``show`` prints, what the TUI's client screen
displays and what the dossier's contractual section is built from: the
agreement stack in force and its signatures, the scope by state, insurance on
both sides, reviews and declined recommendations.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from . import insurance
from .errors import UserError
from .models import NOT_ADDRESSED, Agreement, Client, Incident, InsurancePolicy, Review, RiskAcceptance, ScopeState
from .scope import agreements_in_force, local_date, scope_as_of
from .store import Store

STATE_ORDER = [s.value for s in ScopeState] + [NOT_ADDRESSED]


def signature_text(agreement: Agreement) -> str:
    sig = agreement.signature
    if sig.status == "signed" and sig.signed_at:
        who = ", ".join(f"{s.name} ({s.side})" for s in sig.signatories)
        return f"signed {sig.signed_at.date().isoformat()}" + (f" by {who}" if who else "") + (f" via {sig.method}" if sig.method else "")
    return sig.status.upper().replace("_", " ")


def _agreement_row(a: Agreement) -> dict[str, Any]:
    return {
        "id": a.id,
        "type": a.type,
        "title": a.title,
        "version": a.version,
        "effective_from": a.effective_from.isoformat(),
        "effective_to": a.effective_to.isoformat() if a.effective_to else None,
        "supersedes": a.supersedes,
        "signature_status": a.signature.status,
        "signature": signature_text(a),
        "document": a.document.model_dump(mode="json") if a.document else None,
        "clauses": [c.model_dump(mode="json") for c in a.clauses],
    }


def _policy_row(p: InsurancePolicy, day: date) -> dict[str, Any]:
    return {**p.model_dump(mode="json"), "status": insurance.status_text(p, day),
            "status_code": insurance.status_on(p, day), "notice_text": insurance.notice_text(p)}


def load_client(store: Store, client_id: str) -> Client:
    client = store.get(Client, client_id)
    if client is None:
        raise UserError(f"no client with id {client_id!r} (see 'msptui clients')")
    return client


def liability_picture(store: Store, client_id: str, at: datetime | None = None) -> dict[str, Any]:
    client = load_client(store, client_id)
    at = at or datetime.now(timezone.utc)
    day = local_date(client, at)  # == insurance.policy_day(client, at): one calendar for scope and policies
    agreements = store.all(Agreement, client_id=client.id)
    acceptances = store.all(RiskAcceptance, client_id=client.id)
    scope = scope_as_of(client, agreements, at, acceptances=acceptances)
    by_state: dict[str, list[dict]] = {state: [] for state in STATE_ORDER}
    for entry in scope.values():
        by_state[entry.state].append({**entry.as_dict(), "basis": entry.describe()})
    policies = insurance.relevant(store.all(InsurancePolicy), client)
    reviews = sorted(store.all(Review, client_id=client.id), key=lambda r: r.held_on, reverse=True)
    return {
        "client": client.model_dump(mode="json"),
        "as_of": at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "as_of_local_date": day.isoformat(),
        "agreements_in_force": [_agreement_row(a) for a in agreements_in_force(agreements, day)],
        "agreements": [_agreement_row(a) for a in sorted(agreements, key=lambda a: (a.effective_from, a.id))],
        "scope": {state: rows for state, rows in by_state.items() if rows},
        "insurance": {
            "client": [_policy_row(p, day) for p in policies if p.owner == "client" and p.client_id == client.id],
            "msp": [_policy_row(p, day) for p in policies if p.owner == "msp"],
        },
        "reviews": [r.model_dump(mode="json") for r in reviews],
        "declined": [
            {**r.model_dump(mode="json"), "signed": r.acknowledgement is not None}
            for r in acceptances
            if r.decision == "declined"
        ],
        "incidents": [i.model_dump(mode="json") for i in store.all(Incident, client_id=client.id)],
    }


def render_text(p: dict[str, Any]) -> str:
    """Plain text for ``msptui show``: literal, no markup, fits 80 columns where it can."""
    return "\n".join(render_lines(p))


def render_lines(p: dict[str, Any]) -> list[str]:
    """The lines of ``render_text`` (the CLI prints each through ``say``: a field never starts a line of its own)."""
    c = p["client"]
    lines = [
        f"{c['name']}  ({c['id']})",
        f"engagement {c['engagement']}  zone {c['home_tz']}  as of {p['as_of']} (local date {p['as_of_local_date']})",
        "",
        "AGREEMENTS IN FORCE",
    ]
    if not p["agreements_in_force"]:
        lines.append("  (none: no agreement is in force on this date)")
    for a in p["agreements_in_force"]:
        lines.append(f"  {a['type'].upper():<9} {a['title']} v{a['version']}  from {a['effective_from']}  {a['signature']}")
        for clause in a["clauses"]:
            lines.append(f"            {clause['kind'].replace('_', ' ')}: {clause['section']}")
    lines += ["", "SCOPE BY STATE"]
    for state, rows in p["scope"].items():
        lines.append(f"  {state.replace('_', ' ').upper()} ({len(rows)})")
        for r in rows:
            ref = f"  [{r['clause']}]" if r.get("clause") else ""
            lines.append(f"    {r['item']:<26}{ref}")
    lines += ["", "INSURANCE"]
    for side in ("client", "msp"):
        for pol in p["insurance"][side]:
            lines.append(f"  {side.upper():<6} {pol['type']:<8} {pol['carrier']} #{pol['policy_number']}  {pol['status']}")
            retention = "not recorded" if pol["retention"] is None else f"{pol['retention']:,}"
            lines.append(f"         limit {pol['currency']} {pol['limit_aggregate']:,}  retention {retention}")
            lines.append(f"         {pol['notice_text']}")
            if pol.get("hotline"):
                lines.append(f"         HOTLINE {pol['hotline']}")
        if not p["insurance"][side]:
            lines.append(f"  {side.upper():<6} no policy on record")
    lines += ["", "REVIEWS (newest first)"]
    for r in p["reviews"][:5]:
        edu = "security education given" if r["security_education"] else "NO security education recorded"
        lines.append(f"  {r['held_on']}  {r['type']}  {edu}")
        for rec in r["recommendations"]:
            lines.append(f"      rec {rec['item'] or '-'}: {rec['decision']}")
    if not p["reviews"]:
        lines.append("  (no business review on record)")
    lines += ["", "DECLINED RECOMMENDATIONS"]
    for d in p["declined"]:
        lines.append(f"  {d['item']:<22} declined {d['decided_on']}  " + ("signed acceptance" if d["signed"] else "NOT SIGNED"))
        lines.append(f"      id {d['id']}" + ("" if d["signed"] else "  (record the signature: msptui acknowledge ID ...)"))
    if not p["declined"]:
        lines.append("  (none)")
    return lines
