"""The obligation rules as validated pydantic models.

Where they live: ``data/obligations.toml`` is the index (field documentation,
vocabularies, aliases, calendars and ``rule_files``, the list of rule files);
the rules themselves are in ``data/rules/*.toml``, one file per family
(international, US federal, US states and territories, contracts, evidence),
grouped by jurisdiction inside each file. ``load_rules`` reads the index and
every listed file, in that order; ``rules_sha256`` is the fingerprint of all
of them that incidents record.

Why strict: a rule file with a typo (``offest``, ``clock_tz = "EST"``, an
unknown calendar) would otherwise produce a confident but wrong deadline.
Every rule is validated on load; the first problem is reported as one line
naming the file, the rule id and the field, and nothing is loaded.

Pure Python: no textual / weasyprint imports.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .models import INCIDENT_CATEGORIES, DataKind, PolicyKind, Sector
from .timeutil import TimeError, get_zone

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: the index: vocabularies, calendars, aliases and ``rule_files`` (the rules are in data/rules/)
RULES_FILE = DATA_DIR / "obligations.toml"

DISCLAIMER = (
    "Not legal advice: deadlines are computed from research notes of varying confidence; "
    "confirm each obligation with counsel against the cited text."
)

Unit = Literal["hours", "calendar_days", "business_days", "calendar_months", "none"]
Strictness = Literal[
    "hard",
    "outer_limit",
    "where_feasible",
    "no_fixed_deadline",
    "contractual",
    "proposed_not_in_force",
    "immediately",
    "reasonable_steps",
    "technical",
]
Confidence = Literal["high", "medium", "low"]
SourceQuality = Literal["primary", "secondary"]
Rollover = Literal["none", "noon_next_working_day", "statutory_optional"]
Party = Literal["client", "msp"]
#: what kind of duty a rule is (documented in data/obligations.toml; rulecoverage.py reports on it):
#: individuals (affected people), regulator (a public authority, law enforcement included),
#: cra (consumer reporting agencies), vendor (the MSP as vendor / processor / service provider
#: notifying its client: always party "msp"), media, contract (card brands, acquirers),
#: insurer, evidence (log-retention clocks), internal (assessments, registers, preservation
#: with no recipient), other (modifiers and preconditions of other clocks)
Duty = Literal["individuals", "regulator", "cra", "vendor", "media", "contract", "insurer", "evidence", "internal",
               "other"]

#: calendars the deadline code knows how to build (see deadlines.business_calendar)
KNOWN_CALENDARS = ("us_federal", "us_edgar", "vermont", "eu_member_state")
#: client flags usable in applies.requires / applies.unless
CLIENT_FLAGS = (
    "public_company",
    "nydfs_regulated",
    "dora_entity",
    "nis2_entity",
    "hipaa_covered_entity",
    "hipaa_business_associate",
    "hipaa",
)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_STATE = re.compile(r"^[A-Z]{2}$")
#: "US", "UK", "EU", "CA" (a country or union), "US-AZ", "CA-QC" (a subdivision), or the
#: non-statutory families "CONTRACT" (card brands, insurance) and "VENDOR" (product defaults)
_JURISDICTION = re.compile(r"^(?:[A-Z]{2}(?:-[A-Z0-9]{1,3})?|CONTRACT|VENDOR)$")
_RULE_FILE = re.compile(r"^rules/[a-z0-9][a-z0-9_-]*\.toml$")


class RulesError(ValueError):
    """The rule file is unusable; the message names the rule id and field."""


class UnknownRuleError(ValueError):
    """A rule id that is not in the rule file (one-line message, with a suggestion)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offset(_Strict):
    """How long the period is. ``value`` is required unless ``unit`` is "none"."""

    unit: Unit
    value: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _value_matches_unit(self) -> "Offset":
        if self.unit == "none" and self.value is not None:
            raise ValueError("unit 'none' takes no value")
        if self.unit != "none" and self.value is None:
            raise ValueError(f"unit {self.unit!r} needs a value")
        return self

    def describe(self) -> str:
        """"72 hours", "4 business days", "1 calendar month", "no fixed period"."""
        if self.unit == "none":
            return "no fixed period"
        word = {"hours": "hour", "calendar_days": "calendar day", "business_days": "business day",
                "calendar_months": "calendar month"}[self.unit]
        return f"{self.value} {word}{'' if self.value == 1 else 's'}"


