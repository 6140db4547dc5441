"""The incident view: everything shown about one incident, computed once per (incident, as-of instant).

``msptui checklist`` / ``obligations`` (text and ``--json``), every tab of
the TUI's incident screen and the dossier all render this one object; none of
them computes a clock, a coverage line or a "policy in force" decision of its
own. The clocks themselves were computed by ``msptui.plan`` and stored on the
checklist items; here they are only read, and turned into countdown words
against ``as_of``.

One clock per obligation: an obligation that has a checklist item shows that
item's clock (it moves when a chained submission starts it); one without an
item (a precondition) shows the clock recorded in the assessment.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel

from .. import insurance, timeline, triggers
from ..countdown import countdown, item_countdown, urgency
from ..coverage import coverage_rows
from ..errors import UserError
from ..models import (
    Agreement,
    Assessment,
    ChecklistItem,
    Client,
    Cost,
    IncidentDecision,
    Evidence,
    Incident,
    InsurancePolicy,
    Notification,
    Review,
    RiskAcceptance,
)
from ..acts import totals
from ..obligations import load_rules
from ..scope import scope_as_of
from ..store import Store

CountdownKind = Literal["overdue", "soon", "due", "late", "target", "blocked", "waiting", "dormant", "none", "done", "na"]


class Clock(BaseModel):
    """One clock as of the view's instant: the stored instants and the countdown in words."""

    due: datetime | None = None
    target: datetime | None = None
    waits_for: str | None = None
    kind: CountdownKind
    label: str


class ChecklistEntry(BaseModel):
    item: ChecklistItem
    clock: Clock


class ObligationEntry(BaseModel):
    """One rule's verdict for this incident, with its one clock."""

    assessment: Assessment
    #: applies / dormant (its trigger may never happen and has not) / not_applicable / no_rule (assess manually)
    state: Literal["applies", "dormant", "not_applicable", "no_rule"]
    #: the checklist item that carries this obligation's clock (None: a precondition, or not applicable)
    item_id: str | None = None
    clock: Clock


class PolicyEntry(BaseModel):
    """A policy that could answer for this incident, judged at discovery."""

    policy: InsurancePolicy
    side: Literal["client", "msp"]
    status: insurance.Status
    status_text: str
    notice_text: str
    warnings: list[str]
    #: the checklist item that sends this insurer its notice (its clock is the policy's); None: no notice step
    item_id: str | None = None
    clock: Clock | None = None

    @property
    def in_force(self) -> bool:
        return self.status == "in_force"


class CoverageEntry(BaseModel):
    item: str
    label: str
    state: str
    state_text: str
    clause: str | None = None
    basis: str
    agreement_id: str | None = None
    signed: bool | None = None
    acceptance_id: str | None = None
    acceptance_signed: bool | None = None
    reviews: list[dict[str, Any]] = []
    #: relevant to this incident's category (False: another item the client declined or kept as its own)
    relevant: bool = True


class Counts(BaseModel):
    overdue: int = 0
    soon: int = 0
    open: int = 0
    done: int = 0
    not_applicable: int = 0
    waiting: int = 0


