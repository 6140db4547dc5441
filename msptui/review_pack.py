"""The review pack: a client-facing PDF for the next business review.

``msptui review-pack CLIENT`` prints, in plain language, what the MSP covers
under the agreements in force, what is excluded or sits with someone else,
what the client declined (when, and whether an acknowledgement was signed),
the recommendations still open, the insurance the agreement expects of the
client against the policy on file, the posture findings as "items to resolve
together", and a signature block for acknowledging the declined services.

It is the written education the agreement relies on, so printing it is itself
recorded: after the PDF is in place a history-only ``review_pack.printed``
event (client, file name, SHA-256, size, generated_at, path) is appended. If
that append fails the file is removed again, so a pack on disk was recorded.

Same rules as the dossier (and the same machinery, ``dossier_render``):
autoescaped Jinja2 with record text made literal, a fetcher that serves only
the bundled stylesheet and fonts, WeasyPrint only in the child process, an
explicit ``generated_at`` (same data and timestamp give the same bytes), and
an atomic write. Wording is factual; the pack draws no legal conclusion.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import __version__, environment, leftovers, paths
from .catalog import load_catalog
from .coverage import STATE_LABEL
from .errors import UserError
from .models import NOT_ADDRESSED, Agreement, InsurancePolicy, Review, RiskAcceptance
from .picture import liability_picture, policy_status
from .store import Store

Progress = Callable[[str], None]

FORMAT = "msptui-review-pack"
FORMAT_VERSION = 1
TEMPLATE = "review_pack.html.j2"
EVENT_KIND = "review_pack.printed"
STAGES = ("collect", "render", "write", "record", "done")

#: how the MSP is named when no name is configured (--msp-name / MSPTUI_MSP_NAME)
MSP_DEFAULT = "your MSP"
#: the same, in the client's own words (the acknowledgement is signed by the client)
MSP_DEFAULT_SIGNER = "our managed service provider"

#: plain headings for posture findings (the finding's own message follows them)
FINDING_TITLES = {
    "msa_unsigned": "No signed service agreement in force",
    "msa_expired": "The signed service agreement has lapsed or been replaced by an unsigned version",
    "scope_unaddressed": "Security services no agreement mentions",
    "declined_unsigned": "A declined service has no signed acknowledgement",
    "declined_stale": "A declined service is due to be confirmed again",
    "review_overdue": "Business review overdue or without security discussion",
    "insurance_missing": "No cyber insurance policy on file",
    "insurance_expiring": "Cyber insurance renewal not yet on file",
    "insurance_expired": "The cyber insurance policy on file has expired",
    "insurance_limit_low": "Cyber insurance limit below the amount the agreement states",
    "liability_clause_missing": "Agreement terms to bring up to date",
}

#: how each scope state is explained to the client, in the order shown
NOT_COVERED = [
    ("excluded", "Not included in the agreement", "These services are outside the agreement. They are not provided unless added in writing."),
    ("client_responsibility", "Your responsibility", "The agreement places these with you."),
    ("third_party", "Provided by another provider", "Another provider you contract with directly delivers these."),
    (NOT_ADDRESSED, "Not mentioned in any agreement",
     "No agreement in force mentions these security services, so nobody has agreed to provide them."),
]
OPEN_DECISIONS = ("pending", "deferred")
REVIEW_NAMES = {"qbr": "quarterly business review", "annual": "annual review", "security": "security review",
                "onboarding": "onboarding review", "ad_hoc": "review"}


def utc_text(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_stamp(generated_at: datetime) -> str:
    return generated_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def file_name(generated_at: datetime) -> str:
    return f"review-pack-{file_stamp(generated_at)}.pdf"


def _money(amount: int | None, currency: str = "") -> str:
    if amount is None:
        return ""
    return f"{currency + ' ' if currency else ''}{amount:,}"


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else (value or "")


def msp_name_from_env() -> str | None:
    name = os.environ.get("MSPTUI_MSP_NAME", "").strip()
    return name or None


# ---------------------------------------------------------------------------
# collect
# ---------------------------------------------------------------------------


def _scope_row(row: dict) -> dict:
    return {"item": row["item"], "label": row["label"], "category": row["category"], "clause": row.get("clause"),
            "notes": row.get("notes") or "", "agreement_title": row.get("agreement_title")}


def _declined(picture: dict, acceptances: list[RiskAcceptance], reviews: list[Review], scope_rows: dict[str, dict],
              labels: Callable[[str], str]) -> list[dict]:
    """Every declined service: from risk acceptances, review recommendations and declined scope lines."""
    rows: list[dict] = []
    covered_recs: set[tuple[str, str]] = set()
    covered_items: set[str] = set()
    for acc in sorted((a for a in acceptances if a.decision == "declined"), key=lambda a: (a.decided_on or a.recommended_on, a.id)):
        ack = acc.acknowledgement
        if acc.review_id and acc.recommendation_id:
            covered_recs.add((acc.review_id, acc.recommendation_id))
        covered_items.add(acc.item)
        last = max([r.on for r in acc.reaffirmations], default=None)
        current = scope_rows.get(acc.item)
        rows.append({
            "source": "risk_acceptance",
            "id": acc.id,
            "item": acc.item,
            "label": labels(acc.item),
            "recommendation": acc.recommendation,
            "recommended_on": acc.recommended_on.isoformat(),
            "review_id": acc.review_id,
            "declined_on": _iso(acc.decided_on),
            "signed": ack is not None,
            "signed_by": ack.signed_by if ack else None,
            "signed_on": ack.signed_at.date().isoformat() if ack else None,
            "reaffirmed_on": last.isoformat() if last else None,
            "now_state": current["state"] if current else None,
            "now_text": (STATE_LABEL.get(current["state"], current["state"]) if current else ""),
        })
    for review in sorted(reviews, key=lambda r: (r.held_on, r.id)):
        for rec in review.recommendations:
            if rec.decision != "declined" or (review.id, rec.id) in covered_recs:
                continue
            if rec.item and rec.item in covered_items:
                continue
            current = scope_rows.get(rec.item) if rec.item else None
            if rec.item:
                covered_items.add(rec.item)
            rows.append({
                "source": "review",
                "id": f"{review.id}/{rec.id}",
                "item": rec.item,
                "label": labels(rec.item) if rec.item else "Recommendation",
                "recommendation": rec.text,
                "recommended_on": review.held_on.isoformat(),
                "review_id": review.id,
                "declined_on": _iso(rec.decided_on),
                "signed": False,
                "signed_by": None,
                "signed_on": None,
                "reaffirmed_on": None,
                "now_state": current["state"] if current else None,
                "now_text": (STATE_LABEL.get(current["state"], current["state"]) if current else ""),
            })
    for item, row in scope_rows.items():
        if row["state"] == "declined" and item not in covered_items:
            rows.append({
                "source": "agreement",
                "id": item,
                "item": item,
                "label": row["label"],
                "recommendation": "",
                "recommended_on": "",
                "review_id": None,
                "declined_on": "",
                "signed": False,
                "signed_by": None,
                "signed_on": None,
                "reaffirmed_on": None,
                "now_state": "declined",
                "now_text": STATE_LABEL["declined"],
                "clause": row.get("clause"),
            })
    return rows


def _open_recommendations(reviews: list[Review], acceptances: list[RiskAcceptance], labels: Callable[[str], str]) -> list[dict]:
    rows: list[dict] = []
    from_reviews: set[tuple[str, str]] = set()
    for review in sorted(reviews, key=lambda r: (r.held_on, r.id)):
        for rec in review.recommendations:
            if rec.decision not in OPEN_DECISIONS:
                continue
            from_reviews.add((review.id, rec.id))
            rows.append({
                "id": f"{review.id}/{rec.id}",
                "label": labels(rec.item) if rec.item else "",
                "text": rec.text,
                "review": f"{REVIEW_NAMES.get(review.type, 'review')} {review.held_on.isoformat()}",
                "recommended_on": review.held_on.isoformat(),
                "decision": rec.decision,
                "decided_on": _iso(rec.decided_on),
            })
    for acc in sorted(acceptances, key=lambda a: (a.recommended_on, a.id)):
        if acc.decision not in OPEN_DECISIONS or (acc.review_id, acc.recommendation_id) in from_reviews:
            continue
        rows.append({
            "id": acc.id,
            "label": labels(acc.item),
            "text": acc.recommendation,
            "review": f"recommended {acc.recommended_on.isoformat()}",
            "recommended_on": acc.recommended_on.isoformat(),
            "decision": acc.decision,
            "decided_on": _iso(acc.decided_on),
        })
    rows.sort(key=lambda r: (r["recommended_on"], r["id"]))
    return rows


def _insurance(picture: dict, policies: list[InsurancePolicy], day: date) -> dict:
    """What the agreements in force ask the client to carry, and the client's policies on file."""
    from .posture import load_settings

    accepted_types = set(load_settings().client_requirement.satisfied_by)
    required = []
    for a in picture["agreements_in_force"]:
        for c in a["clauses"]:
            if c["kind"] == "client_insurance_required":
                required.append({"agreement_title": a["title"], "version": a["version"], "section": c["section"],
                                 "text": c.get("text") or "", "amount": c.get("amount"),
                                 "amount_text": _money(c.get("amount"))})
    on_file = []
    for p in sorted(policies, key=lambda p: (p.period_start, p.id)):
        if p.period_end < day:
            continue
        on_file.append({
            "id": p.id, "type": p.type, "carrier": p.carrier, "policy_number": p.policy_number,
            "period_start": p.period_start.isoformat(), "period_end": p.period_end.isoformat(),
            "in_force": p.period_start <= day <= p.period_end, "status": policy_status(p, day),
            "currency": p.currency, "limit_aggregate": p.limit_aggregate,
            "limit_text": _money(p.limit_aggregate, p.currency),
            "counts": p.type in accepted_types,
        })
    amounts = [r["amount"] for r in required if r["amount"] is not None]
    minimum = max(amounts) if amounts else None
    current = [p for p in on_file if p["in_force"] and p["counts"]]
    best = max(current, key=lambda p: (p["limit_aggregate"], p["id"]), default=None)
    if not required:
        comparison = "The agreements in force do not ask you to carry a particular insurance policy."
        status = "not_required"
    elif best is None:
        comparison = "We have no cyber insurance policy of yours on file that is in force today."
        status = "missing"
    elif minimum is None:
        comparison = (f"The agreement asks you to carry cyber insurance without stating an amount; the policy on file has an "
                      f"aggregate limit of {best['limit_text']}.")
        status = "on_file"
    elif best["limit_aggregate"] < minimum:
        comparison = (f"The aggregate limit on file ({best['limit_text']}) is below the {minimum:,} the agreement states.")
        status = "below"
    else:
        comparison = (f"The aggregate limit on file ({best['limit_text']}) meets the {minimum:,} the agreement states.")
        status = "meets"
    return {"required": required, "policies": on_file, "minimum": minimum, "minimum_text": _money(minimum),
            "comparison": comparison, "status": status}


