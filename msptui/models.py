"""The records an MSP needs on the day a client is breached.

Every record is a pydantic model with strict validation: a record that would
mislead a lawyer (an unknown scope state, a signed agreement with no signing
date, an end before a start) is refused at the door rather than stored.

Records are flat and refer to each other by id (``client_id``,
``incident_id``) so that the import file, the event payloads and the
projection tables all share one shape: the JSON of a model *is* the record.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# ---------------------------------------------------------------------------
# Field types
# ---------------------------------------------------------------------------

_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: ids of notes, evidence and checklist items ("<incident>:note-3"): letters, digits and . _ : - only
_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")


def _slug(value: str) -> str:
    # fullmatch: "$" would also accept a trailing newline
    if not _SLUG.fullmatch(value):
        raise ValueError(
            "must be 1-80 characters of lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _record_id(value: str) -> str:
    if not _RECORD_ID.fullmatch(value):
        raise ValueError(
            "must be 1-200 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
        )
    return value


def _zone(value: str) -> str:
    from .timeutil import refused_zone

    why = refused_zone(value)
    if why:
        raise ValueError(why)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset or 'Z' (an instant, not a wall-clock time)")
    return value.astimezone(timezone.utc)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL byte")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Zone = Annotated[str, AfterValidator(_zone)]
UTCInstant = Annotated[datetime, AfterValidator(_utc)]
def _sha256(value: str) -> str:
    if not _SHA256.fullmatch(value):
        raise ValueError("must be 64 hex digits (a SHA-256)")
    return value


Sha256 = Annotated[str, StringConstraints(to_lower=True), AfterValidator(_sha256)]
Text = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_no_nul)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_no_nul)]
#: where evidence came from or is kept: often a file path, which may be up to PATH_MAX (4096) long
LocationText = Annotated[str, StringConstraints(min_length=1, max_length=4096), AfterValidator(_no_nul)]
#: whole units of a currency: new input (the CLI, the TUI forms) takes at most 15 digits, the bound ``acts.money``
#: uses. Not enforced on records already written: a database holding a larger limit must stay readable.
#: affected systems an incident may list, and the longest name of one (a host, an application, a tenant)
MAX_SYSTEMS = 500
MAX_SYSTEM_NAME = 200
SystemName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SYSTEM_NAME), AfterValidator(_no_nul)]
MAX_MONEY = 10**15 - 1
Money = Annotated[int, Field(ge=0)]
#: the longest insurer notice window a policy can state: ten years
MAX_NOTICE_HOURS = 87_600
MAX_NOTICE_DAYS = 3_650
#: ISO 4217 codes that name no money: an amount "in" them is not a cost anyone paid or a limit anyone bought
NOT_MONEY = {"XXX": "transactions where no currency is involved", "XTS": "testing"}
RecordId = Annotated[str, AfterValidator(_record_id)]


def validated(model: type[Any], data: dict[str, Any]) -> Any:
    """``model.model_validate(data)`` with the first problem as a one-line UserError naming the field."""
    from pydantic import ValidationError

    from .errors import UserError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        label = getattr(model, "LABEL", None) or model.__name__
        raise UserError(f"{label} field '{loc}': {err['msg'].removeprefix('Value error, ')}") from None


R = TypeVar("R", bound="Record")


class Record(BaseModel):
    """Base of every stored record: unknown fields are errors, not silently dropped.

    Each record type describes itself (so adding one touches a handful of
    files, see README "Adding a record type"):

    - ``TABLE``: its projection table, the key in the record file and the
      ``<table>.put`` event kind;
    - ``LABEL``: how timelines and dossiers name one ("checklist item");
    - ``subject_of(data)``: the client the record belongs to (None for the
      MSP's own records): it names the event's subject in the hash chain and
      decides which dossier carries it.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=False, defer_build=True)

    TABLE: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""

    @classmethod
    def subject_of(cls, data: dict[str, Any]) -> str | None:
        return data.get("client_id")

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        """What a timeline says after "created <label> <id>" (record text, shown literally)."""
        return ""



