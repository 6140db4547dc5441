"""From a new incident to its checklist: which obligations apply, their clocks, the steps.

This is where the rules (data/obligations.toml), the client's and MSP's actual
insurance policies and the checklist template (data/checklists/) meet:

1. every rule gets a verdict (applies or not, with a one-line reason) from
   ``applicability``; the verdicts are kept on the incident as its assessment;
2. each applicable rule's clock is computed from the discovery instant in the
   zone it was observed in. Discovery is the earliest trigger any rule uses,
   so counting from it is the conservative reading; the basis says so when the
   rule's own trigger (awareness, determination ...) may come later;
3. each insurance notice step gets the clock of the actual policy on record
   (its notice condition), not the generic rule's, because the policy wording
   is what binds;
4. chained clocks (NIS2 final report, DORA intermediate/final, California AG
   ...) start only when the earlier report is recorded as submitted (the
   checklist item marked done): ``refresh_chained`` sets their due then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .applicability import applicable, policy_deadline
from .closures import load_closures
from .checklist import build_items, load_template, policy_matches
from .deadlines import Deadline, compute
from .models import Assessment, ChecklistItem, Client, Incident, InsurancePolicy
from .obligations import RULES_FILE, Rule, chained_from, get_rule, load_rules, rules_sha256
from .store import Store
from .timeutil import to_utc


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


def _rules_sha256() -> str:
    """The rule set's fingerprint: the index and every rule file it lists (obligations.rules_sha256)."""
    return rules_sha256()


def _basis(rule: Rule, deadline: Deadline) -> str:
    text = deadline.basis
    rule_trigger = rule.trigger
    if rule.kind == "evidence_expiry":
        text += " — counted from discovery: records from before discovery (the attacker's first activity) expire EARLIER, export now"
    elif rule_trigger not in {"discovery", "aware", "processor_aware"} and not rule_trigger.startswith("submitted:"):
        text += f" — counted from discovery; the rule's trigger ({rule_trigger}) may be later: confirm with counsel"
    if deadline.uncertain:
        text += f" [uncertain reading: confidence {deadline.confidence}]"
    if deadline.advisory:
        text += " [advisory: proposed rule, not in force]"
    return text


def _policy_clocks(items: list[ChecklistItem], template, client: Client, incident: Incident,
                   policies: list[InsurancePolicy]) -> list[ChecklistItem]:
    """Give each per-policy notice step the deadline of that actual policy's notice condition.

    The generic ins.* rules say what insurers usually require; the policy on
    record says what this insurer requires, so its clock is the one shown.
    """
    matches = policy_matches(client, incident, policies)
    out = []
    for item in items:
        step = template.step(item.step)
        kind = step.when.policy if step is not None else None
        candidates = matches.get(kind, []) if kind else []
        policy = next((p for p in candidates if item.step.endswith(f".{p.id}")), None)
        if policy is None and len(candidates) == 1:
            policy = candidates[0]
        if policy is None or item.rule not in _POLICY_NOTICE_RULES:
            out.append(item)
            continue
        deadline = policy_deadline(policy, incident.discovered.at, incident.discovered.tz)
        basis = "; ".join([f"policy {policy.policy_number} ({policy.carrier}): {deadline.basis}", *deadline.warnings])
        out.append(item.model_copy(update={"due": deadline.due, "target": deadline.internal_target, "basis": basis}))
    return out


#: template rules whose clock comes from the actual policy on record
_POLICY_NOTICE_RULES = {"ins.cyber.notice_incident", "ins.eo.notice_of_circumstances"}


def _in_force(policy: InsurancePolicy, incident: Incident) -> bool:
    day = incident.discovered.local().date()
    return policy.period_start <= day <= policy.period_end


