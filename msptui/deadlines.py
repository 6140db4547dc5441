"""The deadline clock: from a rule and a trigger instant to a due instant.

Why each choice (these semantics are the product; see also the TOML header):

* Hour periods are *elapsed* time. Adding hours to an aware wall-clock
  datetime in Python is wall-clock arithmetic and is an hour wrong across a
  DST change, so hours are always added in UTC and converted back.
* Day periods count *local calendar dates* in the rule's clock zone: the
  trigger's local date is day 0. The date is never taken from the UTC
  timestamp (23:30 in Los Angeles is already tomorrow in UTC).
* Business days exclude the trigger day; on a non-business trigger day the
  next business day is day 1 (Form 8-K General Instruction B.1). Holidays
  come from the maintained ``holidays`` library (observed days included) plus
  closures entered by hand; nothing is hand-coded.
* Month periods keep the local clock time and clamp to the month's end.
* Nothing rolls over a weekend by default. Statutory roll-overs, the DORA
  noon-next-working-day relief and the EU Reg. 1182/71 reading are shown as
  informational *alternatives* ("latest defensible"), never as the due date:
  the due date is always the earliest defensible reading.
* A proposed rule that is not in force (``strictness =
  "proposed_not_in_force"``, ``Rule.proposed``) has no due date and no
  internal target: what the proposal would give is an informational
  alternative, so nothing counts it down or calls it OVERDUE.
* A computed local due time in a DST gap or fold is resolved with zoneinfo's
  fold=0 (first occurrence in a fold; in a gap the pre-transition offset, so
  02:30 in a New York gap is 03:30 EDT) and a warning is added. For
  ``end_of_day`` (23:59:59) this only happens in zones whose transition is at
  midnight (e.g. America/Santiago).

Aware datetimes that share a tzinfo compare and subtract as *wall-clock*
values in Python, so every comparison here goes through UTC (``to_utc``).

Pure Python: no textual / weasyprint imports.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Iterable, Literal

import holidays
from pydantic import BaseModel, ConfigDict

from .obligations import DISCLAIMER, Rule, chained_from, get_rule, trigger_label
from .timeutil import UTC, TimeError, fmt_local_and_utc, get_zone, iso, parse_local, resolve_local, to_utc, zone_name

__all__ = [
    "Alternative",
    "Deadline",
    "DEFAULT_INTERNAL_TARGET_HOURS",
    "add_business_days",
    "add_months",
    "business_day_checker",
    "chained_from",
    "compute",
    "deadline_report",
    "elapsed",
    "period_due",
    "zone_country",
]

#: internal target for rules with no fixed period ("as soon as feasible")
DEFAULT_INTERNAL_TARGET_HOURS = 24
END_OF_DAY = time(23, 59, 59)
NOON = time(12, 0)
_EDGAR_GOVERNMENT_NOTE = (
    "if EDGAR also closed on executive-order federal closure days (holidays 'government' "
    "category, e.g. 2025-12-24/26: unconfirmed)"
)


class Alternative(BaseModel):
    """Another reading of the same obligation.

    ``candidate``: an equally defensible reading (counted from the observer's
    local date, under the other plausible holiday calendar, the other instant
    of a DST-ambiguous due time): the earliest candidate is the headline due
    date, the others are listed. ``informational``: a later reading some
    counsel may rely on (statutory roll-over, EU Reg. 1182/71, an extension):
    shown, never the due date.
    """

    model_config = ConfigDict(frozen=True)

    label: str
    due: datetime
    kind: Literal["candidate", "informational"] = "informational"


class Deadline(BaseModel):
    """The computed clock for one rule and one trigger."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    trigger: datetime
    due: datetime | None
    clock_tz: str
    basis: str
    strict: bool
    uncertain: bool
    advisory: bool = False
    strictness: str
    confidence: str
    internal_target: datetime | None = None
    internal_target_basis: str | None = None
    alternatives: list[Alternative] = []
    warnings: list[str] = []


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _holiday_tables(name: str, country: str | None) -> tuple[holidays.HolidayBase, ...]:
    """The ``holidays`` tables behind a calendar name (years expand on demand)."""
    federal = holidays.US(observed=True)
    if name in ("us_federal", "us_edgar"):
        return (federal,)
    if name == "us_federal_government":
        return (holidays.US(categories=("government",), observed=True),)
    if name == "vermont":
        return (federal, holidays.US(subdiv="VT", observed=True))
    if name.startswith("us_state:"):
        return (federal, holidays.US(subdiv=name.split(":", 1)[1], observed=True))
    if name in ("eu_member_state", "country"):
        return (holidays.country_holidays(country),) if country else ()
    raise ValueError(f"unknown calendar {name!r}")