class Part(BaseModel):
    """Base of nested parts of a record."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


# ---------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------


class Engagement(str, Enum):
    managed = "managed"
    co_managed = "co_managed"
    security_only = "security_only"
    block_hours = "block_hours"
    break_fix = "break_fix"
    project = "project"
    retainer = "retainer"


class ScopeState(str, Enum):
    included = "included"
    excluded = "excluded"
    declined = "declined"
    client_responsibility = "client_responsibility"
    third_party = "third_party"
    not_applicable = "not_applicable"


NOT_ADDRESSED = "not_addressed"  # a catalogue item no agreement in force mentions

#: regulatory sectors that decide sector-specific rules (bank regulators' 36 h, NCUA 72 h, FTC
#: Safeguards, SEC Regulation S-P, CIRCIA, California H&S Code 1280.15). Each is a code, documented
#: in data/obligations.toml and the README:
#:   bank                 OCC/Fed/FDIC-supervised banking organization (12 CFR 53/225/304)
#:   credit_union         federally insured credit union (NCUA, 12 CFR 748), not a bank
#:   non_bank_financial   financial institution under FTC jurisdiction (16 CFR 314)
#:   insurance            insurer, agency or broker: state insurance regulators, not the FTC
#:   broker_dealer        SEC-registered broker-dealer (Regulation S-P)
#:   investment_adviser   SEC-registered investment adviser (Regulation S-P)
#:   health_facility      licensed clinic, health facility, home health agency or hospice
Sector = Literal[
    "bank",
    "credit_union",
    "non_bank_financial",
    "insurance",
    "broker_dealer",
    "investment_adviser",
    "critical_infrastructure",
    "healthcare",
    "health_facility",
    "defense_industrial_base",
    "government",
]
#: what a client's ``sectors`` may hold: the regulatory sectors, or "none" alone (recorded: in none of them);
#: an empty list is "not recorded"
ClientSector = Literal[get_args(Sector) + ("none",)]  # type: ignore[valid-type]
#: "none" recorded for a client's HIPAA role, NIS2 status, DORA entity type or sectors: known not to apply
#: (None, or an empty sector list, is "not recorded": the rules take the conservative reading and say so)
RECORDED_NONE = "none"
HipaaRole = Literal["covered_entity", "business_associate", "none"]
Nis2Entity = Literal["essential", "important", "none"]
ContactRole = Literal["primary", "emergency", "technical", "billing", "counsel", "insurer", "broker", "executive"]
DataKind = Literal["pii", "phi", "pci", "financial", "cui", "credentials", "biometric", "children", "employee"]
AgreementKind = Literal["msa", "schedule", "sow", "sla", "amendment", "dpa", "baa"]
ClauseKind = Literal[
    "limitation_of_liability",
    "security_disclaimer",
    "cyber_exclusion",
    "client_insurance_required",
    "indemnity",
    "breach_notification",
    "data_processing",
    "other",
]
SignatureStatus = Literal["signed", "unsigned", "partially_signed"]
SignatureMethod = Literal["wet_ink", "e_signature", "click_through", "email_acceptance"]
Decision = Literal["accepted", "declined", "deferred", "pending"]
PolicyKind = Literal["cyber", "tech_eo", "cyber_eo", "crime", "general_liability"]
ClaimsForm = Literal["occurrence", "claims_made", "claims_made_and_reported"]
ReviewKind = Literal["qbr", "annual", "security", "onboarding", "ad_hoc"]

IncidentCategory = Literal[
    "ransomware",
    "bec",
    "phishing",
    "credential_compromise",
    "data_exfiltration",
    "lost_device",
    "insider_misuse",
    "third_party",
    "exploited_vulnerability",
    "misconfiguration",
    "ddos",
    "other",
]
#: the categories ``incident open --category`` accepts, in the order shown to users
INCIDENT_CATEGORIES: tuple[str, ...] = get_args(IncidentCategory)
ChecklistStatus = Literal["open", "done", "not_applicable", "blocked"]


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


class Contact(Part):
    name: ShortText
    role: ContactRole
    email: ShortText | None = None
    phone: ShortText | None = None
    organisation: ShortText | None = None


class Client(Record):
    TABLE: ClassVar[str] = "clients"
    LABEL: ClassVar[str] = "client record"

    @classmethod
    def subject_of(cls, data: dict[str, Any]) -> str | None:
        return data.get("id")

    id: Slug
    name: ShortText
    industry: ShortText | None = None
    engagement: Engagement
    home_tz: Zone
    countries: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] = Field(
        default_factory=list, description="ISO 3166-1 alpha-2 codes where the client operates or holds data"
    )
    us_states: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] = Field(
        default_factory=list, description="USPS codes of states whose residents' data the client holds"
    )
    data_held: list[DataKind] = Field(default_factory=list)
    sectors: list[ClientSector] = Field(
        default_factory=list,
        description="regulatory sectors; when recorded they decide sector rules instead of the free-text industry; "
                    "[\"none\"]: recorded as in none of them; []: not recorded",
    )
    public_company: bool = False
    nydfs_regulated: bool = False
    hipaa_role: HipaaRole | None = Field(default=None, description="None: not recorded; \"none\": neither role")
    dora_entity: ShortText | None = Field(
        default=None, description="DORA financial-entity type; \"none\": not a DORA financial entity; None: not recorded")
    nis2_entity: Nis2Entity | None = Field(default=None, description="None: not recorded; \"none\": not a NIS2 entity")
    review_cadence_days: int = Field(default=90, ge=7, le=730)
    contacts: list[Contact] = Field(default_factory=list)
    notes: Text = ""

    @field_validator("sectors")
    @classmethod
    def _none_alone(cls, sectors: list[str]) -> list[str]:
        if RECORDED_NONE in sectors and len(set(sectors)) > 1:
            raise ValueError("'none' (in no regulatory sector) cannot be combined with a sector")
        return sectors

    @field_validator("dora_entity")
    @classmethod
    def _dora_none(cls, value: str | None) -> str | None:
        return RECORDED_NONE if value is not None and value.strip().lower() == RECORDED_NONE else value


# ---------------------------------------------------------------------------
# Agreements and scope
# ---------------------------------------------------------------------------


class Signatory(Part):
    name: ShortText
    title: ShortText | None = None
    side: Literal["msp", "client"]


class Signature(Part):
    status: SignatureStatus = "unsigned"
    signed_at: UTCInstant | None = None
    method: SignatureMethod | None = None
    signatories: list[Signatory] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "Signature":
        if self.status == "signed":
            if self.signed_at is None:
                raise ValueError("a signed agreement needs signed_at")
            sides = {s.side for s in self.signatories}
            if sides != {"msp", "client"}:
                raise ValueError("a signed agreement needs a signatory on each side (msp and client)")
        if self.status == "unsigned" and self.signed_at is not None:
            raise ValueError("signed_at is set but status is 'unsigned'")
        return self


class Document(Part):
    file_name: ShortText
    sha256: Sha256


class ClauseNotice(Part):
    """A notice duty a clause sets, as data: who must notify, within what period, from which trigger.

    E.g. a BAA's "notify the covered entity within 10 calendar days of
    discovery": party "msp", unit "calendar_days", value 10, trigger
    "discovery". The MSP's notice to its client is then due at the earlier of
    this and any statute's period.
    """

    party: Literal["msp", "client"] = "msp"
    unit: Literal["hours", "calendar_days", "business_days"]
    value: int = Field(ge=0, le=3650)
    trigger: Literal["discovery", "aware", "determination_of_breach"] = "discovery"


class Clause(Part):
    kind: ClauseKind
    section: ShortText
    text: Text = ""
    #: e.g. the minimum cyber limit the client must carry (client_insurance_required)
    amount: Money | None = None
    #: the notice period the clause sets (breach_notification, data_processing clauses)
    notice: ClauseNotice | None = None


class ScopeLine(Part):
    item: Slug = Field(description="scope catalogue item id")
    state: ScopeState
    clause: ShortText | None = Field(default=None, description="section reference, e.g. 'Schedule B §3.2'")
    notes: Text = ""
    effective_from: date | None = None
    effective_to: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> "ScopeLine":
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class Agreement(Record):
    """One document of the contract stack (MSA, schedule, SOW, amendment ...).

    effective_from/effective_to are local calendar dates in the client's home
    zone, both inclusive. ``supersedes`` names the document this one replaces:
    from this one's effective_from, the replaced one is no longer in force.
    """

    TABLE: ClassVar[str] = "agreements"
    LABEL: ClassVar[str] = "agreement"


    id: Slug
    client_id: Slug
    type: AgreementKind
    title: ShortText
    version: int = Field(default=1, ge=1)
    parent_id: Slug | None = Field(default=None, description="the MSA a schedule/SOW/amendment hangs from")
    supersedes: Slug | None = None
    effective_from: date
    effective_to: date | None = None
    signature: Signature = Field(default_factory=Signature)
    document: Document | None = None
    clauses: list[Clause] = Field(default_factory=list)
    scope: list[ScopeLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> "Agreement":
        if self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        items = [line.item for line in self.scope]
        dupes = sorted({i for i in items if items.count(i) > 1})
        if dupes and not all(
            line.effective_from or line.effective_to for line in self.scope if line.item in dupes
        ):
            raise ValueError(f"scope lists item {dupes[0]!r} twice without separate effective dates")
        if self.supersedes == self.id or self.parent_id == self.id:
            raise ValueError("an agreement cannot supersede or hang from itself")
        return self


# ---------------------------------------------------------------------------
# Risk acceptances
# ---------------------------------------------------------------------------


class Acknowledgement(Part):
    signed_by: ShortText
    signed_at: UTCInstant
    document: Document | None = None


class Reaffirmation(Part):
    on: date
    by: ShortText
    document: Document | None = None


class RiskAcceptance(Record):
    """A recommendation, the client's decision and its signed acknowledgement."""

    TABLE: ClassVar[str] = "risk_acceptances"
    LABEL: ClassVar[str] = "risk acceptance"


    id: Slug
    client_id: Slug
    item: Slug = Field(description="scope catalogue item id the recommendation concerns")
    recommendation: Text
    recommended_on: date
    review_id: Slug | None = None
    recommendation_id: Slug | None = Field(default=None, description="the recommendation within the review")
    decision: Decision
    decided_on: date | None = None
    acknowledgement: Acknowledgement | None = None
    reaffirmations: list[Reaffirmation] = Field(default_factory=list)
    notes: Text = ""

    @model_validator(mode="after")
    def _check(self) -> "RiskAcceptance":
        if self.decision != "pending" and self.decided_on is None:
            raise ValueError(f"decision {self.decision!r} needs decided_on")
        if self.decided_on and self.decided_on < self.recommended_on:
            raise ValueError("decided_on is before recommended_on")
        return self


