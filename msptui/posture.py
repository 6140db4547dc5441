"""Portfolio posture: where a client's breach would become the MSP's lawsuit.

Findings are computed before anything goes wrong, from the same records the
dossier uses: the agreement stack (``scope.agreements_in_force``), declined
recommendations, business reviews and insurance on both sides. Each finding
has a stable ``code``, a severity with a one-line ``why`` (so severity is
explained, not only coloured), the ``evidence`` (record ids and dates) and the
``fix`` (what to do with the client).

Design choices, spelled out because they decide what fires:

- **Local dates.** Contracts and policies are written in local calendar
  dates, so "today" for a client is its local date in ``home_tz``. Pass
  ``now`` (an aware instant) and each client gets its own date; pass
  ``today`` (a date) and every client uses that date (tests, benchmarks).
  The MSP's own policies use the MSP's zone: ``msp_tz``, else the machine's
  zone (``environment.local_zone()``, ``MSPTUI_TZ`` overrides).
- **Boundaries.** Every period is inclusive: a policy or agreement ending
  today is still in force today and lapsed tomorrow; a policy ending in
  exactly ``expiring_window_days`` days is expiring, one day more is not; a
  review held exactly ``cadence`` days ago is on time.
- **MSP-level findings** (the MSP's own E&O/cyber) have ``client_id=None``.
  They are not any client's finding, so ``assess(client_id=...)`` and
  ``posture --client`` leave them out; ``badges`` keys them under ``None``.
- **One root cause, one finding.** A client with no agreement in force gets
  ``msa_unsigned``/``msa_expired`` only, not also "every security item
  unaddressed" and "no liability clause"; an unsigned version superseding a
  signed one is ``msa_expired``, not also ``msa_unsigned``; an unsigned
  decline is ``declined_unsigned``, not also stale.
- **Speed.** ``assess_records`` groups every record by client once and then
  does O(records of that client) work, so the whole portfolio is O(total
  records) (see benchmarks/posture_bench.py).
"""

from __future__ import annotations

import calendar
import tomllib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from . import paths
from .catalog import Catalog, load_catalog
from .errors import UserError
from .models import Agreement, Client, InsurancePolicy, Recommendation, Review, RiskAcceptance
from .scope import _covers, agreements_in_force

SEVERITY_ORDER: tuple[str, ...] = ("critical", "high", "medium", "low")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITY_ORDER)}

CODES: tuple[str, ...] = (
    "msa_unsigned",
    "msa_expired",
    "scope_unaddressed",
    "declined_unsigned",
    "declined_stale",
    "review_overdue",
    "insurance_missing",
    "insurance_expiring",
    "insurance_expired",
    "insurance_limit_low",
    "liability_clause_missing",
)

#: short ASCII labels for the TUI client list (one finding may pick a variant)
BADGES: dict[str, str] = {
    "msa_unsigned": "NO-MSA",
    "msa_expired": "MSA-EXPIRED",
    "scope_unaddressed": "SCOPE-GAP",
    "declined_unsigned": "DECL-UNSIGNED",
    "declined_stale": "DECL-STALE",
    "review_overdue": "REVIEW-OVERDUE",
    "insurance_missing": "INS-MISSING",
    "insurance_expiring": "INS-EXPIRING",
    "insurance_expired": "INS-EXPIRED",
    "insurance_limit_low": "INS-LIMIT-LOW",
    "liability_clause_missing": "NO-LIAB-CAP",
}
BADGE_NO_EDUCATION = "NO-SEC-EDU"
BADGE_UNSIGNED_DOC = "UNSIGNED-DOC"

#: which part of the client picture a finding points at (the TUI scrolls there)
SECTION: dict[str, str] = {
    "msa_unsigned": "agreements",
    "msa_expired": "agreements",
    "scope_unaddressed": "scope",
    "declined_unsigned": "declined",
    "declined_stale": "declined",
    "review_overdue": "reviews",
    "insurance_missing": "insurance",
    "insurance_expiring": "insurance",
    "insurance_expired": "insurance",
    "insurance_limit_low": "insurance",
    "liability_clause_missing": "agreements",
}