def business_day_checker(
    name: str, closures: Iterable[date] = (), country: str | None = None
) -> Callable[[date], bool]:
    """A predicate "is this date a business day in calendar ``name``?".

    Weekends, the calendar's holidays (observed days included) and the
    manually entered ``closures`` are not business days.
    """
    tables = _holiday_tables(name, country)
    closed = frozenset(closures)

    def is_business(day: date) -> bool:
        return day.weekday() < 5 and day not in closed and not any(day in table for table in tables)

    return is_business


def add_business_days(start: date, count: int, is_business: Callable[[date], bool]) -> date:
    """The date of business day ``count`` after ``start`` (``start`` is day 0, excluded)."""
    day, seen = start, 0
    while seen < count:
        day += timedelta(days=1)
        if is_business(day):
            seen += 1
    return day


def next_business_day(day: date, is_business: Callable[[date], bool]) -> date:
    """``day`` itself if it is a business day, else the first one after it."""
    while not is_business(day):
        day += timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to that month's last day."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return {}
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= 3:
                table[parts[2]] = parts[0]
    return table


def zone_country(tz: str) -> str | None:
    """ISO country of an IANA zone (Europe/Berlin -> DE), from tzdata's zone.tab."""
    return _zone_countries().get(tz)


# ---------------------------------------------------------------------------
# Period arithmetic
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    """Everything a period computation needs, resolved once."""

    zone: Any
    zone_name: str
    due_time: str
    is_business: Callable[[date], bool]


def _wall_time(due_time: str, trigger_local: datetime) -> time:
    if due_time == "exact":
        # to the second: a fraction of a second kept from the trigger would put the due date after
        # a reading that ends at 23:59:59 (the earliest defensible reading must be the headline)
        return trigger_local.time().replace(tzinfo=None, fold=0, microsecond=0)
    if due_time == "end_of_day":
        return END_OF_DAY
    hours, minutes = due_time.split(":")
    return time(int(hours), int(minutes))


def _at_local(day: date, wall: time, zone: Any, warnings: list[str], alts: list[Alternative]) -> datetime:
    """A local date and wall time as an instant (fold=0), warning on gap/fold."""
    naive = datetime.combine(day, wall)
    instant, status = resolve_local(naive, zone)
    if status != "ok":
        other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC).astimezone(zone)
        what = "does not exist (DST gap)" if status == "gap" else "occurs twice (DST fold)"
        warnings.append(
            f"the local due time {naive:%Y-%m-%d %H:%M:%S} {what} in {zone_name(zone)}; "
            f"taken as {iso(instant)} (zoneinfo fold=0)"
        )
        alts.append(Alternative(label="other reading of the DST-ambiguous local due time", due=other, kind="candidate"))
    return instant


def _due_date(unit: str, value: int, start: date, is_business: Callable[[date], bool]) -> date:
    if unit == "calendar_days":
        return start + timedelta(days=value)
    if unit == "business_days":
        return add_business_days(start, value, is_business)
    if unit == "calendar_months":
        return add_months(start, value)
    raise ValueError(f"not a date-counted unit: {unit}")