class SecondaryClock(_Strict):
    """A cap or outer limit run from another trigger (DORA 24 h cap, policy-period end)."""

    trigger: str
    unit: Unit
    value: int = Field(ge=0)
    when_trigger_after_cap: str | None = None
    configurable: bool = False


class Extension(_Strict):
    unit: Unit
    value: int = Field(ge=0)
    condition: str


class Amendment(_Strict):
    """A change to the text behind a rule (e.g. CT 90 -> 60 days, Public Act 21-59, 1 Oct 2021)."""

    effective: date | None = None
    by: str = Field(min_length=1)
    change: str = Field(min_length=1)


class Applies(_Strict):
    """Machine-readable applicability (vocabulary documented in the TOML header)."""

    party: Party = "client"
    countries_any: list[str] = Field(default_factory=list)
    us_states_any: list[str] = Field(default_factory=list)
    data_any: list[DataKind] = Field(default_factory=list)
    categories_any: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    industries_any: list[str] = Field(default_factory=list)
    sectors_any: list[Sector] = Field(default_factory=list)
    ransom_paid: bool | None = None
    #: true: only when extortion is in play: the incident is ransomware, a ransom payment is recorded
    #: (``ransom_paid``), or the ransom_payment trigger is recorded
    ransom_in_play: bool | None = None
    #: true: only when the incident records that the MSP's own systems or staff were the vector
    msp_caused: bool | None = None
    count_key: str | None = None
    affected_min: int | None = Field(default=None, ge=0)
    affected_max: int | None = Field(default=None, ge=0)
    policy_kinds_any: list[PolicyKind] = Field(default_factory=list)
    confirm: str | None = None

    @field_validator("countries_any", "us_states_any")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        bad = [c for c in codes if not _STATE.match(c)]
        if bad:
            raise ValueError(f"not a two-letter upper-case code: {bad[0]!r}")
        return codes

    @field_validator("categories_any")
    @classmethod
    def _categories(cls, cats: list[str]) -> list[str]:
        bad = [c for c in cats if c not in INCIDENT_CATEGORIES]
        if bad:
            raise ValueError(f"unknown incident category {bad[0]!r}")
        return cats

    @field_validator("requires", "unless")
    @classmethod
    def _flags(cls, flags: list[str]) -> list[str]:
        bad = [f for f in flags if f not in CLIENT_FLAGS]
        if bad:
            raise ValueError(f"unknown client flag {bad[0]!r} (known: {', '.join(CLIENT_FLAGS)})")
        return flags

    @field_validator("industries_any")
    @classmethod
    def _lower(cls, words: list[str]) -> list[str]:
        if any(w != w.lower() or not w for w in words):
            raise ValueError("industry fragments must be non-empty and lower-case")
        return words

    @model_validator(mode="after")
    def _threshold_has_key(self) -> "Applies":
        if (self.affected_min is not None or self.affected_max is not None) and not self.count_key:
            raise ValueError("affected_min/affected_max need count_key")
        return self


