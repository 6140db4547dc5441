"""Input models for keeping the record: clients, agreements, scope, signatures, policies, reviews, declines.

The same rule as ``msptui.inputs``: one model per act holds what a person
typed (command-line options or form fields, as strings), and ``parse()``
turns it into typed values or raises ``UserError("field: message")`` naming
the field (the option's name without dashes, which is also the form's label)
and, for a vocabulary, the allowed values. The CLI command and the TUI form
build the same model, so they accept and refuse the same input with the same
message. Checks that need the database (does the client exist, is the
agreement already signed) are made by the act in ``msptui.records``, inside
its transaction.

Text (names, titles, clause text, minutes) is stored exactly as typed:
nothing is trimmed or normalised; blank text, a NUL byte or text longer than
the record allows is refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Iterable, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

from . import jurisdictions
from .errors import UserError
from .inputs import split_codes
from .models import (
    MAX_NOTICE_DAYS,
    MAX_NOTICE_HOURS,
    AgreementKind,
    ClaimsForm,
    ClauseKind,
    ContactRole,
    DataKind,
    Decision,
    ClientSector,
    Engagement,
    HipaaRole,
    Nis2Entity,
    PolicyKind,
    ReviewKind,
    ScopeState,
    Sector,
)

SHORT = 500
#: an agreement's version number
MAX_VERSION = 10_000
LONG = 20_000
ADDRESS = 2_000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_PHONE = re.compile(r"^\+?[\d][\d ().-]{4,}$")

ENGAGEMENTS: tuple[str, ...] = tuple(e.value for e in Engagement)
SCOPE_STATES: tuple[str, ...] = tuple(s.value for s in ScopeState)
AGREEMENT_TYPES: tuple[str, ...] = get_args(AgreementKind)
CLAUSE_KINDS: tuple[str, ...] = get_args(ClauseKind)
POLICY_TYPES: tuple[str, ...] = get_args(PolicyKind)
CLAIMS_FORMS: tuple[str, ...] = get_args(ClaimsForm)
REVIEW_TYPES: tuple[str, ...] = get_args(ReviewKind)
DECISIONS: tuple[str, ...] = get_args(Decision)
DATA_KINDS: tuple[str, ...] = get_args(DataKind)
SECTORS: tuple[str, ...] = get_args(Sector)
#: what a client's --sector takes: the sectors, or "none" (recorded: in none of them)
CLIENT_SECTORS: tuple[str, ...] = get_args(ClientSector)
HIPAA_ROLES: tuple[str, ...] = get_args(HipaaRole)
NIS2_ENTITIES: tuple[str, ...] = get_args(Nis2Entity)
CONTACT_ROLES: tuple[str, ...] = get_args(ContactRole)

#: signature methods as the issue names them (and as typed in a hurry) -> the record's vocabulary
METHOD_WORDS: dict[str, str] = {
    "wet": "wet_ink", "wet_ink": "wet_ink", "ink": "wet_ink", "paper": "wet_ink",
    "electronic": "e_signature", "e_signature": "e_signature", "esign": "e_signature", "e-signature": "e_signature",
    "click": "click_through", "click_through": "click_through", "click-through": "click_through",
    "email": "email_acceptance", "email_acceptance": "email_acceptance",
}
#: the words shown as allowed (the first of each method, then the record's own names)
METHODS_SHOWN = "wet, electronic, click, email (or wet_ink, e_signature, click_through, email_acceptance)"


# ---------------------------------------------------------------------------
# one field at a time
# ---------------------------------------------------------------------------


def fail(name: str, message: str) -> UserError:
    return UserError(f"{name}: {message}")


def given(value: str | None) -> bool:
    """Whether a text option was given at all (None = not given; '' = given empty)."""
    return value is not None


def text(value: str | None, name: str, *, limit: int = SHORT, required: bool = True, what: str = "") -> str | None:
    """Text exactly as typed; blank -> an error if required, else None."""
    if value is None or not value.strip():
        if required:
            raise fail(name, f"{what or name.replace('-', ' ')} is needed")
        return None
    if "\x00" in value:
        raise fail(name, "contains a NUL byte")
    if len(value) > limit:
        raise fail(name, f"{len(value)} characters is longer than the {limit} allowed")
    return value


def texts(values: Iterable[str] | None, name: str, *, limit: int = SHORT) -> list[str]:
    """A list of text entries (repeated options or one form line each): blank entries are dropped."""
    out = []
    for value in values or ():
        if value is not None and value.strip():
            out.append(text(value, name, limit=limit))  # type: ignore[arg-type]
    return out


def choice(value: str | None, name: str, allowed: Iterable[str], what: str, *, required: bool = True) -> str | None:
    """A code from a vocabulary (case-insensitive); the error lists every allowed value."""
    allowed = tuple(allowed)
    if value is None or not value.strip():
        if required:
            raise fail(name, f"give the {what}: one of {', '.join(allowed)}")
        return None
    code = value.strip().lower()
    if code not in allowed:
        raise fail(name, f"unknown {what} {value.strip()[:60]!r}; expected one of: {', '.join(allowed)}")
    return code


def codes(value: str | Iterable[str] | None, name: str, allowed: Iterable[str], what: str) -> list[str] | None:
    items = split_codes(value)
    if items is None:
        return None
    allowed = tuple(allowed)
    out = []
    for item in items:
        code = item.lower()
        if code not in allowed:
            raise fail(name, f"unknown {what} {item[:60]!r}; expected one of: {', '.join(allowed)}")
        out.append(code)
    return list(dict.fromkeys(out))


def countries(value: str | Iterable[str] | None, name: str = "country") -> list[str] | None:
    items = split_codes(value)
    if items is None:
        return None
    known = jurisdictions.countries()
    out = []
    for item in items:
        code = item.upper()
        if code not in known:
            raise fail(name, f"{item[:40]!r} is not an ISO 3166-1 country code (two letters, e.g. US, GB, DE, AU)")
        out.append(code)
    return list(dict.fromkeys(out))


def us_states(value: str | Iterable[str] | None, name: str = "state") -> list[str] | None:
    items = split_codes(value)
    if items is None:
        return None
    known = jurisdictions.us_states()
    out = []
    for item in items:
        code = item.upper()
        if code not in known:
            raise fail(name, f"{item[:40]!r} is not a US state or territory code (two letters, e.g. CA, NY, TX, PR)")
        out.append(code)
    return list(dict.fromkeys(out))


def zone(value: str | None, name: str = "tz", *, required: bool = True) -> str | None:
    """An IANA zone name (what a record's home_tz holds)."""
    if value is None or not value.strip():
        if required:
            raise fail(name, "give the client's IANA time zone, e.g. America/New_York, Europe/London, Australia/Sydney")
        return None
    name_ = value.strip()
    from .timeutil import refused_zone

    why = refused_zone(name_) if "\x00" not in name_ and len(name_) <= 80 else None
    if why:  # the model refused these too, but named its own field ("client record field 'home_tz': ...")
        raise fail(name, why)
    try:
        if "\x00" in name_ or len(name_) > 80:
            raise ValueError
        ZoneInfo(name_)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise fail(name, f"unknown time zone {name_[:60]!r}; give an IANA name such as America/New_York, "
                         "Europe/London or Australia/Sydney") from None
    return name_


def day(value: str | None, name: str, *, required: bool = True) -> date | None:
    if value is None or not value.strip():
        if required:
            raise fail(name, "give a date as YYYY-MM-DD")
        return None
    cleaned = value.strip()
    try:
        if len(cleaned) != 10:
            raise ValueError
        return date.fromisoformat(cleaned)
    except ValueError:
        raise fail(name, f"not a date: {cleaned[:40]!r} (expected YYYY-MM-DD)") from None


def instant(value: str | None, name: str, tz: str, *, now: datetime | None = None) -> datetime:
    """A moment typed as local time in ``tz`` (or with an offset); not in the future.

    A date alone (the paper says only the day) is taken as noon that day in
    ``tz``, the rule ``show --at`` uses: the local date survives the round
    trip through UTC in every zone from UTC-11 to UTC+11.
    """
    from .inputs import instant as parse_instant

    if value is None or not value.strip():
        raise fail(name, f"give a date and time, e.g. 2025-03-01T14:00 (local time in {tz}) or 2025-03-01T14:00:00Z")
    cleaned = value.strip()
    if len(cleaned) == 10 and cleaned[4] == "-":
        when = day(cleaned, name)
        today = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).date()
        not_after(when, today, name, "a signature")
        return datetime.combine(when, time(12, 0), ZoneInfo(tz))
    return parse_instant(value, tz, name, now=now)


