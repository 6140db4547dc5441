"""The incident checklist: a versioned template turned into ChecklistItem records.

Why a template file and not code: the steps are practice guidance that
changes (a carrier's wording, a new log retention), and an incident must be
able to show *which* checklist it was worked from. The template is TOML in
``data/checklists/<name>.toml``; ``load_template`` records its SHA-256 so the
incident can store ``{"id", "version", "sha256"}`` (see ``Template.info``).

Why strict validation: a typo in a condition (``categorys``) would silently
make a step appear for every incident, or never. Every step is validated on
load and the first problem is reported in one line naming the step id and
the field; nothing is loaded from a bad file.

Why sections in this order (insurance, communication, evidence, containment,
notification): the insurer's hotline call takes minutes and its consent and
panel conditions gate every vendor and spend; counsel comes before forensics
so the work is privileged, and the executive's knowledge starts the policy
clock; evidence is taken before containment because resets and rebuilds
destroy it; notification comes last because its clocks run in hours to days
and its content depends on what the evidence shows. In practice people work
the sections in parallel; the order is what the incident lead reads top-down.

The condition vocabulary (``when``) is documented at the top of the template
file and enforced by ``When`` below.

Pure Python: no textual / weasyprint imports, so the CLI, the TUI and the
dossier renderer can all build checklists.
"""

from __future__ import annotations

import functools
import hashlib
import re
import string
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Literal, Protocol, Sequence, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import UserError
from .models import RECORDED_NONE, ChecklistItem, Client, DataKind, Incident, IncidentCategory, InsurancePolicy
from .paths import DATA_DIR

CHECKLIST_DIR = DATA_DIR / "checklists"

#: working order of the checklist (see the module docstring for why)
SECTIONS: tuple[str, ...] = ("insurance", "communication", "evidence", "containment", "notification")
Section = Literal["insurance", "communication", "evidence", "containment", "notification"]

#: flags usable in ``when.requires`` / ``when.unless``
Flag = Literal["ransom_paid", "msp_caused", "public_company", "nydfs_regulated", "hipaa", "dora_entity", "nis2_entity"]
FLAGS: tuple[str, ...] = get_args(Flag)

#: ``when.policy`` values
PolicyMatch = Literal["client_cyber", "no_client_cyber", "msp_eo", "msp_cyber"]
POLICY_MATCHES: tuple[str, ...] = get_args(PolicyMatch)

#: ``when.policy_consent`` values: the matching policy's ``prior_consent_required`` is True / None
PolicyConsent = Literal["required", "not_recorded"]

#: title placeholders, filled from the matching policy (only in steps with a ``policy`` that names one)
PLACEHOLDERS: tuple[str, ...] = ("carrier", "policy_number", "hotline", "claims")

#: a step id may not start with this: obligation items use it
NOTIFY_PREFIX = "notify-"
TITLE_MAX = 70
#: item order = section rank * ORDER_STRIDE + position in the section
ORDER_STRIDE = 1000

_STEP_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


class TemplateError(UserError, ValueError):
    """The checklist template is unusable; the message names the file, the step id and the field."""


class ObligationLike(Protocol):
    """What ``build_items`` needs from an applicable obligation (the rule engine's result).

    ``due`` must be timezone-aware (or None for "no fixed deadline");
    ``party`` is "client" or "msp" (whose obligation it is).
    """

    rule_id: str
    title: str
    recipient: str | None
    due: datetime | None
    party: str

    # optional (read with getattr): target, basis, policy_id, waits_for, flag, confidence


# ---------------------------------------------------------------------------
# Template models
# ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Strict):
    """Conditions under which a step applies; every key given must hold (AND)."""

    categories: tuple[IncidentCategory, ...] = ()
    data_any: tuple[DataKind, ...] = ()
    requires: tuple[Flag, ...] = ()
    unless: tuple[Flag, ...] = ()
    policy: PolicyMatch | None = None
    #: only for the matching policies whose consent condition is recorded as required / is not recorded
    policy_consent: PolicyConsent | None = None

    @model_validator(mode="after")
    def _not_contradictory(self) -> "When":
        both = sorted(set(self.requires) & set(self.unless))
        if both:
            raise ValueError(f"flag {both[0]!r} is in both requires and unless")
        if self.policy_consent is not None and self.policy in (None, "no_client_cyber"):
            raise ValueError("policy_consent needs a policy condition naming a policy (client_cyber, msp_eo, msp_cyber)")
        return self