class Rule(_Strict):
    """One obligation: who must do what, counted from which trigger, how."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    duty: Duty
    kind: Literal["deadline", "deadline_modifier", "precondition", "retention_min", "evidence_expiry"]
    jurisdiction: str
    regime: str
    obligation: str
    actor: str | None = None
    applies_when: str | None = None
    threshold: str | None = None
    trigger: str
    offset: Offset
    due_time: str | None = None
    clock_tz: str | None = None
    rollover: Rollover = "none"
    rollover_calendar: str | None = None
    rollover_exempt: list[str] = Field(default_factory=list)
    calendar: str | None = None
    cap: SecondaryClock | None = None
    outer_limit: SecondaryClock | None = None
    extension: Extension | None = None
    offset_by_licence: dict[str, int] | None = None
    contract_override: str | None = None
    internal_target_hours: int | None = Field(default=None, ge=1)
    #: the actual insurance policy's notice condition sets this clock (the rule only says such a duty exists)
    from_policy: bool = False
    strictness: Strictness
    standard: str
    recipient: str
    citation: str = Field(min_length=1)
    source_url: str = Field(min_length=1)
    source_quality: SourceQuality
    confidence: Confidence
    checked_on: date
    amendments: list[Amendment] = Field(default_factory=list)
    notes: str | None = None
    applies: Applies

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        if not _JURISDICTION.match(value):
            raise ValueError("must be a code such as 'US', 'US-AZ', 'UK', 'EU', 'CA-QC', 'CONTRACT' or 'VENDOR'")
        return value

    @field_validator("due_time")
    @classmethod
    def _due_time(cls, value: str | None) -> str | None:
        if value is None or value in ("exact", "end_of_day") or _HHMM.match(value):
            return value
        raise ValueError("must be 'exact', 'end_of_day' or a 24-hour 'HH:MM'")

    @field_validator("clock_tz")
    @classmethod
    def _clock_tz(cls, value: str | None) -> str | None:
        if value is None or value == "trigger":
            return value
        try:
            get_zone(value)
        except TimeError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("calendar", "rollover_calendar")
    @classmethod
    def _calendar(cls, value: str | None) -> str | None:
        if value is None or value in KNOWN_CALENDARS:
            return value
        if value.startswith("us_state:") and _STATE.match(value.split(":", 1)[1]):
            return value
        raise ValueError(f"unknown calendar {value!r} (known: {', '.join(KNOWN_CALENDARS)}, us_state:XX)")

    @model_validator(mode="after")
    def _coherent(self) -> "Rule":
        unit = self.offset.unit
        if unit != "none" and (self.due_time is None or self.clock_tz is None):
            raise ValueError("a rule with a fixed period needs due_time and clock_tz")
        if unit == "hours" and self.due_time != "exact":
            raise ValueError("hour periods are elapsed time: due_time must be 'exact'")
        if (unit == "business_days") != (self.calendar is not None):
            raise ValueError("calendar is required for business_days and only for them")
        if self.duty == "vendor" and self.applies.party != "msp":
            raise ValueError("duty 'vendor' is the MSP's own clock: applies.party must be 'msp'")
        if (self.duty == "evidence") != (self.kind == "evidence_expiry"):
            raise ValueError("duty 'evidence' goes with kind 'evidence_expiry' and only with it")
        return self

    # -- derived facts used by reports -------------------------------------------------

    @property
    def proposed(self) -> bool:
        """Not in force (e.g. CIRCIA): advisory only."""
        return self.strictness == "proposed_not_in_force"

    @property
    def uncertain(self) -> bool:
        """Confidence below high, or not yet law: the report must say so."""
        return self.confidence != "high" or self.proposed

    @property
    def party(self) -> Party:
        return self.applies.party


def _expand_aliases(applies: dict[str, Any], aliases: dict[str, list[str]]) -> dict[str, Any]:
    out = dict(applies)
    for key in ("countries_any", "data_any"):
        values: list[str] = []
        for value in out.get(key, []):
            values.extend(aliases.get(value, [value]) if isinstance(value, str) else [value])
        if key in out:
            out[key] = list(dict.fromkeys(values))
    return out


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(rule)"


def _parse_rule(raw: Any, index: int, aliases: dict[str, list[str]], path: Path) -> Rule:
    if not isinstance(raw, dict):
        raise RulesError(f"{path.name}: rules[{index}] is not a table")
    rule_id = raw.get("id", f"rules[{index}]")
    data = dict(raw)
    if isinstance(data.get("applies"), dict):
        data["applies"] = _expand_aliases(data["applies"], aliases)
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RulesError(
            f"{path.name}: rule {rule_id!r}, field {_field_path(first['loc'])!r}: {first['msg']}"
        ) from None


def _check_triggers(rules: dict[str, Rule], known: set[str], where: dict[str, str]) -> None:
    """Triggers must be vocabulary words or point at an existing rule."""
    for rule in rules.values():
        trig = rule.trigger
        if trig.startswith("submitted:"):
            ok = trig.split(":", 1)[1] in rules
        elif trig.startswith("before:"):
            ok = trig.split(":", 1)[1] in known
        else:
            ok = trig in known
        if not ok:
            raise RulesError(f"{where[rule.id]}: rule {rule.id!r}, field 'trigger': unknown trigger {trig!r}")


def parse_rules(document: dict[str, Any], path: Path = RULES_FILE,
                sources: list[str] | None = None) -> dict[str, Rule]:
    """Validate an already-parsed document (the index plus every rule under "rules") into rules keyed by id.

    ``sources`` names the file each raw rule came from (for the error message);
    without it every rule is attributed to ``path``.
    """
    aliases = document.get("applies_aliases", {})
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulesError(f"{path.name}: no [[rules]] entries")
    rules: dict[str, Rule] = {}
    where: dict[str, str] = {}
    for index, raw in enumerate(raw_rules):
        source = Path(sources[index]) if sources else path
        rule = _parse_rule(raw, index, aliases, source)
        if rule.id in rules:
            raise RulesError(f"{source.name}: rule {rule.id!r}, field 'id': duplicate id (also in {where[rule.id]})")
        rules[rule.id] = rule
        where[rule.id] = source.name
    known = set(document.get("vocab", {}).get("triggers", {}))
    _check_triggers(rules, known, where)
    return rules


def _read_toml(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RulesError(f"rule file not found: {path}") from None
    except OSError as exc:
        raise RulesError(f"{path.name}: cannot be read: {exc.strerror or exc}") from None
    try:
        return raw, tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RulesError(f"{path.name}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path.name}: not valid TOML: {exc}") from None


def rule_file_paths(path: Path | None = None) -> list[Path]:
    """The index followed by every rule file it lists, in the order they are read and hashed."""
    index = path or RULES_FILE
    _, document = _read_toml(index)
    names = document.get("rule_files", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise RulesError(f"{index.name}: 'rule_files' must be a list of paths such as \"rules/us-states.toml\"")
    bad = [n for n in names if not _RULE_FILE.match(n)]
    if bad:
        raise RulesError(f"{index.name}: rule file {bad[0]!r} must look like 'rules/<name>.toml'")
    if len(set(names)) != len(names):
        raise RulesError(f"{index.name}: 'rule_files' lists a file twice")
    return [index, *(index.parent / n for n in names)]


def _load_document(index: Path) -> tuple[dict[str, Any], list[str], bytes]:
    """The index document with every rule file's rules merged under "rules", their sources, all bytes."""
    paths = rule_file_paths(index)
    raw, document = _read_toml(index)
    chunks = [raw]
    rules: list[Any] = list(document.get("rules", []))
    sources = [index.name] * len(rules)
    for path in paths[1:]:
        raw, part = _read_toml(path)
        chunks.append(raw)
        extra = sorted(set(part) - {"rules"})
        if extra:
            raise RulesError(f"{path.name}: unknown top-level key {extra[0]!r} (a rule file holds only [[rules]])")
        found = part.get("rules", [])
        if not isinstance(found, list):
            raise RulesError(f"{path.name}: 'rules' must be [[rules]] tables")
        rules.extend(found)
        sources.extend([path.name] * len(found))
    merged = {key: value for key, value in document.items() if key != "rule_files"}
    merged["rules"] = rules
    return merged, sources, b"".join(chunks)


