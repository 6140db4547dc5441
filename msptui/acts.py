"""What was done, by whom: the notification log, decisions and consents, the cost ledger.

A late-notice denial or a regulator's timeliness finding is decided on who was
notified, when, how, and with what proof; a claim on what the insurer consented
to and what it cost. Each act here is recorded as it happened:

- **when it happened** (``--at``, default now) is the act's own instant,
  kept apart from when it was entered (the event's time). A time in the future
  or before the incident's first activity (or, until that is recorded, its
  discovery) is refused;
- **who**: the person who did it (``--by``, default the operator) and the
  operator who recorded it;
- **files** (the content sent, a proof of delivery, an invoice, a signed
  consent) are hashed, streamed, and kept as evidence items with custody.

A notification for a checklist step completes that step *as of the
notification's time*, so clocks chained to it (California AG 15 days after
the notice to residents, NIS2 and DORA follow-ups) run from the real sending.
A call to a hotline, or any channel that leaves no writing, does not complete
a step whose policy requires written notice: it is logged, and says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import environment, identity
from .errors import FieldError, UserError
from .evidence import hash_file
from .incidents import _given, _next_number, _planned, act_when, check_when, get_incident
from .models import (
    NOT_MONEY,
    WRITTEN_CHANNELS,
    Attachment,
    ChecklistItem,
    Cost,
    IncidentDecision,
    Evidence,
    Incident,
    InsurancePolicy,
    Notification,
    NotificationAck,
    validated,
)
from .store import Store
from .timeutil import fmt_local

CHANNELS = ("email", "portal", "letter", "phone", "hotline", "in_person", "other")
PARTIES = ("client", "msp", "insurer", "counsel", "law_enforcement", "other")
COST_KINDS = ("time", "invoice", "ransom", "other")


# ---------------------------------------------------------------------------
# shared checks
# ---------------------------------------------------------------------------


def money(text: str | Decimal, field: str = "--amount", currency: str | None = None) -> Decimal:
    """An exact, non-negative amount ('1234.50', '20k', '1.5M'; see ``msptui.money``): never a float, no more
    decimal places than ``currency`` has minor units (at most 3 without one)."""
    from .money import parse_amount

    value = parse_amount(text, field, currency=currency)
    assert value is not None
    return value


def currency(code: str, field: str = "--currency") -> str:
    """An ISO 4217 currency code (USD, EUR ...)."""
    import pycountry

    cleaned = (code or "").strip().upper()
    if len(cleaned) != 3 or pycountry.currencies.get(alpha_3=cleaned) is None:
        raise FieldError(field, f"{str(code)[:20]!r} is not an ISO 4217 currency code (e.g. USD, EUR, GBP)")
    if cleaned in NOT_MONEY:
        raise FieldError(field, f"{cleaned} is ISO 4217's code for {NOT_MONEY[cleaned]}, not a currency (e.g. USD, EUR, GBP)")
    return cleaned


@dataclass(frozen=True)
class Hashed:
    """A file hashed before the write lock is taken (hashing may take a while; other engineers keep writing)."""

    path: Path
    sha256: str
    size: int


def _readable(path: str | Path, field: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise FieldError(field, f"{path} is not a readable file")
    return p


def _hash(path: str | Path | None, field: str) -> Hashed | None:
    if path is None:
        return None
    p = _readable(path, field)
    try:
        digest = hash_file(p)
    except OSError as exc:
        raise FieldError(field, f"cannot read {path} ({exc.strerror or exc})") from None
    return Hashed(p, digest.sha256, digest.size)


def _keep(store: Store, incident: Incident, hashed: Hashed | None, what: str) -> Attachment | None:
    """Inside the caller's transaction: the evidence item that keeps a hashed file, and the attachment naming it
    (the act and its files are recorded together or not at all)."""
    if hashed is None:
        return None
    now = datetime.now(timezone.utc)
    who = identity.person()
    prefix = f"{incident.id}:ev-"
    number = _next_number(store, "evidence", "incident_id", prefix)
    where = str(hashed.path.resolve())
    evidence = validated(Evidence, {
        "id": f"{prefix}{number}", "incident_id": incident.id, "client_id": incident.client_id,
        "name": f"{what}: {hashed.path.name}"[:500], "sha256": hashed.sha256, "size": hashed.size,
        "acquired": {"at": now, "tz": environment.local_zone()}, "acquired_by": who,
        "source": where, "method": "file hashed by msptui (SHA-256, streamed) when the act was recorded",
        "custody": [{"at": now, "by": who, "action": f"hashed as the {what}", "location": where}],
    })
    store.put_in_transaction(evidence)
    return Attachment(file_name=hashed.path.name[:500], sha256=hashed.sha256, size=hashed.size, evidence_id=evidence.id)


def _find_item(store: Store, incident: Incident, ref: str) -> ChecklistItem:
    for candidate in (ref, f"{incident.id}:{ref}"):
        item = store.get(ChecklistItem, candidate)
        if item is not None:
            if item.incident_id != incident.id:
                raise FieldError("--item", f"{ref!r} belongs to incident {item.incident_id}, not {incident.id}")
            return item
    raise FieldError("--item", f"incident {incident.id} has no checklist item {ref!r} (see 'msptui checklist {incident.id}')")


def _written_required(store: Store, item: ChecklistItem) -> InsurancePolicy | None:
    """The policy whose notice condition requires written notice, when ``item`` is that policy's notice step."""
    if not item.policy_id or not item.rule:
        return None
    from .obligations import load_rules

    rule = load_rules().get(item.rule)
    policy = store.get(InsurancePolicy, item.policy_id)
    if rule is not None and rule.from_policy and policy is not None and policy.notice.written:
        return policy
    return None