# ---------------------------------------------------------------------------
# Insurance
# ---------------------------------------------------------------------------


class NoticeCondition(Part):
    """When the insurer must hear of an incident.

    ``fixed``: within ``hours`` (or ``days``) of the trigger; ``asap``: "as soon
    as practicable", shown as elapsed time against ``internal_target_hours``.
    """

    kind: Literal["fixed", "asap"]
    # bounded: a notice window of 10**11 hours passed every check and then made opening any incident of the
    # client fail with an OverflowError while its clocks were computed (so no working database holds one)
    hours: int | None = Field(default=None, ge=1, le=MAX_NOTICE_HOURS)
    days: int | None = Field(default=None, ge=1, le=MAX_NOTICE_DAYS)
    internal_target_hours: int | None = Field(default=None, ge=1, le=MAX_NOTICE_HOURS)
    trigger: ShortText = "discovery"
    written: bool = Field(default=True, description="the condition requires written notice (a hotline call is not enough)")
    text: Text = ""

    @model_validator(mode="after")
    def _check(self) -> "NoticeCondition":
        if self.kind == "fixed" and not (self.hours or self.days):
            raise ValueError("a fixed notice window needs hours or days")
        if self.hours and self.days:
            raise ValueError("give the notice window in hours or in days, not both")
        return self


