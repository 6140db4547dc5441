"""Parsing and formatting of instants for the deadline clock.

Why this module exists: a breach deadline is only as good as the trigger
instant it counts from. A wall-clock time on its own is not an instant: on a
spring-forward day some local times never happen, and on a fall-back day some
happen twice, an hour apart. Guessing in either case silently moves a legal
deadline by an hour, so :func:`parse_local` refuses both and tells the user
how to say what they mean (an explicit UTC offset).

Everything here is pure standard library (``zoneinfo``); no UI imports.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "TimeError",
    "get_zone",
    "parse_local",
    "resolve_local",
    "local_status",
    "fmt_local_and_utc",
    "fmt_local",
    "iso",
    "to_utc",
]

UTC = timezone.utc
#: how far ahead of this machine's clock a typed or recorded instant may be (two clocks never agree exactly)
FUTURE_TOLERANCE = timedelta(minutes=5)
_MAX_INPUT = 64  # no real ISO 8601 timestamp is longer; refuse junk early
_FIXED_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):?(\d{2})$")


class TimeError(ValueError):
    """A time the user typed cannot be turned into exactly one instant.

    A ValueError so callers that already catch bad input keep working; the
    message is one line and says what to type instead.
    """


#: zone names that are files in the zoneinfo folder but not zones a record may name: ``localtime`` is
#: whatever the machine reading the record says (a record that changes meaning from machine to
#: machine), and ``posix/...`` and ``right/...`` are alternative builds of the same zones (``right/``
#: counts leap seconds, so its clock is 27 s off UTC)
_REFUSED_ZONES = ("localtime", "posixrules")
_REFUSED_ZONE_PREFIXES = ("posix/", "right/")


def refused_zone(name: str) -> str | None:
    """Why ``name`` is refused as a zone even though ZoneInfo may load it (None: not refused)."""
    if name in _REFUSED_ZONES or name.startswith(_REFUSED_ZONE_PREFIXES):
        return f"time zone {name!r} is not allowed; give a canonical IANA name such as Europe/Berlin"
    return None


def get_zone(name: str) -> tzinfo:
    """Return the zone called ``name``: an IANA name, ``UTC`` or a fixed offset.

    Fixed offsets (``+05:30``, ``UTC-04:00``) are accepted because a trigger
    typed with an explicit offset and no zone still needs *some* clock to
    count local days in; IANA names are preferred because they know DST.
    """
    if not isinstance(name, str) or not name or len(name) > _MAX_INPUT or "\x00" in name:
        raise TimeError(f"unknown time zone {name!r}; give an IANA name such as Europe/Berlin")
    if name.upper() in ("UTC", "Z"):
        return UTC
    fixed = _FIXED_OFFSET.match(name)
    if fixed:
        sign, hours, minutes = fixed.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta >= timedelta(hours=24):
            raise TimeError(f"offset {name!r} is out of range")
        return timezone(-delta if sign == "-" else delta)
    why = refused_zone(name)
    if why:
        raise TimeError(why)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise TimeError(f"unknown time zone {name!r}; give an IANA name such as Europe/Berlin") from None


def zone_name(zone: tzinfo) -> str:
    """The name a zone is stored under (IANA key, ``UTC`` or ``+HH:MM``)."""
    key = getattr(zone, "key", None)
    if key:
        return key
    if zone is UTC:
        return "UTC"
    offset = zone.utcoffset(None) or timedelta(0)
    return _fmt_offset(offset)


def _fmt_offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_status(naive: datetime, zone: tzinfo) -> str:
    """Classify a wall-clock time in ``zone``: ``"ok"``, ``"gap"`` or ``"fold"``.

    Detected by round-tripping: with fold=0 and fold=1 a normal time has one
    offset; a fold (fall-back) has two offsets that both round-trip; a gap
    (spring-forward) has two offsets and the wall time does not survive the
    trip through UTC.
    """
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return "ok"
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return "fold" if back == naive else "gap"


def resolve_local(naive: datetime, zone: tzinfo) -> tuple[datetime, str]:
    """Turn a computed local wall time into an instant without refusing.

    Used for *computed* due times (not user input), which must always be
    well-defined: zoneinfo's fold=0 is taken. In a fold that is the first
    (earlier) occurrence; in a gap it is the wall time read with the
    pre-transition offset (02:30 in a New York gap becomes 03:30 EDT). The
    status ("ok", "gap", "fold") is returned so callers can warn.
    """
    status = local_status(naive, zone)
    instant = naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
    return instant, status


def _gap_or_fold_error(naive: datetime, zone: tzinfo, status: str) -> TimeError:
    text = naive.strftime("%Y-%m-%dT%H:%M")
    name = zone_name(zone)
    if status == "gap":
        return TimeError(
            f"{text} does not exist in {name} (clocks jump forward); give a time outside the gap"
        )
    offsets = sorted(
        {_fmt_offset(naive.replace(tzinfo=zone, fold=f).utcoffset()) for f in (0, 1)}, reverse=True
    )
    return TimeError(
        f"{text} occurs twice in {name} (clocks fall back); give an explicit offset "
        f"({' or '.join(offsets)}), e.g. {text}{offsets[0]}"
    )


#: what a person may type for "this instant" (this machine's clock)
NOW_WORD = "now"
_EXAMPLE = "2026-11-27T09:15"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_iso(text: str) -> datetime:
    cleaned = text.strip()
    if not cleaned or len(cleaned) > _MAX_INPUT or "\x00" in cleaned:
        raise TimeError(f"not an ISO 8601 date-time: {text[:_MAX_INPUT]!r}")
    if _DATE_ONLY.match(cleaned):
        raise TimeError(f"{cleaned!r} has no time of day; give a date and time, e.g. {cleaned}T09:00")
    if len(cleaned) <= 10:
        raise TimeError(f"not a date-time: {cleaned!r}; give a date and time, e.g. {_EXAMPLE}, or '{NOW_WORD}'")
    if cleaned[-1] in "zZ":
        cleaned = cleaned[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        raise TimeError(
            f"not an ISO 8601 date-time: {text.strip()!r} (expected e.g. 2026-11-27T09:15, "
            f"2026-11-27T09:15-05:00 or '{NOW_WORD}')"
        ) from None


def parse_local(text: str, tz: str | None, *, now: datetime | None = None) -> datetime:
    """Parse what a person typed into an aware datetime (one exact instant).

    * ``now`` (any case): this instant (``now`` if given, else this machine's
      clock), shown in ``tz`` (UTC without one).
    * With an explicit offset or ``Z`` the offset decides the instant; ``tz``
      (if given) is only the zone it was observed in and the result is shown
      in that zone.
    * Without one, the time is wall-clock time in ``tz``; it must exist and be
      unique there, otherwise :class:`TimeError` says how to fix it.
    """
    if isinstance(text, str) and text.strip().lower() == NOW_WORD:
        instant = (now or datetime.now(UTC)).astimezone(UTC)
        return instant.astimezone(get_zone(tz)) if tz is not None else instant
    parsed = _parse_iso(text)
    zone = get_zone(tz) if tz is not None else None
    try:
        if parsed.tzinfo is not None and parsed.utcoffset() is not None:
            result = parsed.astimezone(zone) if zone is not None else parsed
        elif zone is None:
            raise TimeError(
                f"{text.strip()!r} has no UTC offset and no zone was given; add an offset (e.g. -05:00) or a zone"
            )
        else:
            status = local_status(parsed, zone)
            if status != "ok":
                raise _gap_or_fold_error(parsed, zone, status)
            result = parsed.replace(tzinfo=zone)
        result.astimezone(UTC)  # every instant is compared and stored in UTC: it must exist there too
    except OverflowError:
        # 0001-01-01T00:00 west of Greenwich is in year 0 in UTC: a traceback, before this check
        raise TimeError(f"{text.strip()[:40]!r} is out of range (no calendar date in UTC)") from None
    return result


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise TimeError("a wall-clock time without an offset is not an instant")


def to_utc(dt: datetime) -> datetime:
    """The same instant in UTC (refuses naive datetimes)."""
    _require_aware(dt)
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 with its UTC offset, to the second: what reports and JSON carry."""
    _require_aware(dt)
    return dt.isoformat(timespec="seconds")


