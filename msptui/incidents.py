"""Incident flows: open an incident, work its checklist, add notes and evidence.

Every function here changes records only through the store's transaction, and
reads what it modifies *inside* that transaction: with several engineers on
one jump box, a read outside the write lock would let one engineer's checklist
change silently overwrite another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from . import environment, identity
from .errors import FieldError, UserError
from .evidence import hash_file
from .models import (
    INCIDENT_CATEGORIES,
    ChecklistItem,
    Client,
    Evidence,
    Incident,
    Note,
    TriggerFact,
    validated,
)
from .store import Store
from .timeutil import FUTURE_TOLERANCE, fmt_local as moment, get_zone

if TYPE_CHECKING:  # the input models are imported where they are used: 'note' needs none of them (start-up)
    from .inputs import FactsDraft, IncidentDraft, OpenIncident

STATUSES = ("open", "done", "not_applicable", "blocked")
Planner = Callable[[Store, Client, Incident], tuple[Incident, list[ChecklistItem]]]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _next_number(store: Store, table: str, column: str, prefix: str) -> int:
    """Next free sequence number for ids starting with ``prefix`` (call inside the write lock).

    Constant time whatever the incident's length (``Store.next_number``).
    """
    return store.next_number(prefix, table, column)


def check_when(incident: Incident, at: datetime, field: str = "--at", *, now: datetime | None = None) -> None:
    """An act cannot happen in the future, nor before the incident began."""
    now = now or datetime.now(timezone.utc)
    tz = incident.discovered.tz
    if at > now + FUTURE_TOLERANCE:
        raise FieldError(field, f"must not be in the future (it is now {moment(now, tz)} here)")
    first = incident.triggers.get("first_activity")
    start, what = (first.at, "the first activity") if first else (incident.discovered.at, "the discovery")
    if at < start:
        raise FieldError(field, f"must not be before {what} ({moment(start, tz)})")


def act_when(incident: Incident, at_text: str | None, tz_text: str | None = None, *,
             now: datetime | None = None) -> tuple[datetime, str]:
    """``--at`` / a form's "when" field as typed: when an act happened (empty: now) and the zone it was observed in
    (empty: the incident's). Refused, naming the field, when it cannot be read, is in the future or before the
    incident began. The one reading of an act's time, for the CLI and the TUI alike."""
    tz = incident.discovered.tz
    if tz_text and tz_text.strip():
        from .inputs import zone

        tz = zone(tz_text.strip(), "--tz")
    if at_text is None or not at_text.strip():
        at = now or datetime.now(timezone.utc)
    else:
        from .inputs import instant

        at = instant(at_text, tz, "--at", now=now)
    check_when(incident, at, now=now)
    return at, tz


def typed_when(incident: Incident, at_text: str | None, tz_text: str | None = None, *,
               now: datetime | None = None) -> datetime | None:
    """``act_when`` for an act whose time is optional: None when no time was typed (it is recorded as of now), but a
    zone typed without a time is still checked, never silently ignored."""
    if not _given(at_text) and not _given(tz_text):
        return None
    at, _tz = act_when(incident, at_text, tz_text, now=now)
    return at if _given(at_text) else None


def _given(text: str | None) -> str | None:
    """A typed value, or None when nothing (or only spaces) was typed."""
    return text.strip() if text is not None and text.strip() else None


def check_file(path: str | Path, field: str) -> Path:
    """A file that can be hashed as evidence (a regular file, not a link, a FIFO or a folder), checked before any
    write or hashing starts; FieldError naming ``field`` otherwise."""
    import os

    from .filesafety import open_regular

    target = Path(path).expanduser()
    try:
        os.close(open_regular(target))
    except UserError as exc:
        text, prefix = str(exc), f"{target}: "
        raise FieldError(field, f"{text[len(prefix):]}: {path}" if text.startswith(prefix) else text) from None
    return target


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
    systems: Iterable[str] = (),
    plan: Planner | None = None,
) -> tuple[Incident, list[ChecklistItem]]:
    """Create the incident and its checklist in one transaction (typed values; see ``open_from_draft`` for typed-in text).

    Jurisdictions and data types default to the client's record (the form
    pre-fills them; the engineer narrows them). ``plan`` returns the incident
    (stamped with its obligation assessment and template) and its checklist;
    by default the obligation-aware planner in ``msptui.plan``.
    """
    if category not in INCIDENT_CATEGORIES:
        raise UserError(f"category: unknown category {category!r}; expected one of: {', '.join(INCIDENT_CATEGORIES)}")
    if discovered.tzinfo is None:
        raise UserError("discovered: the time needs a zone or offset")
    if discovered > _now() + FUTURE_TOLERANCE:
        raise UserError(f"discovered: {discovered.isoformat()} is in the future")
    if not summary.strip():
        raise UserError("summary: a summary is needed (one line: what happened, how it was found)")
    from .inputs import OpenIncident

    with store.transaction():
        client = _client(store, client_id)
        facts = OpenIncident(
            client_id=client.id, discovered=discovered, tz=tz, category=category, summary=summary.strip(),
            reported_by=reported_by,
            data_types=list(data_types) if data_types is not None else list(client.data_held),
            countries=list(countries) if countries is not None else list(client.countries),
            us_states=list(us_states) if us_states is not None else list(client.us_states),
            affected_counts=dict(affected_counts or {}), ransom_paid=ransom_paid, msp_caused=msp_caused,
            systems=list(systems),
        )
        return _create(store, client, facts, plan)