class InsurancePolicy(Record):
    TABLE: ClassVar[str] = "policies"
    LABEL: ClassVar[str] = "insurance policy"

    id: Slug
    owner: Literal["msp", "client"]
    client_id: Slug | None = None
    type: PolicyKind
    carrier: ShortText
    policy_number: ShortText
    period_start: date
    period_end: date
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    limit_aggregate: Money
    limit_per_claim: Money | None = None
    #: None: not recorded (never taken as 0)
    retention: Money | None = None
    sublimits: dict[Slug, Money] = Field(default_factory=dict, description="e.g. ransomware, social_engineering")
    notice: NoticeCondition
    hotline: ShortText | None = None
    claims_email: ShortText | None = None
    claims_address: Text | None = None
    panel_vendors_required: bool = False
    prior_consent_required: bool | None = Field(
        default=None, description="insurer consent before vendors, remediation or ransom payment (None: not recorded)")
    panel_vendors: list[ShortText] = Field(default_factory=list)
    #: claims-made-and-reported forms cover a claim only if it is also reported within the policy period
    claims_form: ClaimsForm | None = None
    notes: Text = ""

    @model_validator(mode="after")
    def _check(self) -> "InsurancePolicy":
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.owner == "client" and not self.client_id:
            raise ValueError("a client policy needs client_id")
        if self.owner == "msp" and self.client_id:
            raise ValueError("the MSP's own policy has no client_id")
        return self


