"""From an incident's facts to its assessment, clocks and checklist: computed once, then recorded.

This is where the rules (data/obligations.toml), the client's and MSP's actual
insurance policies and the checklist template (data/checklists/) meet, and
it is the only place a clock is computed for an incident. The result is
stored (the assessment on the incident, each clock on its checklist item),
so the CLI, the TUI and the dossier all show the same instants, and the
dossier can say what the team was told at the time.

1. every rule gets a verdict (applies or not, with a one-line reason) from
   ``applicability``; policies count only if ``insurance.in_force`` at
   discovery (the one definition of "in force");
2. each applicable rule's clock is computed from the discovery instant in the
   zone it was observed in. Discovery is the earliest trigger any rule uses,
   so counting from it is the conservative reading; the basis says so when the
   rule's own trigger (awareness, determination ...) may come later;
3. a rule marked ``from_policy`` (insurer notice) gets one clock per matching
   policy, from that policy's own notice condition: the policy wording is what
   binds. The assessment entry and the checklist item share it;
4. chained clocks (NIS2 final report, DORA intermediate/final, California AG
   ...) wait (``waits_for = "submitted:<rule>"``) until the earlier report is
   recorded as submitted; ``refresh_chained`` starts them then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import insurance
from .applicability import applicable
from .closures import load_closures
from .checklist import build_items, load_template
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
    policy_id: str | None = None
    waits_for: str | None = None
    #: "advisory" (proposed rule, not in force) or "uncertain" (confidence below high): said in the item's title
    flag: str | None = None
    confidence: str = "high"


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


def _policy_basis(policy: InsurancePolicy, deadline: Deadline) -> str:
    return "; ".join([f"policy {policy.policy_number} ({policy.carrier}): {deadline.basis}", *deadline.warnings])


def _policy_pool(rule: Rule, live: list[InsurancePolicy], client: Client) -> list[InsurancePolicy]:
    """The party's in-force policies of the kinds the rule names (the MSP's for an MSP rule)."""
    kinds = set(rule.applies.policy_kinds_any)
    if rule.party == "msp":
        return [p for p in live if p.owner == "msp" and p.type in kinds]
    return [p for p in live if p.owner == "client" and p.client_id == client.id and p.type in kinds]


def _flag(rule: Rule) -> str | None:
    if rule.proposed:
        return "advisory"
    if rule.uncertain and not rule.from_policy:
        return "uncertain"
    return None


def assess(store: Store, client: Client, incident: Incident) -> tuple[list[Assessment], list[Obligation], list[InsurancePolicy]]:
    """The verdict for every rule, the obligations that become checklist items, and the policies in force."""
    rules = load_rules()
    at, tz = incident.discovered.at, incident.discovered.tz
    policies = insurance.relevant(store.all(InsurancePolicy), client)
    live = [p for p in policies if insurance.in_force(p, client, at)]
    period_day = insurance.policy_day(client, at)
    verdicts = applicable(rules, client, incident,
                          msp_policies=[p for p in live if p.owner == "msp"],
                          client_policies=[p for p in live if p.owner == "client"])
    assessment: list[Assessment] = []
    obligations: list[Obligation] = []
    for verdict in verdicts:
        rule = rules[verdict.rule_id]
        label = "advisory - not in force" if rule.proposed else ("uncertain" if rule.uncertain else None)
        common = dict(rule_id=rule.id, applies=verdict.applies, party=verdict.party, reason=verdict.reason,
                      uncertain=rule.uncertain, label=label)
        # (policy, due, target, basis, waits_for) for each clock this rule has on this incident
        clocks: list[tuple[InsurancePolicy | None, datetime | None, datetime | None, str, str | None]] = []
        if not verdict.applies:
            clocks.append((None, None, None, "", None))
        elif rule.from_policy and _policy_pool(rule, live, client):
            for policy in _policy_pool(rule, live, client):
                d = insurance.notice_deadline(policy, at, tz, period_day=period_day)
                clocks.append((policy, d.due, d.internal_target, _policy_basis(policy, d), None))
        elif chained_from(rule) is not None:
            clocks.append((None, None, None,
                           f"starts when {chained_from(rule)} is recorded as submitted (its checklist item marked done)",
                           rule.trigger))
        else:
            d = compute(rule, at, tz, closures=load_closures())
            clocks.append((None, d.due, d.internal_target, _basis(rule, d), None))
        for policy, due, target, basis, waits_for in clocks:
            assessment.append(Assessment(**common, due=due, target=target, basis=basis,
                                         policy_id=policy.id if policy else None, waits_for=waits_for))
            if verdict.applies and rule.kind not in ("precondition", "deadline_modifier"):
                obligations.append(Obligation(
                    rule.id, rule.obligation, rule.recipient, due, verdict.party, verdict.reason, target,
                    f"{verdict.reason}. Clock: {basis}" if basis else verdict.reason,
                    policy_id=policy.id if policy else None, waits_for=waits_for, flag=_flag(rule),
                    confidence=rule.confidence,
                ))
    return assessment, obligations, live


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
    return incident, build_items(template, client, incident, obligations, policies)


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
        updated = item.model_copy(update={"due": deadline.due, "target": deadline.internal_target, "basis": basis,
                                          "waits_for": None})
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
