"""Worked examples for parsing and formatting instants (msptui.timeutil).

Every expected instant below was worked out by hand; the comment says how.
DST dates used:
  US 2026:        spring forward Sun 8 Mar 02:00 -> 03:00; fall back Sun 1 Nov 02:00 -> 01:00
  Europe 2026:    spring forward Sun 29 Mar 02:00 -> 03:00 (01:00 UTC); fall back Sun 25 Oct 03:00 -> 02:00
  Sydney 2026:    DST ends Sun 5 Apr 03:00 -> 02:00; starts Sun 4 Oct 02:00 -> 03:00
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from msptui.timeutil import TimeError, fmt_local_and_utc, get_zone, iso, parse_local, to_utc

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_time_error_is_a_value_error():
    assert issubclass(TimeError, ValueError)


def test_naive_local_time_in_summer_berlin():
    # 12:00 CEST (UTC+2) on 1 June 2026 is 10:00 UTC.
    assert to_utc(parse_local("2026-06-01T12:00", "Europe/Berlin")) == utc(2026, 6, 1, 10, 0)


def test_naive_local_time_in_winter_new_york_with_space_separator():
    # 09:15 EST (UTC-5) on 27 Nov 2026 is 14:15 UTC.
    assert to_utc(parse_local("2026-11-27 09:15", "America/New_York")) == utc(2026, 11, 27, 14, 15)


def test_z_suffix_is_utc_and_zone_is_only_where_observed():
    # An explicit Z decides the instant; the zone only changes how it is shown.
    dt = parse_local("2026-11-27T14:15:00Z", "America/New_York")
    assert to_utc(dt) == utc(2026, 11, 27, 14, 15)
    assert iso(dt) == "2026-11-27T09:15:00-05:00"


def test_explicit_offset_without_zone():
    dt = parse_local("2026-07-01T08:00:00+09:30", None)
    assert to_utc(dt) == utc(2026, 6, 30, 22, 30)


@pytest.mark.parametrize(
    "text, zone, needle",
    [
        # New York: 02:00 EST jumps to 03:00 EDT on 8 Mar 2026.
        ("2026-03-08T02:30", "America/New_York", "2026-03-08T02:30 does not exist in America/New_York"),
        # Los Angeles: same rule, same date.
        ("2026-03-08T02:15", "America/Los_Angeles", "2026-03-08T02:15 does not exist in America/Los_Angeles"),
        # Berlin: 02:00 CET jumps to 03:00 CEST on 29 Mar 2026.
        ("2026-03-29T02:30", "Europe/Berlin", "2026-03-29T02:30 does not exist in Europe/Berlin"),
        # Sydney: 02:00 AEST jumps to 03:00 AEDT on 4 Oct 2026.
        ("2026-10-04T02:30", "Australia/Sydney", "2026-10-04T02:30 does not exist in Australia/Sydney"),
    ],
)
def test_spring_forward_gap_is_refused(text, zone, needle):
    with pytest.raises(TimeError) as err:
        parse_local(text, zone)
    message = str(err.value)
    assert needle in message
    assert "clocks jump forward" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text, zone, offsets",
    [
        # New York 1 Nov 2026: 01:30 happens at -04:00 (EDT) and again at -05:00 (EST).
        ("2026-11-01T01:30", "America/New_York", ("-04:00", "-05:00")),
        # Berlin 25 Oct 2026: 02:30 happens at +02:00 (CEST) and again at +01:00 (CET).
        ("2026-10-25T02:30", "Europe/Berlin", ("+02:00", "+01:00")),
        # Sydney 5 Apr 2026: 02:30 happens at +11:00 (AEDT) and again at +10:00 (AEST).
        ("2026-04-05T02:30", "Australia/Sydney", ("+11:00", "+10:00")),
    ],
)
def test_fall_back_fold_is_refused_never_guessed(text, zone, offsets):
    with pytest.raises(TimeError) as err:
        parse_local(text, zone)
    message = str(err.value)
    assert "occurs twice" in message and zone in message
    assert "explicit offset" in message
    for offset in offsets:
        assert offset in message


def test_explicit_offset_disambiguates_a_fold():
    # 01:30 EDT (-04:00) = 05:30 UTC; 01:30 EST (-05:00) = 06:30 UTC: one hour apart.
    first = parse_local("2026-11-01T01:30-04:00", "America/New_York")
    second = parse_local("2026-11-01T01:30-05:00", "America/New_York")
    assert to_utc(first) == utc(2026, 11, 1, 5, 30)
    assert to_utc(second) == utc(2026, 11, 1, 6, 30)
    assert iso(first) == "2026-11-01T01:30:00-04:00"
    assert iso(second) == "2026-11-01T01:30:00-05:00"


def test_explicit_offset_disambiguates_a_sydney_fold():
    # 02:30 AEDT (+11) on 5 Apr 2026 = 4 Apr 15:30 UTC; 02:30 AEST (+10) = 4 Apr 16:30 UTC.
    assert to_utc(parse_local("2026-04-05T02:30+11:00", "Australia/Sydney")) == utc(2026, 4, 4, 15, 30)
    assert to_utc(parse_local("2026-04-05T02:30+10:00", "Australia/Sydney")) == utc(2026, 4, 4, 16, 30)


def test_times_next_to_the_gap_are_fine():
    # 01:59 EST is the last minute before the gap (06:59 UTC); 03:00 EDT the first after (07:00 UTC).
    assert to_utc(parse_local("2026-03-08T01:59", "America/New_York")) == utc(2026, 3, 8, 6, 59)
    assert to_utc(parse_local("2026-03-08T03:00", "America/New_York")) == utc(2026, 3, 8, 7, 0)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "EST5EDT/Nope", "", "../../etc/passwd", "Europe/Berlin\x00"])
def test_unknown_zone_is_refused(zone):
    with pytest.raises(TimeError):
        parse_local("2026-06-01T12:00", zone)


@pytest.mark.parametrize(
    "text",
    ["yesterday", "2026-13-01T10:00", "2026-06-01", "", "2026-06-01T25:00", "x" * 500, "2026-06-01T10:00\x00"],
)
def test_garbage_is_refused_with_a_time_error(text):
    with pytest.raises(TimeError):
        parse_local(text, "UTC")


def test_naive_time_without_zone_is_refused():
    with pytest.raises(TimeError, match="no UTC offset"):
        parse_local("2026-06-01T12:00", None)


def test_fixed_offset_zone_names():
    assert get_zone("UTC") is UTC
    assert datetime(2026, 1, 1, tzinfo=get_zone("+05:30")).utcoffset().total_seconds() == 5.5 * 3600


def test_fmt_local_and_utc_same_day():
    # 09:15 EST = 14:15 UTC, same calendar date.
    dt = parse_local("2026-11-27T09:15", "America/New_York")
    assert fmt_local_and_utc(dt, "America/New_York") == "2026-11-27 09:15 EST (14:15 UTC)"


def test_fmt_local_and_utc_shows_the_utc_date_when_it_differs():
    # 23:30 PST (UTC-8) on 27 Nov is 07:30 UTC on 28 Nov.
    dt = parse_local("2026-11-27T23:30", "America/Los_Angeles")
    assert fmt_local_and_utc(dt, "America/Los_Angeles") == "2026-11-27 23:30 PST (2026-11-28 07:30 UTC)"


def test_fmt_local_and_utc_keeps_seconds_of_end_of_day():
    dt = parse_local("2026-07-01T23:59:59", "America/Los_Angeles")
    assert fmt_local_and_utc(dt) == "2026-07-01 23:59:59 PDT (2026-07-02 06:59:59 UTC)"


def test_iso_refuses_naive():
    with pytest.raises(TimeError):
        iso(datetime(2026, 1, 1))