# ---------------------------------------------------------------------------
# the checks each act makes of what was typed (shared by the acts and the drafts below)
# ---------------------------------------------------------------------------


def _check_to(to: str | None) -> None:
    if not (to or "").strip():
        raise FieldError("--to", "whom was notified?")


def _check_channel(channel: str | None) -> None:
    if channel not in CHANNELS:
        raise FieldError("--channel", f"unknown channel {str(channel)[:30]!r}; expected one of: {', '.join(CHANNELS)}")


def _check_decision(party: str | None, by: str | None, text: str | None) -> None:
    if party not in PARTIES:
        raise FieldError("--party", f"unknown party {str(party)[:30]!r}; expected one of: {', '.join(PARTIES)}")
    if not (by or "").strip():
        raise FieldError("--by", "who decided?")
    if not (text or "").strip():
        raise FieldError("--text", "what was decided?")


def _cap(cap: str | None, currency_code: str | None) -> tuple[Decimal | None, str | None]:
    """A spending cap is an amount in a currency: both or neither."""
    if cap is not None and currency_code is None:
        raise FieldError("--currency", "a spending cap needs its currency (e.g. USD)")
    if cap is None and currency_code is not None:
        raise FieldError("--cap", f"a currency ({str(currency_code)[:20]}) without an amount: give the cap, or no currency")
    if cap is None:
        return None, None
    code = currency(currency_code or "")
    return money(cap, "--cap", code), code


def _cost_values(kind: str | None, amount: str | None, currency_code: str | None,
                 hours: str | None) -> tuple[Decimal, str, Decimal | None]:
    if kind not in COST_KINDS:
        raise FieldError("--kind", f"unknown kind {str(kind)[:30]!r}; expected one of: {', '.join(COST_KINDS)}")
    code = currency(currency_code or "")
    value = money(amount if amount is not None else "", "--amount", code)
    hrs = None
    if hours is not None:
        hrs = money(hours, "--hours")
        if -hrs.as_tuple().exponent > 2 or hrs > 10_000:
            raise FieldError("--hours", f"{hours!r} is not a number of hours (at most 2 decimals, at most 10000)")
    return value, code, hrs


# ---------------------------------------------------------------------------
# notifications
# ---------------------------------------------------------------------------