def assess(store: Store, client: Client, incident: Incident) -> tuple[list[Assessment], list[Obligation], list[InsurancePolicy]]:
    rules = load_rules()
    policies = [p for p in store.all(InsurancePolicy) if p.owner == "msp" or p.client_id == client.id]
    live = [p for p in policies if _in_force(p, incident)]
    msp_policies = [p for p in live if p.owner == "msp"]
    client_policies = [p for p in live if p.owner == "client"]
    verdicts = applicable(rules, client, incident, msp_policies=msp_policies, client_policies=client_policies)
    assessment: list[Assessment] = []
    obligations: list[Obligation] = []
    for verdict in verdicts:
        rule = rules[verdict.rule_id]
        due = target = None
        basis = ""
        uncertain = rule.uncertain
        if verdict.applies and chained_from(rule) is None:
            deadline = compute(rule, incident.discovered.at, incident.discovered.tz, closures=load_closures())
            due, target, basis = deadline.due, deadline.internal_target, _basis(rule, deadline)
        elif verdict.applies:
            basis = f"starts when {chained_from(rule)} is recorded as submitted (its checklist item marked done)"
        label = "advisory - not in force" if rule.proposed else ("uncertain" if uncertain else None)
        assessment.append(
            Assessment(rule_id=rule.id, applies=verdict.applies, party=verdict.party, reason=verdict.reason,
                       due=due, target=target, basis=basis, uncertain=uncertain, label=label)
        )
        if verdict.applies and rule.kind not in ("precondition", "deadline_modifier"):
            obligations.append(
                Obligation(rule.id, rule.obligation, rule.recipient, due, verdict.party, verdict.reason, target, basis)
            )
    return assessment, obligations, live


def _decorate(items: list[ChecklistItem], obligations: list[Obligation]) -> list[ChecklistItem]:
    """Carry each obligation's internal target and basis onto its checklist item."""
    by_rule = {o.rule_id: o for o in obligations}
    rules = load_rules()
    out = []
    for item in items:
        ob = by_rule.get(item.rule or "")
        if ob is not None:
            update = {"target": ob.target, "basis": f"{ob.reason}. Clock: {ob.basis}" if ob.basis else ob.reason}
            rule = rules.get(ob.rule_id)
            if rule is not None and rule.proposed:
                update["title"] = f"ADVISORY (proposed rule, not in force): {item.title}"[:500]
            elif rule is not None and rule.uncertain and rule.id not in _POLICY_NOTICE_RULES:
                update["title"] = f"{item.title} [uncertain: confidence {rule.confidence}]"[:500]
            item = item.model_copy(update=update)
        out.append(item)
    return out


def plan_checklist(store: Store, client: Client, incident: Incident) -> tuple[Incident, list[ChecklistItem]]:
    """The incident (with its assessment and template stamp) and its checklist items."""
    assessment, obligations, policies = assess(store, client, incident)
    template = load_template()
    incident = incident.model_copy(
        update={
            "assessment": assessment,
            "template": {"id": template.id, "version": template.version, "sha256": template.sha256},
            "rules": {"file": RULES_FILE.name, "sha256": _rules_sha256()},
        }
    )
    items = _decorate(build_items(template, client, incident, obligations, policies), obligations)
    return incident, _policy_clocks(items, template, client, incident, policies)


def refresh_chained(store: Store, done: ChecklistItem) -> list[ChecklistItem]:
    """Start the clocks chained to ``done``'s rule from its recorded submission (inside the caller's transaction)."""
    if not done.rule or done.updated_at is None:
        return []
    incident = store.get(Incident, done.incident_id)
    changed = []
    for item in store.all(ChecklistItem, incident_id=done.incident_id):
        if not item.rule or item.status != "open":
            continue
        try:
            rule = get_rule(item.rule)
        except ValueError:
            continue
        if chained_from(rule) != done.rule:
            continue
        deadline = compute(rule, done.updated_at, incident.discovered.tz, closures=load_closures())
        basis = f"{deadline.basis}; chained from the submission of {done.rule} recorded at {to_utc(done.updated_at).isoformat()}"
        updated = item.model_copy(update={"due": deadline.due, "target": deadline.internal_target, "basis": basis})
        store.put_in_transaction(updated)
        changed.append(updated)
    return changed


def warm() -> None:
    """Load what the first incident needs (rules, template, closures, the holiday tables).

    The first ``holidays`` lookup imports every country module (~0.1 s): the TUI
    calls this in a worker while the engineer reads the client list, so
    report-breach -> incident does not pay it.
    """
    from datetime import date as _date

    from .coverage import relevant_items
    from .deadlines import business_day_checker

    load_rules()
    load_template()
    load_closures()
    relevant_items("ransomware")
    business_day_checker("us_federal")(_date.today())
