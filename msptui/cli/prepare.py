"""Keeping the record: client, agreement, scope, clause, sign, policy, review, recommend, acknowledge, reaffirm, msp.

Every command builds the input model the TUI form builds (msptui.record_inputs)
and calls the act in msptui.records: the same input is accepted or refused
with the same one-line message (exit 1, nothing written). Vocabularies are
checked there, not by click, so an unknown engagement or state is a user
error naming the allowed values, not a usage error. Each change is one
transaction carrying the operator; ``--json`` prints ``{"id": ...}``.
"""

from __future__ import annotations

from typing import Any, Iterable

import click

from ..record_inputs import (
    AGREEMENT_TYPES,
    CLAUSE_KINDS,
    DECISIONS,
    ENGAGEMENTS,
    HIPAA_ROLES,
    METHODS_SHOWN,
    NIS2_ENTITIES,
    POLICY_TYPES,
    REVIEW_TYPES,
    AcknowledgeDraft,
    AgreementDraft,
    ClauseDraft,
    ClientDraft,
    MspDraft,
    PolicyDraft,
    ReaffirmDraft,
    RecommendationDraft,
    ReviewDraft,
    ScopeLineDraft,
    SignDraft,
)
from ..records import Outcome
from .base import Context, emit_json, main, pass_ctx, say


def _many(values: Iterable[str]) -> list[str] | None:
    """A repeatable option: () means "not given"."""
    values = list(values)
    return values or None


def _report(outcome: Outcome, as_json: bool, done: str, **extra: Any) -> None:
    """``--json``: ``{"id": ..., ...}``; else one line saying what was recorded (or that nothing changed)."""
    record = outcome.record
    if as_json:
        emit_json({"id": record.id, **extra, "changed": outcome.changed})
        return
    said = done.format(id=record.id) if "{id}" in done else f"{done} {record.id}"
    say(said if outcome.changed else f"no change: {record.id} already says that")


def _vocab(values: Iterable[str]) -> str:
    return "|".join(values)


# ---------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------


def _client_options(required: bool):
    def wrap(fn):
        for decorator in reversed([
            click.option("--name", metavar="NAME", required=required, help="The client's name (stored as typed)."),
            click.option("--engagement", metavar="KIND", required=required, help=f"{_vocab(ENGAGEMENTS)}."),
            click.option("--tz", metavar="ZONE", required=required, help="IANA home zone, e.g. America/New_York."),
            click.option("--country", "countries", metavar="CC", multiple=True,
                         help="ISO country code where it operates or holds data; repeatable or comma-separated."),
            click.option("--state", "states", metavar="XX", multiple=True,
                         help="US state whose residents' data it holds; repeatable or comma-separated."),
            click.option("--data", "data_held", metavar="LIST", multiple=True,
                         help="Data held (pii, phi, pci, financial, cui, ...), comma-separated."),
            click.option("--sector", "--sectors", "sectors", metavar="LIST", multiple=True,
                         help="Regulatory sectors (bank, credit_union, healthcare, ...), comma-separated; 'none': in "
                              "none of them. Not given: not recorded (sector rules then say 'confirm')."),
            click.option("--industry", metavar="TEXT", help="Free-text industry."),
            click.option("--hipaa-role", metavar="ROLE", help=f"{_vocab(HIPAA_ROLES)}. Not given: not recorded "
                         "(HIPAA rules are then taken to apply where PHI is involved, and say 'confirm')."),
            click.option("--nis2-entity", metavar="STATUS", help=f"{_vocab(NIS2_ENTITIES)}. Not given: not recorded."),
            click.option("--dora-entity", metavar="TYPE", help="DORA financial-entity type (e.g. 'credit institution'), "
                         "or none. Not given: not recorded."),
            click.option("--public-company/--no-public-company", "public_company", default=None,
                         help="An SEC registrant (Form 8-K)."),
            click.option("--nydfs-regulated/--no-nydfs-regulated", "nydfs_regulated", default=None,
                         help="Regulated by the NY Department of Financial Services (23 NYCRR 500)."),
            click.option("--json", "as_json", is_flag=True, help='Print {"id": ...}.'),
        ]):
            fn = decorator(fn)
        return fn
    return wrap