def _period_end(
    unit: str, value: int, trigger: datetime, clock: _Clock, warnings: list[str], alts: list[Alternative],
    start: date | None = None,
) -> datetime:
    """Due instant for a fixed period (the heart of the clock)."""
    if unit == "hours":
        return (to_utc(trigger) + timedelta(hours=value)).astimezone(clock.zone)
    local = trigger.astimezone(clock.zone)
    day = _due_date(unit, value, start or local.date(), clock.is_business)
    return _at_local(day, _wall_time(clock.due_time, local), clock.zone, warnings, alts)


def _due_time_text(due_time: str) -> str:
    return {"exact": "at the trigger's local clock time", "end_of_day": "at 23:59:59 local"}.get(
        due_time, f"at {due_time} local"
    )


def _basis(rule: Rule, trigger_local: datetime, clock: _Clock) -> str:
    unit, value = rule.offset.unit, rule.offset.value
    what = trigger_label(rule.trigger)
    if unit == "none":
        return f"no fixed period ({rule.standard}); elapsed time from {what} is tracked against an internal target"
    if unit == "hours":
        return f"{value} elapsed hours from {what}"
    start = f"day 0 = {trigger_local:%Y-%m-%d}, the {clock.zone_name} local date"
    if unit == "calendar_months":
        return (
            f"{rule.offset.describe()} from {what} ({start}); same day of month, clamped to month end, "
            f"{_due_time_text(clock.due_time)}"
        )
    kind = rule.offset.describe()
    if unit == "business_days":
        kind += f" ({rule.calendar} calendar)"
    return f"{kind} from {what} ({start}); due {_due_time_text(clock.due_time)} on day {value}"


# ---------------------------------------------------------------------------
# Informational alternatives
# ---------------------------------------------------------------------------


def _statutory_rollover(rule: Rule, due: datetime, clock: _Clock, closures: frozenset[date]) -> list[Alternative]:
    """General computation-of-time statutes may extend a weekend/holiday last day."""
    is_business = business_day_checker(rule.rollover_calendar or "us_federal", closures)
    local = due.astimezone(clock.zone)
    day = next_business_day(local.date(), is_business)
    if day == local.date():
        return []
    later = resolve_local(datetime.combine(day, local.time().replace(tzinfo=None)), clock.zone)[0]
    return [Alternative(
        label="latest defensible (statutory roll-over of a weekend/holiday last day to the next business day, "
              "e.g. N.Y. Gen. Constr. Law 25-a; untested for breach notices) - informational, not the due date",
        due=later,
    )]


def _dora_rollover(rule: Rule, due: datetime, clock: _Clock, country: str | None,
                   closures: frozenset[date]) -> list[Alternative]:
    """DORA RTS 2025/301 Art. 5(4): 12:00 of the next working day (with exemptions)."""
    is_business = business_day_checker("eu_member_state", closures, country)
    local = due.astimezone(clock.zone)
    if is_business(local.date()):
        return []
    day = next_business_day(local.date() + timedelta(days=1), is_business)
    noon = resolve_local(datetime.combine(day, NOON), clock.zone)[0]
    where = f"{country} holidays" if country else "weekends only: Member State unknown"
    exempt = ", ".join(rule.rollover_exempt) or "none listed"
    return [Alternative(
        label=f"latest defensible (DORA RTS 2025/301 Art. 5(4): 12:00 next working day, {where}; "
              f"not available to: {exempt}) - informational, not the due date",
        due=noon,
    )]


def _floor_hour(instant: datetime, zone: Any) -> datetime:
    local = instant.astimezone(zone)
    offset = local.utcoffset()
    naive = (to_utc(instant) + offset).replace(tzinfo=None)
    floored = naive.replace(minute=0, second=0, microsecond=0)
    return (floored - offset).replace(tzinfo=UTC)