class IncidentView(BaseModel):
    as_of: datetime
    head: int
    head_hash: str
    incident: Incident
    client: Client
    #: urgency order (see msptui.countdown); ``by_section()`` for the template's order
    checklist: list[ChecklistEntry]
    counts: Counts
    obligations: list[ObligationEntry]
    coverage_basis: str
    coverage: list[CoverageEntry]
    policies: list[PolicyEntry]
    evidence: list[Evidence]
    notifications: list[Notification]
    decisions: list[IncidentDecision]
    costs: list[Cost]
    #: exact cost totals per currency (see msptui.acts.totals)
    cost_totals: dict[str, Any]
    #: oldest first; the whole timeline, or its newest ``timeline_limit`` events (then ``timeline_more``)
    timeline: list[timeline.TimelineEntry]
    #: older timeline events exist that this view did not read (only with a ``timeline_limit``)
    timeline_more: bool = False

    def by_section(self) -> list[ChecklistEntry]:
        """The checklist in the template's section order (insurance, communication, evidence, ...)."""
        return sorted(self.checklist, key=lambda e: (e.item.order, e.item.id))

    def entry(self, item_id: str) -> ChecklistEntry | None:
        return next((e for e in self.checklist if e.item.id == item_id), None)

    def trigger_choices(self) -> list[dict[str, Any]]:
        """The triggers a person can record (``msptui.triggers.report``), this incident's first: those that start
        clocks of obligations that apply or are dormant here. Each row adds ``clocks`` (how many of this
        incident's clocks recording it starts, ``msptui.triggers.starts``), ``preconditions`` (steps here to be
        met before it: "before any ransom payment") and ``recorded`` (the instant already recorded, or None)."""
        live = [o.assessment.trigger for o in self.obligations if o.state in ("applies", "dormant") and o.assessment.trigger]
        rows = []
        for row in triggers.report():
            if not row["recordable"]:
                continue
            started = triggers.starts(row["name"])
            fact = self.incident.triggers.get(row["name"])
            rows.append({**row, "clocks": sum(1 for t in live if t in started),
                         "preconditions": sum(1 for t in live if t == f"before:{row['name']}"),
                         "recorded": fact.at if fact is not None else None})
        return sorted(rows, key=lambda r: r["clocks"] == 0)  # stable: the vocabulary's order within each group


def item_clock(item: ChecklistItem, now: datetime) -> Clock:
    label, kind = item_countdown(item, now)
    return Clock(due=item.due, target=item.target, waits_for=item.waits_for, kind=kind, label=label)


def _assessment_clock(a: Assessment, now: datetime) -> Clock:
    if not a.applies:
        return Clock(kind="na", label="does not apply")
    waits = a.waits_for
    label, kind = countdown(a.due, "open", now, target=a.target,
                            waiting=bool(waits) and waits.startswith("submitted:"),
                            dormant=bool(waits) and not waits.startswith("submitted:"))
    return Clock(due=a.due, target=a.target, waits_for=waits, kind=kind, label=label)


def _obligations(incident: Incident, items: list[ChecklistItem], now: datetime) -> list[ObligationEntry]:
    by_key = {(i.rule, i.policy_id): i for i in items if i.rule}
    by_rule = {i.rule: i for i in items if i.rule and i.policy_id is None}
    by_step = {i.step: i for i in items}
    out = []
    for a in incident.assessment:
        state = a.resolved_state
        if state == "no_rule":
            item = by_step.get("assess-law-" + "".join(ch if ch.isalnum() else "-" for ch in (a.jurisdiction or "").lower()))
        elif state == "not_applicable":
            item = None
        else:
            item = by_key.get((a.rule_id, a.policy_id)) or (by_rule.get(a.rule_id) if a.policy_id is None else None)
        clock = item_clock(item, now) if item is not None else _assessment_clock(a, now)
        out.append(ObligationEntry(assessment=a, state=state, item_id=item.id if item else None, clock=clock))
    order = {"applies": 0, "dormant": 1, "no_rule": 2, "not_applicable": 3}
    out.sort(key=lambda o: (order[o.state], urgency(o.clock.kind, o.clock.due, o.clock.target),
                            o.assessment.rule_id or o.assessment.jurisdiction or ""))
    return out


def _policies(client: Client, incident: Incident, policies: list[InsurancePolicy], items: list[ChecklistItem],
              now: datetime) -> list[PolicyEntry]:
    rules = load_rules()
    day = insurance.policy_day(client, incident.discovered.at)
    notice_items = {i.policy_id: i for i in items
                    if i.policy_id and i.rule in rules and rules[i.rule].from_policy}
    out = []
    for p in insurance.relevant(policies, client):
        item = notice_items.get(p.id)
        out.append(PolicyEntry(
            policy=p, side=p.owner, status=insurance.status_on(p, day), status_text=insurance.status_text(p, day),
            notice_text=insurance.notice_text(p), warnings=insurance.warnings(p, day),
            item_id=item.id if item else None, clock=item_clock(item, now) if item else None,
        ))
    out.sort(key=lambda e: (e.side != "client", e.status != "in_force", e.policy.id))
    return out