def open_from_draft(store: Store, draft: IncidentDraft, *, plan: Planner | None = None,
                    now: datetime | None = None) -> tuple[Incident, list[ChecklistItem]]:
    """Open an incident from what was typed (CLI options or the report-breach form): one validation for both."""
    with store.transaction():
        client = _client(store, draft.client_id)
        return _create(store, client, draft.resolve(client, now=now), plan)


def _client(store: Store, client_id: str) -> Client:
    client = store.get(Client, client_id)
    if client is None:
        raise UserError(f"no client with id {client_id!r} (see 'msptui clients')")
    return client


def _create(store: Store, client: Client, facts: OpenIncident, plan: Planner | None) -> tuple[Incident, list[ChecklistItem]]:
    """Inside the caller's transaction: number the incident, plan it, write it and its checklist."""
    if plan is None:
        from .plan import plan_checklist as plan
    local_day = facts.discovered.astimezone(get_zone(facts.tz)).strftime("%Y%m%d")
    prefix = f"{client.id}-{local_day}-"
    number = _next_number(store, "incidents", "client_id", prefix)
    incident = validated(Incident, {
        "id": f"{prefix}{number}",
        "client_id": client.id,
        "category": facts.category,
        "summary": facts.summary,
        "discovered": {"at": facts.discovered, "tz": facts.tz},
        "reported_by": facts.reported_by or identity.person(),
        "data_types": facts.data_types,
        "countries": facts.countries,
        "us_states": facts.us_states,
        "affected_counts": facts.affected_counts,
        "ransom_paid": facts.ransom_paid,
        "msp_caused": facts.msp_caused,
        "systems": facts.systems,
    })
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
        incident = get_incident(store, incident_id)
        if at is not None:
            check_when(incident, at)
        item = _find_item(store, incident_id, ref)
        if evidence_id is not None:
            evidence = store.get(Evidence, evidence_id) or store.get(Evidence, f"{incident_id}:{evidence_id}")
            if evidence is None or evidence.incident_id != incident_id:
                raise UserError(f"incident {incident_id!r} has no evidence item {evidence_id!r}")
            evidence_id = evidence.id
        update: dict = {"updated_by": identity.person(), "updated_at": at or _now()}
        if status is not None:
            update["status"] = status
            update["retired_by"] = None  # a person set this status: no longer msptui's re-planning
            if status == "not_applicable":
                update["reason"] = note
        if note:
            update["notes"] = [*item.notes, note]
        if evidence_id and evidence_id not in item.evidence_ids:
            update["evidence_ids"] = [*item.evidence_ids, evidence_id]
        changed = validated(ChecklistItem, {**item.model_dump(), **update})
        store.put_in_transaction(changed)
        if changed.rule and status is not None and (status == "done") != (item.status == "done"):
            # a submission recorded (or withdrawn): the clocks chained to it start (or wait again)
            incident = get_incident(store, incident_id)
            if _planned(incident):
                from .plan import replan

                replan(store, incident, why=f"{changed.step} marked {status}")
                changed = store.get(ChecklistItem, changed.id)
    return changed