@main.group()
def client() -> None:
    """Add and change clients."""


@client.command("add")
@click.option("--id", "client_id", metavar="ID", required=True, help="Stable id: lower-case letters, digits, '.', '_', '-'.")
@_client_options(required=True)
@pass_ctx
def client_add(ctx: Context, client_id, name, engagement, tz, countries, states, data_held, sectors, industry,
               hipaa_role, nis2_entity, dora_entity, public_company, nydfs_regulated, as_json) -> None:
    """Add a client (one event). A regulatory fact not given is recorded as not known, never as "no"."""
    from ..records import add_client

    draft = ClientDraft(id=client_id, name=name, engagement=engagement, tz=tz, countries=_many(countries),
                        us_states=_many(states), data_held=_many(data_held), sectors=_many(sectors), industry=industry,
                        hipaa_role=hipaa_role, nis2_entity=nis2_entity, dora_entity=dora_entity,
                        public_company=public_company, nydfs_regulated=nydfs_regulated)
    draft.fields(new=True)  # refuse bad input before a new database is created for it
    with ctx.open(create=True, writes=True) as store:
        outcome = add_client(store, draft)
    _report(outcome, as_json, "added client")


@client.command("edit")
@click.argument("client_id", metavar="ID")
@_client_options(required=False)
@pass_ctx
def client_edit(ctx: Context, client_id, name, engagement, tz, countries, states, data_held, sectors, industry,
                hipaa_role, nis2_entity, dora_entity, public_company, nydfs_regulated, as_json) -> None:
    """Change a client: only the options given change (a list option replaces the list; "" empties it, and a
    regulatory fact given as "" is not recorded again)."""
    from ..records import edit_client

    draft = ClientDraft(name=name, engagement=engagement, tz=tz, countries=_many(countries), us_states=_many(states),
                        data_held=_many(data_held), sectors=_many(sectors), industry=industry, hipaa_role=hipaa_role,
                        nis2_entity=nis2_entity, dora_entity=dora_entity, public_company=public_company,
                        nydfs_regulated=nydfs_regulated)
    with ctx.open(writes=True) as store:
        outcome = edit_client(store, client_id, draft)
    _report(outcome, as_json, "changed client")


# ---------------------------------------------------------------------------
# agreements, scope, clauses, signatures
# ---------------------------------------------------------------------------


@main.group()
def agreement() -> None:
    """Add agreements (MSA, schedules, SOWs, amendments ...)."""


@agreement.command("add")
@click.option("--client", "client_id", metavar="ID", required=True)
@click.option("--type", "kind", metavar="TYPE", required=True, help=f"{_vocab(AGREEMENT_TYPES)}.")
@click.option("--title", metavar="TEXT", required=True)
@click.option("--effective-from", metavar="DATE", required=True, help="First day in force (client's local date, YYYY-MM-DD).")
@click.option("--effective-to", metavar="DATE", help="Last day in force (inclusive); none = open-ended.")
@click.option("--parent", metavar="ID", help="The MSA a schedule, SOW or amendment hangs from.")
@click.option("--supersedes", metavar="ID", help="The agreement this one replaces from its first day.")
@click.option("--version", metavar="N", help="Version number (default 1).")
@click.option("--document", metavar="FILE", help="The agreement's file: its name and SHA-256 are recorded.")
@click.option("--id", "agreement_id", metavar="ID", help="Id to use (default: CLIENT-TYPE, numbered if taken).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": ...}.')
@pass_ctx
def agreement_add(ctx: Context, client_id, kind, title, effective_from, effective_to, parent, supersedes, version,
                  document, agreement_id, as_json) -> None:
    """Add an agreement, unsigned; then 'scope set', 'clause add' and 'sign' it."""
    from ..records import add_agreement

    draft = AgreementDraft(client_id=client_id, type=kind, title=title, effective_from=effective_from,
                           effective_to=effective_to, parent=parent, supersedes=supersedes, version=version,
                           document=document, id=agreement_id)
    with ctx.open(writes=True) as store:
        outcome = add_agreement(store, draft)
    _report(outcome, as_json, "added agreement")


