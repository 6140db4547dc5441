"""Keeping the record: the acts that decide liability before any breach.

Add a client; add an agreement, state its scope and clauses, record its
signature; add or renew an insurance policy; record a business review, its
recommendations and the client's decisions; record the client's signed
acknowledgement of a decline and its re-affirmations; and the MSP's own
record. The CLI commands and the TUI forms both call these functions with
an input model from ``msptui.record_inputs`` (what was typed), so both
accept and refuse the same input with the same one-line message.

Each act is one transaction: it re-reads what it changes inside the write
lock (two engineers on one jump box cannot overwrite each other's change),
checks it against the database, and appends one ``<table>.put`` event per
record it writes, carrying the operator. Almost every act writes one record;
a recommendation the client declined writes two (the review's minutes and the
risk acceptance the client is asked to sign), in the same transaction. Files
(a signed agreement, review minutes, a signed acknowledgement) are hashed
before the write lock is taken: hashing may take minutes and can be cancelled.

Once an agreement is signed (by either side), its scope and clauses are what
was signed: they are changed by a signed amendment, never in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from .errors import UserError
from .models import (
    MSP_ID,
    Agreement,
    Client,
    InsurancePolicy,
    Msp,
    Review,
    RiskAcceptance,
    validated,
)
from .record_inputs import (
    AcknowledgeDraft,
    AgreementDraft,
    ClauseDraft,
    ClientDraft,
    MspDraft,
    PolicyDraft,
    ReaffirmDraft,
    RecommendationDraft,
    ReviewDraft,
    ScopeLineDraft,
    SignDraft,
    fail,
    not_after,
    slugify,
)
from .store import Store

@dataclass
class Outcome:
    """What an act recorded: the record it is about, and every record it wrote (one transaction)."""

    record: Any
    written: list[Any] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written)


Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
_ID_ROOM = 76  # an id is at most 80 characters: room for a "-NN" suffix


# ---------------------------------------------------------------------------
# reading what an act needs
# ---------------------------------------------------------------------------


def get_client(store: Store, client_id: str, name: str = "client") -> Client:
    client = store.get(Client, client_id)
    if client is None:
        raise fail(name, f"no client with id {client_id!r} (see 'msptui clients')")
    return client


def get_agreement(store: Store, agreement_id: str, name: str = "agreement") -> Agreement:
    agreement = store.get(Agreement, agreement_id)
    if agreement is None:
        raise fail(name, f"no agreement with id {agreement_id!r} (see 'msptui show CLIENT')")
    return agreement


def get_review(store: Store, review_id: str) -> Review:
    review = store.get(Review, review_id)
    if review is None:
        raise fail("review", f"no business review with id {review_id!r} (see 'msptui show CLIENT')")
    return review


def get_risk(store: Store, risk_id: str) -> RiskAcceptance:
    risk = store.get(RiskAcceptance, risk_id)
    if risk is None:
        raise fail("risk", f"no risk acceptance with id {risk_id!r} (the ids are under DECLINED RECOMMENDATIONS in 'msptui show CLIENT')")
    return risk


def get_policy(store: Store, policy_id: str) -> InsurancePolicy:
    policy = store.get(InsurancePolicy, policy_id)
    if policy is None:
        raise fail("policy", f"no insurance policy with id {policy_id!r} (see 'msptui show CLIENT')")
    return policy


def msp_record(store: Store) -> Msp | None:
    """The MSP's own record (name, address, contacts), or None if it was never set ('msptui msp set')."""
    return store.get(Msp, MSP_ID)


def client_agreements(store: Store, client_id: str) -> list[Agreement]:
    """A client's agreements, oldest first (what the signature and scope forms offer)."""
    get_client(store, client_id)
    return sorted(store.all(Agreement, client_id=client_id), key=lambda a: (a.effective_from, a.id))


def policies_for(store: Store, client_id: str) -> list[InsurancePolicy]:
    """The client's policies and the MSP's own, latest period first (what the policy form can renew)."""
    get_client(store, client_id)
    rows = [p for p in store.all(InsurancePolicy) if p.client_id == client_id or p.owner == "msp"]
    return sorted(rows, key=lambda p: (p.owner != "client", -p.period_end.toordinal(), p.id))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _today(tz: str, now: datetime | None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).date()