#: every badge and what it means, in the order the legend lists them: the home
#: list's badges, its help text and the posture screen all come from this table
BADGE_LEGEND: tuple[tuple[str, str], ...] = (
    (BADGES["msa_unsigned"], "no signed MSA (or SOW) in force"),
    (BADGE_UNSIGNED_DOC, "a document in force is not signed"),
    (BADGES["msa_expired"], "the signed agreement has lapsed or was replaced by an unsigned one"),
    (BADGES["scope_unaddressed"], "a security service the agreements never mention"),
    (BADGES["declined_unsigned"], "a declined recommendation without the client's signature"),
    (BADGES["declined_stale"], "a signed decline not reaffirmed within the year"),
    (BADGES["review_overdue"], "no business review within the engagement's cadence"),
    (BADGE_NO_EDUCATION, "the last review recorded no security education"),
    (BADGES["insurance_missing"], "required insurance not on record"),
    (BADGES["insurance_expiring"], "a policy ends soon"),
    (BADGES["insurance_expired"], "a policy has expired"),
    (BADGES["insurance_limit_low"], "a limit below what the contract requires"),
    (BADGES["liability_clause_missing"], "no limitation-of-liability or security-disclaimer clause"),
    ("INCIDENT", "an open incident (INCIDENTxN: several)"),
)

#: agreement types that can govern the relationship on their own
GOVERNING_TYPES = frozenset({"msa", "sow"})
LIABILITY_CLAUSES = ("limitation_of_liability", "security_disclaimer")
SETTINGS_FILE = "posture.toml"


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Finding:
    """One gap. ``client_id`` is None for the MSP's own (portfolio-wide) gaps.

    Read-only by convention; not ``frozen`` because a frozen dataclass's
    __init__ is ~6x slower and a large portfolio creates tens of thousands.
    """

    client_id: str | None
    code: str
    severity: str
    message: str
    evidence: str
    fix: str
    why: str
    record_id: str | None = None
    #: the local date the finding was assessed on (the client's, or the MSP's)
    as_of: str = ""
    #: short ASCII label for badges (the code's, or a variant such as NO-SEC-EDU)
    badge: str = ""
    #: the scope catalogue item the finding is about, where there is one (the TUI marks it)
    item: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sort_key(f: Finding) -> tuple:
    return (f.client_id is not None, f.client_id or "", SEVERITY_RANK.get(f.severity, 9), CODES.index(f.code), f.record_id or "")


def badges(findings: Iterable[Finding]) -> dict[str | None, list[str]]:
    """Short labels per client (None = the MSP), most severe first (then code order), no repeats."""
    best: dict[str | None, dict[str, tuple[int, int]]] = defaultdict(dict)
    for f in findings:
        label = f.badge or BADGES[f.code]
        order = (SEVERITY_RANK.get(f.severity, 9), CODES.index(f.code))
        seen = best[f.client_id]
        if label not in seen or order < seen[label]:
            seen[label] = order
    return {cid: sorted(labels, key=lambda lab: (labels[lab], lab)) for cid, labels in best.items()}


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Severity:
    level: str
    why: str
    source: str


@dataclass(frozen=True)
class Requirement:
    """A kind of cover that must be in force, and its minimum aggregate limit."""

    key: str
    label: str
    satisfied_by: frozenset[str]
    minimum: int
    source: str


@dataclass(frozen=True)
class Settings:
    severity: dict[str, Severity]
    expiring_window_days: int = 30
    msp_requirements: tuple[Requirement, ...] = ()
    client_requirement: Requirement = Requirement("client", "cyber", frozenset({"cyber", "cyber_eo"}), 1_000_000, "")
    model_default_cadence: int = 90
    cadence_days: dict[str, int] = field(default_factory=dict)
    stale_months: int = 12
    #: IANA zone of the MSP for its own policies; "" = the machine's zone
    msp_tz: str = ""

    def cadence_for(self, client: Client) -> int:
        """The client's own cadence when it differs from the model default, else its engagement's."""
        if client.review_cadence_days != self.model_default_cadence:
            return client.review_cadence_days
        return self.cadence_days.get(client.engagement.value, client.review_cadence_days)