@main.group()
def scope() -> None:
    """State what an agreement says about each scope catalogue item."""


@scope.command("set")
@click.argument("agreement_id", metavar="AGREEMENT")
@click.argument("item", metavar="ITEM")
@click.argument("state", metavar="STATE")
@click.option("--clause", metavar="REF", help="Where the agreement says so, e.g. 'Schedule B §3.2'.")
@click.option("--notes", metavar="TEXT")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": AGREEMENT, "item", "state"}.')
@pass_ctx
def scope_set(ctx: Context, agreement_id, item, state, clause, notes, as_json) -> None:
    """Set ITEM (an id from 'msptui catalog') to STATE in an unsigned agreement.

    STATE: included, excluded, declined, client_responsibility, third_party,
    not_applicable. The line replaces any the agreement had for ITEM.
    """
    from ..records import set_scope

    line = ScopeLineDraft(item=item, state=state, clause=clause, notes=notes)
    with ctx.open(writes=True) as store:
        outcome = set_scope(store, agreement_id, [line])
    set_line = next(l for l in outcome.record.scope if l.item == item.strip().lower())
    _report(outcome, as_json, f"{set_line.item} is {set_line.state.value} in agreement", item=set_line.item,
            state=set_line.state.value)




@main.group()
def clause() -> None:
    """Record an agreement's clauses (liability cap, security disclaimer ...)."""


@clause.command("add")
@click.argument("agreement_id", metavar="AGREEMENT")
@click.option("--kind", metavar="KIND", required=True, help=f"{_vocab(CLAUSE_KINDS)}.")
@click.option("--section", metavar="REF", required=True, help="Section reference, e.g. '§9.2'.")
@click.option("--text", "text_", metavar="TEXT", required=True, help="The clause's words, quoted as signed.")
@click.option("--amount", metavar="AMOUNT", help="An amount the clause states (e.g. the client's minimum cyber limit).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": AGREEMENT}.')
@pass_ctx
def clause_add(ctx: Context, agreement_id, kind, section, text_, amount, as_json) -> None:
    """Add a clause to an unsigned agreement."""
    from ..records import add_clause

    with ctx.open(writes=True) as store:
        outcome = add_clause(store, agreement_id, ClauseDraft(kind=kind, section=section, text=text_, amount=amount))
    _report(outcome, as_json, f"added a {kind.strip().lower()} clause to agreement", clauses=len(outcome.record.clauses))


@main.command()
@click.argument("agreement_id", metavar="AGREEMENT")
@click.option("--signed-at", metavar="ISO8601", required=True,
              help="When it was signed: local time in the client's zone, or with an offset.")
@click.option("--msp", "msp_signers", metavar='"NAME[, TITLE]"', multiple=True, required=True,
              help="Who signed for the MSP; repeatable.")
@click.option("--client", "client_signers", metavar='"NAME[, TITLE]"', multiple=True, required=True,
              help="Who signed for the client; repeatable.")
@click.option("--method", metavar="METHOD", help=f"{METHODS_SHOWN}.")
@click.option("--document", metavar="FILE", help="The signed file: hashed (SHA-256) and recorded.")
@click.option("--resign", is_flag=True, help="Replace the signature already on record.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": AGREEMENT, "sha256"}.')
@pass_ctx
def sign(ctx: Context, agreement_id, signed_at, msp_signers, client_signers, method, document, resign, as_json) -> None:
    """Record that an agreement was signed by both sides."""
    from ..records import sign_agreement

    draft = SignDraft(signed_at=signed_at, msp=list(msp_signers), client=list(client_signers), method=method,
                      document=document, resign=resign)
    with ctx.open(writes=True) as store:
        outcome = sign_agreement(store, agreement_id, draft)
    doc = outcome.record.document
    _report(outcome, as_json, "recorded the signature of agreement", sha256=doc.sha256 if doc else None)