def _reg_1182_71(rule: Rule, trigger: datetime, clock: _Clock, country: str | None,
                 closures: frozenset[date]) -> list[Alternative]:
    """EU Reg. 1182/71 reading: later than the conservative one; information only.

    Hours: the hour of the event is not counted (start at the next whole
    hour), no extension. Days/months: the event day is not counted, the
    period ends at the end of its last day, and a last day on a weekend or
    public holiday runs to the end of the next working day.
    """
    unit, value = rule.offset.unit, rule.offset.value or 0
    label = "EU Reg. 1182/71 reading (latest defensible; application to this regime unsettled) - informational"
    if unit == "hours":
        start = _floor_hour(trigger, clock.zone) + timedelta(hours=1)
        return [Alternative(label=label, due=(start + timedelta(hours=value)).astimezone(clock.zone))]
    if unit not in ("calendar_days", "calendar_months"):
        return []
    local = trigger.astimezone(clock.zone)
    last = _due_date(unit, value, local.date(), clock.is_business)
    last = next_business_day(last, business_day_checker("country", closures, country))
    end = resolve_local(datetime.combine(last, END_OF_DAY), clock.zone)[0]
    where = f"{country} holidays" if country else "weekends only: Member State unknown"
    return [Alternative(label=f"{label} ({where})", due=end)]


def _calendar_variant(rule: Rule, trigger: datetime, clock: _Clock, due: datetime, closures: frozenset[date],
                      calendar: str, label: str) -> list[Alternative]:
    """The same count under another holiday calendar, when the choice of calendar is unsettled."""
    other_clock = _Clock(clock.zone, clock.zone_name, clock.due_time, business_day_checker(calendar, closures))
    other = _period_end(rule.offset.unit, rule.offset.value or 0, trigger, other_clock, [], [])
    if to_utc(other) == to_utc(due):
        return []
    if to_utc(other) < to_utc(due):
        return [Alternative(label=label, due=other, kind="candidate")]
    return [Alternative(label=f"{label} - latest defensible, informational", due=other)]


def _observed_date_reading(rule: Rule, trigger: datetime, observed: Any, clock: _Clock,
                           due: datetime) -> list[Alternative]:
    """Counting from the local date where the trigger was observed (another zone).

    Reference notes (SEC, Texas, Florida): count in the rule's zone but also
    show the observer's-date result, which may be earlier.
    """
    obs_date = trigger.astimezone(observed).date()
    if rule.offset.unit == "hours" or obs_date == trigger.astimezone(clock.zone).date():
        return []
    other = _period_end(rule.offset.unit, rule.offset.value or 0, trigger, clock, [], [], start=obs_date)
    return [Alternative(
        label=f"counted from the trigger's local date where observed ({zone_name(observed)}: {obs_date})",
        due=other, kind="candidate",
    )]


def _licence_readings(rule: Rule, trigger: datetime, clock: _Clock, due: datetime) -> list[Alternative]:
    alts = []
    for licence, days in (rule.offset_by_licence or {}).items():
        other = _period_end(rule.offset.unit, days, trigger, clock, [], [])
        if to_utc(other) != to_utc(due):
            alts.append(Alternative(label=f"with licence {licence}: {days} days", due=other))
    return alts


def _extension(rule: Rule, due: datetime, clock: _Clock) -> list[Alternative]:
    ext = rule.extension
    if ext is None or ext.unit != "calendar_days":
        return []
    local = due.astimezone(clock.zone)
    later = resolve_local(local.replace(tzinfo=None) + timedelta(days=ext.value), clock.zone)[0]
    return [Alternative(label=f"with the {ext.value}-day extension, only if: {ext.condition}", due=later)]


def _alternatives(rule: Rule, trigger: datetime, observed: Any, clock: _Clock, due: datetime,
                  country: str | None, closures: frozenset[date]) -> list[Alternative]:
    alts: list[Alternative] = []
    if rule.rollover == "statutory_optional":
        alts += _statutory_rollover(rule, due, clock, closures)
    if rule.rollover == "noon_next_working_day":
        alts += _dora_rollover(rule, due, clock, country, closures)
    if rule.jurisdiction.startswith("EU"):
        alts += _reg_1182_71(rule, trigger, clock, country, closures)
    if rule.calendar == "us_edgar":
        alts += _calendar_variant(rule, trigger, clock, due, closures, "us_federal_government",
                                  _EDGAR_GOVERNMENT_NOTE)
    if rule.calendar == "vermont":
        alts += _calendar_variant(rule, trigger, clock, due, closures, "us_federal",
                                  "federal holidays only (if Vermont state holidays are business days)")
    alts += _observed_date_reading(rule, trigger, observed, clock, due)
    alts += _licence_readings(rule, trigger, clock, due)
    alts += _extension(rule, due, clock)
    return alts