def new_id(store: Store, table: str, base: str) -> str:
    """A free id for a new record: ``base`` (made an id), else ``base-2``, ``base-3`` ... (inside the write lock)."""
    stem = slugify(base, limit=_ID_ROOM) or table[:-1]
    candidate, number = stem, 2
    while store.exists(table, candidate):
        candidate = f"{stem}-{number}"
        number += 1
    return candidate


def _own_id(store: Store, table: str, given: str | None, base: str, what: str) -> str:
    if given is None:
        return new_id(store, table, base)
    if store.exists(table, given):
        raise fail("id", f"{what} with id {given!r} already exists; choose another id or leave it out")
    return given


def hash_document(path: Path | None, *, progress: Progress | None = None, cancelled: Cancelled | None = None) -> dict | None:
    """The ``Document`` of a file (its name and streamed SHA-256), or None without a file."""
    if path is None:
        return None
    from .evidence import hash_file

    digest = hash_file(path, progress=progress, cancelled=cancelled)
    return {"file_name": path.name, "sha256": digest.sha256}


def _put(store: Store, record: Any, written: list) -> None:
    if store.put_in_transaction(record) is not None:
        written.append(record)


def _locked(agreement: Agreement, what: str) -> None:
    """A signed (or partly signed) agreement's terms are what was signed."""
    if agreement.signature.status != "unsigned":
        from .picture import signature_text

        raise fail("agreement", f"{agreement.id!r} is {signature_text(agreement)}: its {what} are what was signed; "
                                f"record the change in an amendment (msptui agreement add --client {agreement.client_id} "
                                f"--type amendment --parent {agreement.id} ...) and sign that")


# ---------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------


def add_client(store: Store, draft: ClientDraft) -> Outcome:
    fields = draft.fields(new=True)
    written: list = []
    with store.transaction():
        if store.exists("clients", fields["id"]):
            raise fail("id", f"a client with id {fields['id']!r} already exists (msptui client edit {fields['id']} changes it)")
        client = validated(Client, fields)
        _put(store, client, written)
    return Outcome(client, written)


def edit_client(store: Store, client_id: str, draft: ClientDraft) -> Outcome:
    fields = draft.fields(new=False)
    if not fields:
        raise UserError("nothing to change: give at least one of --name, --engagement, --tz, --country, --state, "
                        "--data, --sector, --industry, --hipaa-role, --nis2-entity, --dora-entity, --public-company, "
                        "--nydfs-regulated")
    written: list = []
    with store.transaction():
        client = get_client(store, client_id)
        changed = validated(Client, {**client.model_dump(), **fields})
        _put(store, changed, written)
        if written:
            _replan_open_incidents(store, client, changed)
    return Outcome(changed, written)


#: client fields the obligations of an incident depend on (applicability, clocks, checklist conditions)
_PLANNING_FIELDS = ("home_tz", "countries", "us_states", "data_held", "sectors", "industry", "public_company",
                    "nydfs_regulated", "hipaa_role", "dora_entity", "nis2_entity")


def _replan_open_incidents(store: Store, before: Client, after: Client) -> None:
    """A fact about the client changed (a HIPAA role recorded ...): its open incidents' obligations are recomputed,
    as when the incident's own facts change (new duties add items; open items no longer due are marked so)."""
    moved = [f for f in _PLANNING_FIELDS if getattr(before, f) != getattr(after, f)]
    if not moved:
        return
    from .models import Incident
    from .plan import replan

    why = "client record changed: " + ", ".join(moved)
    for incident in store.all(Incident, client_id=after.id):
        if incident.status != "closed" and incident.template.get("id"):
            replan(store, incident, why=why)


# ---------------------------------------------------------------------------
# agreements
# ---------------------------------------------------------------------------