# ---------------------------------------------------------------------------
# insurance
# ---------------------------------------------------------------------------


def _policy_options(renew: bool):
    req = not renew

    def wrap(fn):
        for decorator in reversed([
            click.option("--carrier", metavar="TEXT", required=req, help="The insurer."),
            click.option("--number", metavar="TEXT", required=req, help="The policy number."),
            click.option("--from", "start", metavar="DATE", required=True, help="First day of the period."),
            click.option("--to", "end", metavar="DATE", required=True, help="Last day of the period."),
            click.option("--limit", metavar="AMOUNT", required=req, help="Aggregate limit, e.g. 1000000 or 1M."),
            click.option("--currency", metavar="CUR", help="ISO 4217 code (default USD)."),
            click.option("--retention", metavar="AMOUNT", help="Retention (deductible); not given: not recorded."),
            click.option("--consent-required/--no-consent-required", "consent_required", default=None,
                         help="Whether the policy requires the insurer's written consent before vendors, remediation "
                              "spend or a ransom payment (not given: not recorded; the checklist asks the carrier)."),
            click.option("--claims-form", metavar="FORM",
                         help="occurrence|claims_made|claims_made_and_reported (not given: not recorded); a notice "
                              "window running past a claims-made-and-reported period is flagged."),
            click.option("--notice-hours", metavar="H", help="Written notice due within H hours of discovery."),
            click.option("--notice-days", metavar="D", help="Written notice due within D days."),
            click.option("--notice-asap", is_flag=True, help="'As soon as practicable' (give --target-hours)."),
            click.option("--target-hours", metavar="H", help="Internal target for --notice-asap."),
            click.option("--hotline", metavar="TEXT", help="The carrier's breach hotline."),
            click.option("--claims-email", metavar="TEXT", help="Where written notice goes."),
            click.option("--id", "policy_id", metavar="ID", help="Id to use (default: OWNER-TYPE-YEAR, numbered if taken)."),
            click.option("--json", "as_json", is_flag=True, help='Print {"id": ...}.'),
        ]):
            fn = decorator(fn)
        return fn
    return wrap


@main.group()
def policy() -> None:
    """Insurance policies: the client's and the MSP's own."""


@policy.command("add")
@click.option("--client", "client_id", metavar="ID", help="The client whose policy this is.")
@click.option("--msp", "is_msp", is_flag=True, help="The MSP's own policy (E&O, cyber ...).")
@click.option("--type", "kind", metavar="TYPE", required=True, help=f"{_vocab(POLICY_TYPES)}.")
@_policy_options(renew=False)
@pass_ctx
def policy_add(ctx: Context, client_id, is_msp, kind, carrier, number, start, end, limit, currency, retention,
               consent_required, claims_form, notice_hours, notice_days, notice_asap, target_hours, hotline, claims_email, policy_id,
               as_json) -> None:
    """Add a policy (exactly one of --client ID or --msp; one notice condition)."""
    from ..records import add_policy

    draft = PolicyDraft(client_id=client_id, msp=is_msp, type=kind, carrier=carrier, number=number, start=start,
                        end=end, limit=limit, currency=currency, retention=retention, notice_hours=notice_hours,
                        notice_days=notice_days, notice_asap=notice_asap, target_hours=target_hours,
                        hotline=hotline, claims_email=claims_email, consent_required=consent_required,
                        claims_form=claims_form, id=policy_id)
    with ctx.open(writes=True) as store:
        outcome = add_policy(store, draft)
    _report(outcome, as_json, "added policy")