# ---------------------------------------------------------------------------
# Internal targets, caps, warnings
# ---------------------------------------------------------------------------


def _internal_target(rule: Rule, trigger: datetime, clock: _Clock, due: datetime | None
                     ) -> tuple[datetime | None, str | None]:
    """An earlier, internal aim; never presented as the legal date.

    Order: the rule's internal_target_hours; for no-fixed-period rules the
    default 24 h; for calendar-day rules the "trigger day is day 1" practice
    (one day earlier than the legal count).
    """
    hours = rule.internal_target_hours
    if hours is None and due is None:
        hours = DEFAULT_INTERNAL_TARGET_HOURS
    if hours is not None:
        target = (to_utc(trigger) + timedelta(hours=hours)).astimezone(clock.zone)
        if due is not None and to_utc(target) > to_utc(due):
            target = due
        return target, f"{hours} h after the trigger (internal target, not a legal deadline)"
    if rule.offset.unit == "calendar_days" and (rule.offset.value or 0) >= 1 and due is not None:
        local = due.astimezone(clock.zone)
        day_before = resolve_local(local.replace(tzinfo=None) - timedelta(days=1), clock.zone)[0]
        return day_before, "counting the trigger day as day 1 (one day earlier; internal target only)"
    return None, None


def _apply_cap(rule: Rule, trigger: datetime, due: datetime, clock: _Clock,
               cap_trigger: datetime | None, warnings: list[str]) -> tuple[datetime, str]:
    """DORA initial: 4 h from classification, but no later than 24 h from awareness."""
    cap = rule.cap
    if cap is None or cap.unit != "hours":
        return due, ""
    label = trigger_label(cap.trigger)
    if cap_trigger is None:
        warnings.append(f"also due no later than {cap.value} h after {label}: give that time to apply the cap")
        return due, ""
    cap_due = (to_utc(cap_trigger) + timedelta(hours=cap.value)).astimezone(clock.zone)
    if to_utc(trigger) > to_utc(cap_trigger) + timedelta(hours=cap.value):
        return due, f"; classified after the {cap.value} h cap from {label}, so the period from classification alone applies"
    if to_utc(cap_due) < to_utc(due):
        return cap_due, f"; capped at {cap.value} elapsed hours from {label}"
    return due, ""


def _rule_warnings(rule: Rule) -> list[str]:
    warnings = []
    if rule.proposed:
        warnings.append("advisory - not in force: proposed rule; do not treat as a legal deadline")
    if rule.confidence != "high":
        warnings.append(
            f"uncertain: confidence {rule.confidence} ({rule.source_quality} source); verify against {rule.citation}"
        )
    if rule.outer_limit is not None:
        ol = rule.outer_limit
        warnings.append(
            f"outer limit: {ol.value} {ol.unit.replace('_', ' ')} after {trigger_label(ol.trigger)} "
            f"(take the actual figure from the policy)"
        )
    if rule.contract_override:
        warnings.append(f"contract may shorten this: {rule.contract_override}")
    return warnings


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _earliest(due: datetime, alts: list[Alternative], basis: str, clock: _Clock,
              warnings: list[str]) -> tuple[datetime, list[Alternative], str]:
    """The headline is the earliest defensible reading; the rule's own count becomes an alternative if later."""
    earlier = [a for a in alts if a.kind == "candidate" and to_utc(a.due) < to_utc(due)]
    if not earlier:
        return due, alts, basis
    best = min(earlier, key=lambda a: to_utc(a.due))
    rest = [a for a in alts if a is not best]
    rest.append(Alternative(label=f"the rule's own count ({clock.zone_name} local dates, its calendar) - later", due=due,
                            kind="candidate"))
    warnings.append(f"due date is the earliest defensible reading ({best.label}); the rule's own count gives {iso(due)}")
    return best.due, rest, f"{basis}; earliest defensible reading: {best.label}"