def load_document(path: Path | None = None) -> dict[str, Any]:
    """The whole rule set as one TOML-shaped document (index tables, every rule under "rules")."""
    return _load_document(path or RULES_FILE)[0]


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[dict[str, Rule], dict[str, Any], str]:
    document, sources, raw = _load_document(path)
    rules = parse_rules(document, path, sources)
    return rules, document.get("vocab", {}), hashlib.sha256(raw).hexdigest()


def load_rules(path: Path | None = None) -> dict[str, Rule]:
    """All rules keyed by id, in file order (cached: the files are read once per process)."""
    return _load(path or RULES_FILE)[0]


def vocabulary(path: Path | None = None) -> dict[str, Any]:
    """The [vocab] tables (trigger descriptions and short labels, units ...)."""
    return _load(path or RULES_FILE)[1]


def rules_sha256(path: Path | None = None) -> str:
    """SHA-256 of the index's bytes followed by each listed rule file's bytes, in ``rule_files`` order.

    Deterministic and checkable with stock tools:
    ``cat data/obligations.toml data/rules/international.toml ... | sha256sum``
    (the files in the order ``rule_files`` gives). Any edit to any file changes it.
    """
    return _load(path or RULES_FILE)[2]


def trigger_label(trigger: str) -> str:
    """Short words for a trigger, for one-line explanations."""
    if trigger.startswith("submitted:"):
        return f"the actual submission of {trigger.split(':', 1)[1]}"
    if trigger.startswith("before:"):
        return f"before {trigger_label(trigger.split(':', 1)[1])}"
    return vocabulary().get("trigger_labels", {}).get(trigger, trigger.replace("_", " "))