@policy.command("renew")
@click.argument("renewed_id", metavar="ID")
@_policy_options(renew=True)
@pass_ctx
def policy_renew(ctx: Context, renewed_id, carrier, number, start, end, limit, currency, retention, consent_required,
                 claims_form, notice_hours, notice_days, notice_asap, target_hours, hotline, claims_email, policy_id, as_json) -> None:
    """Record the renewal of policy ID for a new period: a new policy; what is not given is copied."""
    from ..records import renew_policy

    draft = PolicyDraft(carrier=carrier, number=number, start=start, end=end, limit=limit, currency=currency,
                        retention=retention, notice_hours=notice_hours, notice_days=notice_days,
                        notice_asap=notice_asap, target_hours=target_hours, hotline=hotline,
                        claims_email=claims_email, consent_required=consent_required, claims_form=claims_form,
                        id=policy_id)
    with ctx.open(writes=True) as store:
        outcome = renew_policy(store, renewed_id, draft)
    _report(outcome, as_json, f"recorded the renewal of {renewed_id} as policy", renews=renewed_id)


# ---------------------------------------------------------------------------
# reviews, recommendations, declines
# ---------------------------------------------------------------------------


@main.group()
def review() -> None:
    """Business reviews: who attended, what the client was taught."""


@review.command("add")
@click.option("--client", "client_id", metavar="ID", required=True)
@click.option("--held-on", metavar="DATE", required=True, help="The day it was held (client's local date).")
@click.option("--type", "kind", metavar="TYPE", help=f"{_vocab(REVIEW_TYPES)} (default qbr).")
@click.option("--attendee-msp", metavar="NAME", multiple=True, help="An MSP attendee; repeatable.")
@click.option("--attendee-client", metavar="NAME", multiple=True, help="A client attendee; repeatable.")
@click.option("--topic", metavar="TEXT", multiple=True, help="A topic discussed; repeatable.")
@click.option("--education", metavar="TEXT", multiple=True, help="Security education given; repeatable.")
@click.option("--minutes", metavar="FILE", help="The minutes: hashed (SHA-256) and recorded.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": ...}.')
@pass_ctx
def review_add(ctx: Context, client_id, held_on, kind, attendee_msp, attendee_client, topic, education, minutes,
               as_json) -> None:
    """Record a business review that was held; add its recommendations with 'msptui recommend'."""
    from ..records import add_review

    draft = ReviewDraft(client_id=client_id, held_on=held_on, type=kind, attendees_msp=list(attendee_msp),
                        attendees_client=list(attendee_client), topics=list(topic), education=list(education),
                        minutes=minutes)
    with ctx.open(writes=True) as store:
        outcome = add_review(store, draft)
    _report(outcome, as_json, "recorded business review")


