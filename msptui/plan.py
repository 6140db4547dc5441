"""From an incident's facts to its assessment, clocks and checklist: computed once, then recorded.

This is where the rules (data/obligations.toml and data/rules/), the client's
and MSP's actual insurance policies and contracts, the recorded trigger
instants and the checklist template (data/checklists/) meet, and it is the
only place a clock is computed for an incident. The result is stored (the
assessment on the incident, each clock on its checklist item), so the CLI, the
TUI and the dossier all show the same instants, and the history shows what was
believed when. ``replan`` runs it again whenever the facts, a trigger or a
submission change.

1. every rule gets a verdict (applies or not, with a one-line reason) from
   ``applicability``; policies count only if ``insurance.in_force`` at
   discovery (the one definition of "in force");
2. each applicable rule's clock starts where ``triggers.start_for`` says:
   the rule's own trigger once recorded, discovery (the conservative reading)
   for awareness-type triggers until then, nothing at all for an event that
   may never happen (*dormant*: a ransom payment, a law-enforcement delay, a
   materiality determination), and the actual submission for chained clocks;
3. a rule marked ``from_policy`` (insurer notice) gets one clock per matching
   policy, from that policy's own notice condition;
4. the MSP's duty to notify its client runs to the earlier of the statute and
   any contract clause in force (a BAA's 10 days beats HIPAA's 60), citing the
   clause; a clause with no matching statute is a duty of its own;
5. every affected country or US state with no individuals rule on file gets a
   ``no_rule`` entry and a "assess the law of ... manually" step: a list
   that skipped them would look complete when it is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from . import insurance
from .applicability import applicable
from .checklist import SECTIONS, build_items, load_template
from .closures import load_closures
from .deadlines import Deadline, compute, period_due
from .models import Agreement, Assessment, ChecklistItem, Client, Clause, Incident, InsurancePolicy
from .obligations import Rule, load_rules, period_text, rules_sha256, trigger_label
from .scope import agreements_in_force
from .store import Store
from .timeutil import to_utc
from .triggers import Start, start_for

#: what counts as the MSP's duty to tell its client (the act a contract clause also times)
MSP_TO_CLIENT_DUTY = "vendor"


@dataclass(frozen=True)
class Obligation:
    """One clock on the checklist (the shape ``checklist.build_items`` consumes)."""

    rule_id: str
    title: str
    recipient: str | None
    due: datetime | None
    party: str
    reason: str
    target: datetime | None = None
    basis: str = ""
    policy_id: str | None = None
    waits_for: str | None = None
    #: "advisory" (proposed rule, not in force) or "uncertain" (confidence below high): said in the item's title
    flag: str | None = None
    confidence: str = "high"


@dataclass(frozen=True)
class ContractNotice:
    """A clause in force that times the MSP's notice to its client."""

    agreement: Agreement
    clause: Clause

    @property
    def ref(self) -> str:
        return f"{self.clause.section} ({self.agreement.title})"

    def period(self) -> str:
        n = self.clause.notice
        word = {"hours": "hours", "calendar_days": "calendar days", "business_days": "business days"}[n.unit]
        return f"{n.value} {word}"

    def due(self, start: datetime, tz: str) -> datetime:
        n = self.clause.notice
        due_time = "exact" if n.unit == "hours" else "end_of_day"
        return period_due(start, tz, n.unit, n.value, due_time=due_time)


def _rules_sha256() -> str:
    return rules_sha256()


# ---------------------------------------------------------------------------
# Clock pieces
# ---------------------------------------------------------------------------


def _basis(rule: Rule, deadline: Deadline, start: Start) -> str:
    text = deadline.basis
    if start.note:
        text += f" — {start.note}"
    if deadline.uncertain:
        text += f" [uncertain reading: confidence {deadline.confidence}]"
    if deadline.advisory:
        text += " [advisory: proposed rule, not in force]"
    return text


def _dormant_basis(rule: Rule, start: Start) -> str:
    """"if the ransom payment happens at T: due T + 24 hours" (no due date until it is recorded)."""
    what = trigger_label(rule.trigger)
    if rule.offset.unit == "none":
        return f"dormant until {what} is recorded; then {rule.standard}"
    return f"dormant: if {what} happens at T, due T + {period_text(rule)} (record it: msptui incident trigger)"


def _policy_basis(policy: InsurancePolicy, deadline: Deadline, start: Start) -> str:
    parts = [f"policy {policy.policy_number} ({policy.carrier}): {deadline.basis}", *deadline.warnings]
    if start.note:
        parts.append(start.note)
    return "; ".join(parts)