def _need(table: dict, key: str, where: str) -> Any:
    if key not in table:
        raise UserError(f"{where}: missing '{key}'")
    return table[key]


def parse_settings(raw: dict, where: str = SETTINGS_FILE) -> Settings:
    """Settings from parsed TOML; a missing code or bad level is an error, not a default."""
    severity: dict[str, Severity] = {}
    sev_table = _need(raw, "severity", where)
    for code in CODES:
        entry = _need(sev_table, code, f"{where} [severity]")
        level = _need(entry, "level", f"{where} [severity.{code}]")
        if level not in SEVERITY_RANK:
            raise UserError(f"{where} [severity.{code}]: level {level!r} is not one of {', '.join(SEVERITY_ORDER)}")
        severity[code] = Severity(level, _need(entry, "why", f"{where} [severity.{code}]"), entry.get("source", ""))
    unknown = set(sev_table) - set(CODES)
    if unknown:
        raise UserError(f"{where} [severity]: unknown finding code(s) {', '.join(sorted(unknown))}")
    ins = raw.get("insurance", {})
    msp = tuple(
        Requirement(key, r.get("label", key), frozenset(r.get("satisfied_by", [key])), int(r.get("minimum", 0)), r.get("source", ""))
        for key, r in ins.get("msp", {}).items()
    )
    c = ins.get("client", {})
    client_req = Requirement(
        "client",
        c.get("label", "cyber"),
        frozenset(c.get("satisfied_by", ["cyber", "cyber_eo"])),
        int(c.get("default_minimum", 1_000_000)),
        c.get("source", ""),
    )
    reviews = raw.get("reviews", {})
    return Settings(
        severity=severity,
        expiring_window_days=int(ins.get("expiring_window_days", 30)),
        msp_requirements=msp,
        client_requirement=client_req,
        model_default_cadence=int(reviews.get("model_default_days", 90)),
        cadence_days={k: int(v) for k, v in reviews.get("cadence_days", {}).items()},
        stale_months=int(raw.get("declined", {}).get("stale_months", 12)),
        msp_tz=raw.get("msp", {}).get("home_tz", ""),
    )


@lru_cache(maxsize=4)
def load_settings(path: Path | None = None) -> Settings:
    """data/posture.toml (cached: the settings file ships with the program)."""
    path = path or Path(paths.DATA_DIR) / SETTINGS_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read posture settings {path}: {exc}") from None
    return parse_settings(raw, str(path))


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _signed(a: Agreement) -> bool:
    return a.signature.status == "signed"


def _doc(a: Agreement) -> str:
    """How an agreement is named in evidence: id, title, version, dates, signature."""
    end = f" to {a.effective_to.isoformat()}" if a.effective_to else ""
    if _signed(a) and a.signature.signed_at:
        sig = f"signed {a.signature.signed_at.date().isoformat()}"
    else:
        sig = a.signature.status.upper().replace("_", " ")
    return f"{a.id} ({a.type.upper()} '{a.title}' v{a.version}, effective {a.effective_from.isoformat()}{end}, {sig})"


def _money(amount: int, currency: str = "") -> str:
    return f"{currency + ' ' if currency else ''}{amount:,}"


def _pol(p: InsurancePolicy) -> str:
    return (
        f"{p.id} ({p.type} {p.carrier} #{p.policy_number}, {p.period_start.isoformat()} to "
        f"{p.period_end.isoformat()}, aggregate {_money(p.limit_aggregate, p.currency)})"
    )


