"""Named trigger instants: what starts each clock, and what happens until it is recorded.

Every rule names its trigger (``Rule.trigger``); the vocabulary in
data/obligations.toml says what each means ([vocab.triggers]) and how it
starts a clock ([vocab.trigger_kinds]):

- **awareness** (aware, determination_of_breach, ...): counted from the
  discovery instant — the earliest any of them can be — until an instant is
  recorded for the trigger itself; the basis says which.
- **event** (ransom_payment, le_oral_delay_statement,
  materiality_determination, classification_major, ...): something that may
  never happen. Until it is recorded the rule is *dormant*: no due date, no
  OVERDUE, only "if triggered at T: due T + period".
- **fact** (first_activity, the oldest log record needed): an instant already
  in the past; counted from discovery until it is recorded.
- **derived** (the calendar year of discovery, the policy period's end, a
  chained submission): computed from other facts.
- **milestone** (contained, resolved): recorded for the record only.

Recorded instants live on the incident (``Incident.triggers``), each with who
did or declared it and who recorded it; recording one is an event in the chain.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from .errors import FieldError
from .models import Incident, TriggerFact
from .obligations import Rule, load_rules, trigger_label, vocabulary
from .timeutil import FUTURE_TOLERANCE, fmt_local as moment

Kind = Literal["awareness", "event", "fact", "derived", "milestone"]
#: the oldest-record trigger of the log-retention rules reads the recorded first activity
OLDEST_RECORD = "event_time_of_oldest_record_needed"
#: triggers declared by law enforcement: the only ones recorded with an agency and an end of the delay
LAW_ENFORCEMENT = frozenset({"le_oral_delay_statement", "cpni_law_enforcement_notice"})


def kinds() -> dict[str, Kind]:
    return dict(vocabulary().get("trigger_kinds", {}))


def kind_of(name: str) -> Kind:
    """The kind of a rule's trigger (prefix forms ``submitted:`` and ``before:`` are derived)."""
    base = name.split(":", 1)[0]
    return kinds().get(base, "derived")


def meaning(name: str) -> str:
    return vocabulary().get("triggers", {}).get(name, "")


def recordable() -> list[str]:
    """Triggers a person can record for an incident: every awareness, event, fact or milestone trigger
    except discovery itself (set when the incident is opened) and the oldest-record trigger, which is read from
    the recorded first activity (recorded under its own name it started no clock)."""
    return sorted(n for n, k in kinds().items()
                  if k in ("awareness", "event", "fact", "milestone") and n not in ("discovery", OLDEST_RECORD))


def rules_using(name: str) -> list[str]:
    """Rule ids whose clock (or its cap / outer limit) runs from ``name``."""
    out = []
    for rule in load_rules().values():
        used = {rule.trigger}
        if rule.cap:
            used.add(rule.cap.trigger)
        if rule.outer_limit:
            used.add(rule.outer_limit.trigger)
        if name in used or (name == "first_activity" and OLDEST_RECORD in used):
            out.append(rule.id)
    return out


def starts(name: str) -> frozenset[str]:
    """The rule triggers whose clocks run from ``name`` once it is recorded (see ``start_for``): the
    oldest-record clocks read the recorded first activity, so recording ``first_activity`` starts them and
    recording the oldest-record trigger under its own name starts nothing."""
    if name == OLDEST_RECORD:
        return frozenset()
    return frozenset({name, OLDEST_RECORD}) if name == "first_activity" else frozenset({name})


def report() -> list[dict]:
    """``msptui triggers --json``: the vocabulary, what each trigger means, its kind and the rules that use it."""
    labels = vocabulary().get("trigger_labels", {})
    recordable_names = set(recordable())
    return [
        {"name": name, "kind": kind, "label": labels.get(name, name.replace("_", " ")), "meaning": meaning(name),
         "recordable": name in recordable_names, "rules": rules_using(name)}
        for name, kind in sorted(kinds().items(), key=lambda kv: (kv[1], kv[0]))
        if name not in ("submitted", "before")
    ]


# ---------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------