def _policy_pool(rule: Rule, live: list[InsurancePolicy], client: Client) -> list[InsurancePolicy]:
    """The party's in-force policies of the kinds the rule names (the MSP's for an MSP rule)."""
    kinds = set(rule.applies.policy_kinds_any)
    if rule.party == "msp":
        return [p for p in live if p.owner == "msp" and p.type in kinds]
    return [p for p in live if p.owner == "client" and p.client_id == client.id and p.type in kinds]


def _period_end_instant(policy: InsurancePolicy, client: Client) -> datetime:
    """The end of a policy period: 23:59:59 on its last day at the insured's (the client's) zone."""
    return datetime.combine(policy.period_end, time(23, 59, 59), ZoneInfo(client.home_tz))


def _flag(rule: Rule) -> str | None:
    if rule.proposed:
        return "advisory"
    if rule.uncertain and not rule.from_policy:
        return "uncertain"
    return None


def contract_notices(agreements: list[Agreement], day: date) -> list[ContractNotice]:
    """Clauses in force on ``day`` that set the MSP's notice period to its client."""
    return [ContractNotice(a, c) for a in agreements_in_force(agreements, day) for c in a.clauses
            if c.notice is not None and c.notice.party == "msp"]


def _with_contract(rule: Rule, due: datetime | None, basis: str, notices: list[ContractNotice],
                   incident: Incident) -> tuple[datetime | None, str]:
    """The MSP's notice to its client: the earlier of the statute and each contract clause, citing which."""
    at, tz = incident.discovered.at, incident.discovered.tz
    best = due
    notes = []
    for n in notices:
        c_due = n.due(at, tz)
        if best is None or to_utc(c_due) < to_utc(best):
            law = f"{rule.citation}'s {rule.offset.describe()}" if rule.offset.unit != "none" else f"{rule.citation} ('{rule.standard}')"
            notes.append(f"{n.ref}: {n.period()}, shorter than {law}: the contract's clock applies")
            best = c_due
        else:
            notes.append(f"{n.ref}: {n.period()}; the statute's period is shorter and applies")
    return best, basis + ("; " if basis else "") + "; ".join(notes) if notes else basis


# ---------------------------------------------------------------------------
# The assessment
# ---------------------------------------------------------------------------


def _affected_jurisdictions(incident: Incident) -> list[tuple[str, int | None]]:
    """(jurisdiction, people affected or None) for every affected US state and every other affected country.

    A country's count is its own entry (``DE=12``) or, without one, the sum of
    its subdivisions' (``CA-QC=3``, ``CA-ON=4``).
    """
    counts = incident.affected_counts
    out: dict[str, int | None] = {f"US-{s}": counts.get(f"US-{s}") for s in incident.us_states}
    out.update({k: n for k, n in counts.items() if k.startswith("US-")})
    countries = {c for c in incident.countries if c != "US"}
    countries |= {k.split("-", 1)[0] for k in counts if not k.startswith("US")}
    for country in sorted(countries):
        subs = [n for k, n in counts.items() if k.startswith(f"{country}-")]
        out[country] = counts.get(country, sum(subs) if subs else None)
    return sorted(out.items())


def _no_rule_entries(incident: Incident, rules: dict[str, Rule]) -> list[Assessment]:
    from .rulecoverage import country_coverage, jurisdiction_name, state_coverage

    out = []
    for code, affected in _affected_jurisdictions(incident):
        try:
            cov = state_coverage(code[3:], rules) if code.startswith("US-") else country_coverage(code, rules)
        except ValueError:
            continue
        if "individuals" in cov.on_file:
            continue
        name = jurisdiction_name(code)
        if name == code:
            from .jurisdictions import countries

            name = countries().get(code, code)
        people = f"{affected} affected" if affected is not None else "people affected: number not recorded"
        out.append(Assessment(
            rule_id=None, applies=True, party="client", state="no_rule", jurisdiction=code, affected=affected,
            reason=f"no rule on file for notice to people in {name} ({code}; {people}): assess its law manually",
        ))
    return out