def add_agreement(store: Store, draft: AgreementDraft) -> Outcome:
    fields = draft.parse()
    document = hash_document(fields.pop("document"))
    given_id = fields.pop("id")
    written: list = []
    with store.transaction():
        client = get_client(store, fields["client_id"])
        for key, name in (("parent_id", "parent"), ("supersedes", "supersedes")):
            ref = fields[key]
            if ref is not None:
                other = store.get(Agreement, ref)
                if other is None or other.client_id != client.id:
                    raise fail(name, f"no agreement {ref!r} for client {client.id!r} (see 'msptui show {client.id}')")
        agreement_id = _own_id(store, "agreements", given_id, f"{client.id}-{fields['type']}", "an agreement")
        agreement = validated(Agreement, {**fields, "id": agreement_id, "document": document})
        _put(store, agreement, written)
    return Outcome(agreement, written)


def set_scope(store: Store, agreement_id: str, lines: list[ScopeLineDraft]) -> Outcome:
    """State (or, from the scope editor, clear) the scope of catalogue items in one agreement: one event.

    A line replaces every line the agreement had for that item (including
    dated lines from a PSA import); a cleared item's lines are removed.
    """
    parsed = [line.parse(allow_clear=True) for line in lines]
    if not parsed:
        raise UserError("nothing to change: no scope line given")
    written: list = []
    with store.transaction():
        agreement = get_agreement(store, agreement_id)
        _locked(agreement, "scope lines")
        scope = [line.model_dump() for line in agreement.scope]
        for new in parsed:
            at = next((i for i, line in enumerate(scope) if line["item"] == new["item"]), len(scope))
            scope = [line for line in scope if line["item"] != new["item"]]
            if new["state"] is not None:
                scope.insert(min(at, len(scope)), {k: v for k, v in new.items()})
        changed = validated(Agreement, {**agreement.model_dump(), "scope": scope})
        _put(store, changed, written)
    return Outcome(changed, written)


def add_clause(store: Store, agreement_id: str, draft: ClauseDraft) -> Outcome:
    clause = draft.parse()
    written: list = []
    with store.transaction():
        agreement = get_agreement(store, agreement_id)
        _locked(agreement, "clauses")
        changed = validated(Agreement, {**agreement.model_dump(), "clauses": [*agreement.model_dump()["clauses"], clause]})
        _put(store, changed, written)
    return Outcome(changed, written)


def _check_resign(agreement: Agreement, resign: bool) -> None:
    if agreement.signature.status == "signed" and not resign:
        from .picture import signature_text

        raise fail("agreement", f"{agreement.id!r} is already {signature_text(agreement)}; to replace that signature "
                                "record, re-sign (--resign)")


def sign_agreement(store: Store, agreement_id: str, draft: SignDraft, *, progress: Progress | None = None,
                   cancelled: Cancelled | None = None, now: datetime | None = None) -> Outcome:
    """Record the agreement as signed by both sides (who, when, how), with the signed file's hash."""
    agreement = get_agreement(store, agreement_id)
    client = get_client(store, agreement.client_id)
    fields = draft.parse(client.home_tz, now=now)
    _check_resign(agreement, fields["resign"])  # before minutes of hashing
    document = hash_document(fields["document"], progress=progress, cancelled=cancelled)
    written: list = []
    with store.transaction():
        agreement = get_agreement(store, agreement_id)
        _check_resign(agreement, fields["resign"])
        data = agreement.model_dump()
        data["signature"] = {"status": "signed", "signed_at": fields["signed_at"], "method": fields["method"],
                             "signatories": fields["signatories"]}
        if document is not None:
            data["document"] = document
        changed = validated(Agreement, data)
        _put(store, changed, written)
    return Outcome(changed, written)


# ---------------------------------------------------------------------------
# insurance
# ---------------------------------------------------------------------------


def add_policy(store: Store, draft: PolicyDraft) -> Outcome:
    fields = draft.parse()
    given_id = fields.pop("id")
    written: list = []
    with store.transaction():
        if fields["owner"] == "client":
            get_client(store, fields["client_id"])
        base = f"{fields['client_id'] or 'msp'}-{fields['type']}-{fields['period_start'].year}"
        policy_id = _own_id(store, "policies", given_id, base, "a policy")
        policy = validated(InsurancePolicy, {**fields, "id": policy_id})
        _put(store, policy, written)
    return Outcome(policy, written)