class Step(_Strict):
    """One step of the template (field meanings: see the template file header)."""

    id: str
    section: Section
    title: str = Field(min_length=1)
    detail: str = Field(min_length=1)
    source: str = Field(min_length=1)
    rule: str | None = None
    when: When = Field(default_factory=When)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _STEP_ID.match(value):
            raise ValueError("must be 1-60 lower-case letters, digits or '-', starting with a letter or digit")
        if value.startswith(NOTIFY_PREFIX):
            raise ValueError(f"ids starting {NOTIFY_PREFIX!r} are reserved for obligation items")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if len(value) > TITLE_MAX:
            raise ValueError(f"must be at most {TITLE_MAX} characters to fit an 80-column terminal (is {len(value)})")
        if value != value.strip() or "\n" in value:
            raise ValueError("must be one line without leading or trailing spaces")
        return value

    @field_validator("rule")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        if value is not None and not _RULE_ID.match(value):
            raise ValueError("must be an obligation id such as 'ev.m365.audit_standard'")
        return value

    @model_validator(mode="after")
    def _placeholders(self) -> "Step":
        try:
            names = {field for _, field, _, _ in string.Formatter().parse(self.title) if field is not None}
        except ValueError as exc:
            raise ValueError(f"title: bad braces ({exc}); write '{{{{' for a literal brace") from None
        unknown = sorted(n for n in names if n not in PLACEHOLDERS)
        if unknown:
            raise ValueError(f"title: unknown placeholder {{{unknown[0]}}} (known: {', '.join(PLACEHOLDERS)})")
        if names and self.when.policy in (None, "no_client_cyber"):
            raise ValueError("title: placeholders need when.policy naming a policy (client_cyber, msp_eo, msp_cyber)")
        return self

    def render_title(self, policy: InsurancePolicy | None) -> str:
        """The title with policy placeholders filled (missing values get a readable fallback)."""
        if policy is None:
            return self.title
        address_lines = (policy.claims_address or "").strip().splitlines()
        claims = policy.claims_email or (address_lines[0].strip() if address_lines else "")
        values = {
            "carrier": policy.carrier,
            "policy_number": policy.policy_number,
            "hotline": policy.hotline or "(number not on file)",
            "claims": claims or "the notice address in the policy",
        }
        return self.title.format_map(values)