def notify(store: Store, incident_id: str, *, to: str, channel: str, at: datetime, tz: str, org: str | None = None,
           address: str | None = None, by: str | None = None, item: str | None = None, ref: str | None = None,
           content: str | Path | None = None, proof: str | Path | None = None) -> Notification:
    """Log one notification (one transaction: the notification, its files as evidence, the step it completes)."""
    _check_to(to)
    _check_channel(channel)
    files = {"content": _hash(content, "--content"), "proof": _hash(proof, "--proof")}
    with store.transaction():
        incident = get_incident(store, incident_id)
        check_when(incident, at)
        step = _find_item(store, incident, item) if item else None
        attachments = {k: _keep(store, incident, v, f"notification {k}") for k, v in files.items()}
        completes, note = False, ""
        if step is not None:
            policy = _written_required(store, step)
            if policy is not None and channel not in WRITTEN_CHANNELS:
                note = (f"a {channel} notice does not satisfy policy {policy.policy_number}'s written-notice condition: "
                        f"the step '{step.step}' stays open until written notice is sent")
            else:
                completes = True
        number = _next_number(store, "notifications", "incident_id", f"{incident.id}:ntf-")
        record = validated(Notification, {
            "id": f"{incident.id}:ntf-{number}", "incident_id": incident.id, "client_id": incident.client_id,
            "to": to.strip(), "org": (org or "").strip() or None, "address": (address or "").strip() or None,
            "channel": channel, "at": {"at": at, "tz": tz}, "by": (by or "").strip() or identity.person(),
            "item_id": step.id if step else None, "completes_item": completes, "ref": (ref or "").strip() or None,
            "content": attachments["content"], "proof": attachments["proof"],
            "note": note, "recorded_by": identity.person(),
        })
        store.put_in_transaction(record)
        if step is not None:
            _apply_to_step(store, incident, step, record)
    return record


def _apply_to_step(store: Store, incident: Incident, step: ChecklistItem, record: Notification) -> None:
    text = f"notification {record.id}: {record.channel} to {record.to}" + (f", ref {record.ref}" if record.ref else "")
    if not record.completes_item:
        store.put_in_transaction(step.model_copy(update={"notes": [*step.notes, f"{text} ({record.note})"]}))
        return
    was_done = step.status == "done"
    update: dict[str, Any] = {"notes": [*step.notes, text]}
    if not was_done or (step.updated_at and record.at.at < step.updated_at):
        update.update({"status": "done", "updated_by": record.by, "updated_at": record.at.at})
    store.put_in_transaction(step.model_copy(update=update))
    if step.rule and _planned(incident):
        from .plan import replan

        replan(store, incident, why=f"{step.step} sent ({record.id})")


def acknowledge(store: Store, notification_id: str, *, at: datetime, tz: str, by: str | None = None,
                proof: str | Path | None = None) -> Notification:
    proof_file = _hash(proof, "--proof")
    with store.transaction():
        record = store.get(Notification, notification_id)
        if record is None:
            raise UserError(f"no notification with id {notification_id!r} (see 'msptui notifications INCIDENT')")
        incident = get_incident(store, record.incident_id)
        check_when(incident, at)
        if at < record.at.at:
            raise FieldError("--at", f"must not be before the notification ({fmt_local(record.at.at, tz)})")
        ack = validated(NotificationAck, {"at": at, "tz": tz, "by": (by or "").strip() or None,
                                          "proof": _keep(store, incident, proof_file, "acknowledgement proof"),
                                          "recorded_by": identity.person()})
        updated = record.model_copy(update={"acks": [*record.acks, ack]})
        store.put_in_transaction(updated)
    return updated


def notifications(store: Store, incident_id: str) -> list[Notification]:
    get_incident(store, incident_id)
    return sorted(store.all(Notification, incident_id=incident_id), key=lambda n: (n.at.at, n.id))


# ---------------------------------------------------------------------------
# decisions and consents
# ---------------------------------------------------------------------------


def decide(store: Store, incident_id: str, *, by: str, party: str, text: str, at: datetime, tz: str,
           role: str | None = None, org: str | None = None, ref: str | None = None, cap: str | None = None,
           currency_code: str | None = None, document: str | Path | None = None) -> IncidentDecision:
    _check_decision(party, by, text)
    amount, code = _cap(cap, currency_code)
    hashed = _hash(document, "--document")
    with store.transaction():
        incident = get_incident(store, incident_id)
        check_when(incident, at)
        document_file = _keep(store, incident, hashed, "decision document")
        number = _next_number(store, "decisions", "incident_id", f"{incident.id}:dec-")
        record = validated(IncidentDecision, {
            "id": f"{incident.id}:dec-{number}", "incident_id": incident.id, "client_id": incident.client_id,
            "party": party, "by": by.strip(), "role": (role or "").strip() or None, "org": (org or "").strip() or None,
            "text": text.strip(), "at": {"at": at, "tz": tz}, "ref": (ref or "").strip() or None,
            "cap": amount, "currency": code, "document": document_file, "recorded_by": identity.person(),
        })
        store.put_in_transaction(record)
    return record