def count(value: str | int | None, name: str, *, required: bool = True, minimum: int = 1,
          maximum: int | None = None) -> int | None:
    """A whole number (hours, days, a version), at least ``minimum`` and at most ``maximum``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise fail(name, f"give a whole number (at least {minimum})")
        return None
    text = str(value).strip()
    # ASCII digits only (int() also reads Arabic-Indic and full-width digits), and at most 18 of them
    if not isinstance(value, int) and not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        raise fail(name, f"not a whole number: {text[:40]!r}")
    number = value if isinstance(value, int) else int(text)
    if number < minimum:
        raise fail(name, f"{number} is less than {minimum}")
    if maximum is not None and number > maximum:
        raise fail(name, f"{number} is more than {maximum:,}")
    return number


def amount(value: str | int | None, name: str, *, required: bool = True) -> int | None:
    """Money in whole units: 1000000, 1,000,000, 1_000_000, 250k, 1.5M (the one parser: ``msptui.money``)."""
    from .money import parse_amount

    number = parse_amount(value, name, whole=True, required=required)
    return None if number is None else int(number)


def currency(value: str | None, name: str = "currency") -> str:
    if value is None or not value.strip():
        return "USD"
    code = value.strip().upper()
    import pycountry

    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise fail(name, f"{value.strip()[:20]!r} is not an ISO 4217 currency code (e.g. USD, EUR, GBP, AUD, CAD)")
    from .models import NOT_MONEY

    if code in NOT_MONEY:
        raise fail(name, f"{code} is ISO 4217's code for {NOT_MONEY[code]}, not a currency (e.g. USD, EUR, GBP)")
    return code


def record_id(value: str | None, name: str = "id", *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise fail(name, "give an id: 1-80 lower-case letters, digits, '.', '_' or '-' (e.g. acme-corp)")
        return None
    cleaned = value.strip()
    if not _SLUG.match(cleaned):
        raise fail(name, f"{cleaned[:60]!r} is not a valid id: use 1-80 lower-case letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit (e.g. acme-corp)")
    return cleaned


def slugify(textual: str, limit: int = 60) -> str:
    """An id from a name: 'Acme Corp, LLC' -> 'acme-corp-llc' (ASCII letters, digits, '.', '_', '-'; '' if none)."""
    import unicodedata

    ascii_ = unicodedata.normalize("NFKD", textual).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_).strip("-._")
    return slug[:limit].rstrip("-._")


def document(value: str | None, name: str = "document") -> Path | None:
    """A file to hash (the signed copy, the minutes): it must exist now."""
    if value is None or not value.strip():
        return None
    if "\x00" in value:
        raise fail(name, "contains a NUL byte")
    path = Path(value.strip()).expanduser()
    if path.is_dir():
        raise fail(name, f"{value.strip()[:200]!r} is a folder, not a file")
    if not path.is_file():
        if path.exists():  # a FIFO, a socket or a device: it exists, so 'no such file' sent people looking for it
            raise fail(name, f"{value.strip()[:200]!r} is not a regular file")
        raise fail(name, f"no such file: {value.strip()[:200]!r}")
    return path


def not_after(when: date, today: date, name: str, what: str) -> None:
    if when > today:
        raise fail(name, f"{when.isoformat()} is in the future (today is {today.isoformat()} in the client's zone): "
                         f"record {what} once it has happened")


# ---------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------


class ClientDraft(BaseModel):
    """``client add`` / ``client edit`` options and the new-client form. None = not given."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str | None = None
    engagement: str | None = None
    tz: str | None = None
    countries: str | list[str] | None = None
    us_states: str | list[str] | None = None
    data_held: str | list[str] | None = None
    sectors: str | list[str] | None = None
    industry: str | None = None
    #: regulatory facts: None = not given (a new client records them as "not recorded"); "none" = known not to apply
    hipaa_role: str | None = None
    nis2_entity: str | None = None
    dora_entity: str | None = None
    public_company: bool | None = None
    nydfs_regulated: bool | None = None

    def fields(self, *, new: bool) -> dict[str, Any]:
        """The client record fields given, typed; a new client needs id, name, engagement and tz."""
        out: dict[str, Any] = {}
        if new:
            out["id"] = record_id(self.id, "id", required=True)
        if new or given(self.name):
            out["name"] = text(self.name, "name", what="the client's name")
        if new or given(self.engagement):
            out["engagement"] = choice(self.engagement, "engagement", ENGAGEMENTS, "engagement")
        if new or given(self.tz):
            out["home_tz"] = zone(self.tz, "tz")
        for key, value in (("countries", countries(self.countries, "country")),
                           ("us_states", us_states(self.us_states, "state")),
                           ("data_held", codes(self.data_held, "data", DATA_KINDS, "data type")),
                           ("sectors", codes(self.sectors, "sector", CLIENT_SECTORS, "sector"))):
            if value is not None:
                out[key] = value
        if out.get("sectors") and "none" in out["sectors"] and len(out["sectors"]) > 1:
            raise fail("sector", "'none' (in no regulatory sector) cannot be combined with a sector")
        if given(self.industry):
            out["industry"] = text(self.industry, "industry", required=False)
        for key, name, allowed, what in (("hipaa_role", "hipaa-role", HIPAA_ROLES, "HIPAA role"),
                                         ("nis2_entity", "nis2-entity", NIS2_ENTITIES, "NIS2 entity status")):
            value = getattr(self, key)
            if given(value):
                out[key] = choice(value, name, allowed, what, required=False)
        if given(self.dora_entity):
            dora = text(self.dora_entity, "dora-entity", required=False,
                        what="the DORA financial-entity type (e.g. credit institution), or none")
            out["dora_entity"] = "none" if dora is not None and dora.strip().lower() == "none" else dora
        for key in ("public_company", "nydfs_regulated"):
            if getattr(self, key) is not None:
                out[key] = bool(getattr(self, key))
        return out