class Template(_Strict):
    """A loaded, validated checklist template; ``sha256`` is of the file's exact bytes."""

    id: str
    version: str
    source: str = Field(min_length=1)
    description: str = ""
    sha256: str
    path: Path
    steps: tuple[Step, ...]

    def info(self) -> dict[str, str]:
        """What an incident records about the template it used (``Incident.template``)."""
        return {"id": self.id, "version": self.version, "sha256": self.sha256}

    def step(self, step_id: str) -> Step | None:
        """The template step behind a checklist item's ``step`` (a ".<policy id>" suffix is ignored)."""
        base = step_id.split(".", 1)[0]
        return next((s for s in self.steps if s.id == base), None)


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _describe(exc: ValidationError, known_when: Iterable[str]) -> str:
    """First pydantic error as 'field: message', with the known keys for an unknown one."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        where = err["loc"][0] if len(err["loc"]) > 1 else None
        known = ", ".join(known_when) if where == "when" else ", ".join(Step.model_fields)
        return f"unknown key {loc!r} (known: {known})"
    if err["type"] == "missing":
        return f"{loc}: required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def template_path(name: str) -> Path:
    """Where the bundled template called ``name`` lives."""
    if not _NAME.match(name):
        raise TemplateError(f"bad checklist template name {name!r}: use lower-case letters, digits, '-' or '_'")
    return CHECKLIST_DIR / f"{name}.toml"


def load_template(name: str = "incident", path: Path | None = None) -> Template:
    """Load and validate a checklist template.

    ``path`` overrides the bundled file (tests, or an MSP's own template);
    without it the template id in the file must equal ``name``. Raises
    ``TemplateError`` naming the file, the step and the field on any problem.
    """
    source_path = Path(path) if path is not None else template_path(name)
    where = f"checklist template {str(source_path)!r}"
    try:
        raw_bytes = source_path.read_bytes()
    except FileNotFoundError:
        raise TemplateError(f"{where} not found") from None
    except OSError as exc:
        raise TemplateError(f"{where} cannot be read: {exc.strerror or exc}") from None
    return _parsed(raw_bytes, source_path, name if path is None else None)


@functools.lru_cache(maxsize=8)
def _parsed(raw_bytes: bytes, source_path: Path, expected: str | None) -> Template:
    """The template in ``raw_bytes``, parsed and checked once per content: the file is read on every load (an edit
    is seen at once) but parsing and validating it cost ~8 ms of every report-breach. Templates are frozen, so one
    object can serve every caller."""
    where = f"checklist template {str(source_path)!r}"
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise TemplateError(f"{where} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{where} is not valid TOML: {exc}") from None

    allowed = {"id", "version", "source", "description", "steps"}
    extra = sorted(set(data) - allowed)
    if extra:
        raise TemplateError(f"{where}: unknown top-level key {extra[0]!r} (known: {', '.join(sorted(allowed))})")
    for key in ("id", "version", "source"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise TemplateError(f"{where}: top-level {key!r} is missing or not a non-empty string")
    if not _NAME.match(data["id"]):
        raise TemplateError(f"{where}: id {data['id']!r} must be lower-case letters, digits, '-' or '_'")
    if expected is not None and data["id"] != expected:
        raise TemplateError(f"{where}: id is {data['id']!r}, expected {expected!r}")
    if not _SEMVER.match(data["version"]):
        raise TemplateError(f"{where}: version {data['version']!r} must look like 1.0.0")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise TemplateError(f"{where}: needs at least one [[steps]] table")

    steps: list[Step] = []
    seen: set[str] = set()
    rank = -1
    for index, raw in enumerate(raw_steps, start=1):
        label = f"step {raw['id']!r}" if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"step #{index} (no id)"
        if not isinstance(raw, dict):
            raise TemplateError(f"{where}: {label} is not a table")
        try:
            step = Step.model_validate(raw)
        except ValidationError as exc:
            raise TemplateError(f"{where}: {label}: {_describe(exc, When.model_fields)}") from None
        if step.id in seen:
            raise TemplateError(f"{where}: {label}: id is used by an earlier step")
        seen.add(step.id)
        this_rank = SECTIONS.index(step.section)
        if this_rank < rank:
            raise TemplateError(
                f"{where}: {label}: section {step.section!r} comes after {SECTIONS[rank]!r} steps; "
                f"list steps in section order ({', '.join(SECTIONS)})"
            )
        rank = this_rank
        steps.append(step)

    return Template(
        id=data["id"],
        version=data["version"],
        source=data["source"],
        description=data.get("description", ""),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        path=source_path,
        steps=tuple(steps),
    )


# ---------------------------------------------------------------------------
# Building items
# ---------------------------------------------------------------------------


def _flags(client: Client, incident: Incident) -> set[str]:
    flags = {
        "ransom_paid": incident.ransom_paid,
        "msp_caused": incident.msp_caused,
        "public_company": client.public_company,
        "nydfs_regulated": client.nydfs_regulated,
        # recorded roles only ("none" and not recorded are not a role)
        "hipaa": client.hipaa_role in ("covered_entity", "business_associate"),
        "dora_entity": client.dora_entity not in (None, RECORDED_NONE),
        "nis2_entity": client.nis2_entity in ("essential", "important"),
    }
    return {name for name, on in flags.items() if on}


def policy_matches(client: Client, incident: Incident, policies: Iterable[InsurancePolicy]) -> dict[str, list[InsurancePolicy]]:
    """Policies in force at discovery (``insurance.in_force``), by ``when.policy`` value.

    ("no_client_cyber" is not a key: it holds when "client_cyber" is empty.)

    Why the date filter: a policy that had lapsed (or not started) when the
    incident was discovered does not respond to it, and a step naming that
    carrier would send the engineer to the wrong insurer. ``cyber_eo`` is a
    combined form, so it counts as both the E&O and the cyber policy.
    """
    from .insurance import in_force

    live = sorted((p for p in policies if in_force(p, client, incident.discovered.at)), key=lambda p: p.id)
    client_cyber = [p for p in live if p.owner == "client" and p.client_id == client.id and p.type in ("cyber", "cyber_eo")]
    return {
        "client_cyber": client_cyber,
        "msp_eo": [p for p in live if p.owner == "msp" and p.type in ("tech_eo", "cyber_eo")],
        "msp_cyber": [p for p in live if p.owner == "msp" and p.type in ("cyber", "cyber_eo")],
    }


def consent_state(policy: InsurancePolicy) -> str | None:
    """"required", "not_recorded", or None (recorded as not required): what ``when.policy_consent`` matches."""
    if policy.prior_consent_required is None:
        return "not_recorded"
    return "required" if policy.prior_consent_required else None


def applies(step: Step, client: Client, incident: Incident, flags: set[str] | None = None) -> bool:
    """Whether the step's non-policy conditions hold for this client and incident."""
    when = step.when
    if when.categories and incident.category not in when.categories:
        return False
    if when.data_any:
        data = set(incident.data_types) or set(client.data_held)
        if not data & set(when.data_any):
            return False
    flags = _flags(client, incident) if flags is None else flags
    if not set(when.requires) <= flags:
        return False
    if set(when.unless) & flags:
        return False
    return True


def _utc(value: datetime | None, rule_id: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"obligation {rule_id!r}: due {value.isoformat()} has no time zone")
    return value.astimezone(timezone.utc)


def _due_key(due: datetime | None) -> tuple[int, datetime]:
    """Sort key: earliest first, no-deadline last."""
    return (1, datetime.max.replace(tzinfo=timezone.utc)) if due is None else (0, due)


def _policy_step_id(step_id: str, policy: InsurancePolicy, several: bool) -> str:
    if not several:
        return step_id
    candidate = f"{step_id}.{policy.id}"
    if len(candidate) <= 80:
        return candidate
    return f"{step_id}.{hashlib.sha256(policy.id.encode()).hexdigest()[:12]}"


def notify_step_id(rule_id: str) -> str:
    """The step id of the notification item built from an obligation."""
    return NOTIFY_PREFIX + rule_id.replace(".", "-")


def build_items(
    template: Template,
    client: Client,
    incident: Incident,
    obligations: Sequence[ObligationLike] = (),
    policies: Sequence[InsurancePolicy] = (),
) -> list[ChecklistItem]:
    """The incident's checklist: applicable template steps plus one item per obligation.

    - Template steps whose ``when`` holds appear in section order, then file
      order. A step with a ``policy`` condition appears once per matching
      policy (step id suffixed ".<policy id>" when there are several), with
      the carrier's details in its title.
    - A step with a ``rule`` takes the due date of the obligation with that
      rule id, if one is passed; that obligation then gets no separate item
      (it is the same task). Otherwise each obligation becomes a notification
      item (step ``notify-<rule id with '-' for '.'>``), after the template's
      notification steps, earliest due first and no-deadline last. Titles of
      the MSP's own obligations are prefixed "MSP: " so they are not mistaken
      for the client's.
    - ``order`` encodes section and position, so sorting by it reproduces
      this list.
    """
    if incident.client_id != client.id:
        raise ValueError(f"incident {incident.id!r} belongs to client {incident.client_id!r}, not {client.id!r}")

    by_key: dict[tuple[str, str | None], ObligationLike] = {}
    for ob in sorted(obligations, key=lambda o: _due_key(_utc(o.due, o.rule_id))):
        by_key.setdefault((ob.rule_id, getattr(ob, "policy_id", None)), ob)

    def obligation_for(rule: str | None, policy: InsurancePolicy | None) -> ObligationLike | None:
        if rule is None:
            return None
        return by_key.get((rule, policy.id if policy else None)) or by_key.get((rule, None))

    flags = _flags(client, incident)
    matches = policy_matches(client, incident, policies)
    absorbed: set[tuple[str, str | None]] = set()
    planned: dict[str, list[tuple[str, str, str | None, ObligationLike | None]]] = {s: [] for s in SECTIONS}

    for step in template.steps:
        if not applies(step, client, incident, flags):
            continue
        if step.when.policy is None:
            targets: list[InsurancePolicy | None] = [None]
        elif step.when.policy == "no_client_cyber":
            if matches["client_cyber"]:
                continue
            targets = [None]
        else:
            targets = list(matches[step.when.policy])
            if step.when.policy_consent is not None:
                targets = [p for p in targets if consent_state(p) == step.when.policy_consent]
            if not targets:
                continue
        several = len(targets) > 1
        for policy in targets:
            step_id = step.id if policy is None else _policy_step_id(step.id, policy, several)
            ob = obligation_for(step.rule, policy)
            if ob is not None:
                absorbed.add((ob.rule_id, getattr(ob, "policy_id", None)))
            planned[step.section].append((step_id, step.render_title(policy), step.rule, ob, policy))

    used: set[str] = {entry[0] for entries in planned.values() for entry in entries}
    rest = [ob for key, ob in by_key.items() if key not in absorbed]
    for ob in sorted(rest, key=lambda o: (*_due_key(_utc(o.due, o.rule_id)), o.rule_id)):
        step_id = notify_step_id(ob.rule_id)
        base, number = step_id, 2
        while step_id in used:  # the same rule passed twice (e.g. once per party)
            step_id, number = f"{base}-{number}", number + 1
        used.add(step_id)
        text = (ob.title or ob.rule_id).strip() or ob.rule_id
        if getattr(ob, "party", "client") == "msp":
            text = f"MSP: {text}"
        planned["notification"].append((step_id, text, ob.rule_id, ob, None))

    items: list[ChecklistItem] = []
    for rank, section in enumerate(SECTIONS, start=1):
        for position, (step_id, title, rule, ob, policy) in enumerate(planned[section], start=1):
            flag = getattr(ob, "flag", None) if ob is not None else None
            if flag == "advisory":
                title = f"ADVISORY (proposed rule, not in force): {title}"
            elif flag == "uncertain":
                title = f"{title} [uncertain: confidence {getattr(ob, 'confidence', 'below high')}]"
            items.append(
                ChecklistItem(
                    id=f"{incident.id}:{step_id}",
                    incident_id=incident.id,
                    client_id=client.id,
                    step=step_id,
                    title=title[:500],
                    section=section,
                    order=rank * ORDER_STRIDE + position,
                    status="open",
                    rule=rule,
                    due=_utc(ob.due, ob.rule_id) if ob is not None else None,
                    target=_utc(getattr(ob, "target", None), ob.rule_id) if ob is not None else None,
                    basis=getattr(ob, "basis", "") if ob is not None else "",
                    waits_for=getattr(ob, "waits_for", None) if ob is not None else None,
                    policy_id=policy.id if policy is not None else getattr(ob, "policy_id", None),
                    reason="",
                )
            )
    return items


__all__ = [
    "CHECKLIST_DIR",
    "FLAGS",
    "PLACEHOLDERS",
    "POLICY_MATCHES",
    "SECTIONS",
    "ObligationLike",
    "Step",
    "Template",
    "TemplateError",
    "When",
    "applies",
    "build_items",
    "load_template",
    "notify_step_id",
    "policy_matches",
    "template_path",
]