def decisions(store: Store, incident_id: str) -> list[IncidentDecision]:
    get_incident(store, incident_id)
    return sorted(store.all(IncidentDecision, incident_id=incident_id), key=lambda d: (d.at.at, d.id))


# ---------------------------------------------------------------------------
# the cost ledger
# ---------------------------------------------------------------------------


def add_cost(store: Store, incident_id: str, *, kind: str, amount: str, currency_code: str, at: datetime, tz: str,
             hours: str | None = None, person: str | None = None, task: str | None = None, vendor: str | None = None,
             invoice: str | Path | None = None) -> Cost:
    value, code, hrs = _cost_values(kind, amount, currency_code, hours)
    hashed = _hash(invoice, "--invoice")
    with store.transaction():
        incident = get_incident(store, incident_id)
        check_when(incident, at)
        invoice_file = _keep(store, incident, hashed, "invoice")
        number = _next_number(store, "costs", "incident_id", f"{incident.id}:cost-")
        record = validated(Cost, {
            "id": f"{incident.id}:cost-{number}", "incident_id": incident.id, "client_id": incident.client_id,
            "kind": kind, "amount": value, "currency": code, "hours": hrs,
            "person": (person or "").strip() or None, "task": (task or "").strip() or None,
            "vendor": (vendor or "").strip() or None, "invoice": invoice_file,
            "at": {"at": at, "tz": tz}, "recorded_by": identity.person(),
        })
        store.put_in_transaction(record)
    return record


def costs(store: Store, incident_id: str) -> list[Cost]:
    get_incident(store, incident_id)
    return sorted(store.all(Cost, incident_id=incident_id), key=lambda c: (c.at.at, c.id))


def totals(entries: list[Cost]) -> dict[str, Any]:
    """Exact totals per currency: overall, by kind, by person, by vendor (amounts as strings), and hours."""
    out: dict[str, dict] = {}
    for cur in sorted({c.currency for c in entries}):
        rows = [c for c in entries if c.currency == cur]
        by: dict[str, dict[str, Decimal]] = {"kind": defaultdict(Decimal), "person": defaultdict(Decimal),
                                             "vendor": defaultdict(Decimal)}
        for c in rows:
            by["kind"][c.kind] += c.amount
            if c.person:
                by["person"][c.person] += c.amount
            if c.vendor:
                by["vendor"][c.vendor] += c.amount
        out[cur] = {"total": str(sum((c.amount for c in rows), Decimal(0))),
                    "hours": str(sum((c.hours for c in rows if c.hours is not None), Decimal(0))),
                    **{f"by_{k}": {name: str(v) for name, v in sorted(d.items())} for k, d in by.items()}}
    return out


def costs_csv(entries: list[Cost]) -> str:
    """The ledger as spreadsheet-safe CSV: one row per entry, exact amounts."""
    from .csvout import to_csv

    header = ["id", "at", "kind", "amount", "currency", "hours", "person", "task", "vendor", "invoice_sha256", "recorded_by"]
    rows = [[c.id, c.at.at.isoformat(), c.kind, str(c.amount), c.currency, str(c.hours) if c.hours is not None else "",
             c.person or "", c.task or "", c.vendor or "", c.invoice.sha256 if c.invoice else "", c.recorded_by]
            for c in entries]
    return to_csv(header, rows)

# ---------------------------------------------------------------------------
# What was typed: one reading for the CLI command and the TUI form
# ---------------------------------------------------------------------------
#
# Each draft holds an act's options as typed (None or "" = not given);
# ``resolve(incident)`` checks every value before anything is hashed or written
# (the act checks again inside its transaction) and returns the act's keyword
# arguments, or raises a FieldError naming the field (``--cap``, key ``cap``):
# ``msptui decide`` prints it as it is, the decision form shows it under its own
# label and keeps what was typed. See also msptui.incidents.NoteDraft.


