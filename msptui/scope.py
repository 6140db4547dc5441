"""What was in force at a given moment: the agreement stack and the scope.

This is the question the dossier answers ("what were you contracted to do on
the day of the breach?"), so the rules are spelled out:

- An instant is turned into the client's local calendar date (home_tz):
  contracts are written in local dates, and a breach at 23:30 in Los Angeles
  is still "that day" there even though it is the next day in UTC.
- An agreement is in force on a date when effective_from <= date <=
  effective_to (both inclusive; no effective_to = open-ended), and no other
  agreement that ``supersedes`` it has started by that date.
- Scope lines resolve in stack order: documents sorted by effective_from,
  then type (MSA, then schedules/SOWs/SLAs/DPAs/BAAs, then amendments), then
  version; a later document's line for an item replaces an earlier one.
  A line's own effective dates narrow it further.
- A catalogue item no line in force mentions is ``not_addressed``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Iterable
from zoneinfo import ZoneInfo

from .catalog import Catalog, load_catalog
from .models import NOT_ADDRESSED, Agreement, Client, RiskAcceptance

_TYPE_ORDER = {"msa": 0, "schedule": 1, "sow": 1, "sla": 1, "dpa": 1, "baa": 1, "amendment": 2}


def local_date(client: Client, instant: datetime) -> date:
    return instant.astimezone(ZoneInfo(client.home_tz)).date()


def _covers(start: date | None, end: date | None, day: date) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def agreements_in_force(agreements: Iterable[Agreement], day: date) -> list[Agreement]:
    """The stack in force on ``day``, in resolution order."""
    agreements = list(agreements)
    superseded = {a.supersedes for a in agreements if a.supersedes and a.effective_from <= day}
    live = [a for a in agreements if _covers(a.effective_from, a.effective_to, day) and a.id not in superseded]
    return sorted(live, key=lambda a: (a.effective_from, _TYPE_ORDER.get(a.type, 1), a.version, a.id))


@dataclass(frozen=True)
class ResolvedScope:
    item: str
    label: str
    category: str
    security_relevant: bool
    state: str
    clause: str | None = None
    notes: str = ""
    agreement_id: str | None = None
    agreement_title: str | None = None
    agreement_version: int | None = None
    signed: bool | None = None
    signed_at: str | None = None
    #: declined items: the risk acceptance behind it (id), and whether it was signed
    acceptance_id: str | None = None
    acceptance_signed: bool | None = None
    review_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """Factual wording for a lawyer: where the state comes from. Never a conclusion.

        e.g. "included in Schedule B §3.2 (Schedule B: Security Services, version 2, signed 2025-03-01)".
        """
        if self.state == NOT_ADDRESSED:
            return "not addressed by any agreement in force"
        signed = f"signed {self.signed_at[:10]}" if self.signed and self.signed_at else "UNSIGNED"
        document = f"{self.agreement_title}, version {self.agreement_version}, {signed}"
        where = f"{self.clause} ({document})" if self.clause else f"{document} (no section reference)"
        text = f"{self.state.replace('_', ' ')} in {where}"
        if self.state == "declined":
            if self.acceptance_id:
                text += "; risk acceptance " + ("signed" if self.acceptance_signed else "NOT signed") + f" ({self.acceptance_id})"
            else:
                text += "; no risk-acceptance record"
        return text


def _latest_acceptance(acceptances: Iterable[RiskAcceptance], item: str, day: date) -> RiskAcceptance | None:
    """The latest *declined* decision on the item made by that day (an accepted one does not back a decline)."""
    candidates = [r for r in acceptances if r.item == item and r.decision == "declined" and r.decided_on and r.decided_on <= day]
    return max(candidates, key=lambda r: (r.decided_on or r.recommended_on, r.id), default=None)


def scope_as_of(
    client: Client,
    agreements: Iterable[Agreement],
    instant: datetime | date,
    *,
    acceptances: Iterable[RiskAcceptance] = (),
    catalog: Catalog | None = None,
) -> dict[str, ResolvedScope]:
    """Every catalogue item (and any extra item the contract names) with its state on that day."""
    catalog = catalog or load_catalog()
    day = instant if isinstance(instant, date) and not isinstance(instant, datetime) else local_date(client, instant)
    acceptances = [a for a in acceptances if a.client_id == client.id]
    resolved: dict[str, ResolvedScope] = {}
    for agreement in agreements_in_force((a for a in agreements if a.client_id == client.id), day):
        signed = agreement.signature.status == "signed"
        for line in agreement.scope:
            if not _covers(line.effective_from, line.effective_to, day):
                continue
            entry = catalog.items.get(line.item)
            acceptance = _latest_acceptance(acceptances, line.item, day) if line.state.value == "declined" else None
            resolved[line.item] = ResolvedScope(
                item=line.item,
                label=entry.label if entry else line.item,
                category=entry.category if entry else "other",
                security_relevant=entry.security_relevant if entry else False,
                state=line.state.value,
                clause=line.clause,
                notes=line.notes,
                agreement_id=agreement.id,
                agreement_title=agreement.title,
                agreement_version=agreement.version,
                signed=signed,
                signed_at=agreement.signature.signed_at.isoformat() if agreement.signature.signed_at else None,
                acceptance_id=acceptance.id if acceptance else None,
                acceptance_signed=(acceptance.acknowledgement is not None) if acceptance else None,
                review_id=acceptance.review_id if acceptance else None,
            )
    for item in catalog.items.values():
        if item.id not in resolved:
            resolved[item.id] = ResolvedScope(item.id, item.label, item.category, item.security_relevant, NOT_ADDRESSED)
    return resolved