def _findings(store: Store, client_id: str, at: datetime, labels: dict[str, str]) -> list[dict]:
    from .posture import assess

    quoted = re.compile(r"'([a-z0-9][a-z0-9._-]*)'")
    rows = []
    for f in assess(store, client_id=client_id, now=at):
        message = quoted.sub(lambda m: labels.get(m.group(1), m.group(0)), f.message)
        rows.append({"code": f.code, "title": FINDING_TITLES.get(f.code, f.code.replace("_", " ")),
                     "text": message[:1].upper() + message[1:], "record_id": f.record_id, "as_of": f.as_of})
    return rows


def collect(store: Store, client_id: str, *, generated_at: datetime, msp_name: str | None = None) -> dict:
    """Everything the pack shows, as a JSON-ready dict, read in one snapshot."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be an aware datetime")
    store.conn.execute("BEGIN")
    try:
        return _collect(store, client_id, generated_at=generated_at, msp_name=msp_name)
    finally:
        store.conn.execute("COMMIT")


def _collect(store: Store, client_id: str, *, generated_at: datetime, msp_name: str | None) -> dict:
    at = generated_at.astimezone(timezone.utc)
    picture = liability_picture(store, client_id, at)  # UserError for an unknown client
    client = picture["client"]
    day = date.fromisoformat(picture["as_of_local_date"])
    catalog = load_catalog()
    label_map = {i.id: i.label for i in catalog.items.values()}
    scope_rows: dict[str, dict] = {}
    for state, rows in picture["scope"].items():
        for row in rows:
            scope_rows[row["item"]] = {**row, "state": state}
    acceptances = store.all(RiskAcceptance, client_id=client_id)
    reviews = store.all(Review, client_id=client_id)
    policies = [p for p in store.all(InsurancePolicy, client_id=client_id) if p.owner == "client"]
    labels = lambda item: label_map.get(item, scope_rows.get(item, {}).get("label", item))  # noqa: E731

    def by_label(rows: list[dict]) -> list[dict]:
        order = list(label_map)
        return sorted((_scope_row(r) for r in rows),
                      key=lambda r: (order.index(r["item"]) if r["item"] in order else len(order), r["label"]))

    not_covered = []
    for state, title, explain in NOT_COVERED:
        rows = picture["scope"].get(state, [])
        if state == NOT_ADDRESSED:
            rows = [r for r in rows if r["security_relevant"]]
        if rows:
            not_covered.append({"state": state, "title": title, "explain": explain, "items": by_label(rows)})

    last_review = max(reviews, key=lambda r: (r.held_on, r.id), default=None)
    name = msp_name or msp_name_from_env()
    agreements = [{"title": a["title"], "type": a["type"], "version": a["version"], "effective_from": a["effective_from"],
                   "signed": a["signature_status"] == "signed", "signature": a["signature"]}
                  for a in picture["agreements_in_force"]]
    generated_utc = generated_at.astimezone(timezone.utc)
    declined = _declined(picture, acceptances, reviews, scope_rows, labels)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": {"name": "msptui", "version": __version__},
        "generated_at": utc_text(generated_utc),
        "as_of_local_date": picture["as_of_local_date"],
        "msp": {"name": name or MSP_DEFAULT, "name_start": name or MSP_DEFAULT[:1].upper() + MSP_DEFAULT[1:],
                "signer": name or MSP_DEFAULT_SIGNER, "named": bool(name)},
        "client": {"id": client["id"], "name": client["name"], "home_tz": client["home_tz"],
                   "engagement": client["engagement"]},
        "agreements": agreements,
        "covered": by_label(picture["scope"].get("included", [])),
        "not_covered": not_covered,
        "not_applicable": by_label(picture["scope"].get("not_applicable", [])),
        "declined": declined,
        "declined_active": [d for d in declined if d["now_state"] != "included"],
        "open_recommendations": _open_recommendations(reviews, acceptances, labels),
        "insurance": _insurance(picture, policies, day),
        "findings": _findings(store, client_id, at, label_map),
        "last_review": ({"held_on": last_review.held_on.isoformat(), "type": last_review.type,
                         "security_education": list(last_review.security_education)} if last_review else None),
    }


# ---------------------------------------------------------------------------
# render and write
# ---------------------------------------------------------------------------


def identifier(data: dict) -> bytes:
    """A stable PDF /ID from what the pack is (no randomness, no clock)."""
    seed = f"{FORMAT}|{data['client']['id']}|{data['generated_at']}"
    return hashlib.md5(seed.encode("utf-8")).hexdigest().encode("ascii")


def render(data: dict) -> bytes:
    """The PDF bytes (imports WeasyPrint: call only in the child or in tests)."""
    from .dossier_render import render_pdf

    pdf, _report = render_pdf(data, template=TEMPLATE, identifier=identifier(data))
    return pdf


@dataclass(frozen=True)
class Printed:
    path: Path
    sha256: str
    size: int
    event_id: int


def target_path(client_id: str, generated_at: datetime, out_dir: Path | str | None = None) -> Path:
    base = Path(out_dir) if out_dir is not None else paths.exports_dir() / client_id
    return base / file_name(generated_at)


def _write_atomically(target: Path, body: bytes, on_tmp: Callable[[Path], None] | None) -> None:
    from .dossier import _fsync_dir, _mkdirs

    _mkdirs(target.parent)
    if target.exists():
        raise UserError(f"{target} already exists: a review pack with this timestamp was already written")
    leftovers.sweep(target.parent)  # hidden partial packs left by a killed print
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    tmp = Path(name)
    leftovers.claim(tmp)
    if on_tmp:
        on_tmp(tmp)
    try:
        os.fchmod(fd, paths.file_mode())
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        try:
            os.link(tmp, target)  # never replaces an existing file
        except FileExistsError:
            raise UserError(f"{target} already exists: a review pack with this timestamp was already written") from None
        except OSError:
            if target.exists():
                raise UserError(f"{target} already exists: a review pack with this timestamp was already written") from None
            os.rename(tmp, target)
    finally:
        if fd >= 0:
            os.close(fd)
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
    _fsync_dir(target.parent)


def write(
    store: Store,
    client_id: str,
    *,
    out_dir: Path | str | None = None,
    generated_at: datetime | None = None,
    msp_name: str | None = None,
    renderer: Callable[[dict], bytes] | None = None,
    progress: Progress | None = None,
    on_tmp: Callable[[Path], None] | None = None,
) -> Printed:
    """Render the pack, put it in place atomically, then record ``review_pack.printed``."""
    progress = progress or (lambda stage: None)
    generated_at = (generated_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    progress("collect")
    data = collect(store, client_id, generated_at=generated_at, msp_name=msp_name)
    target = target_path(data["client"]["id"], generated_at, out_dir)
    if target.exists():
        raise UserError(f"{target} already exists: a review pack with this timestamp was already written")
    progress("render")
    pdf = (renderer or render)(data)
    progress("write")
    _write_atomically(target, pdf, on_tmp)
    digest = hashlib.sha256(pdf).hexdigest()
    progress("record")
    try:
        event = store.append(EVENT_KIND, {
            "client_id": data["client"]["id"],
            "file_name": target.name,
            "sha256": digest,
            "size": len(pdf),
            "generated_at": data["generated_at"],
            "path": str(target.resolve()),
        })
    except BaseException:
        # an unrecorded pack must not exist: printing it is part of the history
        try:
            target.unlink()
        except OSError:
            pass
        raise
    progress("done")
    return Printed(target, digest, len(pdf), event.id)


def print_in_child(
    db_path: Path | str,
    client_id: str,
    out_dir: Path | str | None = None,
    *,
    generated_at: datetime | None = None,
    msp_name: str | None = None,
    progress: Progress | None = None,
    timeout: float = 300,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[Path, str]:
    """Run ``write`` in ``python -m msptui.dossier_render``; returns (path, sha256)."""
    from .dossier import run_child

    request = {
        "kind": "review_pack",
        "db": str(Path(db_path).resolve()),
        "client_id": client_id,
        "out_dir": str(Path(out_dir).resolve()) if out_dir is not None else None,
        "generated_at": utc_text(generated_at) if generated_at else None,
        "msp_name": msp_name,
    }
    result = run_child(request, progress=progress, timeout=timeout, cancelled=cancelled)
    return Path(result["path"]), result["sha256"]