def _year_end(local: datetime, zone: Any) -> datetime:
    return resolve_local(datetime(local.year, 12, 31, 23, 59, 59), zone)[0]


def _make_clock(rule: Rule, tz: str, closures: frozenset[date], country: str | None) -> _Clock:
    name = tz if rule.clock_tz in (None, "trigger") else rule.clock_tz
    zone = get_zone(name)
    cal = rule.calendar or "us_federal"
    return _Clock(zone, zone_name(zone), rule.due_time or "exact", business_day_checker(cal, closures, country))


def compute(
    rule: Rule,
    trigger: datetime,
    tz: str,
    *,
    closures: Iterable[date] = (),
    country: str | None = None,
    cap_trigger: datetime | None = None,
) -> Deadline:
    """The deadline for ``rule`` counted from ``trigger`` observed in zone ``tz``.

    ``trigger`` must be aware. For chained rules (``chained_from(rule)``) it is
    the *actual* submission instant of the earlier report. For the HIPAA
    annual log it is the discovery instant (moved to 23:59:59 on 31 December
    of that local year). ``closures`` are extra non-business days (EDGAR
    closures ...); ``country`` picks Member-State holidays for EU readings
    (default: derived from ``tz``); ``cap_trigger`` is the awareness instant
    for the DORA 24 h cap.
    """
    if trigger.tzinfo is None or trigger.utcoffset() is None:
        raise TimeError("the trigger must carry a UTC offset (an instant, not a wall-clock time)")
    observed = get_zone(tz)
    country = country or zone_country(zone_name(observed))
    closed = frozenset(closures)
    clock = _make_clock(rule, tz, closed, country)
    warnings, alts = _rule_warnings(rule), []
    start = trigger.astimezone(clock.zone)
    if rule.trigger == "end_of_calendar_year_of_discovery":
        start = _year_end(start, clock.zone)
    basis = _basis(rule, start, clock)
    if rule.trigger == "end_of_calendar_year_of_discovery":
        # said only for this rule: comparing the two datetimes would be "unequal" for any trigger in a DST fold
        basis += f" (trigger moved from discovery on {trigger.astimezone(clock.zone):%Y-%m-%d} to 31 Dec 23:59:59)"
    due = None
    if rule.offset.unit != "none":
        due = _period_end(rule.offset.unit, rule.offset.value or 0, start, clock, warnings, alts)
        due, cap_note = _apply_cap(rule, start, due, clock, cap_trigger, warnings)
        basis += cap_note
        alts += _alternatives(rule, start, observed, clock, due, country, closed)
        due, alts, basis = _earliest(due, alts, basis, clock, warnings)
    target, target_basis = _internal_target(rule, start, clock, due)
    if rule.proposed:
        # not in force: no due date, no internal target, nothing to count down or call OVERDUE; what the
        # proposal would give is information only
        alts = [Alternative(label=f"if adopted as proposed (NOT in force): {a.label}", due=a.due) for a in alts]
        if due is not None:
            alts.insert(0, Alternative(label="if adopted as proposed (NOT in force) - information only, not a due date",
                                       due=due))
        basis = f"no clock: proposed rule, not in force; as proposed, {basis}"
        due, target, target_basis = None, None, None
    return Deadline(
        rule_id=rule.id,
        trigger=start,
        due=due,
        clock_tz=clock.zone_name,
        basis=basis,
        strict=rule.strictness in ("hard", "outer_limit") and due is not None,
        uncertain=rule.uncertain,
        advisory=rule.proposed,
        strictness=rule.strictness,
        confidence=rule.confidence,
        internal_target=target,
        internal_target_basis=target_basis,
        alternatives=alts,
        warnings=warnings,
    )