# ---------------------------------------------------------------------------
# Business reviews
# ---------------------------------------------------------------------------


class Recommendation(Part):
    id: Slug
    item: Slug | None = Field(default=None, description="scope catalogue item id")
    text: Text
    decision: Decision = "pending"
    decided_on: date | None = None


class Review(Record):
    TABLE: ClassVar[str] = "reviews"
    LABEL: ClassVar[str] = "business review"

    id: Slug
    client_id: Slug
    held_on: date
    type: ReviewKind = "qbr"
    attendees_msp: list[ShortText] = Field(default_factory=list)
    attendees_client: list[ShortText] = Field(default_factory=list)
    topics: list[ShortText] = Field(default_factory=list)
    security_education: list[ShortText] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    minutes: Document | None = None
    notes: Text = ""

    @field_validator("recommendations")
    @classmethod
    def _unique(cls, recs: list[Recommendation]) -> list[Recommendation]:
        ids = [r.id for r in recs]
        if len(ids) != len(set(ids)):
            raise ValueError("recommendation ids repeat within the review")
        return recs


# ---------------------------------------------------------------------------
# Incidents (the flows come with the clock, TUI and dossier)
# ---------------------------------------------------------------------------


class Instant(Part):
    """A moment: stored in UTC with the IANA zone it was observed in."""

    at: UTCInstant
    tz: Zone

    def local(self) -> datetime:
        return self.at.astimezone(ZoneInfo(self.tz))


class Assessment(Part):
    """Whether one obligation applies to an incident, why, and its clock, as decided when it was opened.

    Kept on the incident so the dossier shows what the team was told at the
    time, even if the rules file is later corrected.
    """

    #: None for a "no rule on file" entry (an affected jurisdiction nobody has written a rule for)
    rule_id: ShortText | None
    applies: bool
    party: Literal["client", "msp"]
    reason: Text
    due: UTCInstant | None = None
    target: UTCInstant | None = None
    basis: Text = ""
    uncertain: bool = False
    label: ShortText | None = None
    #: the insurance policy whose own notice condition sets this clock
    policy_id: Slug | None = None
    #: the trigger this clock still waits for (e.g. "submitted:us.ca.1798_82.ag"); None once it runs
    waits_for: ShortText | None = None
    #: applies / dormant (its trigger may never happen and has not) / not_applicable / no_rule (assess manually)
    state: Literal["applies", "dormant", "not_applicable", "no_rule"] | None = None
    #: the named trigger the clock runs from, and its instant (None: not recorded, or counted from discovery)
    trigger: ShortText | None = None
    trigger_at: UTCInstant | None = None
    #: for no_rule entries: the jurisdiction and how many people there are affected (None: not recorded)
    jurisdiction: ShortText | None = None
    affected: int | None = None
    #: client fields the verdict needed and found not recorded (hipaa_role, nis2_entity, dora_entity, sectors):
    #: applying, it took them the conservative way (assumed); not applying, the unrecorded one decided it.
    #: Show each as "not recorded: confirm".
    unrecorded: list[ShortText] = Field(default_factory=list)

    @property
    def resolved_state(self) -> str:
        """The state, for assessments recorded before states existed too."""
        return self.state or ("applies" if self.applies else "not_applicable")


class TriggerFact(Part):
    """When a named trigger happened, as recorded: the instant (UTC, with the zone it was observed in), who
    did or declared it (the official, for a law-enforcement delay), and who recorded it."""

    at: UTCInstant
    tz: Zone
    by: ShortText | None = None
    agency: ShortText | None = None
    #: the end of a law-enforcement delay
    until: UTCInstant | None = None
    note: Text = ""
    recorded_by: ShortText


