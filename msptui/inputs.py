"""Input models: what a person typed, validated once for the CLI and the TUI alike.

Each action has one input model that takes the raw strings as typed (a
command-line option or a form field) and either resolves them into typed
values or raises a ``UserError`` whose one-line message names the field. The
CLI and the TUI build the same model, so they accept and refuse exactly the
same input with the same message: a bare date, an empty summary, an unknown
zone, a time in the future.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Iterable, get_args

from pydantic import BaseModel, ConfigDict

from . import jurisdictions
from .errors import FieldError, UserError
from .literal import has_visible
from .models import INCIDENT_CATEGORIES, MAX_SYSTEM_NAME, MAX_SYSTEMS, Client, DataKind
from .timeutil import FUTURE_TOLERANCE, TimeError, get_zone, parse_local

DATA_KINDS: tuple[str, ...] = get_args(DataKind)
#: the statuses an incident can have
STATUSES = ("open", "contained", "closed")
MAX_SUMMARY = 20_000
_SPLIT = re.compile(r"[,;\s]+")
#: system names may hold spaces ('Microsoft 365 tenant'): split on commas and semicolons only
_SYSTEMS_SPLIT = re.compile(r"[,;]")
_AFFECTED = re.compile(r"^\s*([^=]+?)\s*=\s*(-?[0-9]+)\s*$")
#: more people than live on Earth is a typo, not a count (and an unbounded integer overflowed SQLite's 64 bits)
MAX_AFFECTED = 10_000_000_000


def _fail(field: str, message: str) -> FieldError:
    return FieldError(field, message)


def split_codes(value: str | Iterable[str] | None) -> list[str] | None:
    """'CA, NY;TX' -> ['CA', 'NY', 'TX'] (None stays None: "not given")."""
    if value is None:
        return None
    parts = _SPLIT.split(value) if isinstance(value, str) else [p for v in value for p in _SPLIT.split(v)]
    return [p for p in (x.strip() for x in parts) if p]


def zone(value: str, field: str = "tz") -> str:
    """An IANA zone name (or UTC / a fixed offset), else a UserError naming the field."""
    try:
        get_zone(value)
    except TimeError as exc:
        raise _fail(field, str(exc)) from None
    return value


def instant(text: str, tz: str, field: str, *, now: datetime | None = None, allow_future: bool = False) -> datetime:
    """A date-time typed as local time in ``tz`` (or with an offset) -> an aware instant."""
    now = now or datetime.now(timezone.utc)
    try:
        at = parse_local(text, tz, now=now)
    except TimeError as exc:
        raise _fail(field, str(exc)) from None
    if not allow_future and at > now + FUTURE_TOLERANCE:
        raise _fail(field, f"{text.strip()!r} is in the future (this machine's clock reads {now:%Y-%m-%d %H:%M}Z)")
    return at


def as_of(text: str, tz: str, field: str = "--at") -> datetime:
    """"What was in force then": a bare date means noon that day in ``tz``; a date-time as ``instant``."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise _fail(field, "give a date like 2025-06-30 or a date-time like 2025-06-30T23:30")
    if len(cleaned) == 10:
        try:
            day = date.fromisoformat(cleaned)
        except ValueError:
            raise _fail(field, f"not a date: {cleaned!r} (expected YYYY-MM-DD)") from None
        return datetime.combine(day, time(12, 0), get_zone(tz))
    try:
        return parse_local(cleaned, tz)
    except TimeError as exc:
        raise _fail(field, str(exc)) from None


def affected_counts(pairs: Iterable[str], field: str = "--affected") -> dict[str, int]:
    """['US-CA=600', 'DE=12'] -> {'US-CA': 600, 'DE': 12}; every code must be a known jurisdiction."""
    out: dict[str, int] = {}
    for pair in pairs:
        match = _AFFECTED.match(pair or "")
        if not match:
            raise _fail(field, f"expected JUR=N (e.g. US-CA=600), got {pair[:60]!r}")
        code, number = match.group(1).upper(), int(match.group(2))
        if number < 0:
            raise _fail(field, f"{code}: a count of people cannot be negative ({number})")
        if number > MAX_AFFECTED:
            raise _fail(field, f"{code}: {number:,} people is more than {MAX_AFFECTED:,}")
        try:
            jurisdictions.check(code)
        except ValueError as exc:
            raise _fail(field, str(exc)) from None
        if code in out and out[code] != number:  # the last one won silently
            raise _fail(field, f"{code} is given twice ({out[code]} and {number}); give one count per jurisdiction")
        out[code] = number
    return out