def period_due(
    trigger: datetime,
    tz: str,
    unit: str,
    value: int,
    *,
    due_time: str = "exact",
    calendar: str = "us_federal",
    closures: Iterable[date] = (),
) -> datetime:
    """Due instant of a bare period (no rule): used for insurance-policy notice
    windows, which follow the same counting as statutes."""
    zone = get_zone(tz)
    clock = _Clock(zone, zone_name(zone), due_time, business_day_checker(calendar, closures))
    return _period_end(unit, value, trigger.astimezone(zone), clock, [], [])


def elapsed(trigger: datetime, now: datetime) -> timedelta:
    """Real time since the trigger (computed in UTC: same-zone subtraction in
    Python is wall-clock arithmetic and would be an hour off across DST)."""
    return to_utc(now) - to_utc(trigger)


def _instant_fields(prefix: str, dt: datetime | None, zone: str) -> dict[str, Any]:
    if dt is None:
        return {prefix: None, f"{prefix}_local": None, f"{prefix}_utc": None}
    return {prefix: iso(dt), f"{prefix}_local": fmt_local_and_utc(dt, zone), f"{prefix}_utc": iso(to_utc(dt))}


def _observed_zone_name(trigger: datetime, tz: str | None) -> str:
    """The zone to count "trigger" clocks in: the given one, else the typed offset."""
    return tz if tz else zone_name(trigger.tzinfo)


def deadline_report(
    rule_id: str,
    trigger_text: str,
    tz: str | None = None,
    *,
    closures: Iterable[date] = (),
    country: str | None = None,
    cap_trigger_text: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON object behind ``msptui deadline`` (plain output: first line = ``due``).

    Raises UnknownRuleError for an unknown id and TimeError for a trigger
    that is not exactly one instant (both ValueError subclasses with a
    one-line message: the CLI prints it and exits 1).
    """
    rule = get_rule(rule_id)
    trigger = parse_local(trigger_text, tz)
    zone = _observed_zone_name(trigger, tz)
    cap = parse_local(cap_trigger_text, tz or zone) if cap_trigger_text else None
    deadline = compute(rule, trigger, zone, closures=closures, country=country, cap_trigger=cap)
    return _report_dict(rule, deadline, zone, now or datetime.now(UTC))


def _report_dict(rule: Rule, d: Deadline, observed_tz: str, now: datetime) -> dict[str, Any]:
    since = elapsed(d.trigger, now)
    report: dict[str, Any] = {
        **_instant_fields("due", d.due, d.clock_tz),
        "rule_id": rule.id,
        "obligation": rule.obligation,
        "regime": rule.regime,
        "jurisdiction": rule.jurisdiction,
        "recipient": rule.recipient,
        "standard": rule.standard,
        **_instant_fields("trigger", d.trigger, observed_tz),
        "trigger_kind": rule.trigger,
        "chained_from": chained_from(rule),
        "observed_tz": observed_tz,
        "clock_tz": d.clock_tz,
        "basis": d.basis,
        **_instant_fields("internal_target", d.internal_target, d.clock_tz),
        "internal_target_basis": d.internal_target_basis,
        "alternatives": [
            {"label": a.label, "due": iso(a.due), "due_local": fmt_local_and_utc(a.due, d.clock_tz),
             "informational": True}
            for a in d.alternatives
        ],
        "elapsed_seconds": int(since.total_seconds()),
        "passed": d.due is not None and to_utc(now) > to_utc(d.due),
        "strict": d.strict,
        "uncertain": d.uncertain,
        "advisory": d.advisory,
        "label": "advisory - not in force" if d.advisory else ("uncertain" if d.uncertain else None),
        "strictness": rule.strictness,
        "confidence": rule.confidence,
        "source_quality": rule.source_quality,
        "citation": rule.citation,
        "source_url": rule.source_url,
        "notes": rule.notes,
        "warnings": d.warnings,
        "disclaimer": DISCLAIMER,
    }
    return report
