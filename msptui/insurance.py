"""Insurance policies: whether one is in force, what its notice condition says, its notice clock.

This is the one place that answers "was this policy in force?" for the
assessment, the checklist, the client picture, the TUI, the review pack and
the dossier. A policy period is a span of *local calendar dates* at the
insured's address: a client's policy is judged on the client's home-zone
date, and so is the MSP's own policy when it answers for an incident of that
client (the MSP record has no zone of its own yet). An incident observed at
07:30 in London for a Los Angeles client is still the previous day in Los
Angeles: a policy starting that day was not yet in force.

Notice clocks come from the policy's own ``NoticeCondition``: fixed windows
count like statutes (hours are elapsed time; days count from the trigger's
local date, due 23:59:59 on day N); "as soon as practicable" has no due date
and an internal target.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Literal
from zoneinfo import ZoneInfo

from .deadlines import DEFAULT_INTERNAL_TARGET_HOURS, Deadline, period_due
from .models import Client, InsurancePolicy
from .timeutil import TimeError, get_zone, to_utc, zone_name

Status = Literal["in_force", "expired", "not_started"]


def policy_day(client: Client, instant: datetime) -> date:
    """The local date a policy period is judged on (the client's home zone)."""
    return instant.astimezone(ZoneInfo(client.home_tz)).date()


def status_on(policy: InsurancePolicy, day: date) -> Status:
    if day < policy.period_start:
        return "not_started"
    if day > policy.period_end:
        return "expired"
    return "in_force"


def in_force(policy: InsurancePolicy, client: Client, instant: datetime) -> bool:
    return status_on(policy, policy_day(client, instant)) == "in_force"


def status_text(policy: InsurancePolicy, day: date) -> str:
    """"in force, ends 2027-03-01 (92 days left)", "EXPIRED 2026-01-31", "not yet in force (starts ...)"."""
    status = status_on(policy, day)
    if status == "not_started":
        return f"NOT YET IN FORCE (starts {policy.period_start.isoformat()})"
    if status == "expired":
        return f"EXPIRED {policy.period_end.isoformat()}"
    left = (policy.period_end - day).days
    return f"in force, ends {policy.period_end.isoformat()} ({left} days left)"


def relevant(policies: Iterable[InsurancePolicy], client: Client) -> list[InsurancePolicy]:
    """The MSP's own policies and this client's, by id."""
    return sorted((p for p in policies if p.owner == "msp" or p.client_id == client.id), key=lambda p: p.id)


def notice_text(policy: InsurancePolicy) -> str:
    n = policy.notice
    if n.kind == "fixed":
        window = f"{n.hours} hours" if n.hours else f"{n.days} days"
        text = f"written notice within {window} of {n.trigger}" if n.written else f"notice within {window} of {n.trigger}"
    else:
        target = f" (internal target {n.internal_target_hours} h)" if n.internal_target_hours else ""
        text = f"notice as soon as practicable after {n.trigger}{target}"
    if policy.prior_consent_required:
        text += "; insurer consent before vendors, remediation spend or ransom payment"
    elif policy.prior_consent_required is None:
        text += "; whether insurer consent is needed before vendors, remediation spend or ransom payment: not recorded: confirm"
    if policy.panel_vendors_required:
        text += "; panel vendors required"
    return text


def _notice_basis(policy: InsurancePolicy) -> str:
    n = policy.notice
    who = f"policy {policy.policy_number} ({policy.carrier}) notice condition"
    if n.kind == "asap":
        target = n.internal_target_hours or DEFAULT_INTERNAL_TARGET_HOURS
        return f"as soon as practicable after {n.trigger} ({who}); internal target {target} h"
    if n.hours:
        return f"{n.hours} elapsed hours from {n.trigger} ({who})"
    return f"{n.days} calendar days from {n.trigger}, local date in the trigger's zone is day 0, due 23:59:59 ({who})"


def warnings(policy: InsurancePolicy, day: date) -> list[str]:
    """What an engineer must know before acting on this policy (written notice, consent, outside the period)."""
    out = []
    if policy.notice.written:
        out.append("written notice required: a breach-hotline call is not notice")
    if policy.prior_consent_required:
        out.append("insurer consent needed before engaging vendors, remediation or any ransom payment")
    elif policy.prior_consent_required is None:
        out.append("consent condition not recorded: ask the carrier whether its written consent is required "
                   "before engaging vendors, remediation or any ransom payment")
    if status_on(policy, day) != "in_force":
        out.append(f"trigger date {day} is outside the policy period {policy.period_start} to {policy.period_end}")
    return out


def notice_window_warnings(policy: InsurancePolicy, due: datetime | None, client: Client) -> list[str]:
    """A claims-made-and-reported policy answers only for a claim reported within its period: say so when
    the notice window runs past the period's end (report by the end, not by the window)."""
    if policy.claims_form != "claims_made_and_reported" or due is None:
        return []
    end = datetime.combine(policy.period_end, time(23, 59, 59), ZoneInfo(client.home_tz))
    if due.astimezone(timezone.utc) <= end.astimezone(timezone.utc):
        return []
    return [f"the notice window ends after the policy period ({policy.period_end}): this claims-made-and-reported "
            f"policy needs the notice within its period, by {policy.period_end} 23:59:59 {client.home_tz}"]


def notice_deadline(policy: InsurancePolicy, trigger: datetime, tz: str, *, period_day: date | None = None) -> Deadline:
    """The insurer-notice deadline from the actual policy's NoticeCondition.

    ``tz`` is the zone the trigger was observed in (days count from its local
    date there); ``period_day`` is the date the policy period is judged on
    (``policy_day``), defaulting to the trigger's date in ``tz``.
    """
    if trigger.tzinfo is None or trigger.utcoffset() is None:
        raise TimeError("the trigger must carry a UTC offset (an instant, not a wall-clock time)")
    zone = get_zone(tz)
    start = trigger.astimezone(zone)
    n = policy.notice
    if n.kind == "fixed" and n.hours:
        due = period_due(start, tz, "hours", n.hours)
    elif n.kind == "fixed":
        due = period_due(start, tz, "calendar_days", n.days or 0, due_time="end_of_day")
    else:
        due = None
    target_hours = n.internal_target_hours or (DEFAULT_INTERNAL_TARGET_HOURS if due is None else None)
    target = (to_utc(start) + timedelta(hours=target_hours)).astimezone(zone) if target_hours else None
    if target is not None and due is not None and to_utc(target) > to_utc(due):
        target = due
    return Deadline(
        rule_id=f"policy:{policy.id}",
        trigger=start,
        due=due,
        clock_tz=zone_name(zone),
        basis=_notice_basis(policy),
        strict=due is not None,
        uncertain=False,
        strictness="contractual",
        confidence="high",
        internal_target=target,
        internal_target_basis=f"{target_hours} h after the trigger (internal target)" if target else None,
        alternatives=[],
        warnings=warnings(policy, period_day or start.date()),
    )