class OpenIncident(BaseModel):
    """A validated incident draft: what ``incidents.open_incident`` records."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    discovered: datetime
    tz: str
    category: str
    summary: str
    reported_by: str | None
    data_types: list[str]
    countries: list[str]
    us_states: list[str]
    affected_counts: dict[str, int]
    ransom_paid: bool
    msp_caused: bool
    systems: list[str]


def split_systems(value: str | Iterable[str] | None, field: str = "systems") -> list[str] | None:
    """'FS01, DC01; Microsoft 365 tenant' -> the names as typed (case kept), split on commas and semicolons,
    each at most MAX_SYSTEM_NAME characters and with something visible, at most MAX_SYSTEMS; None stays None ("not
    given"); only separators or spaces is refused (clearing the list is '')."""
    if value is None:
        return None
    parts = _SYSTEMS_SPLIT.split(value) if isinstance(value, str) else [p for v in value for p in _SYSTEMS_SPLIT.split(v)]
    names = list(dict.fromkeys(p for p in (x.strip() for x in parts) if p))
    if not names and isinstance(value, str) and value.strip():
        raise _fail(field, f"no system name in {value.strip()[:30]!r} (give names separated by commas; '' clears the list)")
    for name in names:
        if len(name) > MAX_SYSTEM_NAME:
            raise _fail(field, f"{name[:30]!r}... is longer than {MAX_SYSTEM_NAME} characters")
        if not has_visible(name):
            raise _fail(field, f"{name[:30]!r} has no visible character")
        if "\x00" in name:
            raise _fail(field, "contains a NUL character")
    if len(names) > MAX_SYSTEMS:
        raise _fail(field, f"{len(names)} systems is more than the {MAX_SYSTEMS} allowed")
    return names


class IncidentDraft(BaseModel):
    """The report-breach form / ``incident open`` options, as typed.

    Lists may be given as one string ("pii, phi") or a list; None means "not
    given", and then the client's record fills it in.
    """

    model_config = ConfigDict(extra="forbid")

    client_id: str
    discovered: str
    tz: str | None = None
    category: str
    summary: str
    reported_by: str | None = None
    data_types: str | list[str] | None = None
    countries: str | list[str] | None = None
    us_states: str | list[str] | None = None
    affected: list[str] = []
    ransom_paid: bool = False
    msp_caused: bool = False
    systems: str | list[str] | None = None

    def resolve(self, client: Client, *, now: datetime | None = None) -> OpenIncident:
        """Validate against the client record (zone and list defaults); UserError on the first bad field."""
        tz = zone(self.tz.strip() if self.tz and self.tz.strip() else client.home_tz, "tz")
        discovered = instant(self.discovered, tz, "discovered", now=now)
        if self.category not in INCIDENT_CATEGORIES:
            raise _fail("category", f"unknown category {self.category[:40]!r}; expected one of: {', '.join(INCIDENT_CATEGORIES)}")
        summary = self.summary.strip()
        if not summary:
            raise _fail("summary", "a summary is needed (one line: what happened, how it was found)")
        if len(summary) > MAX_SUMMARY:
            raise _fail("summary", f"{len(summary)} characters is longer than the {MAX_SUMMARY} allowed")
        data = split_codes(self.data_types)
        data = list(client.data_held) if data is None else [d.lower() for d in data]
        bad = [d for d in data if d not in DATA_KINDS]
        if bad:
            raise _fail("data", f"unknown data type {bad[0][:40]!r}; use: {', '.join(DATA_KINDS)}")
        countries = split_codes(self.countries)
        countries = list(client.countries) if countries is None else [c.upper() for c in countries]
        states = split_codes(self.us_states)
        states = list(client.us_states) if states is None else [s.upper() for s in states]
        for code in countries:
            if code not in jurisdictions.countries():
                raise _fail("countries", f"{code[:20]!r} is not an ISO country code (e.g. US, DE, GB)")
        for code in states:
            if code not in jurisdictions.us_states():
                raise _fail("states", f"{code[:20]!r} is not a US state or territory code (e.g. CA, NY, PR)")
        reported_by = (self.reported_by or "").strip() or None
        return OpenIncident(
            client_id=client.id, discovered=discovered, tz=tz, category=self.category, summary=summary,
            reported_by=reported_by, data_types=list(dict.fromkeys(data)), countries=list(dict.fromkeys(countries)),
            us_states=list(dict.fromkeys(states)), affected_counts=affected_counts(self.affected),
            ransom_paid=self.ransom_paid, msp_caused=self.msp_caused, systems=split_systems(self.systems) or [],
        )


class FactsDraft(BaseModel):
    """``incident set`` options / the incident facts form, as typed (None: leave as it is)."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = None
    summary: str | None = None
    category: str | None = None
    data_types: str | list[str] | None = None
    countries: str | list[str] | None = None
    us_states: str | list[str] | None = None
    affected: list[str] = []
    ransom_paid: bool | None = None
    msp_caused: bool | None = None
    systems: str | list[str] | None = None

    def resolve(self, incident) -> dict:
        """The fields that change (validated), or a UserError; "nothing to change" is an error too."""
        changes: dict = {}
        if self.status is not None:
            if self.status not in STATUSES:
                raise _fail("status", f"unknown status {self.status[:30]!r}; expected one of: {', '.join(STATUSES)}")
            changes["status"] = self.status
        if self.summary is not None:
            summary = self.summary.strip()
            if not summary:
                raise _fail("summary", "a summary cannot be empty")
            if len(summary) > MAX_SUMMARY:
                raise _fail("summary", f"{len(summary)} characters is longer than the {MAX_SUMMARY} allowed")
            changes["summary"] = summary
        if self.category is not None:
            if self.category not in INCIDENT_CATEGORIES:
                raise _fail("category", f"unknown category {self.category[:40]!r}; expected one of: {', '.join(INCIDENT_CATEGORIES)}")
            changes["category"] = self.category
        data = split_codes(self.data_types)
        if data is not None:
            data = [d.lower() for d in data]
            bad = [d for d in data if d not in DATA_KINDS]
            if bad:
                raise _fail("data", f"unknown data type {bad[0][:40]!r}; use: {', '.join(DATA_KINDS)}")
            changes["data_types"] = list(dict.fromkeys(data))
        countries = split_codes(self.countries)
        if countries is not None:
            countries = [c.upper() for c in countries]
            for code in countries:
                if code not in jurisdictions.countries():
                    raise _fail("countries", f"{code[:20]!r} is not an ISO country code (e.g. US, DE, GB)")
            changes["countries"] = list(dict.fromkeys(countries))
        states = split_codes(self.us_states)
        if states is not None:
            states = [s.upper() for s in states]
            for code in states:
                if code not in jurisdictions.us_states():
                    raise _fail("states", f"{code[:20]!r} is not a US state or territory code (e.g. CA, NY, PR)")
            changes["us_states"] = list(dict.fromkeys(states))
        if self.affected:
            changes["affected_counts"] = {**incident.affected_counts, **affected_counts(self.affected)}
        if self.ransom_paid is not None:
            changes["ransom_paid"] = self.ransom_paid
        if self.msp_caused is not None:
            changes["msp_caused"] = self.msp_caused
        systems = split_systems(self.systems)
        if systems is not None:  # the whole list as now known ('' clears it)
            changes["systems"] = systems
        changes = {k: v for k, v in changes.items() if getattr(incident, k) != v}
        if not changes:
            raise UserError("nothing to change: every value given is already recorded")
        return changes