class Incident(Record):
    TABLE: ClassVar[str] = "incidents"
    LABEL: ClassVar[str] = "incident"

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        return f"{data.get('category')} \u2014 {str(data.get('summary', ''))[:300]}"

    id: Slug
    client_id: Slug
    category: IncidentCategory
    summary: Text
    discovered: Instant
    reported_by: ShortText | None = None
    status: Literal["open", "contained", "closed"] = "open"
    data_types: list[DataKind] = Field(default_factory=list)
    countries: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list)
    us_states: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list)
    affected_counts: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    ransom_paid: bool = False
    msp_caused: bool = False
    #: the systems affected (hosts, applications, tenants: 'FS01', 'Microsoft 365 tenant'), as the team names them;
    #: shown in the dossier's facts, never used to decide an obligation
    systems: list[SystemName] = Field(default_factory=list, max_length=MAX_SYSTEMS)
    #: named trigger instants as they become known (ransom_payment, materiality_determination, first_activity ...)
    triggers: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,79}$")], "TriggerFact"] = Field(default_factory=dict)
    template: dict[str, str] = Field(default_factory=dict, description="checklist template id, version and sha256")
    rules: dict[str, str] = Field(default_factory=dict, description="obligations file sha256 used for the assessment")
    assessment: list[Assessment] = Field(default_factory=list)


class ChecklistItem(Record):
    TABLE: ClassVar[str] = "checklist_items"
    LABEL: ClassVar[str] = "checklist item"

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        return f"{data.get('title', '')} (status {data.get('status')})"

    id: RecordId
    incident_id: Slug
    client_id: Slug
    step: Slug
    title: ShortText
    section: ShortText = "general"
    order: int = 0
    status: ChecklistStatus = "open"
    rule: ShortText | None = None
    due: UTCInstant | None = None
    #: obligations with no fixed period: the internal target shown beside elapsed time
    target: UTCInstant | None = None
    basis: Text = ""
    reason: Text = ""
    #: the insurance policy this step is about (its notice clock is that policy's)
    policy_id: Slug | None = None
    #: the trigger this item's clock still waits for (a chained submission ...); None once it runs
    waits_for: ShortText | None = None
    updated_by: ShortText | None = None
    updated_at: UTCInstant | None = None
    notes: list[Text] = Field(default_factory=list)
    evidence_ids: list[RecordId] = Field(default_factory=list)
    #: "replan": msptui set this item not applicable when re-planning after the facts changed (a computation,
    #: not a person's decision); cleared when a person sets the status (msptui.incidents.set_item)
    retired_by: Literal["replan"] | None = None


class CustodyEntry(Part):
    at: UTCInstant
    by: ShortText
    action: ShortText
    location: LocationText | None = None


class Evidence(Record):
    TABLE: ClassVar[str] = "evidence"
    LABEL: ClassVar[str] = "evidence item"

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        return f"{data.get('name', '')} sha256 {data.get('sha256', '')}"

    id: RecordId
    incident_id: Slug
    client_id: Slug
    name: ShortText
    sha256: Sha256
    size: int = Field(ge=0)
    acquired: Instant
    acquired_by: ShortText
    source: LocationText | None = None
    method: ShortText | None = None
    custody: list[CustodyEntry] = Field(default_factory=list)
    notes: Text = ""


class Note(Record):
    TABLE: ClassVar[str] = "notes"
    LABEL: ClassVar[str] = "note"

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        return f"by {data.get('author', '')}"

    id: RecordId
    incident_id: Slug
    client_id: Slug
    at: Instant
    author: ShortText
    text: Text


# ---------------------------------------------------------------------------
# What was done, by whom: notifications, decisions, costs
# ---------------------------------------------------------------------------

Channel = Literal["email", "portal", "letter", "phone", "hotline", "in_person", "other"]
#: channels that leave a written record (a call or a hotline is not written notice)
WRITTEN_CHANNELS = ("email", "portal", "letter")
DecisionParty = Literal["client", "msp", "insurer", "counsel", "law_enforcement", "other"]
CostKind = Literal["time", "invoice", "ransom", "other"]
#: exact money: a decimal with at most 3 places (never a float), non-negative
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=3)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Attachment(Part):
    """A file hashed into a record (the content sent, a proof of delivery, an invoice), kept as evidence."""

    file_name: ShortText
    sha256: Sha256
    size: int = Field(ge=0)
    #: the evidence item that keeps it (chain of custody)
    evidence_id: ShortText | None = None