def _clock(dt: datetime) -> str:
    return dt.strftime("%H:%M:%S" if dt.second else "%H:%M")


def fmt_local_and_utc(dt: datetime, tz: str | None = None) -> str:
    """Human form "2026-11-27 09:15 EST (14:15 UTC)".

    The UTC part repeats the date only when it differs from the local date,
    because a late-evening Pacific time being "tomorrow" in UTC is exactly
    the kind of thing a reader must not miss.
    """
    _require_aware(dt)
    local = dt.astimezone(get_zone(tz)) if tz else dt
    utc = dt.astimezone(UTC)
    abbrev = local.tzname() or _fmt_offset(local.utcoffset())
    if local.utcoffset() == timedelta(0) and abbrev in ("UTC", "GMT", "Z", "+00:00"):
        return f"{utc:%Y-%m-%d} {_clock(utc)} UTC"  # the local time is UTC: say it once
    utc_part = _clock(utc) if utc.date() == local.date() else f"{utc:%Y-%m-%d} {_clock(utc)}"
    return f"{local:%Y-%m-%d} {_clock(local)} {abbrev} ({utc_part} UTC)"


def fmt_local(dt: datetime, tz: str) -> str:
    """Short human form "2026-11-27 09:15 EST": local time in ``tz`` only, for one-line messages."""
    _require_aware(dt)
    local = dt.astimezone(get_zone(tz))
    return f"{local:%Y-%m-%d} {_clock(local)} {local.tzname() or _fmt_offset(local.utcoffset())}"
