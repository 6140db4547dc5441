"""Incident flows: open an incident, work its checklist, add notes and evidence.

Every function here changes records only through the store's transaction, and
reads what it modifies *inside* that transaction: with several engineers on
one jump box, a read outside the write lock would let one engineer's checklist
change silently overwrite another's.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from . import environment, identity
from .errors import UserError
from .evidence import hash_file
from .models import (
    INCIDENT_CATEGORIES,
    ChecklistItem,
    Client,
    CustodyEntry,
    Evidence,
    Incident,
    Instant,
    Note,
)
from .store import Store

STATUSES = ("open", "done", "not_applicable", "blocked")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _next_number(store: Store, table: str, column: str, prefix: str) -> int:
    """Next free sequence number for ids starting with ``prefix`` (call inside the write lock).

    Constant time whatever the incident's length (``Store.next_number``).
    """
    return store.next_number(prefix, table, column)


def get_incident(store: Store, incident_id: str) -> Incident:
    incident = store.get(Incident, incident_id)
    if incident is None:
        raise UserError(f"no incident with id {incident_id!r} (see 'msptui incidents')")
    return incident


def open_incident(
    store: Store,
    *,
    client_id: str,
    discovered: datetime,
    tz: str,
    category: str,
    summary: str,
    reported_by: str | None = None,
    data_types: Iterable[str] | None = None,
    countries: Iterable[str] | None = None,
    us_states: Iterable[str] | None = None,
    affected_counts: dict[str, int] | None = None,
    ransom_paid: bool = False,
    msp_caused: bool = False,
    plan: Callable[[Store, Client, Incident], tuple[Incident, list[ChecklistItem]]] | None = None,
) -> tuple[Incident, list[ChecklistItem]]:
    """Create the incident and its checklist in one transaction.

    Jurisdictions and data types default to the client's record (the form
    pre-fills them; the engineer narrows them). ``plan`` returns the incident
    (stamped with its obligation assessment and template) and its checklist;
    by default the obligation-aware planner in ``msptui.plan``.
    """
    if category not in INCIDENT_CATEGORIES:
        raise UserError(f"unknown category {category!r}; expected one of: {', '.join(INCIDENT_CATEGORIES)}")
    if discovered.tzinfo is None:
        raise UserError("discovered time needs a zone or offset")
    if discovered > _now():
        raise UserError(f"discovered time {discovered.isoformat()} is in the future")
    if plan is None:
        from .plan import plan_checklist as plan
    with store.transaction():
        client = store.get(Client, client_id)
        if client is None:
            raise UserError(f"no client with id {client_id!r} (see 'msptui clients')")
        local_day = discovered.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
        prefix = f"{client.id}-{local_day}-"
        number = _next_number(store, "incidents", "client_id", prefix)
        incident = Incident.model_validate(
            {
                "id": f"{prefix}{number}",
                "client_id": client.id,
                "category": category,
                "summary": summary,
                "discovered": {"at": discovered, "tz": tz},
                "reported_by": reported_by or identity.person(),
                "data_types": list(data_types) if data_types is not None else list(client.data_held),
                "countries": list(countries) if countries is not None else list(client.countries),
                "us_states": list(us_states) if us_states is not None else list(client.us_states),
                "affected_counts": affected_counts or {},
                "ransom_paid": ransom_paid,
                "msp_caused": msp_caused,
            }
        )
        incident, items = plan(store, client, incident)
        store.put_in_transaction(incident)
        for item in items:
            store.put_in_transaction(item)
    return incident, items


def checklist(store: Store, incident_id: str) -> list[ChecklistItem]:
    get_incident(store, incident_id)
    return sorted(store.all(ChecklistItem, incident_id=incident_id), key=lambda i: (i.order, i.id))


def _find_item(store: Store, incident_id: str, ref: str) -> ChecklistItem:
    for candidate in (ref, f"{incident_id}:{ref}"):
        item = store.get(ChecklistItem, candidate)
        if item is not None and item.incident_id == incident_id:
            return item
    raise UserError(f"incident {incident_id!r} has no checklist item {ref!r} (see 'msptui checklist {incident_id}')")


def set_item(
    store: Store,
    incident_id: str,
    ref: str,
    *,
    status: str | None = None,
    note: str | None = None,
    evidence_id: str | None = None,
    at: datetime | None = None,
) -> ChecklistItem:
    """Change a checklist item's status and/or add a note; who and when come from the OS and clock.

    Marking an item ``not_applicable`` needs a note: that note is the recorded
    rationale of a decision not to act (e.g. not to notify a regulator).
    """
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown status {status!r}; expected one of: {', '.join(STATUSES)}")
    if status is None and note is None and evidence_id is None:
        raise UserError("nothing to change: give --status and/or --note")
    if status == "not_applicable" and not note:
        raise UserError("marking an item not_applicable needs --note with the rationale (who decided and why)")
    with store.transaction():
        get_incident(store, incident_id)
        item = _find_item(store, incident_id, ref)
        if evidence_id is not None:
            evidence = store.get(Evidence, evidence_id) or store.get(Evidence, f"{incident_id}:{evidence_id}")
            if evidence is None or evidence.incident_id != incident_id:
                raise UserError(f"incident {incident_id!r} has no evidence item {evidence_id!r}")
            evidence_id = evidence.id
        update: dict = {"updated_by": identity.person(), "updated_at": at or _now()}
        if status is not None:
            update["status"] = status
            if status == "not_applicable":
                update["reason"] = note
        if note:
            update["notes"] = [*item.notes, note]
        if evidence_id and evidence_id not in item.evidence_ids:
            update["evidence_ids"] = [*item.evidence_ids, evidence_id]
        changed = ChecklistItem.model_validate({**item.model_dump(), **update})
        store.put_in_transaction(changed)
        if status == "done" and changed.rule:
            from .plan import refresh_chained

            refresh_chained(store, changed)
    return changed


def add_note(store: Store, incident_id: str, text: str, *, tz: str | None = None) -> Note:
    if not text.strip():
        raise UserError("a note needs some text")
    with store.transaction():
        incident = get_incident(store, incident_id)
        prefix = f"{incident_id}:note-"
        number = _next_number(store, "notes", "incident_id", prefix)
        note = Note.model_validate(
            {
                "id": f"{prefix}{number}",
                "incident_id": incident_id,
                "client_id": incident.client_id,
                "at": {"at": _now(), "tz": tz or environment.local_zone()},
                "author": identity.person(),
                "text": text,
            }
        )
        store.put_in_transaction(note)
    return note


def add_evidence(
    store: Store,
    incident_id: str,
    path: Path | str,
    *,
    name: str | None = None,
    source: str | None = None,
    method: str | None = None,
    location: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Evidence:
    """Hash a file (outside the write lock: it may take minutes) and record it with custody."""
    get_incident(store, incident_id)
    digest = hash_file(path, progress=progress, cancelled=cancelled)
    now = _now()
    actor = identity.person()
    with store.transaction():
        incident = get_incident(store, incident_id)
        prefix = f"{incident_id}:ev-"
        number = _next_number(store, "evidence", "incident_id", prefix)
        evidence = Evidence.model_validate(
            {
                "id": f"{prefix}{number}",
                "incident_id": incident_id,
                "client_id": incident.client_id,
                "name": name or Path(path).name,
                "sha256": digest.sha256,
                "size": digest.size,
                "acquired": {"at": now, "tz": environment.local_zone()},
                "acquired_by": actor,
                "source": source or str(Path(path).resolve()),
                "method": method or "file hashed in place by msptui (SHA-256, streamed)",
                "custody": [CustodyEntry(at=now, by=actor, action="acquired and hashed", location=location or str(Path(path).resolve()))],
            }
        )
        store.put_in_transaction(evidence)
    return evidence
