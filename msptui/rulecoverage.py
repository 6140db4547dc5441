"""Which duties are on file for each jurisdiction (``msptui rules --coverage``).

Why: an obligations list that silently skips a jurisdiction looks complete
when it is not. This module answers, from the typed ``Rule.duty`` and
``Rule.jurisdiction`` fields only (never from prose), which of the four core
duties -- notice to individuals, to a regulator, to the consumer reporting
agencies, and the MSP's own vendor duty -- have at least one rule on file for
a jurisdiction, and which have none.

"Not on file" means no rule is recorded: the law may have no such duty, or it
has not been captured yet. Either way a person must assess it; the report
never turns a missing rule into "not required".

Callers deciding whether an affected place has any rule on file use
``state_coverage("AZ")`` (a US state, DC or territory by USPS code) or
``country_coverage("DE")`` (an ISO 3166-1 country: rules that apply by
country, i.e. list it in ``applies.countries_any`` or have it as their
jurisdiction). Each returns a ``JurisdictionCoverage``; ``rule_on_file`` is
False when nothing at all is recorded.

Pure Python: no textual / weasyprint imports.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from .obligations import Rule, load_rules

__all__ = [
    "CORE_DUTIES",
    "JurisdictionCoverage",
    "US_JURISDICTIONS",
    "country_coverage",
    "coverage",
    "jurisdiction_coverage",
    "jurisdiction_name",
    "state_coverage",
]

#: the duties the coverage report tracks for every jurisdiction, in column order
CORE_DUTIES: tuple[str, ...] = ("individuals", "regulator", "cra", "vendor")

_US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}
_US_OTHER = {"DC": "District of Columbia", "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands"}

#: the 50 states, DC, Puerto Rico, Guam and the U.S. Virgin Islands, as rule jurisdictions ("US-AZ" ...)
US_JURISDICTIONS: tuple[str, ...] = tuple(f"US-{code}" for code in (*_US_STATES, *_US_OTHER))

_NAMES = {
    "US": "United States federal",
    "EU": "European Union / EEA",
    "UK": "United Kingdom",
    "GB": "United Kingdom",
    "CA": "Canada",
    "CA-QC": "Quebec",
    "CA-AB": "Alberta",
    "AU": "Australia",
    **{f"US-{code}": name for code, name in {**_US_STATES, **_US_OTHER}.items()},
}
#: families that are not jurisdictions (contracts, product defaults): never in the report
_NOT_JURISDICTIONS = {"CONTRACT", "VENDOR"}
#: rule jurisdiction -> the ISO country it is the law of (UK is GB in ISO 3166-1)
_ISO_OF = {"UK": "GB"}
_CODE = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$")  # ISO 3166-1, or 3166-2 (US-AZ, CA-QC, AU-NSW)


class JurisdictionCoverage(BaseModel):
    """The rules on file for one jurisdiction, by duty."""

    model_config = ConfigDict(frozen=True)

    jurisdiction: str
    name: str
    #: every duty with at least one rule on file -> those rule ids, in rule-file order
    duties: dict[str, tuple[str, ...]]
    #: the core duties (CORE_DUTIES) with at least one rule on file, and those with none
    on_file: tuple[str, ...]
    not_on_file: tuple[str, ...]

    @property
    def rule_on_file(self) -> bool:
        """Whether any rule at all is recorded (False: "no rule on file: assess manually")."""
        return bool(self.duties)

    def as_dict(self) -> dict:
        return {
            "jurisdiction": self.jurisdiction,
            "name": self.name,
            "rule_on_file": self.rule_on_file,
            "on_file": list(self.on_file),
            "not_on_file": list(self.not_on_file),
            "duties": {duty: list(ids) for duty, ids in self.duties.items()},
        }


def jurisdiction_name(code: str) -> str:
    """A readable name for a jurisdiction code ("US-AZ" -> "Arizona"); the code itself if unknown."""
    return _NAMES.get(code, code)


def _values(rules: Mapping[str, Rule] | Iterable[Rule] | None) -> list[Rule]:
    if rules is None:
        return list(load_rules().values())
    return list(rules.values()) if isinstance(rules, Mapping) else list(rules)


def _record(code: str, name: str, matching: Iterable[Rule]) -> JurisdictionCoverage:
    duties: dict[str, list[str]] = {}
    for rule in matching:
        duties.setdefault(rule.duty, []).append(rule.id)
    return JurisdictionCoverage(
        jurisdiction=code,
        name=name,
        duties={duty: tuple(ids) for duty, ids in duties.items()},
        on_file=tuple(d for d in CORE_DUTIES if d in duties),
        not_on_file=tuple(d for d in CORE_DUTIES if d not in duties),
    )


def _check_code(code: str) -> str:
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValueError(f"not a jurisdiction code: {str(code)[:40]!r} (use e.g. US-AZ, UK, CA-QC)")
    return code


def jurisdiction_coverage(code: str, rules: Mapping[str, Rule] | Iterable[Rule] | None = None) -> JurisdictionCoverage:
    """The rules whose ``jurisdiction`` is exactly ``code`` ("US-AZ", "UK", "CA-QC", "US" ...), by duty."""
    code = _check_code(code)
    return _record(code, jurisdiction_name(code), (r for r in _values(rules) if r.jurisdiction == code))


def state_coverage(state: str, rules: Mapping[str, Rule] | Iterable[Rule] | None = None) -> JurisdictionCoverage:
    """A US state, DC or territory by its USPS code ("AZ", "DC", "PR")."""
    if not isinstance(state, str) or not re.fullmatch(r"[A-Z]{2}", state):
        raise ValueError(f"not a two-letter upper-case USPS code: {str(state)[:40]!r}")
    return jurisdiction_coverage(f"US-{state}", rules)


def _reaches_country(rule: Rule, iso2: str) -> bool:
    if rule.jurisdiction in _NOT_JURISDICTIONS:
        return False
    if iso2 in rule.applies.countries_any:
        return True
    return _ISO_OF.get(rule.jurisdiction, rule.jurisdiction) == iso2


def country_coverage(iso2: str, rules: Mapping[str, Rule] | Iterable[Rule] | None = None) -> JurisdictionCoverage:
    """Rules that apply by country to ``iso2`` (ISO 3166-1 alpha-2, e.g. "DE", "GB", "CA"), by duty.

    A rule counts when it lists the country in ``applies.countries_any`` (the
    EU and EEA aliases are already expanded) or its jurisdiction is that
    country (UK for GB). Provincial rules that apply by country (Quebec,
    Alberta: their confirm question narrows them) count for CA; US state rules
    apply by state and are reported by ``state_coverage`` instead.
    """
    if not isinstance(iso2, str) or not re.fullmatch(r"[A-Z]{2}", iso2):
        raise ValueError(f"not an ISO 3166-1 alpha-2 code: {str(iso2)[:40]!r}")
    return _record(iso2, jurisdiction_name(iso2), (r for r in _values(rules) if _reaches_country(r, iso2)))


def _sort_key(code: str) -> tuple[int, str]:
    if code == "US":
        return (0, code)
    if code.startswith("US-"):
        return (1, jurisdiction_name(code))
    return (2, code)


def coverage(rules: Mapping[str, Rule] | Iterable[Rule] | None = None) -> list[JurisdictionCoverage]:
    """One record per jurisdiction on file, plus every US jurisdiction even with nothing on file.

    Order: US federal, the US states and territories by name, then the other
    jurisdictions by code. Contract and product families are not jurisdictions
    and are left out.
    """
    values = _values(rules)
    codes = {r.jurisdiction for r in values if r.jurisdiction not in _NOT_JURISDICTIONS} | set(US_JURISDICTIONS)
    return [_record(code, jurisdiction_name(code), (r for r in values if r.jurisdiction == code))
            for code in sorted(codes, key=_sort_key)]