def assess(store: Store, client: Client, incident: Incident, *,
           submissions: dict[str, tuple[datetime, str]] | None = None,
           ) -> tuple[list[Assessment], list[Obligation], list[InsurancePolicy]]:
    """The verdict for every rule, the obligations that become checklist items, and the policies in force."""
    rules = load_rules()
    submissions = submissions or {}
    at = incident.discovered.at
    policies = insurance.relevant(store.all(InsurancePolicy), client)
    live = [p for p in policies if insurance.in_force(p, client, at)]
    period_day = insurance.policy_day(client, at)
    notices = contract_notices(store.all(Agreement, client_id=client.id), period_day)
    verdicts = applicable(rules, client, incident,
                          msp_policies=[p for p in live if p.owner == "msp"],
                          client_policies=[p for p in live if p.owner == "client"])
    assessment: list[Assessment] = []
    obligations: list[Obligation] = []
    msp_notice_rules = 0
    for verdict in verdicts:
        rule = rules[verdict.rule_id]
        label = "advisory - not in force" if rule.proposed else ("uncertain" if rule.uncertain else None)
        common = dict(rule_id=rule.id, applies=verdict.applies, party=verdict.party, reason=verdict.reason,
                      uncertain=rule.uncertain, label=label, trigger=rule.trigger, unrecorded=list(verdict.unrecorded))
        if not verdict.applies:
            assessment.append(Assessment(**common, state="not_applicable"))
            continue
        start = start_for(rule, incident, submissions)
        # (policy, due, target, basis, waits_for) for each clock this rule has on this incident
        clocks: list[tuple[InsurancePolicy | None, datetime | None, datetime | None, str, str | None]] = []
        pool = _policy_pool(rule, live, client)
        if rule.from_policy and pool and start.at is not None:
            for policy in pool:
                d = insurance.notice_deadline(policy, start.at, start.tz, period_day=period_day)
                warns = insurance.notice_window_warnings(policy, d.due, client)
                basis = _policy_basis(policy, d, start) + "".join(f"; {w}" for w in warns)
                clocks.append((policy, d.due, d.internal_target, basis, None))
        elif rule.trigger == "policy_period_end" and pool:
            for policy in pool:
                end = _period_end_instant(policy, client)
                d = compute(rule, end, client.home_tz, closures=load_closures())
                clocks.append((policy, d.due, d.internal_target,
                               f"{d.basis} — from the end of policy {policy.policy_number}'s period ({policy.period_end})", None))
        elif start.at is None and rule.trigger.startswith("before:"):
            # a precondition: met before the event, no elapsed time counted and nothing to wait for
            clocks.append((None, None, None, f"{start.note}: {rule.standard}", None))
        elif start.at is None:
            basis = _dormant_basis(rule, start) if start.dormant else f"{start.note} (its checklist item marked done, or a notification logged)"
            clocks.append((None, None, None, basis, rule.trigger))
        else:
            d = compute(rule, start.at, start.tz, closures=load_closures())
            due, basis = d.due, _basis(rule, d, start)
            if rule.party == "msp" and rule.duty == MSP_TO_CLIENT_DUTY and notices:
                due, basis = _with_contract(rule, due, basis, notices, incident)
                msp_notice_rules += 1
            target = d.internal_target if due is None or d.internal_target is None or to_utc(d.internal_target) <= to_utc(due) else due
            clocks.append((None, due, target, basis, None))
        for policy, due, target, basis, waits_for in clocks:
            state = "dormant" if start.dormant and due is None and target is None else "applies"
            assessment.append(Assessment(**common, due=due, target=target, basis=basis, state=state,
                                         trigger_at=start.at if start.recorded else None,
                                         policy_id=policy.id if policy else None, waits_for=waits_for))
            if rule.kind not in ("precondition", "deadline_modifier") or start.recorded and rule.kind == "deadline_modifier":
                obligations.append(Obligation(
                    rule.id, rule.obligation, rule.recipient, due, verdict.party, verdict.reason, target,
                    f"{verdict.reason}. Clock: {basis}" if basis else verdict.reason,
                    policy_id=policy.id if policy else None, waits_for=waits_for, flag=_flag(rule),
                    confidence=rule.confidence,
                ))
    if notices and not msp_notice_rules:
        for n in notices:
            due = n.due(incident.discovered.at, incident.discovered.tz)
            rule_id = f"contract.{n.agreement.id}"
            reason = f"{n.ref} requires the MSP to notify the client within {n.period()} of {n.clause.notice.trigger}"
            assessment.append(Assessment(rule_id=rule_id, applies=True, party="msp", state="applies", reason=reason,
                                         due=due, basis=f"contract clause {n.ref}: {n.period()}", trigger=n.clause.notice.trigger))
            obligations.append(Obligation(rule_id, f"Notify {client.name} as {n.ref} requires", client.name, due, "msp",
                                          reason, None, f"{reason}. Clock: {n.period()} from discovery"))
    assessment.extend(_no_rule_entries(incident, rules))
    return assessment, obligations, live