def renew_policy(store: Store, policy_id: str, draft: PolicyDraft) -> Outcome:
    """A new policy for the next period, copying what is not given from the policy it renews."""
    fields = draft.parse(renewing=True)
    given_id = fields.pop("id")
    written: list = []
    with store.transaction():
        old = get_policy(store, policy_id)
        start = fields["period_start"]
        if start <= old.period_start:
            raise fail("from", f"{start.isoformat()} is not after the start of the policy it renews "
                               f"({old.id}: {old.period_start.isoformat()} to {old.period_end.isoformat()})")
        base = f"{old.client_id or 'msp'}-{old.type}-{start.year}"
        new_policy_id = _own_id(store, "policies", given_id, base, "a policy")
        data = {**old.model_dump(), **fields, "id": new_policy_id, "notes": f"renewal of {old.id}"}
        policy = validated(InsurancePolicy, data)
        _put(store, policy, written)
    return Outcome(policy, written)


# ---------------------------------------------------------------------------
# reviews, recommendations, declines
# ---------------------------------------------------------------------------


def _decided(rec: dict, held_on: date, today: date) -> date | None:
    decided = rec["decided_on"]
    if rec["decision"] != "pending" and decided is None:
        decided = held_on  # decided at the review
    if decided is not None:
        if decided < held_on:
            raise fail("decided-on", f"{decided.isoformat()} is before the review it was recommended at "
                                     f"(held-on {held_on.isoformat()})")
        not_after(decided, today, "decided-on", "a decision")
    return decided


def _risk_for(store: Store, review: Review, rec_id: str) -> RiskAcceptance:
    """The risk acceptance a declined recommendation becomes: the record the client is asked to sign."""
    rec = next(r for r in review.recommendations if r.id == rec_id)
    return validated(RiskAcceptance, {
        "id": new_id(store, "risk_acceptances", f"ra-{review.id}-{rec.id}"),
        "client_id": review.client_id, "item": rec.item, "recommendation": rec.text,
        "recommended_on": review.held_on, "review_id": review.id, "recommendation_id": rec.id,
        "decision": "declined", "decided_on": rec.decided_on,
    })


def add_review(store: Store, draft: ReviewDraft, *, now: datetime | None = None) -> Outcome:
    """A business review with attendees, education and (from the form) recommendations and decisions."""
    fields = draft.parse()
    minutes = hash_document(fields.pop("minutes"))
    recs = fields.pop("recommendations")
    written: list = []
    with store.transaction():
        client = get_client(store, fields["client_id"])
        today = _today(client.home_tz, now)
        not_after(fields["held_on"], today, "held-on", "a business review")
        review_id = new_id(store, "reviews", f"{client.id}-review-{fields['held_on'].isoformat()}")
        recommendations = [{"id": f"r{n}", "item": r["item"], "text": r["text"], "decision": r["decision"],
                            "decided_on": _decided(r, fields["held_on"], today)} for n, r in enumerate(recs, 1)]
        review = validated(Review, {**fields, "id": review_id, "minutes": minutes, "recommendations": recommendations})
        _put(store, review, written)
        for rec in review.recommendations:
            if rec.decision == "declined":
                _put(store, _risk_for(store, review, rec.id), written)
    return Outcome(review, written)


def recommend(store: Store, review_id: str, draft: RecommendationDraft, *, now: datetime | None = None) -> Outcome:
    """Add a recommendation to a review; a decline also becomes a risk acceptance (``Outcome.record``)."""
    rec = draft.parse()
    written: list = []
    with store.transaction():
        review = get_review(store, review_id)
        client = get_client(store, review.client_id)
        today = _today(client.home_tz, now)
        numbers = [int(m.group(1)) for r in review.recommendations if (m := re.fullmatch(r"r(\d+)", r.id))]
        rec_id = f"r{max(numbers, default=len(review.recommendations)) + 1}"
        while any(r.id == rec_id for r in review.recommendations):
            rec_id = f"r{int(rec_id[1:]) + 1}"
        entry = {"id": rec_id, "item": rec["item"], "text": rec["text"], "decision": rec["decision"],
                 "decided_on": _decided(rec, review.held_on, today)}
        changed = validated(Review, {**review.model_dump(), "recommendations": [*review.model_dump()["recommendations"], entry]})
        _put(store, changed, written)
        record: Any = changed
        if entry["decision"] == "declined":
            record = _risk_for(store, changed, rec_id)
            _put(store, record, written)
    return Outcome(record, written)