@main.command()
@click.argument("review_id", metavar="REVIEW")
@click.option("--item", metavar="ITEM", required=True, help="The scope catalogue item recommended (see 'msptui catalog').")
@click.option("--text", "text_", metavar="TEXT", required=True, help="The recommendation, as given to the client.")
@click.option("--decision", metavar="DECISION", help=f"{_vocab(DECISIONS)} (default pending).")
@click.option("--decided-on", metavar="DATE", help="When the client decided (default: the review's date).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"id": ...}: the risk acceptance for a decline, else the review.')
@pass_ctx
def recommend(ctx: Context, review_id, item, text_, decision, decided_on, as_json) -> None:
    """Add a recommendation made at a review, with the client's decision.

    A decline also becomes a risk acceptance record: its id is printed, for
    'msptui acknowledge RISK_ID' once the client has signed it.
    """
    from ..records import recommend as record

    draft = RecommendationDraft(item=item, text=text_, decision=decision, decided_on=decided_on)
    with ctx.open(writes=True) as store:
        outcome = record(store, review_id, draft)
    changed_review, *risks = outcome.written  # a new recommendation always changes the review
    risk = risks[0] if risks else None
    if risk is not None and not as_json:
        say(f"recorded the decline as risk acceptance {risk.id}: once the client has signed it, "
                  f"run msptui acknowledge {risk.id} --signed-by NAME --signed-at ISO8601")
        return
    _report(outcome, as_json, "added a recommendation to review", review_id=changed_review.id,
            recommendation_id=changed_review.recommendations[-1].id, risk_id=risk.id if risk is not None else None)


@main.command()
@click.argument("risk_id", metavar="RISK_ID")
@click.option("--signed-by", metavar="NAME", required=True, help="Who signed for the client.")
@click.option("--signed-at", metavar="ISO8601", required=True, help="When (local time in the client's zone, or with an offset).")
@click.option("--document", metavar="FILE", help="The signed acknowledgement: hashed (SHA-256) and recorded.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": RISK_ID}.')
@pass_ctx
def acknowledge(ctx: Context, risk_id, signed_by, signed_at, document, as_json) -> None:
    """Record the client's signed acknowledgement of a declined recommendation."""
    from ..records import acknowledge as record

    with ctx.open(writes=True) as store:
        outcome = record(store, risk_id, AcknowledgeDraft(signed_by=signed_by, signed_at=signed_at, document=document))
    _report(outcome, as_json, "recorded the signed acknowledgement of")


@main.command()
@click.argument("risk_id", metavar="RISK_ID")
@click.option("--on", "on_", metavar="DATE", required=True, help="The day the client confirmed the decline again.")
@click.option("--by", "by", metavar="NAME", required=True, help="Who confirmed it for the client.")
@click.option("--document", metavar="FILE", help="The signed re-affirmation: hashed (SHA-256) and recorded.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": RISK_ID}.')
@pass_ctx
def reaffirm(ctx: Context, risk_id, on_, by, document, as_json) -> None:
    """Record that the client re-affirmed a signed decline."""
    from ..records import reaffirm as record

    with ctx.open(writes=True) as store:
        outcome = record(store, risk_id, ReaffirmDraft(on=on_, by=by, document=document))
    _report(outcome, as_json, "recorded a re-affirmation of", reaffirmations=len(outcome.record.reaffirmations))


# ---------------------------------------------------------------------------
# the MSP itself
# ---------------------------------------------------------------------------


@main.group()
def msp() -> None:
    """The MSP's own record: the name review packs and dossiers use, its address and contacts."""


@msp.command("set")
@click.option("--name", metavar="NAME", help="The MSP's name as clients know it (needed the first time).")
@click.option("--address", metavar="TEXT", help="Postal address (one line, or with \\n).")
@click.option("--contact", "contacts", metavar='"[ROLE:] NAME [<EMAIL>] [PHONE]"', multiple=True,
              help="A contact; repeatable; given contacts replace those on record. ROLE: primary (default), emergency, ...")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": "msp"}.')
@pass_ctx
def msp_set(ctx: Context, name, address, contacts, as_json) -> None:
    """Create or change the MSP's record; options not given keep what is on record."""
    from ..records import set_msp

    draft = MspDraft(name=name, address=address, contacts=_many(contacts))
    draft.fields(new=False)  # refuse bad input before a new database is created for it
    with ctx.open(create=True, writes=True) as store:
        outcome = set_msp(store, draft)
    _report(outcome, as_json, "recorded the MSP's own record (id {id})")


@msp.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (null if not set).")
@pass_ctx
def msp_show(ctx: Context, as_json: bool) -> None:
    """Show the MSP's own record."""
    from ..records import msp_record

    with ctx.open() as store:
        record = msp_record(store)
    if as_json:
        emit_json(record.model_dump(mode="json") if record else None)
        return
    if record is None:
        say("no MSP record: review packs say 'your MSP' (set it with: msptui msp set --name NAME)")
        return
    say(record.name)
    if record.address:
        say(*record.address.split("\n"))  # the address's own lines
    for c in record.contacts:
        say("  " + "  ".join(x for x in (c.role, c.name, c.email or "", c.phone or "") if x))