def _coverage(store: Store, client: Client, incident: Incident) -> tuple[str, list[CoverageEntry]]:
    acceptances = store.all(RiskAcceptance, client_id=client.id)
    scope = scope_as_of(client, store.all(Agreement, client_id=client.id), incident.discovered.at, acceptances=acceptances)
    basis, rows = coverage_rows(incident.category, scope, store.all(Review, client_id=client.id), acceptances)
    return basis, [CoverageEntry.model_validate({k: v for k, v in r.items() if k in CoverageEntry.model_fields}) for r in rows]


def _counts(entries: list[ChecklistEntry]) -> Counts:
    c = Counts()
    for e in entries:
        kind, status = e.clock.kind, e.item.status
        if kind == "overdue":
            c.overdue += 1
        elif kind == "soon":
            c.soon += 1
        elif kind == "waiting" or kind == "dormant":
            c.waiting += 1
        if status in ("open", "blocked"):
            c.open += 1
        elif status == "done":
            c.done += 1
        elif status == "not_applicable":
            c.not_applicable += 1
    return c


#: what a screen reads of the timeline at first: the newest events, so a 200,000-note incident (or a new incident of a
#: client with years of history) opens at once; screens read twice as far back when asked
TIMELINE_PAGE = 500


def incident_view(store: Store, incident_id: str, *, as_of: datetime | None = None,
                  timeline_limit: int | None = None) -> IncidentView:
    """Read everything about one incident in one snapshot and compute its countdowns as of ``as_of`` (default now).

    ``timeline_limit``: read only the newest that many timeline events (the
    TUI, so an incident with 200,000 notes opens at once); the dossier and
    the CLI read the whole timeline.
    """
    now = (as_of or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with store.snapshot():
        incident = store.get(Incident, incident_id)
        if incident is None:
            raise UserError(f"no incident with id {incident_id!r} (see 'msptui incidents')")
        client = store.get(Client, incident.client_id)
        if client is None:
            raise UserError(f"incident {incident_id!r} names client {incident.client_id!r}, which is not on record")
        head_id, head_hash = store.head()
        items = store.all(ChecklistItem, incident_id=incident.id)
        entries = [ChecklistEntry(item=i, clock=item_clock(i, now)) for i in items]
        entries.sort(key=lambda e: urgency(e.clock.kind, e.clock.due, e.clock.target, e.item.order))
        basis, coverage = _coverage(store, client, incident)
        if timeline_limit is None:
            tl, more = timeline.build(store.events_about(client.id), incident.id), False
        else:
            tl, more = timeline.recent(store, client.id, incident.id, timeline_limit)
        return IncidentView(
            as_of=now,
            head=head_id,
            head_hash=head_hash,
            incident=incident,
            client=client,
            checklist=entries,
            counts=_counts(entries),
            obligations=_obligations(incident, items, now),
            coverage_basis=basis,
            coverage=coverage,
            policies=_policies(client, incident, store.all(InsurancePolicy), items, now),
            evidence=sorted(store.all(Evidence, incident_id=incident.id), key=lambda e: (e.acquired.at, e.id)),
            notifications=sorted(store.all(Notification, incident_id=incident.id), key=lambda n: (n.at.at, n.id)),
            decisions=sorted(store.all(IncidentDecision, incident_id=incident.id), key=lambda d: (d.at.at, d.id)),
            costs=(costs := sorted(store.all(Cost, incident_id=incident.id), key=lambda c: (c.at.at, c.id))),
            cost_totals=totals(costs),
            timeline=tl,
            timeline_more=more,
        )


def rule_source(rule_id: str | None) -> dict[str, str] | None:
    """Where a checklist item's rule comes from, as the rules file on this machine says (the item's basis is
    what was computed when it was planned): citation, source URL, how good that source is, the confidence in
    the reading and when it was checked. None for an item with no rule, or a rule no longer on file."""
    rule = load_rules().get(rule_id) if rule_id else None
    if rule is None:
        return None
    return {"citation": rule.citation, "source_url": rule.source_url, "source_quality": rule.source_quality,
            "confidence": rule.confidence, "checked_on": rule.checked_on.isoformat()}


def discovered_day(view: IncidentView) -> date:
    """The client-local date the incident was discovered (what scope and policies are judged on)."""
    return insurance.policy_day(view.client, view.incident.discovered.at)