def get_rule(rule_id: str) -> Rule:
    """The rule called ``rule_id``, or UnknownRuleError with a suggestion."""
    rules = load_rules()
    if rule_id in rules:
        return rules[rule_id]
    close = difflib.get_close_matches(str(rule_id), list(rules), n=1)
    hint = f"; did you mean {close[0]}?" if close else "; run `msptui rules` to list them"
    raise UnknownRuleError(f"unknown rule id {str(rule_id)[:80]!r}{hint}")


def chained_from(rule: Rule) -> str | None:
    """The rule whose actual submission starts this clock (NIS2 final report ...)."""
    return rule.trigger.split(":", 1)[1] if rule.trigger.startswith("submitted:") else None


def period_text(rule: Rule) -> str:
    """"4 business days (us_edgar)" and the like, for listings."""
    text = rule.offset.describe()
    return f"{text} ({rule.calendar})" if rule.calendar else text


def rules_report() -> list[dict[str, Any]]:
    """Every obligation with its citation and confidence (the `msptui rules` data)."""
    return [_rule_row(rule) for rule in load_rules().values()]


def _rule_row(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "jurisdiction": rule.jurisdiction,
        "regime": rule.regime,
        "obligation": rule.obligation,
        "party": rule.party,
        "trigger": rule.trigger,
        "chained_from": chained_from(rule),
        "period": period_text(rule),
        "due_time": rule.due_time,
        "clock_tz": rule.clock_tz,
        "strictness": rule.strictness,
        "standard": rule.standard,
        "recipient": rule.recipient,
        "citation": rule.citation,
        "source_url": rule.source_url,
        "source_quality": rule.source_quality,
        "confidence": rule.confidence,
        "checked_on": rule.checked_on.isoformat(),
        "duty": rule.duty,
        "amendments": [
            {"effective": a.effective.isoformat() if a.effective else None, "by": a.by, "change": a.change}
            for a in rule.amendments
        ],
        "uncertain": rule.uncertain,
        "advisory": rule.proposed,
        "label": "advisory - not in force" if rule.proposed else None,
    }


__all__ = [
    "Amendment",
    "Applies",
    "DISCLAIMER",
    "Duty",
    "Offset",
    "Rule",
    "RulesError",
    "UnknownRuleError",
    "chained_from",
    "get_rule",
    "load_document",
    "load_rules",
    "parse_rules",
    "period_text",
    "rule_file_paths",
    "rules_report",
    "rules_sha256",
    "trigger_label",
    "vocabulary",
]

# keep the Literals importable for callers that validate user input
DATA_KINDS: tuple[str, ...] = get_args(DataKind)
DUTIES: tuple[str, ...] = get_args(Duty)