@dataclass(frozen=True)
class NotificationDraft:
    """``msptui notify`` / the notification form (r)."""

    to: str
    channel: str
    at: str | None = None
    tz: str | None = None
    org: str | None = None
    address: str | None = None
    by: str | None = None
    item: str | None = None
    ref: str | None = None
    content: str | None = None
    proof: str | None = None

    def resolve(self, incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
        _check_to(self.to)
        channel = (self.channel or "").strip()
        _check_channel(channel)
        at, tz = act_when(incident, self.at, self.tz, now=now)
        content, proof = _given(self.content), _given(self.proof)
        for path, field in ((content, "--content"), (proof, "--proof")):
            if path is not None:
                _readable(path, field)
        return {"to": self.to.strip(), "channel": channel, "at": at, "tz": tz, "org": _given(self.org),
                "address": _given(self.address), "by": _given(self.by), "item": _given(self.item), "ref": _given(self.ref),
                "content": content, "proof": proof}


@dataclass(frozen=True)
class DecisionDraft:
    """``msptui decide`` / the decision form (w)."""

    party: str
    by: str
    text: str
    at: str | None = None
    tz: str | None = None
    role: str | None = None
    org: str | None = None
    ref: str | None = None
    cap: str | None = None
    currency: str | None = None
    document: str | None = None

    def resolve(self, incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
        party = (self.party or "").strip()
        _check_decision(party, self.by, self.text)
        at, tz = act_when(incident, self.at, self.tz, now=now)
        cap, code = _given(self.cap), _given(self.currency)
        _cap(cap, code)
        document = _given(self.document)
        if document is not None:
            _readable(document, "--document")
        return {"party": party, "by": self.by.strip(), "text": self.text.strip(), "at": at, "tz": tz,
                "role": _given(self.role), "org": _given(self.org), "ref": _given(self.ref), "cap": cap,
                "currency_code": code, "document": document}


@dataclass(frozen=True)
class CostDraft:
    """``msptui cost`` / the cost form (l)."""

    kind: str
    amount: str
    currency: str
    at: str | None = None
    tz: str | None = None
    hours: str | None = None
    person: str | None = None
    task: str | None = None
    vendor: str | None = None
    invoice: str | None = None

    def resolve(self, incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
        kind, hours = (self.kind or "").strip(), _given(self.hours)
        _cost_values(kind, self.amount, self.currency, hours)
        at, tz = act_when(incident, self.at, self.tz, now=now)
        invoice = _given(self.invoice)
        if invoice is not None:
            _readable(invoice, "--invoice")
        return {"kind": kind, "amount": self.amount, "currency_code": self.currency, "at": at, "tz": tz, "hours": hours,
                "person": _given(self.person), "task": _given(self.task), "vendor": _given(self.vendor),
                "invoice": invoice}


def notice_prefill(view, item: ChecklistItem) -> dict[str, str]:
    """What the notification form starts with for a checklist step: the policy's notice address, the
    rule's recipient, or the client's primary contact (the MSP notifying its client)."""
    out = {"to": "", "org": "", "address": "", "channel": "email"}
    policy = next((p.policy for p in view.policies if p.policy.id == item.policy_id), None)
    if policy is not None:
        out.update(to=f"{policy.carrier} claims", org=policy.carrier)
        if item.step.split(".", 1)[0] == "ins-hotline" and policy.hotline:
            out.update(address=policy.hotline, channel="hotline")
        elif policy.claims_email:
            out.update(address=policy.claims_email, channel="email")
        elif policy.claims_address:
            out.update(address=policy.claims_address.splitlines()[0], channel="letter")
        return out
    from .obligations import load_rules

    rule = load_rules().get(item.rule or "")
    if rule is not None and rule.party == "msp":
        contact = next((c for c in view.client.contacts if c.role in ("primary", "executive", "emergency")), None)
        out.update(to=contact.name if contact else view.client.name, org=view.client.name,
                   address=(contact.email or contact.phone or "") if contact else "")
    elif rule is not None:
        out["to"] = rule.recipient[:200]
    return out