class NotificationAck(Part):
    at: UTCInstant
    tz: Zone
    by: ShortText | None = None
    proof: Attachment | None = None
    recorded_by: ShortText


class Notification(Record):
    """Who was notified, when, how, by whom, with what reference, content and proof."""

    TABLE: ClassVar[str] = "notifications"
    LABEL: ClassVar[str] = "notification"

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        org = f" ({data.get('org')})" if data.get("org") else ""
        return f"{data.get('channel')} to {data.get('to')}{org} by {data.get('by')}"

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    incident_id: Slug
    client_id: Slug
    to: ShortText
    org: ShortText | None = None
    address: ShortText | None = None
    channel: Channel
    at: Instant
    by: ShortText
    #: the checklist item this notification is for
    item_id: ShortText | None = None
    #: whether it completed that item (a call does not complete a written-notice step)
    completes_item: bool = False
    ref: ShortText | None = None
    content: Attachment | None = None
    proof: Attachment | None = None
    acks: list[NotificationAck] = Field(default_factory=list)
    note: Text = ""
    recorded_by: ShortText


class IncidentDecision(Record):
    """A decision or consent: the client's refusal, the insurer's consent with its cap, who retained whom."""

    TABLE: ClassVar[str] = "decisions"
    LABEL: ClassVar[str] = "decision"

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        return f"{data.get('party')} ({data.get('by')}): {str(data.get('text', ''))[:200]}"

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    incident_id: Slug
    client_id: Slug
    party: DecisionParty
    by: ShortText
    role: ShortText | None = None
    org: ShortText | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000), AfterValidator(_no_nul)]
    at: Instant
    ref: ShortText | None = None
    cap: Amount | None = None
    currency: Currency | None = None
    document: Attachment | None = None
    recorded_by: ShortText

    @model_validator(mode="after")
    def _cap(self) -> "IncidentDecision":
        if (self.cap is None) != (self.currency is None):
            raise ValueError("a spending cap needs both an amount and a currency")
        return self


class Cost(Record):
    """An hour worked or an invoice paid: the proof of loss, in exact money."""

    TABLE: ClassVar[str] = "costs"
    LABEL: ClassVar[str] = "cost"

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        return f"{data.get('kind')} {data.get('currency')} {data.get('amount')}"

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    incident_id: Slug
    client_id: Slug
    kind: CostKind
    amount: Amount
    currency: Currency
    hours: Annotated[Decimal, Field(ge=0, max_digits=9, decimal_places=2)] | None = None
    person: ShortText | None = None
    task: ShortText | None = None
    vendor: ShortText | None = None
    invoice: Attachment | None = None
    at: Instant
    recorded_by: ShortText


# ---------------------------------------------------------------------------
# The MSP itself
# ---------------------------------------------------------------------------

#: the one MSP record's id (an installation keeps the records of one MSP)
MSP_ID = "msp"


class Msp(Record):
    """The MSP itself: how review packs and dossiers name it, where it is and whom to reach.

    One record (id ``msp``) per database; it belongs to no client.
    """

    TABLE: ClassVar[str] = "msp"
    LABEL: ClassVar[str] = "MSP record"

    @classmethod
    def subject_of(cls, data: dict[str, Any]) -> str | None:
        return None

    @classmethod
    def summary_of(cls, data: dict[str, Any]) -> str:
        return str(data.get("name", ""))

    id: Literal["msp"] = MSP_ID
    name: ShortText
    address: Annotated[str, StringConstraints(max_length=2_000), AfterValidator(_no_nul)] | None = None
    contacts: list[Contact] = Field(default_factory=list)
    notes: Text = ""


#: every record type, in dependency order (clients first): the import file's
#: keys, the store's projection tables and the event payload "type" all use these names
RECORD_TYPES: dict[str, type[Record]] = {
    model.TABLE: model
    for model in (Client, Agreement, RiskAcceptance, InsurancePolicy, Review, Incident, ChecklistItem, Evidence, Note,
                  Notification, IncidentDecision, Cost, Msp)
}


def build_validators() -> None:
    """Build every record type's validator now.

    Records defer building them (``defer_build``) so a CLI command pays only
    for the types it touches (~20 ms less start-up for ``note``); the TUI
    calls this in a worker while the engineer reads the client list, so the
    first report-breach does not pay for them.
    """
    for model in RECORD_TYPES.values():
        model.model_rebuild()