# ---------------------------------------------------------------------------
# agreements, scope, clauses, signatures
# ---------------------------------------------------------------------------


class AgreementDraft(BaseModel):
    """``agreement add`` options."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None
    type: str | None = None
    title: str | None = None
    effective_from: str | None = None
    effective_to: str | None = None
    parent: str | None = None
    supersedes: str | None = None
    version: str | int | None = None
    document: str | None = None
    id: str | None = None
    #: the agreement form records the clauses with the agreement ('clause add' adds them one at a time)
    clauses: list["ClauseDraft"] = []

    def parse(self) -> dict[str, Any]:
        start = day(self.effective_from, "effective-from")
        end = day(self.effective_to, "effective-to", required=False)
        if end is not None and start is not None and end < start:
            raise fail("effective-to", f"{end.isoformat()} is before effective-from {start.isoformat()}: "
                                       "an agreement cannot end before it starts")
        return {
            "client_id": record_id(self.client_id, "client", required=True),
            "type": choice(self.type, "type", AGREEMENT_TYPES, "agreement type"),
            "title": text(self.title, "title", what="a title"),
            "effective_from": start,
            "effective_to": end,
            "parent_id": record_id(self.parent, "parent"),
            "supersedes": record_id(self.supersedes, "supersedes"),
            "version": count(self.version, "version", required=False, maximum=MAX_VERSION) or 1,
            "document": document(self.document, "document"),
            "id": record_id(self.id, "id"),
            "clauses": [c.parse() for c in self.clauses],
        }


class ScopeLineDraft(BaseModel):
    """One scope line: ``scope set AGREEMENT ITEM STATE [--clause] [--notes]`` or one row of the scope editor.

    An empty state (the editor's "clear") removes the item's line from the agreement.
    """

    model_config = ConfigDict(extra="forbid")

    item: str | None = None
    state: str | None = None
    clause: str | None = None
    notes: str | None = None

    def parse(self, *, allow_clear: bool = False) -> dict[str, Any]:
        from .catalog import load_catalog

        items = load_catalog().items
        raw = (self.item or "").strip()
        if not raw:
            raise fail("item", f"give a scope catalogue item id (see 'msptui catalog'): one of {', '.join(items)}")
        item = raw.lower()
        if item not in items:
            raise fail("item", f"unknown scope catalogue item {raw[:60]!r}; expected one of: {', '.join(items)}")
        if allow_clear and (self.state is None or not self.state.strip()):
            return {"item": item, "state": None}
        return {
            "item": item,
            "state": choice(self.state, "state", SCOPE_STATES, "scope state"),
            "clause": text(self.clause, "clause", required=False),
            "notes": text(self.notes, "notes", limit=LONG, required=False) or "",
        }


class ClauseDraft(BaseModel):
    """``clause add AGREEMENT --kind --section --text [--amount]``."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    section: str | None = None
    text: str | None = None
    amount: str | int | None = None

    def parse(self) -> dict[str, Any]:
        return {
            "kind": choice(self.kind, "kind", CLAUSE_KINDS, "clause kind"),
            "section": text(self.section, "section", what="the section reference (e.g. '§9.2')"),
            "text": text(self.text, "text", limit=LONG, what="the clause's text"),
            "amount": amount(self.amount, "amount", required=False),
        }


AgreementDraft.model_rebuild()  # its clauses are ClauseDraft, defined above


def signatory(value: str, name: str, side: str) -> dict[str, Any]:
    """'NAME[, TITLE]' -> a signatory of one side."""
    whole = text(value, name, what=f"the {side} signatory's name")
    assert whole is not None
    person, comma, title = whole.partition(",")
    if not person.strip():
        raise fail(name, f"{whole[:60]!r} has no name before the comma (expected \"NAME[, TITLE]\")")
    return {"name": person.strip() if comma else whole, "title": title.strip() or None if comma else None, "side": side}


class SignDraft(BaseModel):
    """``sign AGREEMENT --signed-at --msp --client [--method] [--document] [--resign]`` and the signature form."""

    model_config = ConfigDict(extra="forbid")

    signed_at: str | None = None
    msp: list[str] = []
    client: list[str] = []
    method: str | None = None
    document: str | None = None
    resign: bool = False

    def parse(self, tz: str, *, now: datetime | None = None) -> dict[str, Any]:
        at = instant(self.signed_at, "signed-at", tz, now=now)
        msp = [signatory(v, "msp", "msp") for v in self.msp if v is not None and v.strip()]
        client = [signatory(v, "client", "client") for v in self.client if v is not None and v.strip()]
        if not msp:
            raise fail("msp", "give who signed for the MSP: \"NAME[, TITLE]\"")
        if not client:
            raise fail("client", "give who signed for the client: \"NAME[, TITLE]\"")
        method = None
        if self.method is not None and self.method.strip():
            method = METHOD_WORDS.get(self.method.strip().lower())
            if method is None:
                raise fail("method", f"unknown signature method {self.method.strip()[:40]!r}; expected one of: {METHODS_SHOWN}")
        return {"signed_at": at.astimezone(timezone.utc), "signatories": msp + client, "method": method,
                "document": document(self.document, "document"), "resign": bool(self.resign)}


# ---------------------------------------------------------------------------
# insurance
# ---------------------------------------------------------------------------


class PolicyDraft(BaseModel):
    """``policy add`` / ``policy renew`` options and the policy form.

    For a renewal, a field not given is copied from the policy renewed.
    """

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None
    msp: bool = False
    type: str | None = None
    carrier: str | None = None
    number: str | None = None
    start: str | None = None
    end: str | None = None
    limit: str | int | None = None
    currency: str | None = None
    retention: str | int | None = None
    notice_hours: str | int | None = None
    notice_days: str | int | None = None
    notice_asap: bool = False
    target_hours: str | int | None = None
    hotline: str | None = None
    claims_email: str | None = None
    #: the policy requires the insurer's consent before vendors, remediation spend or a ransom payment
    #: (None: not given: a new policy records it as not known, a renewal copies it)
    consent_required: bool | None = None
    #: occurrence | claims_made | claims_made_and_reported (None: not given: not recorded, a renewal copies it);
    #: a claims-made-and-reported notice window running past the period is flagged on the checklist
    claims_form: str | None = None
    id: str | None = None

    def parse(self, *, renewing: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not renewing:
            client = record_id(self.client_id, "client")
            if client and self.msp:
                raise fail("client", "give --client ID or --msp, not both (a policy is the client's or the MSP's own)")
            if not client and not self.msp:
                raise fail("client", "give --client ID for the client's policy, or --msp for the MSP's own")
            out["owner"], out["client_id"] = ("msp", None) if self.msp else ("client", client)
            out["type"] = choice(self.type, "type", POLICY_TYPES, "policy type")
        elif self.type is not None and self.type.strip():
            raise fail("type", "a renewal keeps the policy's type; add a new policy for other cover")
        start = day(self.start, "from")
        end = day(self.end, "to")
        if start and end and end < start:
            raise fail("to", f"{end.isoformat()} is before from {start.isoformat()}: a policy period cannot end before it starts")
        out["period_start"], out["period_end"] = start, end
        required = not renewing
        for key, value in (("carrier", text(self.carrier, "carrier", required=required, what="the insurer (carrier)")),
                           ("policy_number", text(self.number, "number", required=required, what="the policy number")),
                           ("limit_aggregate", amount(self.limit, "limit", required=required)),
                           ("retention", amount(self.retention, "retention", required=False)),
                           ("hotline", text(self.hotline, "hotline", required=False)),
                           ("claims_email", text(self.claims_email, "claims-email", required=False))):
            if value is not None:
                out[key] = value
        if self.currency is not None and self.currency.strip():
            out["currency"] = currency(self.currency)
        elif not renewing:
            out["currency"] = "USD"
        if self.consent_required is not None:
            out["prior_consent_required"] = bool(self.consent_required)
        if self.claims_form is not None:  # given empty is refused by choice(), never read as "not given"
            out["claims_form"] = choice(self.claims_form, "claims-form", CLAIMS_FORMS, "claims form")
        notice = self.notice(required=required)
        if notice is not None:
            out["notice"] = notice
        out["id"] = record_id(self.id, "id")
        return out

    def notice(self, *, required: bool) -> dict[str, Any] | None:
        hours = count(self.notice_hours, "notice-hours", required=False, maximum=MAX_NOTICE_HOURS)
        days = count(self.notice_days, "notice-days", required=False, maximum=MAX_NOTICE_DAYS)
        target = count(self.target_hours, "target-hours", required=False, maximum=MAX_NOTICE_HOURS)
        chosen = [name for name, on in (("--notice-hours", hours is not None), ("--notice-days", days is not None),
                                        ("--notice-asap", self.notice_asap)) if on]
        if len(chosen) > 1:
            raise fail("notice", f"give one notice condition, not {' and '.join(chosen)}")
        if not chosen:
            if target is not None:
                raise fail("target-hours", "goes with --notice-asap (an internal target for 'as soon as practicable')")
            if required:
                raise fail("notice", "give the insurer's notice condition: --notice-hours H, --notice-days D, "
                                     "or --notice-asap with --target-hours H")
            return None
        if self.notice_asap:
            if target is None:
                raise fail("target-hours", "--notice-asap needs --target-hours H: the internal target shown against "
                                           "'as soon as practicable'")
            return {"kind": "asap", "internal_target_hours": target}
        if target is not None:
            raise fail("target-hours", "goes with --notice-asap, not with a fixed notice window")
        return {"kind": "fixed", "hours": hours, "days": days}


# ---------------------------------------------------------------------------
# reviews, recommendations, declines
# ---------------------------------------------------------------------------


class RecommendationDraft(BaseModel):
    """``recommend REVIEW --item --text [--decision] [--decided-on]`` and one recommendation row of the review form.

    A decision other than pending with no date is taken as decided at the review.
    """

    model_config = ConfigDict(extra="forbid")

    item: str | None = None
    text: str | None = None
    decision: str | None = None
    decided_on: str | None = None

    def parse(self) -> dict[str, Any]:
        line = ScopeLineDraft(item=self.item, state="included").parse()
        decision = choice(self.decision, "decision", DECISIONS, "decision", required=False) or "pending"
        decided = day(self.decided_on, "decided-on", required=False)
        if decision == "pending" and decided is not None:
            raise fail("decided-on", "a pending recommendation has no decision date (give --decision too)")
        return {"item": line["item"], "text": text(self.text, "text", limit=LONG, what="the recommendation's text"),
                "decision": decision, "decided_on": decided}


class ReviewDraft(BaseModel):
    """``review add`` options and the business-review form (which also carries its recommendations)."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None
    held_on: str | None = None
    type: str | None = None
    attendees_msp: list[str] = []
    attendees_client: list[str] = []
    topics: list[str] = []
    education: list[str] = []
    minutes: str | None = None
    notes: str | None = None
    recommendations: list[RecommendationDraft] = []

    def parse(self) -> dict[str, Any]:
        return {
            "client_id": record_id(self.client_id, "client", required=True),
            "held_on": day(self.held_on, "held-on"),
            "type": choice(self.type, "type", REVIEW_TYPES, "review type", required=False) or "qbr",
            "attendees_msp": texts(self.attendees_msp, "attendee-msp"),
            "attendees_client": texts(self.attendees_client, "attendee-client"),
            "topics": texts(self.topics, "topic"),
            "security_education": texts(self.education, "education"),
            "minutes": document(self.minutes, "minutes"),
            "notes": text(self.notes, "notes", limit=LONG, required=False) or "",
            "recommendations": [r.parse() for r in self.recommendations],
        }


class AcknowledgeDraft(BaseModel):
    """``acknowledge RISK_ID --signed-by --signed-at [--document]``."""

    model_config = ConfigDict(extra="forbid")

    signed_by: str | None = None
    signed_at: str | None = None
    document: str | None = None

    def parse(self, tz: str, *, now: datetime | None = None) -> dict[str, Any]:
        return {"signed_by": text(self.signed_by, "signed-by", what="who signed for the client"),
                "signed_at": instant(self.signed_at, "signed-at", tz, now=now).astimezone(timezone.utc),
                "document": document(self.document, "document")}


class ReaffirmDraft(BaseModel):
    """``reaffirm RISK_ID --on DATE --by NAME [--document]``."""

    model_config = ConfigDict(extra="forbid")

    on: str | None = None
    by: str | None = None
    document: str | None = None

    def parse(self) -> dict[str, Any]:
        return {"on": day(self.on, "on"), "by": text(self.by, "by", what="who re-affirmed for the client"),
                "document": document(self.document, "document")}


# ---------------------------------------------------------------------------
# the MSP itself
# ---------------------------------------------------------------------------


def contact(value: str, name: str = "contact") -> dict[str, Any]:
    """'[ROLE:] NAME [<EMAIL>] [PHONE]' -> a contact, e.g. 'emergency: NOC desk <noc@msp.example> +1 555 0100'.

    ROLE is one of the contact roles (default primary); without an email, a
    trailing phone number is still recognised ('NOC desk +1 555 0100').
    """
    whole = text(value, name, what="a contact")
    assert whole is not None
    rest = whole.strip()
    role = None
    prefix = re.match(r"^([a-z_]+)\s*:\s*(.*)$", rest, re.S)
    if prefix and prefix.group(1) in CONTACT_ROLES:
        role, rest = prefix.group(1), prefix.group(2)
    email = None
    if "<" in rest or ">" in rest:
        parts = re.match(r"^([^<>]*)<([^<>]*)>([^<>]*)$", rest)
        if not parts:
            raise fail(name, f"{whole[:60]!r} is not \"[ROLE:] NAME [<EMAIL>] [PHONE]\" (one <email> at most)")
        person, email, phone = parts.group(1).strip(), parts.group(2).strip(), parts.group(3).strip()
        if not re.match(r"^[^@\s]+@[^@\s]+$", email):
            raise fail(name, f"{email[:60]!r} is not an email address (expected \"NAME <EMAIL>\")")
        if phone and not _PHONE.match(phone):
            raise fail(name, f"{phone[:40]!r} after the email is not a phone number (expected \"NAME <EMAIL> PHONE\")")
    else:
        tail = re.search(r"(?:^|\s)(\+?\d[\d ().-]{4,})$", rest)
        person, phone = (rest[: tail.start()].strip(), tail.group(1).strip()) if tail else (rest, "")
    if not person:
        raise fail(name, f"{whole[:60]!r} has no name (expected \"[ROLE:] NAME [<EMAIL>] [PHONE]\")")
    return {"name": person, "role": role or "primary", "email": email or None, "phone": phone or None}


class MspDraft(BaseModel):
    """``msp set --name [--address] [--contact]...``: None = keep what is on record."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    address: str | None = None
    contacts: list[str] | None = None

    def fields(self, *, new: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if new or given(self.name):
            out["name"] = text(self.name, "name", what="the MSP's name (as clients know it)")
        if given(self.address):
            out["address"] = text(self.address, "address", limit=ADDRESS, required=False)
        if self.contacts is not None:
            out["contacts"] = [contact(c) for c in self.contacts if c is not None and c.strip()]
        return out
