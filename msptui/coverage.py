"""Coverage for an incident: the scope items that bear on "was this covered?".

Which items are relevant comes from data/veris-scope-map.json (VERIS incident
types and varieties joined to the scope catalogue through CIS Controls v8).
For each relevant item the coverage row says its state as of discovery, the
clause, factual wording for a lawyer, and every review or risk acceptance
where it was recommended, accepted or declined. The TUI's coverage panel and
the dossier's coverage matrix are both this list.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Iterable

from .catalog import load_catalog
from .models import NOT_ADDRESSED, Review, RiskAcceptance
from .paths import DATA_DIR
from .scope import ResolvedScope

#: msptui incident categories -> veris-scope-map.json incident_types keys
CATEGORY_TO_TYPE = {
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
#: categories with no incident type: a VERIS variety instead
CATEGORY_TO_VARIETY = {"data_exfiltration": "action.malware.variety.Export data"}

STATE_LABEL = {
    "included": "Included",
    "excluded": "Excluded",
    "declined": "Declined",
    "client_responsibility": "Client responsibility",
    "third_party": "Third party",
    "not_applicable": "Not applicable",
    NOT_ADDRESSED: "Not addressed",
}


@lru_cache(maxsize=1)
def _veris_map() -> dict:
    return json.loads((DATA_DIR / "veris-scope-map.json").read_text(encoding="utf-8"))


def relevant_items(category: str) -> tuple[str, list[str]]:
    """(basis text, scope item ids) relevant to an incident category."""
    raw = _veris_map()
    if category in CATEGORY_TO_TYPE:
        key = CATEGORY_TO_TYPE[category]
        return f"veris-scope-map.json incident type '{key}' (primary items)", list(raw["incident_types"][key]["primary"])
    if category in CATEGORY_TO_VARIETY:
        key = CATEGORY_TO_VARIETY[category]
        entry = raw["varieties"][key]
        return (f"veris-scope-map.json variety '{key}' (primary and secondary items)",
                list(entry.get("primary", [])) + list(entry.get("secondary", [])))
    items = [i.id for i in load_catalog().security_items()]
    return f"category '{category}' has no specific mapping: every security-relevant catalogue item is listed", items


def state_text(entry: ResolvedScope) -> str:
    """The state in words, with whether a decline is backed by a signature."""
    label = STATE_LABEL.get(entry.state, entry.state)
    if entry.state == "declined":
        if entry.acceptance_id is None:
            return f"{label} \u2014 no risk-acceptance record"
        return f"{label} \u2014 " + ("with signed acceptance" if entry.acceptance_signed else "acceptance NOT signed")
    return label


def review_history(reviews: Iterable[Review], acceptances: Iterable[RiskAcceptance], item: str) -> list[dict]:
    """Every review recommendation and risk acceptance about one scope item, oldest first."""
    rows = []
    for review in sorted(reviews, key=lambda r: (r.held_on, r.id)):
        for rec in review.recommendations:
            if rec.item == item:
                rows.append({
                    "review_id": review.id,
                    "held_on": review.held_on.isoformat(),
                    "type": review.type,
                    "recommendation": rec.text,
                    "decision": rec.decision,
                    "decided_on": rec.decided_on.isoformat() if rec.decided_on else None,
                    "text": f"{review.type} review {review.held_on.isoformat()} ({review.id}): recommended; "
                            f"decision {rec.decision}" + (f" on {rec.decided_on.isoformat()}" if rec.decided_on else ""),
                })
    for acc in sorted(acceptances, key=lambda a: (a.recommended_on, a.id)):
        if acc.item != item:
            continue
        ack = acc.acknowledgement
        signed = f"; acknowledgement signed by {ack.signed_by} on {ack.signed_at.date().isoformat()}" if ack else "; NO signed acknowledgement"
        rows.append({
            "risk_acceptance_id": acc.id,
            "review_id": acc.review_id,
            "recommended_on": acc.recommended_on.isoformat(),
            "recommendation": acc.recommendation,
            "decision": acc.decision,
            "decided_on": acc.decided_on.isoformat() if acc.decided_on else None,
            "signed": ack is not None,
            "text": f"risk acceptance {acc.id}: recommended {acc.recommended_on.isoformat()}"
                    + (f" at review {acc.review_id}" if acc.review_id else "")
                    + f"; decision {acc.decision}" + (f" on {acc.decided_on.isoformat()}" if acc.decided_on else "")
                    + (signed if acc.decision != "pending" else ""),
        })
    return rows


def coverage_rows(category: str, scope: dict[str, ResolvedScope], reviews: list[Review],
                  acceptances: list[RiskAcceptance]) -> tuple[str, list[dict]]:
    """(basis of the item list, one row per item) for an incident of ``category``.

    The rows are the items relevant to the category (``relevant: True``), then
    every other item the client declined or kept as its own responsibility
    (``relevant: False``): a decline or a client-owned control is part of the
    answer to "what were you responsible for?" whatever the incident type.
    """
    basis, item_ids = relevant_items(category)
    catalog = load_catalog()
    rows = []
    for item_id in item_ids:
        entry = scope.get(item_id)
        if entry is None:
            rows.append({"item": item_id, "label": catalog.label(item_id), "state": NOT_ADDRESSED,
                         "state_text": STATE_LABEL[NOT_ADDRESSED],
                         "basis": "not in the scope catalogue and not named by any agreement in force",
                         "clause": None, "reviews": [], "relevant": True})
            continue
        rows.append(_row(entry, reviews, acceptances, relevant=True))
    shown = set(item_ids)
    for entry in sorted(scope.values(), key=lambda e: (e.state, e.category, e.label)):
        if entry.item not in shown and entry.state in ("declined", "client_responsibility"):
            rows.append(_row(entry, reviews, acceptances, relevant=False))
    return basis, rows


def _row(entry: ResolvedScope, reviews: list[Review], acceptances: list[RiskAcceptance], *, relevant: bool) -> dict:
    return {**entry.as_dict(), "state_text": state_text(entry), "basis": entry.describe(),
            "reviews": review_history(reviews, acceptances, entry.item), "relevant": relevant}