def check_name(name: str) -> str:
    if name in recordable():
        return name
    if name == OLDEST_RECORD:
        raise FieldError("trigger", f"{OLDEST_RECORD} is read from first_activity: record that instead "
                                    "(the oldest log record the investigation needs is the attacker's first activity)")
    close = difflib.get_close_matches(str(name), recordable(), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise FieldError("trigger", f"unknown trigger {str(name)[:60]!r}{hint} (see 'msptui triggers' for the names)")


def check_fact(incident: Incident, name: str, fact: TriggerFact, *, now: datetime | None = None) -> None:
    """Refuse an instant that cannot be true: in the future, or out of order with the incident's other facts."""
    check_instants(incident, name, fact.at, fact.until, agency=fact.agency, now=now)


def check_instants(incident: Incident, name: str, at: datetime, until: datetime | None = None, *,
                   agency: str | None = None, now: datetime | None = None) -> None:
    """``check_fact`` on the instants alone (before a fact is built): FieldError naming --at or --until."""
    now = now or datetime.now(timezone.utc)
    tz = incident.discovered.tz
    if at > now + FUTURE_TOLERANCE:
        raise FieldError("--at", f"must not be in the future (it is now {moment(now, tz)} here)")
    first = (incident.triggers.get("first_activity").at if "first_activity" in incident.triggers else None)
    discovered = incident.discovered.at
    if name == "first_activity" and at > discovered:
        raise FieldError("--at", f"must not be after the discovery ({moment(discovered, tz)}): "
                                 "the attacker was active before anyone found out")
    if name != "first_activity" and first is not None and at < first:
        # nothing the incident sets off (a payment, a determination, a delay request, containment) can come
        # before the attacker's first activity
        raise FieldError("--at", f"must not be before the first activity ({moment(first, tz)})")
    if name != "first_activity" and first is None and at < discovered:
        # until a first activity is recorded the incident begins at its discovery, as for every other act
        # (a ransom payment in year 1 was accepted and started the NYDFS clock two thousand years ago)
        raise FieldError("--at", f"must not be before the discovery ({moment(discovered, tz)}); "
                                 "if the attacker was active earlier, record first_activity first")
    if name == "first_activity":
        for later, other in sorted(incident.triggers.items()):
            if later != "first_activity" and other.at < at:
                raise FieldError("--at", f"must not be after {later} ({moment(other.at, tz)})")
    if name not in LAW_ENFORCEMENT and (agency or until is not None):
        raise FieldError("--agency" if agency else "--until",
                         f"only a law-enforcement trigger ({', '.join(sorted(LAW_ENFORCEMENT))}) has an agency "
                         f"and an end of delay, not {name}")
    if name == "resolved" and "contained" in incident.triggers and at < incident.triggers["contained"].at:
        raise FieldError("--at", f"must not be before contained ({moment(incident.triggers['contained'].at, tz)})")
    if name == "contained" and "resolved" in incident.triggers and at > incident.triggers["resolved"].at:
        raise FieldError("--at", f"must not be after resolved ({moment(incident.triggers['resolved'].at, tz)})")
    if until is not None and until <= at:
        raise FieldError("--until", f"must be after the delay began ({moment(at, tz)})")


# ---------------------------------------------------------------------------
# Resolving a rule's trigger for an incident
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Where one rule's clock starts on this incident."""

    name: str
    kind: Kind
    #: the instant the clock runs from; None: dormant (an event not recorded) or waiting (a chained submission)
    at: datetime | None
    #: the zone to count local dates in (where the instant was observed)
    tz: str
    #: the trigger's own instant was recorded (False: counted from discovery, the conservative reading)
    recorded: bool
    note: str = ""

    @property
    def dormant(self) -> bool:
        return self.at is None and self.kind == "event"


def start_for(rule: Rule, incident: Incident, submissions: dict[str, tuple[datetime, str]]) -> Start:
    """The instant ``rule``'s clock runs from on ``incident`` (see the module docstring).

    ``submissions`` maps a rule id to the (instant, zone) its report was
    actually sent: chained clocks (``submitted:<rule>``) run from it.
    """
    name = rule.trigger
    discovered, tz = incident.discovered.at, incident.discovered.tz
    label = trigger_label(name)
    if name.startswith("before:"):
        # a precondition ("before any ransom payment"): satisfied before the event, never an elapsed-time clock
        return Start(name, "derived", None, tz, False, f"precondition, no clock: to be met {label}, not a deadline")
    if name.startswith("submitted:"):
        earlier = name.split(":", 1)[1]
        if earlier in submissions:
            at, zone = submissions[earlier]
            return Start(name, "derived", at, zone, True, f"the actual submission of {earlier}")
        return Start(name, "derived", None, tz, False, f"starts when {earlier} is recorded as submitted")
    kind = kind_of(name)
    fact = incident.triggers.get("first_activity" if name == OLDEST_RECORD else name)
    if fact is not None and kind in ("awareness", "event", "fact"):
        who = f", recorded by {fact.recorded_by}" if fact.recorded_by else ""
        what = trigger_label("first_activity") if name == OLDEST_RECORD else label
        return Start(name, kind, fact.at, fact.tz, True, f"counted from {what}{who}")
    if kind == "event":
        return Start(name, kind, None, tz, False, f"dormant until {label} is recorded")
    if kind == "fact":
        return Start(name, kind, discovered, tz, False,
                     f"counted from discovery until {label} is recorded: records from before discovery expire EARLIER")
    if kind == "awareness" and name != "discovery":
        return Start(name, kind, discovered, tz, False,
                     f"counted from discovery, the conservative reading, until {label} is recorded")
    return Start(name, kind, discovered, tz, False, "")
