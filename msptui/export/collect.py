"""The collect stage: everything the dossier says, as data (``dossier.json``), and the chain slice behind it.

It renders the same read models the CLI and the TUI show: the incident view
(checklist with its clocks, obligations, coverage, policies judged at
discovery, timeline) and the client's liability picture as of discovery. It
computes no clock, coverage line or "in force" decision of its own; it only
adds text for a reader (every instant through ``when``: local, UTC in
brackets), the order counsel reads in (applicable obligations first, the rest
in an appendix), and which record says what: a person's decision, a logged
decision, or msptui's own recomputation (``not_applicable_rows``, from the
typed ``ChecklistItem.retired_by``), and a deadline or a log-retention
estimate (the rule's kind).

Everything is read inside one SQLite read transaction, so the chain head on
the cover is exactly the state the dossier describes. No wall clock reaches
the output: ``generated_at`` is passed in, so the same data and timestamp
give the same dossier.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, get_args

from .. import __version__, environment, timeline
from ..chain import Event, parse_stamp
from ..coverage import state_text
from ..models import Agreement, ClauseKind, Review, RiskAcceptance
from ..picture import STATE_ORDER, liability_picture
from ..scope import scope_as_of
from ..store import CLOCK_SKEW_TOLERANCE_S, CLOCK_STEP_KIND, Store
from ..timeutil import fmt_local_and_utc
from ..views.incident import IncidentView, incident_view
from .files import FILE_EVENTS, utc_text

FORMAT = "msptui-dossier"
#: What this msptui writes into dossier.json and VERIFY.txt for the same events. Recorded in the manifest
#: (``rebuild.content_inputs``): bump it whenever that changes, so that verifying a dossier exported by an
#: earlier msptui says "not checked: this msptui writes other content" instead of calling it edited.
#: 2: recomputations told apart from decisions, retention estimates, one way to write instants, the whole
#: timeline, the hash rules' wording (absent from earlier manifests). 3: the incident's affected systems; recorded
#: clock steps, and timeline entries recorded with a clock behind an earlier one.
CONTENT_REVISION = 3
#: 2: events.jsonl is the chain's skeleton, the content is rebuilt from it, the key is pinned (issue 13)
FORMAT_VERSION = 2
MARKING = "Confidential"
MARKING_PRIVILEGED = "Privileged & confidential \u2014 prepared at the direction of counsel"

#: clauses are quoted in the order the ClauseKind vocabulary lists them (liability cap first)
CLAUSE_ORDER = list(get_args(ClauseKind))
#: checklist steps that record an insurer's consent (template step ids: codes, not words)
CONSENT_STEPS = ("ins-consent", "ins-ransom-consent")


#: zone names that only say "UTC" (a server's or container's default), not a local zone anyone observed
_UTC_NAMES = frozenset({"UTC", "UCT", "Z", "ZULU", "UNIVERSAL", "GMT", "GMT0", "GMT+0", "GMT-0", "GREENWICH",
                        "ETC/UTC", "ETC/UCT", "ETC/ZULU", "ETC/UNIVERSAL", "ETC/GMT", "ETC/GMT0", "ETC/GMT+0",
                        "ETC/GMT-0", "ETC/GREENWICH", "+00:00", "-00:00", "UTC+00:00", "UTC-00:00"})


def _local_zone(observed: str | None, home: str) -> str:
    if not observed or observed.upper() in _UTC_NAMES:
        return home
    return observed


def when(dt: datetime | None, observed: str | None, home: str) -> str:
    """The dossier's one way to write an instant: local time in the zone it was observed in, UTC in brackets.

    ``observed`` is the zone recorded with the instant (a note's, a trigger's, the machine an event was
    written on); an instant with none (a clock msptui computed, the generation) or observed on a machine set
    to UTC is shown in ``home``, the zone the dossier is for (the client's home zone). So every instant reads
    "2026-11-20 09:30 PST (17:30 UTC)", as the cover says. Empty for no instant.
    """
    if dt is None:
        return ""
    for zone in (_local_zone(observed, home), home, "UTC"):
        try:
            return fmt_local_and_utc(dt, zone)
        except ValueError:
            continue
    return utc_text(dt)


def chain_slice(store: Store, client_id: str) -> list[Event]:
    """Every event about this client and every event about the MSP's own records, in chain order.

    Indexed by subject: other clients' events are never read, never exported.
    """
    rows = store.conn.execute(
        "SELECT * FROM events WHERE subject = ? OR subject IS NULL ORDER BY id", (client_id,))
    return [Event.from_row(dict(r)) for r in rows]


def _msp(store: Store) -> dict | None:
    """The MSP's own record (name, address, contacts), or None when it was never set."""
    from ..records import msp_record

    record = msp_record(store)
    return None if record is None else record.model_dump(mode="json", include={"name", "address", "contacts"})


#: the rule kind whose clock is a vendor's log-retention default: when evidence may be deleted, not a legal deadline
RETENTION_KIND = "evidence_expiry"


def _rule_kind(rule_id: str | None) -> str | None:
    """The kind of the rule an item or obligation is about (None: no rule, or not on file)."""
    from ..obligations import load_rules

    rule = load_rules().get(rule_id) if rule_id else None
    return rule.kind if rule else None


def _item_row(entry, created: Event | None, tz: str) -> dict:
    item = entry.item
    row = item.model_dump(mode="json")
    row["countdown"] = entry.clock.label
    row["clock"] = entry.clock.kind
    row["rule_kind"] = _rule_kind(item.rule)
    #: a log-retention estimate (typed: the rule's kind), shown apart from deadlines so no one reads it as one
    row["retention_estimate"] = row["rule_kind"] == RETENTION_KIND
    row["due_text"] = when(item.due, None, tz)
    row["target_text"] = when(item.target, None, tz)
    row["updated_text"] = when(item.updated_at, None, tz)
    row["created_by"] = created.operator_name() if created else None
    row["created_text"] = when(created.recorded_at, created.tz, tz) if created else ""
    if item.status == "not_applicable" and item.retired_by == "replan":
        row["who_when"] = (f"msptui, recomputing when {item.updated_by or 'someone'} recorded new facts, "
                           f"{row['updated_text']}")
    elif item.updated_by and item.updated_at:
        row["who_when"] = f"{item.updated_by}, {row['updated_text']}"
    elif created:
        row["who_when"] = f"not updated since created by {row['created_by']}, {row['created_text']}"
    else:
        row["who_when"] = "no record of who or when"
    return row


def _moved_to_not_applicable(events: list[Event]) -> dict[str, Event]:
    """For each checklist item, the event that last set it not applicable (from another status, or created so)."""
    status: dict[str, Any] = {}
    moved: dict[str, Event] = {}
    for e in events:
        record = e.payload.get("record")
        if e.payload.get("type") != "checklist_items" or not isinstance(record, dict):
            continue
        item_id = e.payload.get("id")
        if record.get("status") == "not_applicable" and status.get(item_id) != "not_applicable":
            moved[item_id] = e
        status[item_id] = record.get("status")
    return moved


def not_applicable_rows(item_rows: list[dict], incident, events: list[Event], history: list[dict],
                        tz: str) -> tuple[list[dict], list[dict]]:
    """The checklist items marked not applicable: (by a person, recomputed by msptui), told apart by the typed
    ``ChecklistItem.retired_by`` (never by the reason's wording).

    A person's: who set it so and when, from the event that did (a later note does not make its writer the
    decider); ``legacy`` when that event predates the field, so msptui cannot tell. msptui's: when, the latest
    facts recorded before it (who recorded them, what changed), and the current assessment's verdict on its rule.
    """
    moved = _moved_to_not_applicable(events)
    verdicts: dict[str, dict] = {}
    for a in incident.assessment:
        if a.rule_id and (a.rule_id not in verdicts or a.state == "not_applicable"):
            verdicts[a.rule_id] = {"state": a.state or ("applies" if a.applies else "not_applicable"), "reason": a.reason}
    people, recomputed = [], []
    for r in item_rows:
        if r["status"] != "not_applicable":
            continue
        event = moved.get(r["id"])
        record = event.payload["record"] if event else {}
        base = {"id": r["id"], "title": r["title"], "rule": r["rule"], "reason": r["reason"], "section": r["section"],
                "event_id": event.id if event else None}
        if r["retired_by"] == "replan":
            before = [h for h in history if event is None or h["event_id"] < event.id]
            latest = before[-1] if before else None
            recomputed.append({
                **base, "at_text": r["updated_text"],
                "facts": {k: latest[k] for k in ("event_id", "by", "at_text", "changed")} if latest else None,
                "verdict": verdicts.get(r["rule"]) if r["rule"] else None,
            })
            continue
        stamp = record.get("updated_at") if isinstance(record.get("updated_at"), str) else None
        decided_at = parse_stamp(stamp) if stamp else (event.recorded_at if event else None)
        people.append({
            **base, "updated_by": r["updated_by"], "updated_text": r["updated_text"],
            "decided_by": record.get("updated_by") or (event.operator_name() if event else r["updated_by"]),
            "decided_text": when(decided_at, None, tz),
            "legacy": event is not None and "retired_by" not in record,
        })
    return people, recomputed


def _obligation_row(o, tz: str) -> dict:
    row = o.assessment.model_dump(mode="json")
    kind = _rule_kind(o.assessment.rule_id)
    row.update({"rule_kind": kind, "retention_estimate": kind == RETENTION_KIND})
    row.update({"state": o.state, "item_id": o.item_id, "countdown": o.clock.label, "clock": o.clock.kind,
                "due": utc_text(o.clock.due) if o.clock.due else None,
                "target": utc_text(o.clock.target) if o.clock.target else None,
                "due_text": when(o.clock.due, None, tz), "target_text": when(o.clock.target, None, tz)})
    return row


def _timeline_row(t, tz: str) -> dict:
    return {"kind": t.kind, "event_id": t.event_id, "last_event_id": t.last_event_id, "count": t.count,
            "at": utc_text(t.recorded_at), "at_text": when(t.recorded_at, t.tz, tz),
            "occurred_at": utc_text(t.occurred_at) if t.occurred_at else None,
            "occurred_text": when(t.occurred_at, t.occurred_tz, tz) if t.occurred_at else "",
            "entered_late_seconds": t.entered_late, "actor": t.who, "login": t.login, "text": t.text}


def clock_marks(rows: list[dict], events: list[Event], tz: str) -> list[dict]:
    """The recorded clock steps in the dossier's events, and each timeline row marked ``clock_behind`` when it was
    recorded earlier than an entry before it (a writer's clock was fast, or this one slow): a reader sees why the
    recorded times are out of order instead of a silent jump (the order is the chain's, never the clocks')."""
    latest: datetime | None = None
    for row in rows:
        at = parse_stamp(row["at"])
        row["clock_behind"] = latest is not None and (latest - at).total_seconds() > CLOCK_SKEW_TOLERANCE_S
        latest = at if latest is None or at > latest else latest
    steps = []
    for e in events:
        if e.kind == CLOCK_STEP_KIND:
            behind = float(e.payload.get("behind_s") or 0)
            steps.append({"event_id": e.id, "at": utc_text(parse_stamp(e.at)), "at_text": when(parse_stamp(e.at), e.tz, tz),
                          "by": e.operator_name(), "login": e.actor, "behind_hours": round(behind / 3600, 1),
                          "last_event": e.payload.get("last_event"), "reason": str(e.payload.get("reason") or "")})
    return steps


FACT_FIELDS = ("status", "category", "summary", "data_types", "countries", "us_states", "affected_counts",
               "ransom_paid", "msp_caused", "systems")


def _applying(record: dict) -> set[str]:
    return {a.get("rule_id") or f"no rule: {a.get('jurisdiction')}" for a in record.get("assessment", [])
            if (a.get("state") or ("applies" if a.get("applies") else "not_applicable")) in ("applies", "no_rule")}


def assessment_history(events: list[Event], incident_id: str, tz: str) -> list[dict]:
    """Every version of the incident's facts and assessment, from its events: what was believed when, and who changed it."""
    out: list[dict] = []
    previous: dict | None = None
    for e in events:
        if e.kind != "incidents.put" or e.payload.get("id") != incident_id:
            continue
        record = e.payload["record"]
        now_applying = _applying(record)
        if previous is None:
            changed = ["opened"]
        else:
            changed = [f for f in FACT_FIELDS if previous.get(f) != record.get(f)]
            changed += [f"trigger {name}" for name in sorted(set(record.get("triggers", {})) - set(previous.get("triggers", {})))]
        before = _applying(previous) if previous else set()
        out.append({
            "event_id": e.id, "at": utc_text(e.recorded_at), "at_text": when(e.recorded_at, e.tz, tz), "by": e.operator_name(),
            "changed": changed, "facts": {f: record.get(f) for f in FACT_FIELDS},
            "obligations_applying": len(now_applying),
            "added": sorted(now_applying - before) if previous else [], "removed": sorted(before - now_applying),
        })
        previous = record
    return out


def trigger_rows(incident, events: list[Event], tz: str) -> list[dict]:
    """Each recorded trigger: when it happened, who did or declared it, who recorded it and when."""
    from ..obligations import trigger_label

    recorded_at: dict[str, Event] = {}
    for e in events:
        if e.kind == "incidents.put" and e.payload.get("id") == incident.id:
            for name in e.payload["record"].get("triggers", {}):
                recorded_at.setdefault(name, e)
    rows = []
    for name, fact in sorted(incident.triggers.items(), key=lambda kv: kv[1].at):
        event = recorded_at.get(name)
        rows.append({"name": name, "label": trigger_label(name), "at": utc_text(fact.at), "at_text": when(fact.at, fact.tz, tz),
                     "by": fact.by, "agency": fact.agency, "until_text": when(fact.until, fact.tz, tz) if fact.until else "",
                     "note": fact.note, "recorded_by": fact.recorded_by,
                     "recorded_text": when(event.recorded_at, event.tz, tz) if event else "", "event_id": event.id if event else None})
    return rows


def _entered(record_id: str, table: str, events: list[Event], happened: datetime, tz: str) -> dict:
    """When the act was entered (its first event) beside when it happened, and the gap if over an hour."""
    first = next((e for e in events if e.payload.get("type") == table and e.payload.get("id") == record_id), None)
    if first is None:
        return {"entered_text": "", "entered_later": ""}
    gap = (first.recorded_at - happened).total_seconds()
    later = ""
    if gap > 3600:
        from ..countdown import span

        later = f"entered {span(gap)} later"
    return {"entered_text": when(first.recorded_at, first.tz, tz), "entered_later": later, "entered_by": first.operator_name(),
            "event_id": first.id}


def _file(a) -> dict | None:
    return None if a is None else a.model_dump(mode="json")


def acts_rows(store: Store, incident_id: str, events: list[Event], tz: str) -> dict:
    """The notification log, the decisions and consents, and the cost ledger with exact totals."""
    from .. import acts

    notes = [{**n.model_dump(mode="json"), "at_text": when(n.at.at, n.at.tz, tz),
              "acks": [{**a.model_dump(mode="json"), "at_text": when(a.at, a.tz, tz)} for a in n.acks],
              **_entered(n.id, "notifications", events, n.at.at, tz)}
             for n in acts.notifications(store, incident_id)]
    decided = [{**d.model_dump(mode="json"), "at_text": when(d.at.at, d.at.tz, tz),
                **_entered(d.id, "decisions", events, d.at.at, tz)} for d in acts.decisions(store, incident_id)]
    entries = acts.costs(store, incident_id)
    spent = [{**c.model_dump(mode="json"), "at_text": when(c.at.at, c.at.tz, tz)} for c in entries]
    return {"notifications": notes, "decisions": decided, "costs": {"entries": spent, "totals": acts.totals(entries)}}


def collect(store: Store, incident_id: str, *, generated_at: datetime, privileged: bool = False,
            local_tz: str | None = None, signing_key: str | None = None,
            recipients: list[dict] | None = None) -> tuple[dict, list[Event]]:
    """Everything the dossier shows (a JSON-ready dict) and the chain slice, read in one snapshot.

    ``signing_key`` (a fingerprint) and ``recipients`` are the export's own
    parameters; like ``generated_at`` they are recorded in the signed manifest,
    so ``verify-dossier`` can run this again from the folder's events.
    """
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be an aware datetime")
    local_tz = local_tz or environment.local_zone()
    with store.snapshot():
        # the timeline is built below from the same snapshot's events, whole (no text shortened): the view's
        # own (the TUI's, shortened) is not read
        view = incident_view(store, incident_id, as_of=generated_at, timeline_limit=0)
        data, events = _collect(store, view, generated_at=generated_at, privileged=privileged, local_tz=local_tz)
        data.update(_provenance(view, events, signing_key, recipients or []))
        return data, events


def _provenance(view: IncidentView, events: list[Event], signing_key: str | None,
                recipients: list[dict]) -> dict[str, Any]:
    """Cover and Appendix B: who the dossier is for, the key that signs it, and earlier distributions."""
    from ..keys import ALGORITHM, key_history
    from .distribution import distribution_rows, recipient_text

    home = view.client.home_tz
    pinned = key_history(events).get(signing_key) if signing_key else None
    return {
        "recipients": [{"name": r.get("name"), "organisation": r.get("organisation")} for r in recipients],
        "recipients_text": "; ".join(recipient_text(r) for r in recipients) or "not stated",
        "signing_key": {
            "algorithm": ALGORITHM, "fingerprint": signing_key,
            "pinned_event": pinned.pinned_event if pinned else None,
            "pinned_at_text": when(parse_stamp(pinned.pinned_at), None, home) if pinned and pinned.pinned_at else "",
        } if signing_key else None,
        "distributions": distribution_rows(events, view.incident.id, lambda dt, zone: when(dt, zone, home)),
    }


def _collect(store: Store, view: IncidentView, *, generated_at: datetime, privileged: bool, local_tz: str) -> tuple[dict, list[Event]]:
    incident, client = view.incident, view.client
    tz = client.home_tz
    at = incident.discovered.at
    picture = liability_picture(store, client.id, at)
    acceptances = store.all(RiskAcceptance, client_id=client.id)
    reviews = store.all(Review, client_id=client.id)
    events = chain_slice(store, client.id)
    created: dict[str, Event] = {}
    for e in events:
        if e.payload.get("type") == "checklist_items" and e.payload.get("id") not in created:
            created[e.payload["id"]] = e

    # -- contractual position ------------------------------------------------
    in_force_ids = [a["id"] for a in picture["agreements_in_force"]]
    clauses = []
    for a in picture["agreements_in_force"]:
        for c in a["clauses"]:
            clauses.append({"agreement_id": a["id"], "agreement_title": a["title"], "version": a["version"],
                            "signature": a["signature"], **c})
    clauses.sort(key=lambda c: (CLAUSE_ORDER.index(c["kind"]) if c["kind"] in CLAUSE_ORDER else 99,
                                in_force_ids.index(c["agreement_id"])))
    full_scope = scope_as_of(client, store.all(Agreement, client_id=client.id), at, acceptances=acceptances)
    appendix = []
    for state in STATE_ORDER:
        for entry in sorted((e for e in full_scope.values() if e.state == state), key=lambda e: (e.category, e.label)):
            appendix.append({"item": entry.item, "label": entry.label, "category": entry.category,
                             "security_relevant": entry.security_relevant, "state": entry.state,
                             "state_text": state_text(entry), "clause": entry.clause, "basis": entry.describe()})

    # -- what was done ---------------------------------------------------------
    item_rows = [_item_row(e, created.get(e.item.id), tz) for e in view.by_section()]
    history = assessment_history(events, incident.id, tz)
    not_done, recomputed = not_applicable_rows(item_rows, incident, events, history, tz)
    obligations = [_obligation_row(o, tz) for o in view.obligations]

    evidence_rows = []
    for ev in view.evidence:
        row = ev.model_dump(mode="json")
        row["acquired_text"] = when(ev.acquired.at, ev.acquired.tz, tz)
        row["custody"] = [{**c.model_dump(mode="json"), "at_text": when(c.at, ev.acquired.tz, tz)} for c in ev.custody]
        evidence_rows.append(row)

    policy_clock = {p.policy.id: p for p in view.policies}

    def policy_row(p: dict) -> dict:
        entry = policy_clock.get(p["id"])
        clock = entry.clock if entry else None
        return {**p, "notice_item_id": entry.item_id if entry else None,
                "notice_countdown": clock.label if clock else None,
                "notice_due_text": when(clock.due, None, tz) if clock and clock.due else "",
                "notice_target_text": when(clock.target, None, tz) if clock and clock.target else ""}

    generated_utc = generated_at.astimezone(timezone.utc)
    timeline_rows = [_timeline_row(t, tz)
                     for t in timeline.build(events, incident.id, style=timeline.whole(lambda dt, zone: when(dt, zone, tz)))]
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": {"name": "msptui", "version": __version__},
        "generated_at": utc_text(generated_utc),
        "generated_at_text": when(generated_utc, None, tz),
        #: the zone of the machine that generated it (recorded for the rebuild; times are shown in the client's)
        "generated_tz": local_tz,
        "privileged": privileged,
        "marking": MARKING_PRIVILEGED if privileged else MARKING,
        "chain_head": {"id": view.head, "hash": view.head_hash},
        "chain_slice": {"count": len(events), "first_id": events[0].id if events else None,
                        "last_id": events[-1].id if events else None, "file": FILE_EVENTS},
        "client": client.model_dump(mode="json"),
        "msp": _msp(store),
        "incident": {
            **incident.model_dump(mode="json"),
            "discovered_text": when(incident.discovered.at, incident.discovered.tz, tz),
            "discovered_client_text": when(incident.discovered.at, None, tz),
        },
        "counts": view.counts.model_dump(),
        "triggers": trigger_rows(incident, events, tz),
        **acts_rows(store, incident.id, events, tz),
        "assessments": history,
        "contract": {
            "as_of": picture["as_of"],
            "as_of_text": when(at, incident.discovered.tz, tz),
            "as_of_local_date": picture["as_of_local_date"],
            "agreements_in_force": picture["agreements_in_force"],
            "agreements": picture["agreements"],
            "coverage_basis": view.coverage_basis,
            "coverage": [c.model_dump(mode="json") for c in view.coverage],
            "clauses": clauses,
            "scope": appendix,
        },
        "insurance": {
            "client": [policy_row(p) for p in picture["insurance"]["client"]],
            "msp": [policy_row(p) for p in picture["insurance"]["msp"]],
            "notifications": [r for r in item_rows if r["section"] == "insurance"],
            "consents": [r for r in item_rows if r["step"].split(".", 1)[0] in CONSENT_STEPS],
        },
        "reviews": [r.model_dump(mode="json") for r in sorted(reviews, key=lambda r: (r.held_on, r.id))],
        "review_packs": [
            {"event_id": e.id, "at_text": when(e.recorded_at, e.tz, tz), "actor": e.operator_name(),
             "file_name": e.payload.get("file_name"), "sha256": e.payload.get("sha256")}
            for e in events if e.kind == "review_pack.printed" and e.payload.get("client_id") == client.id
        ],
        "risk_acceptances": [
            {**a.model_dump(mode="json"), "signed": a.acknowledgement is not None,
             "signed_at_text": when(a.acknowledgement.signed_at, None, tz) if a.acknowledgement else ""}
            for a in sorted(acceptances, key=lambda a: (a.recommended_on, a.id))
        ],
        "checklist": item_rows,
        "obligations": [o for o in obligations if o["state"] != "not_applicable"],
        "obligations_not_applicable": [o for o in obligations if o["state"] == "not_applicable"],
        #: checklist items a person marked not applicable, with their rationale (4.8)
        "decisions_not_to_act": not_done,
        #: checklist items msptui set not applicable when re-planning after the facts changed: not decisions
        "recomputed_not_applicable": recomputed,
        "evidence": evidence_rows,
        "timeline": timeline_rows,
        "clock_steps": clock_marks(timeline_rows, events, tz),
    }
    return data, events
