"""The distribution log: every export is an event saying to whom which dossier went.

Courts ask to whom work product was distributed. ``msptui export INCIDENT
--to "NAME, ORG"`` (repeatable) names the recipients; the export records a
history-only ``dossier.exported`` event about the client (so it is in that
client's chain, and in no other client's dossier) with the recipients, the
marking, the generation instant, the chain head the dossier describes, the
signing key and the SHA-256 of its manifest.json. It is appended after the
folder is complete and before it is renamed into place: a dossier folder
exists only if its distribution was recorded. Every later dossier of the
incident lists the earlier distributions (``distribution_rows``), and
``verify-dossier`` against the database requires the event for the folder's
manifest.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..chain import Event
from ..errors import UserError

KIND = "dossier.exported"
MAX_RECIPIENT = 300


def parse_recipient(text: str) -> dict[str, str | None]:
    """'Jane Roe, Roe & Partners LLP' -> {"name": "Jane Roe", "organisation": "Roe & Partners LLP"}.

    The organisation is everything after the first comma (optional); the
    name is required. Control and bidi characters are refused.
    """
    from ..literal import one_line

    raw = text if isinstance(text, str) else ""
    if len(raw) > MAX_RECIPIENT:
        raise UserError(f"--to: {len(raw):,} characters is longer than the {MAX_RECIPIENT} allowed")
    if one_line(raw) != raw:
        raise UserError(f"--to {one_line(raw)!r}: contains a control, bidi or line-separator character")
    name, _, org = raw.partition(",")
    name, org = name.strip(), org.strip()
    if not name:
        raise UserError(f"--to {raw!r}: expected \"NAME, ORGANISATION\" (a name is required)")
    return {"name": name, "organisation": org or None}


def recipient_text(recipient: dict[str, Any]) -> str:
    org = recipient.get("organisation")
    return f"{recipient.get('name')}, {org}" if org else str(recipient.get("name"))


def payload(data: dict, *, manifest_sha256: str, folder: str) -> dict[str, Any]:
    """The dossier.exported event for a dossier about to be written."""
    return {
        "client_id": data["client"]["id"],
        "incident_id": data["incident"]["id"],
        "recipients": data.get("recipients") or [],
        "marking": data["marking"],
        "privileged": data["privileged"],
        "generated_at": data["generated_at"],
        "chain_head": data["chain_head"],
        "signing_key": (data.get("signing_key") or {}).get("fingerprint"),
        "manifest_sha256": manifest_sha256,
        "folder": folder,
    }


def distribution_rows(events: Iterable[Event], incident_id: str, when) -> list[dict[str, Any]]:
    """Earlier distributions of this incident's dossiers, oldest first, as the dossier lists them."""
    rows = []
    for e in events:
        if e.kind != KIND or e.payload.get("incident_id") != incident_id:
            continue
        p = e.payload
        recipients = [r for r in p.get("recipients") or [] if isinstance(r, dict)]
        rows.append({
            "event_id": e.id, "at": e.at, "at_text": when(e.recorded_at, e.tz), "by": e.operator_name(),
            "recipients": recipients, "recipients_text": "; ".join(recipient_text(r) for r in recipients) or "not stated",
            "marking": p.get("marking"), "generated_at": p.get("generated_at"),
            "generated_at_text": _instant_text(p.get("generated_at"), when), "chain_head": p.get("chain_head"),
            "signing_key": p.get("signing_key"), "manifest_sha256": p.get("manifest_sha256"), "folder": p.get("folder"),
        })
    return rows


def _instant_text(stamp: object, when) -> str:
    """A recorded UTC stamp as the dossier writes instants (as recorded if it is not one)."""
    from ..chain import parse_stamp

    if not isinstance(stamp, str):
        return ""
    try:
        return when(parse_stamp(stamp), None)
    except ValueError:
        return stamp