def _planned(incident: Incident) -> bool:
    """Whether the incident was planned by msptui.plan (tests and the TUI's demo may use a fixed planner)."""
    return bool(incident.template.get("id"))


def set_facts(store: Store, incident_id: str, draft: FactsDraft, *, planner: Planner | None = None) -> Incident:
    """Change what is known about the incident (one event), then recompute its assessment and checklist.

    Facts that decide obligations (category, data, places, people affected,
    ransom paid, MSP-caused) re-plan; status, summary and the affected systems only change the record.
    """
    with store.transaction():
        incident = get_incident(store, incident_id)
        changes = draft.resolve(incident)
        updated = validated(Incident, {**incident.model_dump(), **changes})
        why = "; ".join(f"{k}: {_brief(getattr(incident, k))} \u2192 {_brief(getattr(updated, k))}" for k in changes)
        if set(changes) - {"status", "summary", "systems"} and (_planned(incident) or planner is not None):
            from .plan import replan

            updated, _items = replan(store, updated, why=why, planner=planner)
        else:
            store.put_in_transaction(updated)
    return updated


def _brief(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "\u2026"


def record_trigger(store: Store, incident_id: str, name: str, *, at: datetime, tz: str, by: str | None = None,
                   agency: str | None = None, until: datetime | None = None, note: str | None = None,
                   planner: Planner | None = None, now: datetime | None = None) -> Incident:
    """Record when a named trigger happened (one event) and start the clocks that run from it."""
    from . import triggers

    triggers.check_name(name)
    fact = validated(TriggerFact, {
        "at": at, "tz": tz, "by": by or None, "agency": agency or None, "until": until, "note": note or "",
        "recorded_by": identity.person(),
    })
    with store.transaction():
        incident = get_incident(store, incident_id)
        triggers.check_fact(incident, name, fact, now=now)
        update: dict = {"triggers": {**incident.triggers, name: fact}}
        if name == "ransom_payment":
            update["ransom_paid"] = True
        updated = incident.model_copy(update=update)
        why = f"{name} recorded at {fact.at.isoformat()}"
        if _planned(incident) or planner is not None:
            from .plan import replan

            updated, _items = replan(store, updated, why=why, planner=planner)
        else:
            store.put_in_transaction(updated)
    return updated


def add_note(store: Store, incident_id: str, text: str, *, tz: str | None = None, at: datetime | None = None) -> Note:
    """A note on the timeline; ``at`` is when what it says happened (default now; never in the future or
    before the incident began)."""
    if not text.strip():
        raise FieldError("text", "a note needs some text")
    with store.transaction():
        if at is not None:
            incident = get_incident(store, incident_id)
            check_when(incident, at)
            client_id = incident.client_id
        else:  # now: nothing to check against the incident, only whose it is
            client_id = store.client_of(Incident.TABLE, incident_id)
            if client_id is None:
                get_incident(store, incident_id)  # its one-line error
        prefix = f"{incident_id}:note-"
        number = _next_number(store, "notes", "incident_id", prefix)
        note = validated(
            Note,
            {
                "id": f"{prefix}{number}",
                "incident_id": incident_id,
                "client_id": client_id,
                "at": {"at": at or _now(), "tz": tz or environment.local_zone()},
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
    acquired_at: datetime | None = None,
) -> Evidence:
    """Hash a file (outside the write lock: it may take minutes) and record it with custody.

    ``acquired_at`` is when the evidence was acquired (e.g. the image taken
    yesterday), default now; the hashing is recorded as a custody step now.
    """
    incident = get_incident(store, incident_id)
    if acquired_at is not None:
        check_when(incident, acquired_at, "--at")
    digest = hash_file(path, progress=progress, cancelled=cancelled)
    now = _now()
    actor = identity.person()
    with store.transaction():
        incident = get_incident(store, incident_id)
        prefix = f"{incident_id}:ev-"
        number = _next_number(store, "evidence", "incident_id", prefix)
        evidence = validated(
            Evidence,
            {
                "id": f"{prefix}{number}",
                "incident_id": incident_id,
                "client_id": incident.client_id,
                "name": name or Path(path).name,
                "sha256": digest.sha256,
                "size": digest.size,
                "acquired": {"at": acquired_at or now, "tz": environment.local_zone()},
                "acquired_by": actor,
                "source": source or str(Path(path).resolve()),
                "method": method or "file hashed in place by msptui (SHA-256, streamed)",
                "custody": [{"at": now, "by": actor, "action": "hashed by msptui" if acquired_at else "acquired and hashed",
                             "location": location or str(Path(path).resolve())}],
            }
        )
        store.put_in_transaction(evidence)
    return evidence


# ---------------------------------------------------------------------------
# What was typed: one reading for the CLI command and the TUI form
# ---------------------------------------------------------------------------
#
# Each draft holds an act's values as typed (an option or a form field; None or
# "" means not given) and ``resolve(incident)`` checks every one of them before
# anything is written or hashed, returning the act's arguments or raising a
# FieldError that names the field. The CLI command and the TUI form both build
# the draft, so they refuse the same input with the same reason; a form shows it
# under its own label and keeps what was typed.


@dataclass(frozen=True)
class NoteDraft:
    """``msptui note`` / the note form (n)."""

    text: str
    at: str | None = None
    tz: str | None = None

    @property
    def timed(self) -> bool:
        """A time or zone was typed: resolving needs the incident to check it against."""
        return bool(_given(self.at) or _given(self.tz))

    def resolve(self, incident: Incident | None, *, now: datetime | None = None) -> dict:
        """``incident`` may be None when not ``timed`` (a note as of now checks nothing against it)."""
        if not (self.text or "").strip():
            raise FieldError("text", "a note needs some text")
        at, tz = act_when(incident, self.at, self.tz, now=now) if self.timed else (None, None)
        return {"text": self.text, "at": at, "tz": tz}


@dataclass(frozen=True)
class EvidenceDraft:
    """``msptui evidence add`` / the evidence form (a)."""

    file: str
    name: str | None = None
    source: str | None = None
    method: str | None = None
    at: str | None = None
    tz: str | None = None

    def resolve(self, incident: Incident, *, now: datetime | None = None) -> dict:
        if not _given(self.file):
            raise FieldError("file", "give the file to hash")
        path = check_file(self.file.strip(), "file")
        at = typed_when(incident, self.at, self.tz, now=now)
        return {"path": path, "name": _given(self.name), "source": _given(self.source), "method": _given(self.method),
                "acquired_at": at}


@dataclass(frozen=True)
class TriggerDraft:
    """``msptui incident trigger`` / the trigger form (t)."""

    name: str
    at: str
    tz: str | None = None
    by: str | None = None
    agency: str | None = None
    until: str | None = None
    note: str | None = None

    def resolve(self, incident: Incident, *, now: datetime | None = None) -> dict:
        from . import triggers
        from .inputs import instant, zone

        triggers.check_name(self.name)
        tz = zone(self.tz.strip(), "--tz") if _given(self.tz) else incident.discovered.tz
        if not _given(self.at):
            raise FieldError("--at", "when did it happen? (a date and time, e.g. 2026-11-27T09:15)")
        at = instant(self.at, tz, "--at", now=now)
        until = instant(self.until, tz, "--until", allow_future=True) if _given(self.until) else None
        triggers.check_instants(incident, self.name, at, until, agency=_given(self.agency), now=now)
        return {"name": self.name, "at": at, "tz": tz, "by": _given(self.by), "agency": _given(self.agency),
                "until": until, "note": _given(self.note)}