def _declined(risk: RiskAcceptance, act: str) -> None:
    if risk.decision != "declined":
        raise fail("risk", f"{risk.id!r} records a recommendation that was {risk.decision}, not declined: "
                           f"only a declined recommendation is {act} (decision must be: declined)")


def acknowledge(store: Store, risk_id: str, draft: AcknowledgeDraft, *, progress: Progress | None = None,
                cancelled: Cancelled | None = None, now: datetime | None = None) -> Outcome:
    """The client's signed acknowledgement of a decline (who signed, when, the signed file's hash)."""

    def check(risk: RiskAcceptance, signed_at: datetime, tz: str) -> None:
        _declined(risk, "acknowledged")
        if risk.acknowledgement is not None:
            ack = risk.acknowledgement
            raise fail("risk", f"{risk.id!r} was already acknowledged by {ack.signed_by} on "
                               f"{ack.signed_at.astimezone(ZoneInfo(tz)).date().isoformat()}; record a re-affirmation "
                               f"instead (msptui reaffirm {risk.id} --on DATE --by NAME)")
        signed_day = signed_at.astimezone(ZoneInfo(tz)).date()
        if signed_day < risk.recommended_on:
            raise fail("signed-at", f"{signed_day.isoformat()} is before the recommendation was made "
                                    f"({risk.recommended_on.isoformat()})")

    risk = get_risk(store, risk_id)
    client = get_client(store, risk.client_id)
    fields = draft.parse(client.home_tz, now=now)
    check(risk, fields["signed_at"], client.home_tz)
    document = hash_document(fields["document"], progress=progress, cancelled=cancelled)
    written: list = []
    with store.transaction():
        risk = get_risk(store, risk_id)
        check(risk, fields["signed_at"], client.home_tz)
        ack = {"signed_by": fields["signed_by"], "signed_at": fields["signed_at"], "document": document}
        changed = validated(RiskAcceptance, {**risk.model_dump(), "acknowledgement": ack})
        _put(store, changed, written)
    return Outcome(changed, written)


def reaffirm(store: Store, risk_id: str, draft: ReaffirmDraft, *, now: datetime | None = None) -> Outcome:
    """The client confirms a signed decline again (a later review, a yearly letter)."""
    fields = draft.parse()

    def check(risk: RiskAcceptance, tz: str) -> None:
        _declined(risk, "re-affirmed")
        if risk.acknowledgement is None:
            raise fail("risk", f"{risk.id!r} has no signed acknowledgement to re-affirm: record it first "
                               f"(msptui acknowledge {risk.id} --signed-by NAME --signed-at ISO8601)")
        signed = risk.acknowledgement.signed_at.astimezone(ZoneInfo(tz)).date()
        if fields["on"] < signed:
            raise fail("on", f"{fields['on'].isoformat()} is before the acknowledgement was signed ({signed.isoformat()})")
        not_after(fields["on"], _today(tz, now), "on", "a re-affirmation")

    risk = get_risk(store, risk_id)
    client = get_client(store, risk.client_id)
    check(risk, client.home_tz)
    document = hash_document(fields["document"])
    written: list = []
    with store.transaction():
        risk = get_risk(store, risk_id)
        check(risk, client.home_tz)
        entry = {"on": fields["on"], "by": fields["by"], "document": document}
        changed = validated(RiskAcceptance, {**risk.model_dump(), "reaffirmations": [*risk.model_dump()["reaffirmations"], entry]})
        _put(store, changed, written)
    return Outcome(changed, written)


# ---------------------------------------------------------------------------
# the MSP itself
# ---------------------------------------------------------------------------


def set_msp(store: Store, draft: MspDraft) -> Outcome:
    """Create or change the MSP's own record (options not given keep what is on record)."""
    written: list = []
    with store.transaction():
        current = msp_record(store)
        fields = draft.fields(new=current is None)
        if not fields:
            raise UserError("nothing to change: give --name, --address or --contact")
        base = current.model_dump() if current is not None else {}
        record = validated(Msp, {**base, **fields, "id": MSP_ID})
        _put(store, record, written)
    return Outcome(record, written)
