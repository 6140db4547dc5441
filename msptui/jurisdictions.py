"""Jurisdiction codes: ISO countries (``DE``) and the subdivisions breach laws are written for (``US-CA``).

Countries come from tzdata's ``iso3166.tab`` (maintained with the IANA zone
database, already a dependency); subdivisions from data/jurisdictions.toml.
An unknown code is refused at the door: a typo (``US-CAL``) would otherwise
make a state's rule silently not apply.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from .paths import DATA_DIR


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> country name."""
    text = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.partition("\t")
            out[code.strip()] = name.strip()
    return out


@lru_cache(maxsize=1)
def subdivisions() -> dict[str, tuple[str, ...]]:
    """Country code -> its subdivision codes on file (US states and territories, CA provinces ...)."""
    with (DATA_DIR / "jurisdictions.toml").open("rb") as handle:
        raw = tomllib.load(handle)
    return {country: tuple(entry["codes"]) for country, entry in raw["subdivisions"].items()}


def us_states() -> tuple[str, ...]:
    return subdivisions()["US"]


def check(code: str) -> str:
    """``code`` if it is a known country (``DE``) or subdivision (``US-CA``); ValueError naming it otherwise."""
    country, dash, sub = code.partition("-")
    if country not in countries():
        raise ValueError(f"unknown jurisdiction {code!r}: use an ISO country code (DE, US) or a subdivision (US-CA)")
    if dash and sub not in subdivisions().get(country, ()):
        known = subdivisions().get(country)
        hint = f" (known for {country}: {', '.join(known[:8])} ...)" if known else f" ({country} has no subdivisions on file)"
        raise ValueError(f"unknown jurisdiction {code!r}{hint}")
    return code