class _Out:
    """Collects findings with the severity and why filled in from settings."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.findings: list[Finding] = []

    def add(self, client_id: str | None, code: str, day: date, message: str, evidence: str, fix: str,
            record_id: str | None = None, badge: str | None = None, item: str | None = None) -> None:
        sev = self.settings.severity[code]
        self.findings.append(
            Finding(client_id, code, sev.level, message, evidence, fix, sev.why, record_id, day.isoformat(),
                    badge or BADGES[code], item)
        )


# ---------------------------------------------------------------------------
# Checks, one client at a time
# ---------------------------------------------------------------------------


def _contract(client: Client, ags: list[Agreement], in_force: list[Agreement], day: date, out: _Out) -> bool:
    """msa_unsigned / msa_expired: is a signed agreement governing the work today?

    Returns True when a signed MSA/SOW is in force (the other contract checks
    only make sense then: with none, every clause and scope line is missing).
    """
    cid = client.id
    by_id = {a.id: a for a in ags}
    # an unsigned (or partly signed) version in force that replaced a signed one
    replaced = [a for a in in_force if not _signed(a) and a.supersedes and a.supersedes in by_id and _signed(by_id[a.supersedes])]
    explained = {a.id for a in replaced}
    for a in replaced:
        old = by_id[a.supersedes]
        out.add(cid, "msa_expired", day,
                f"signed {old.type.upper()} '{old.title}' v{old.version} is superseded by an unsigned v{a.version}",
                f"{_doc(a)} supersedes {_doc(old)} from {a.effective_from.isoformat()}; the signed version is no longer in force",
                f"get v{a.version} signed by both sides, or withdraw it (set its effective dates) so the signed v{old.version} stays in force",
                a.id)
    governing_signed = [a for a in in_force if a.type in GOVERNING_TYPES and _signed(a)]
    reported: set[str] = set()
    if not governing_signed and not any(a.type in GOVERNING_TYPES for a in replaced):
        lapsed = [a for a in ags if a.type in GOVERNING_TYPES and _signed(a) and a.effective_to and a.effective_to < day]
        if lapsed:
            last = max(lapsed, key=lambda a: (a.effective_to, a.id))
            out.add(cid, "msa_expired", day,
                    f"signed {last.type.upper()} '{last.title}' lapsed on {last.effective_to.isoformat()}; no signed agreement governs the work since",
                    f"{_doc(last)}; no signed MSA/SOW in force on {day.isoformat()}",
                    "sign a renewal (or an extension amendment) that covers the period since the lapse; until then treat the client as uncontracted",
                    last.id)
        else:
            drafts = [a for a in in_force if a.type in GOVERNING_TYPES]
            if drafts:
                evidence = "in force but not signed: " + "; ".join(_doc(a) for a in drafts)
                reported.update(a.id for a in drafts)
            elif ags:
                evidence = "agreements on record, none a signed MSA/SOW in force: " + "; ".join(_doc(a) for a in sorted(ags, key=lambda a: a.id))
            else:
                evidence = "no agreement of any kind on record for this client"
            out.add(cid, "msa_unsigned", day,
                    f"work for this {client.engagement.value.replace('_', '/')} client has no signed agreement in force",
                    evidence,
                    "get an MSA (or, for one-off work, a signed SOW) signed by both sides before the next ticket; include liability cap, security disclaimer and scope",
                    drafts[0].id if drafts else None)
    for a in in_force:
        if not _signed(a) and a.id not in explained and a.id not in reported:
            out.add(cid, "msa_unsigned", day,
                    f"{a.type.upper()} '{a.title}' v{a.version} is in force but not signed",
                    _doc(a),
                    f"get {a.id} signed by both sides (record signed_at, method and signatories), or withdraw it",
                    a.id, badge=BADGE_UNSIGNED_DOC)
    return bool(governing_signed)


def _scope(client: Client, in_force: list[Agreement], day: date, security_items: dict[str, str], out: _Out) -> None:
    """scope_unaddressed: security items no line in force mentions in any state.

    Any state (even not_applicable) counts as addressed, so this needs only
    the set of items mentioned by lines in force (``agreements_in_force`` and
    the same inclusive ``_covers`` rule as ``scope_as_of``), not the full
    per-item resolution ``scope_as_of`` builds: on 10,000 clients that alone
    takes several times the whole posture pass (posture_bench --compare-scope).
    """
    mentioned = {
        line.item
        for a in in_force
        for line in a.scope
        if (line.effective_from is None and line.effective_to is None) or _covers(line.effective_from, line.effective_to, day)
    }
    if mentioned.issuperset(security_items):
        return
    missing = [item for item in security_items if item not in mentioned]
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    out.add(client.id, "scope_unaddressed", day,
            f"{len(missing)} security-relevant catalogue item(s) are not addressed by any agreement in force",
            f"not mentioned by {', '.join(a.id for a in in_force)}: {shown}",
            "add a signed security schedule stating each item as included, excluded, declined or client responsibility",
            in_force[-1].id, item=missing[0])


def _clauses(client: Client, in_force: list[Agreement], day: date, out: _Out) -> None:
    """liability_clause_missing: no cap or no security disclaimer in the stack in force."""
    kinds = {c.kind for a in in_force for c in a.clauses}
    missing = [k for k in LIABILITY_CLAUSES if k not in kinds]
    if not missing:
        return
    names = " or ".join(k.replace("_", "-") for k in missing)
    out.add(client.id, "liability_clause_missing", day,
            f"the agreements in force have no {names} clause",
            f"clauses on record in {', '.join(a.id for a in in_force)}: {', '.join(sorted(kinds)) or 'none'}",
            f"add {names} clause(s) by signed amendment (record the section in the agreement's clauses)",
            next((a.id for a in in_force if a.type in GOVERNING_TYPES), in_force[0].id))


class _ReviewPass:
    """What the review checks need, gathered in one pass over every review.

    Reviews are the bulk of a portfolio (~20 per client) and, at that size,
    touching each record is the cost. So reviews are streamed once, not
    grouped into per-client lists: the pass keeps the latest review held by
    each client's local date, the recommendations declined in review minutes,
    and the runs (index ranges) of each client's reviews. Stores return
    records ordered by id, so a client's reviews are usually one run and the
    per-client lookups happen once per run, not once per review; any order is
    still correct, only slower. Later decisions on declined items are then
    found by revisiting only those clients' runs.
    """

    def __init__(self, reviews: Iterable[Review], days: dict[str, date]):
        self.last: dict[str, Review] = {}
        #: client_id -> [(review, recommendation)] declined in minutes
        self.declines: dict[str, list[tuple[Review, Recommendation]]] = {}
        #: (client_id, item) -> decision of the latest recommendation on a declined item
        self.latest_decision: dict[tuple[str, str], str] = {}
        reviews = reviews if isinstance(reviews, (list, tuple)) else list(reviews)
        last, declines = self.last, self.declines
        runs: dict[str, list[tuple[int, int]]] = {}
        prev: str | None = None
        start = 0
        day = best = best_held = None
        for i, r in enumerate(reviews):
            cid = r.client_id
            if cid != prev:
                if prev is not None:
                    runs.setdefault(prev, []).append((start, i))
                    if best is not None:
                        last[prev] = best
                prev, start, day = cid, i, days.get(cid)
                best = last.get(cid)
                best_held = best.held_on if best is not None else None
            if day is None:
                continue
            held = r.held_on
            if held > day:
                continue  # a review dated after today is a plan, not a record
            if best is None or held > best_held or (held == best_held and r.id > best.id):
                best, best_held = r, held
            for rec in r.recommendations:
                if rec.decision == "declined":
                    declines.setdefault(cid, []).append((r, rec))
        if prev is not None:
            runs.setdefault(prev, []).append((start, len(reviews)))
            if best is not None:
                last[prev] = best
        when: dict[tuple[str, str], tuple] = {}
        for cid, pairs in declines.items():
            items = {rec.item for _, rec in pairs if rec.item is not None}
            day = days[cid]
            for lo, hi in runs[cid]:
                for r in reviews[lo:hi]:
                    if r.held_on > day:
                        continue
                    for rec in r.recommendations:
                        if rec.item in items:
                            key, stamp = (cid, rec.item), (rec.decided_on or r.held_on, r.id)
                            if key not in when or stamp > when[key]:
                                when[key] = stamp
                                self.latest_decision[key] = rec.decision


def _declined(client: Client, ras: list[RiskAcceptance], rp: _ReviewPass, day: date, settings: Settings, out: _Out) -> None:
    """declined_unsigned / declined_stale from risk acceptances, and review declines with none."""
    latest: dict[str, RiskAcceptance] = {}
    for ra in ras:
        if ra.recommended_on > day:
            continue
        key = (ra.decided_on or ra.recommended_on, ra.id)
        cur = latest.get(ra.item)
        if cur is None or key > (cur.decided_on or cur.recommended_on, cur.id):
            latest[ra.item] = ra
    for item, ra in latest.items():
        if ra.decision != "declined":
            continue
        if ra.acknowledgement is None:
            out.add(client.id, "declined_unsigned", day,
                    f"declined recommendation '{item}' has no signed acceptance",
                    f"risk acceptance {ra.id}: recommended {ra.recommended_on.isoformat()}, declined {ra.decided_on.isoformat()}, no acknowledgement signed",
                    f"have the client sign a risk acceptance for {item} (who, when, the signed document's hash), or re-offer the service",
                    ra.id)
            continue
        signed_on = ra.acknowledgement.signed_at.astimezone(ZoneInfo(client.home_tz)).date()
        last = max([signed_on, ra.decided_on, *(r.on for r in ra.reaffirmations)])
        stale_from = add_months(last, settings.stale_months)
        if day > stale_from:
            out.add(client.id, "declined_stale", day,
                    f"signed decline of '{item}' not re-affirmed for over {settings.stale_months} months",
                    f"risk acceptance {ra.id}: last signed or re-affirmed {last.isoformat()}, due again by {stale_from.isoformat()}",
                    f"re-present the {item} recommendation at the next review and record a signed re-affirmation (or the client's acceptance)",
                    ra.id)
    # declines recorded only in review minutes, with no risk-acceptance record for the item;
    # a later decision on the same item (e.g. accepted at the next review) replaces the decline
    pairs = rp.declines.get(client.id)
    if not pairs:
        return
    flagged = [
        (review, rec) for review, rec in pairs
        if rec.item is None or (rec.item not in latest and rp.latest_decision.get((client.id, rec.item)) == "declined")
    ]
    for review, rec in sorted(flagged, key=lambda p: (p[0].held_on, p[0].id, p[1].id)):
        what = rec.item or rec.id
        out.add(client.id, "declined_unsigned", day,
                f"recommendation '{what}' declined at review {review.held_on.isoformat()} with no risk-acceptance record",
                f"review {review.id} recommendation {rec.id} decision declined; no risk acceptance for this item on record",
                "record a risk acceptance for the declined recommendation and get it signed by the client",
                review.id)


def _reviews(client: Client, last: Review | None, ags: list[Agreement], day: date, settings: Settings, out: _Out) -> None:
    """review_overdue: no review within the cadence, or the latest one taught no security.

    With no review at all, the relationship is dated from the first agreement's
    effective_from (a new client is not overdue on day one); with no agreement
    either, there is nothing to date it from, so it is overdue.
    """
    cadence = settings.cadence_for(client)
    if last is None:
        start = min((a.effective_from for a in ags), default=None)
        if start is None or (day - start).days > cadence:
            since = f"first agreement effective {start.isoformat()}" if start else "no agreement on record to date the relationship from"
            out.add(client.id, "review_overdue", day,
                    f"no business review on record (cadence {cadence} days)",
                    f"no review records; {since}",
                    "hold a business review with security education; record attendees, topics and recommendations",
                    None)
        return
    age = (day - last.held_on).days
    if age > cadence:
        out.add(client.id, "review_overdue", day,
                f"last business review {last.held_on.isoformat()} is {age} days ago (cadence {cadence} days)",
                f"latest review {last.id} held {last.held_on.isoformat()}; due by {(last.held_on + timedelta(days=cadence)).isoformat()}",
                "schedule the overdue review and put security education and open recommendations on its agenda",
                last.id)
    if not last.security_education:
        out.add(client.id, "review_overdue", day,
                f"latest business review {last.held_on.isoformat()} recorded no security education",
                f"review {last.id} ({last.type}) security_education is empty; topics: {', '.join(last.topics) or 'none recorded'}",
                "cover current threats and open security recommendations at the next review and record it under security_education",
                last.id, badge=BADGE_NO_EDUCATION)


def _insurance(client_id: str | None, who: str, req: Requirement, minimum: int, basis: str,
               policies: list[InsurancePolicy], day: date, settings: Settings, out: _Out) -> None:
    """insurance_missing / _expired / _expiring / _limit_low for one required kind of cover."""
    matching = [p for p in policies if p.type in req.satisfied_by]
    current = [p for p in matching if p.period_start <= day <= p.period_end]
    kinds = "/".join(sorted(req.satisfied_by))
    if not current:
        past = [p for p in matching if p.period_end < day]
        if past:
            last = max(past, key=lambda p: (p.period_end, p.id))
            out.add(client_id, "insurance_expired", day,
                    f"{who} {req.label} policy expired {last.period_end.isoformat()}; none in force",
                    f"{_pol(last)}; no {kinds} policy covers {day.isoformat()}; {basis}",
                    "get the renewal certificate (or bind new cover) and record it; note any claims-made gap with the broker",
                    last.id)
        else:
            future = min(matching, key=lambda p: (p.period_start, p.id), default=None)
            later = f"; next policy {future.id} starts {future.period_start.isoformat()}" if future else ""
            out.add(client_id, "insurance_missing", day,
                    f"no {who} {req.label} policy on record",
                    f"no {kinds} policy in force on {day.isoformat()}{later}; {basis}",
                    "obtain the policy (or certificate of insurance) and record carrier, number, period, limits and notice terms",
                    future.id if future else None)
        return
    # follow renewals on file: cover continues while a policy starts by the day after the last one ends
    end = max(p.period_end for p in current)
    extended = True
    while extended:
        extended = False
        for p in matching:
            if p.period_start <= end + timedelta(days=1) and p.period_end > end:
                end, extended = p.period_end, True
    left = (end - day).days
    if left <= settings.expiring_window_days:
        ending = max((p for p in matching if p.period_end == end), key=lambda p: p.id)
        out.add(client_id, "insurance_expiring", day,
                f"{who} {req.label} policy ends {end.isoformat()} ({left} days) with no renewal on file",
                f"{_pol(ending)}; window {settings.expiring_window_days} days",
                "chase the renewal now and record the renewed policy; confirm no gap in claims-made cover",
                ending.id)
    best = max(current, key=lambda p: (p.limit_aggregate, p.id))
    if best.limit_aggregate < minimum:
        out.add(client_id, "insurance_limit_low", day,
                f"{who} {req.label} aggregate limit {_money(best.limit_aggregate, best.currency)} is below the minimum {minimum:,}",
                f"{_pol(best)}; {basis}",
                f"raise the aggregate limit to at least {minimum:,} at or before renewal, or amend the requirement in a signed document",
                best.id)


def _client_insurance(client: Client, in_force: list[Agreement], pols: list[InsurancePolicy], day: date,
                      settings: Settings, out: _Out) -> None:
    """Client cover is checked only where an agreement in force requires it."""
    required = [(a, c) for a in in_force for c in a.clauses if c.kind == "client_insurance_required"]
    if not required:
        return
    amounts = [(c.amount, a, c) for a, c in required if c.amount is not None]
    if amounts:
        minimum, a, c = max(amounts, key=lambda t: t[0])
        basis = f"{a.id} {c.section} requires client cover of {minimum:,}"
    else:
        a, c = required[0]
        minimum = settings.client_requirement.minimum
        basis = f"{a.id} {c.section} requires client cover (no amount; default minimum {minimum:,})"
    _insurance(client.id, "client", settings.client_requirement, minimum, basis, pols, day, settings, out)


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def _group(records: Iterable) -> dict[str, list]:
    groups: dict[str, list] = {}
    for r in records:
        bucket = groups.get(r.client_id)
        if bucket is None:
            groups[r.client_id] = [r]
        else:
            bucket.append(r)
    return groups


def assess_records(
    clients: Iterable[Client],
    agreements: Iterable[Agreement],
    acceptances: Iterable[RiskAcceptance],
    policies: Iterable[InsurancePolicy],
    reviews: Iterable[Review],
    *,
    today: date | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    include_msp: bool = True,
    msp_tz: str | None = None,
) -> list[Finding]:
    """Every finding for these records, sorted MSP first, then by client and severity.

    Pure: no store, no clock unless neither ``today`` nor ``now`` is given (then
    now in UTC). ``today`` applies one date to everyone; ``now`` gives each
    client its local date in home_tz and the MSP its date in ``msp_tz``.
    Records for clients not in ``clients`` are ignored.
    """
    if today is not None and now is not None:
        raise ValueError("give today or now, not both")
    if today is None and now is None:
        now = datetime.now(timezone.utc)
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be an aware datetime (an instant)")
    settings = settings or load_settings()
    catalog = catalog or load_catalog()
    security_items = {i.id: i.label for i in catalog.security_items()}  # ordered like the catalogue
    out = _Out(settings)

    policies = list(policies)
    ags_by = _group(agreements)
    ras_by = _group(acceptances)
    client_pols: dict[str, list[InsurancePolicy]] = defaultdict(list)
    msp_pols: list[InsurancePolicy] = []
    for p in policies:
        if p.owner == "msp":
            msp_pols.append(p)
        elif p.client_id is not None:
            client_pols[p.client_id].append(p)

    if include_msp:
        if today is not None:
            msp_day = today
        else:
            from .environment import local_zone

            msp_day = now.astimezone(ZoneInfo(msp_tz or settings.msp_tz or local_zone())).date()
        for req in settings.msp_requirements:
            _insurance(None, "MSP", req, req.minimum, f"MSP minimum {req.minimum:,} (posture.toml [insurance.msp.{req.key}])",
                       msp_pols, msp_day, settings, out)

    clients = list(clients)
    days: dict[str, date] = {}
    if today is not None:
        days = dict.fromkeys((c.id for c in clients), today)
    else:
        zones: dict[str, ZoneInfo] = {}
        for client in clients:
            zone = zones.get(client.home_tz)
            if zone is None:
                zone = zones[client.home_tz] = ZoneInfo(client.home_tz)
            days[client.id] = now.astimezone(zone).date()
    rp = _ReviewPass(reviews, days)
    last_review = rp.last

    empty: list = []
    for client in clients:
        cid = client.id
        day = days[cid]
        ags = ags_by.get(cid, empty)
        in_force = agreements_in_force(ags, day) if ags else empty
        if _contract(client, ags, in_force, day, out):
            _scope(client, in_force, day, security_items, out)
            _clauses(client, in_force, day, out)
            _client_insurance(client, in_force, client_pols.get(cid, empty), day, settings, out)
        _declined(client, ras_by.get(cid, empty), rp, day, settings, out)
        _reviews(client, last_review.get(cid), ags, day, settings, out)
    out.findings.sort(key=sort_key)
    return out.findings


def assess(
    store,
    *,
    client_id: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> list[Finding]:
    """Findings for the whole portfolio, or for one client (then without MSP-level findings).

    An unknown ``client_id`` is a UserError (exit 1), not an empty list that
    would read as "clean".
    """
    if client_id is not None:
        client = store.get(Client, client_id)
        if client is None:
            raise UserError(f"no client with id {client_id!r} (see 'msptui clients')")
        clients = [client]
        policies = store.all(InsurancePolicy, client_id=client_id)
    else:
        clients = store.all(Client)
        policies = store.all(InsurancePolicy)
    return assess_records(
        clients,
        store.all(Agreement, client_id=client_id),
        store.all(RiskAcceptance, client_id=client_id),
        policies,
        store.all(Review, client_id=client_id),
        today=today,
        now=now,
        settings=settings,
        include_msp=client_id is None,
    )