def _no_rule_items(incident: Incident, assessment: list[Assessment]) -> list[ChecklistItem]:
    items = []
    base = (SECTIONS.index("notification") + 1) * 1000 + 900
    for n, a in enumerate((a for a in assessment if a.state == "no_rule"), start=1):
        step = "assess-law-" + re.sub(r"[^a-z0-9]+", "-", a.jurisdiction.lower())
        people = f"{a.affected} affected" if a.affected is not None else "number affected not recorded"
        items.append(ChecklistItem(
            id=f"{incident.id}:{step}", incident_id=incident.id, client_id=incident.client_id, step=step,
            title=f"Assess the law of {a.jurisdiction} manually ({people}): no rule on file"[:500],
            section="notification", order=base + n, basis=a.reason,
        ))
    return items


def plan_checklist(store: Store, client: Client, incident: Incident, *,
                   submissions: dict[str, tuple[datetime, str]] | None = None) -> tuple[Incident, list[ChecklistItem]]:
    """The incident (with its assessment and template stamp) and its checklist items."""
    assessment, obligations, policies = assess(store, client, incident, submissions=submissions)
    template = load_template()
    incident = incident.model_copy(
        update={
            "assessment": assessment,
            "template": {"id": template.id, "version": template.version, "sha256": template.sha256},
            "rules": {"file": "obligations.toml + rules/*.toml", "sha256": _rules_sha256()},
        }
    )
    items = build_items(template, client, incident, obligations, policies) + _no_rule_items(incident, assessment)
    return incident, items


# ---------------------------------------------------------------------------
# Re-planning when facts, triggers or submissions change
# ---------------------------------------------------------------------------


def submissions_of(items: list[ChecklistItem], tz: str) -> dict[str, tuple[datetime, str]]:
    """When each rule's report was actually submitted (its item marked done, as of the time it was done),
    in the incident's zone ``tz`` for counting local dates."""
    out: dict[str, tuple[datetime, str]] = {}
    for item in items:
        if item.rule and item.status == "done" and item.updated_at is not None:
            at = item.updated_at
            if item.rule not in out or to_utc(at) < to_utc(out[item.rule][0]):
                out[item.rule] = (at, tz)
    return out


CLOCK_FIELDS = ("due", "target", "basis", "waits_for", "title", "rule", "policy_id", "section", "order")


def replan(store: Store, incident: Incident, *, why: str, planner=None) -> tuple[Incident, list[ChecklistItem]]:
    """Recompute the assessment and merge the checklist (inside the caller's transaction).

    - a new obligation adds its item;
    - an open or blocked item whose clock moved gets the new clock;
    - an open item that no longer applies is marked not applicable with the
      reason ("facts changed: ...") — never deleted; done and not-applicable
      items stay as they are;
    - the incident's assessment is replaced; the earlier one stays in the
      history (the events), so the dossier can say what was believed when.
    """
    from . import identity

    client = store.get(Client, incident.client_id)
    existing = {i.id: i for i in store.all(ChecklistItem, incident_id=incident.id)}
    if planner is None:
        new_incident, planned = plan_checklist(store, client, incident, submissions=submissions_of(list(existing.values()), incident.discovered.tz))
    else:
        new_incident, planned = planner(store, client, incident)
    store.put_in_transaction(new_incident)
    changed: list[ChecklistItem] = []
    seen = set()
    for item in planned:
        seen.add(item.id)
        old = existing.get(item.id)
        if old is None:
            store.put_in_transaction(item)
            changed.append(item)
            continue
        if old.status not in ("open", "blocked"):
            continue
        update = {f: getattr(item, f) for f in CLOCK_FIELDS if getattr(item, f) != getattr(old, f)}
        if update:
            new = old.model_copy(update=update)
            store.put_in_transaction(new)
            changed.append(new)
    for item_id, old in existing.items():
        if item_id in seen or old.status != "open":
            continue
        retired = old.model_copy(update={
            "status": "not_applicable", "reason": f"facts changed: {why}", "retired_by": "replan",
            "updated_by": identity.person(), "updated_at": datetime.now(tz=ZoneInfo("UTC")),
        })
        store.put_in_transaction(retired)
        changed.append(retired)
    return new_incident, changed


def warm() -> None:
    """Load what the first incident needs (rules, template, closures, the holiday tables).

    The first ``holidays`` lookup imports every country module (~0.1 s): the TUI
    calls this in a worker while the engineer reads the client list, so
    report-breach -> incident does not pay it.
    """
    from .coverage import relevant_items
    from .deadlines import business_day_checker
    from .models import build_validators

    build_validators()
    load_rules()
    load_template()
    load_closures()
    relevant_items("ransomware")
    business_day_checker("us_federal")(date.today())


__all__ = ["Obligation", "assess", "contract_notices", "plan_checklist", "replan", "submissions_of", "warm"]
