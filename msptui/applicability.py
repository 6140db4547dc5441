"""Which obligations a breach triggers, for the client and for the MSP.

Why it is conservative: missing a clock is worse than showing one too many.
When a fact the rule needs is not yet recorded (the incident's data types,
the states of affected people, a head count, the client's HIPAA role, NIS2 or
DORA status), the rule is shown as applying and the reason says it was
*assumed* ("HIPAA role not recorded: confirm"); an unrecorded value is never
read as "no". An unrecorded sector is the exception that cannot be assumed
for every sector (a dental practice is not taken to be a bank): the rule
applies, assumed, where the facts point at its sector (the free-text
industry, or PHI for the healthcare sectors), and otherwise does not apply
with the reason "client sector not recorded: confirm". Either way the
verdict names the unrecorded client fields (``unrecorded``), so the listing
can say what to record. Facts the record cannot hold at all
(is the incident "significant"? was the data encrypted?) are carried as a
``confirm`` question. Every decision comes with one human-readable line.

The MSP's own clocks (GDPR processor, HIPAA business associate, Florida
third-party agent, Vermont vendor, its E&O notice of circumstances) are
returned with ``party="msp"``.

Pure Python: no textual / weasyprint imports.
"""

from __future__ import annotations

from typing import Iterable, Literal, Mapping

from pydantic import BaseModel, ConfigDict

from .models import RECORDED_NONE, Client, Incident, InsurancePolicy
from .obligations import Applies, Rule

__all__ = ["Applicability", "applicable"]

_DATA_NAMES = {
    "pii": "personal information",
    "phi": "PHI",
    "pci": "payment-card data",
    "financial": "financial data",
    "cui": "CUI (covered defense information)",
    "credentials": "credentials",
    "biometric": "biometric data",
    "children": "children's data",
    "employee": "employee data",
}
_PERSONAL = {"pii", "phi", "pci", "financial", "credentials", "biometric", "children", "employee"}


class Applicability(BaseModel):
    """One rule's verdict for one incident."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    applies: bool
    reason: str
    party: Literal["client", "msp"]
    assumed: bool = False
    confirm: str | None = None
    #: client fields this verdict needed and found not recorded ("hipaa_role", "sectors" ...)
    unrecorded: tuple[str, ...] = ()


class _Check:
    """Accumulates reason fragments; the first failure decides."""

    def __init__(self) -> None:
        self.fragments: list[str] = []
        self.failure: str | None = None
        self.assumed = False
        #: unrecorded client fields taken the conservative way (an applying verdict lists them)
        self.unrecorded: list[str] = []
        #: the unrecorded client field the deciding failure is about (None: a recorded fact decided)
        self.failure_unrecorded: str | None = None

    def unknown(self, field: str) -> None:
        if field not in self.unrecorded:
            self.unrecorded.append(field)

    def ok(self, text: str, assumed: bool = False) -> None:
        self.fragments.append(text)
        self.assumed = self.assumed or assumed

    def fail(self, text: str, unrecorded: str | None = None) -> None:
        if self.failure is None:
            self.failure = text
            self.failure_unrecorded = unrecorded


def _data_words(kinds: Iterable[str]) -> str:
    kinds = list(dict.fromkeys(kinds))
    if set(kinds) >= _PERSONAL:
        return "personal data"
    return ", ".join(_DATA_NAMES.get(k, k) for k in kinds)


def _codes(codes: Iterable[str], limit: int = 4) -> str:
    codes = sorted(set(codes))
    more = f" (+{len(codes) - limit} more)" if len(codes) > limit else ""
    return ", ".join(codes[:limit]) + more


def _incident_states(incident: Incident) -> set[str]:
    keys = {k[3:] for k in incident.affected_counts if k.startswith("US-") and len(k) == 5}
    return set(incident.us_states) | keys


def _check_countries(a: Applies, client: Client, incident: Incident, c: _Check) -> None:
    wanted = set(a.countries_any)
    from_incident, from_client = wanted & set(incident.countries), wanted & set(client.countries)
    if from_incident:
        c.ok(f"incident affects {_codes(from_incident)}")
    elif from_client:
        c.ok(f"client operates in {_codes(from_client)}")
    else:
        c.fail(f"neither client nor incident is in {_codes(wanted)}")


def _check_states(a: Applies, client: Client, incident: Incident, c: _Check) -> None:
    wanted, states = set(a.us_states_any), _incident_states(incident)
    if states:
        hit = wanted & states
        if hit:
            c.ok(f"incident affects {_codes(hit)} residents")
        else:
            c.fail(f"incident affects no {_codes(wanted)} residents")
        return
    hit = wanted & set(client.us_states)
    if hit:
        c.ok(f"incident states not recorded yet; client holds data of {_codes(hit)} residents", assumed=True)
    else:
        c.fail(f"no {_codes(wanted)} residents affected or held by the client")


def _check_data(a: Applies, client: Client, incident: Incident, c: _Check) -> None:
    wanted = list(a.data_any)
    if incident.data_types:
        hit = [k for k in wanted if k in incident.data_types]
        held = [k for k in hit if k in client.data_held]
        if hit and held:
            c.ok(f"client holds {_data_words(held)} and incident involves {_data_words(hit)}")
        elif hit:
            c.ok(f"incident involves {_data_words(hit)}")
        else:
            c.fail(f"incident involves no {_data_words(wanted)}")
        return
    hit = [k for k in wanted if k in client.data_held]
    if hit:
        c.ok(f"incident data types not recorded yet; client holds {_data_words(hit)}", assumed=True)
    else:
        c.fail(f"neither incident nor client involves {_data_words(wanted)}")


def _recorded(value: str | None) -> bool | None:
    """A recorded role or status: True (a value), False ("none"), None (not recorded)."""
    if value is None:
        return None
    return value != RECORDED_NONE


#: the client field behind each flag, and how to say it is not recorded
_FLAG_FIELDS = {
    "dora_entity": ("dora_entity", "DORA status not recorded"),
    "nis2_entity": ("nis2_entity", "NIS2 entity status not recorded"),
    "hipaa_covered_entity": ("hipaa_role", "HIPAA role not recorded"),
    "hipaa_business_associate": ("hipaa_role", "HIPAA role not recorded"),
    "hipaa": ("hipaa_role", "HIPAA role not recorded"),
}


def _flag(client: Client, flag: str) -> tuple[bool | None, str]:
    """Whether a client flag holds (None: the fact is not recorded), and how to say it."""
    if flag == "public_company":
        return client.public_company, "a public company (SEC registrant)"
    if flag == "nydfs_regulated":
        return client.nydfs_regulated, "NYDFS-regulated"
    if flag == "dora_entity":
        holds = _recorded(client.dora_entity)
        return holds, f"a DORA financial entity ({client.dora_entity})" if holds else "a DORA financial entity"
    if flag == "nis2_entity":
        holds = _recorded(client.nis2_entity)
        return holds, f"a NIS2 {client.nis2_entity if holds else 'essential/important'} entity"
    role = client.hipaa_role
    if flag == "hipaa_covered_entity":
        return (None if role is None else role == "covered_entity"), "a HIPAA covered entity"
    if flag == "hipaa_business_associate":
        return (None if role is None else role == "business_associate"), "a HIPAA business associate"
    if flag == "hipaa":
        holds = _recorded(role)
        return holds, f"a HIPAA {role.replace('_', ' ') if holds else 'covered entity or business associate'}"
    raise ValueError(f"unknown client flag {flag!r}")


def _check_flags(a: Applies, client: Client, c: _Check) -> None:
    """A recorded flag decides; an unrecorded one is taken the conservative way (the rule applies) and said so."""
    for flag in a.requires:
        holds, words = _flag(client, flag)
        if holds is None:
            field, missing = _FLAG_FIELDS[flag]
            c.unknown(field)
            c.ok(f"{missing}: confirm (taken as {words}, the conservative reading)", assumed=True)
        elif holds:
            c.ok(f"client is {words}")
        else:
            # role and status fields can say "not recorded"; public_company / nydfs_regulated are yes/no flags
            c.fail(f"client is recorded as not {words}" if flag in _FLAG_FIELDS else f"client is not {words}")
    for flag in a.unless:
        holds, words = _flag(client, flag)
        if holds is None:
            field, missing = _FLAG_FIELDS[flag]
            c.unknown(field)
            c.ok(f"{missing}: confirm (not excluded; excluded if the client is {words})", assumed=True)
        elif holds:
            c.fail(f"excluded because the client is {words}")


#: sectors PHI points at: where PHI is involved and no sector is recorded, their rules stay visible (assumed)
_PHI_SECTORS = ("healthcare", "health_facility")


def _phi_involved(client: Client, incident: Incident) -> bool:
    return "phi" in (incident.data_types or client.data_held)


def _check_industry(a: Applies, client: Client, incident: Incident, c: _Check) -> None:
    """Recorded sectors decide ("none": in none of them); without them the free-text industry, or the PHI
    involved for the healthcare sectors, makes the rule apply, assumed; otherwise the sector is unknown."""
    if client.sectors == [RECORDED_NONE]:
        c.fail("client is recorded as in no regulatory sector (sectors: none)")
        return
    if client.sectors and a.sectors_any:
        hit = next((s for s in client.sectors if s in a.sectors_any), None)
        if hit:
            c.ok(f"client sector {hit.replace('_', ' ')} is covered")
        else:
            c.fail(f"client sectors ({', '.join(client.sectors)}) are not among {', '.join(a.sectors_any)}")
        return
    industry = (client.industry or "").lower()
    hit = next((w for w in a.industries_any if w in industry), None)
    phi_sector = next((s for s in a.sectors_any if s in _PHI_SECTORS), None)
    if client.sectors:  # sectors recorded, but this rule names industries only
        if hit:
            c.ok(f"client industry '{client.industry}' suggests a listed sector ({hit}): confirm", assumed=True)
        else:
            c.fail(f"client industry '{client.industry or 'not recorded'}' is not in a listed sector")
    elif hit:
        c.unknown("sectors")
        c.ok(f"client sector not recorded: confirm (its industry '{client.industry}' suggests a listed sector: {hit})",
             assumed=True)
    elif phi_sector and _phi_involved(client, incident):
        c.unknown("sectors")
        c.ok(f"client sector not recorded: confirm (the PHI involved suggests {phi_sector.replace('_', ' ')})",
             assumed=True)
    else:
        said = f"its industry '{client.industry}' suggests none" if client.industry else "no industry recorded either"
        wanted = ", ".join(s.replace("_", " ") for s in a.sectors_any) or ", ".join(a.industries_any)
        c.fail(f"client sector not recorded: confirm whether it is {wanted} ({said})", unrecorded="sectors")


#: the categories in which extortion is in play by definition
EXTORTION_CATEGORIES = ("ransomware",)


def _check_ransom_in_play(incident: Incident, c: _Check) -> None:
    """Extortion is in play: a ransomware incident, a ransom payment recorded, or its trigger recorded."""
    if incident.category in EXTORTION_CATEGORIES:
        c.ok(f"incident category is {incident.category} (extortion in play)")
    elif incident.ransom_paid:
        c.ok("a ransom payment is recorded")
    elif "ransom_payment" in incident.triggers:
        c.ok("the ransom payment is recorded as a trigger")
    else:
        c.fail(f"no ransom or extortion in play (category {incident.category}, no ransom payment recorded): "
               "applies once one is demanded or paid")


def _affected(incident: Incident, key: str) -> int | None:
    counts = incident.affected_counts
    states = [v for k, v in counts.items() if k.startswith("US-")]
    if key == "any_us_state":
        return max(states) if states else None
    if key == "US" and "US" not in counts:
        return sum(states) if states else None
    return counts.get(key)


def _check_threshold(a: Applies, incident: Incident, c: _Check) -> None:
    key = a.count_key or "US"
    count = _affected(incident, key)
    limits = " and ".join(
        t for t in (f">= {a.affected_min}" if a.affected_min is not None else "",
                    f"<= {a.affected_max}" if a.affected_max is not None else "") if t
    )
    where = "any single US state" if key == "any_us_state" else key
    if count is None:
        c.ok(f"affected count for {where} not recorded; threshold {limits} assumed met", assumed=True)
    elif a.affected_min is not None and count < a.affected_min:
        c.fail(f"{count} affected in {where}, below the threshold ({limits})")
    elif a.affected_max is not None and count > a.affected_max:
        c.fail(f"{count} affected in {where}, above the limit ({limits})")
    else:
        c.ok(f"{count} affected in {where} (threshold {limits})")


def _check_policy(a: Applies, party: str, client: Client, msp_policies: Iterable[InsurancePolicy],
                  client_policies: Iterable[InsurancePolicy], c: _Check) -> None:
    if party == "msp":
        pool = [p for p in msp_policies if p.owner == "msp"]
    else:
        pool = [p for p in client_policies if p.owner == "client" and p.client_id == client.id]
    hit = [p for p in pool if p.type in a.policy_kinds_any]
    owner = "MSP" if party == "msp" else "client"
    kinds = " or ".join(a.policy_kinds_any)
    if hit:
        c.ok(f"{owner} holds a {hit[0].type} policy ({hit[0].carrier} {hit[0].policy_number})")
    else:
        c.fail(f"no {kinds} policy on record for the {owner}")


def _decide(rule: Rule, client: Client, incident: Incident, msp_policies: list[InsurancePolicy],
            client_policies: list[InsurancePolicy]) -> Applicability:
    a, party = rule.applies, rule.applies.party
    c = _Check()
    if party == "msp":
        actor = (rule.actor or "").replace("_", " ")
        c.ok(f"MSP's own clock as {actor}" if actor and "msp" not in actor else "MSP's own clock")
    if a.requires or a.unless:
        _check_flags(a, client, c)
    if a.countries_any:
        _check_countries(a, client, incident, c)
    if a.us_states_any:
        _check_states(a, client, incident, c)
    if a.data_any:
        _check_data(a, client, incident, c)
    if a.categories_any:
        (c.ok if incident.category in a.categories_any else c.fail)(
            f"incident category is {incident.category}" if incident.category in a.categories_any
            else f"incident category {incident.category} is not {' or '.join(a.categories_any)}")
    if a.industries_any or a.sectors_any:
        _check_industry(a, client, incident, c)
    if a.ransom_paid:
        c.ok("a ransom payment is recorded") if incident.ransom_paid else c.fail("no ransom payment recorded")
    if a.ransom_in_play:
        _check_ransom_in_play(incident, c)
    if a.msp_caused:
        (c.ok("the MSP's own systems or staff were the vector") if incident.msp_caused
         else c.fail("the incident is not recorded as caused by the MSP"))
    if a.count_key:
        _check_threshold(a, incident, c)
    if a.policy_kinds_any:
        _check_policy(a, party, client, msp_policies, client_policies, c)
    if party == "msp" and incident.msp_caused and not a.msp_caused:
        c.ok("incident is recorded as caused by the MSP")
    return _verdict(rule, c)


def _verdict(rule: Rule, c: _Check) -> Applicability:
    party = rule.applies.party
    suffix = f" ({rule.regime}{'; advisory - not in force' if rule.proposed else ''})"
    if c.failure is not None:
        unrecorded = (c.failure_unrecorded,) if c.failure_unrecorded else ()
        return Applicability(rule_id=rule.id, applies=False, reason=c.failure + suffix, party=party,
                             unrecorded=unrecorded)
    unrecorded = tuple(c.unrecorded)
    reason = " and ".join(c.fragments) or "applies to every incident"
    if c.assumed:
        reason += " [assumed: confirm the missing facts]"
    confirm = rule.applies.confirm
    if confirm:
        reason += f"; confirm: {confirm}"
    return Applicability(rule_id=rule.id, applies=True, reason=reason + suffix, party=party,
                         assumed=c.assumed, confirm=confirm, unrecorded=unrecorded)


def applicable(
    rules: Mapping[str, Rule] | Iterable[Rule],
    client: Client,
    incident: Incident,
    *,
    msp_policies: Iterable[InsurancePolicy] = (),
    client_policies: Iterable[InsurancePolicy] = (),
) -> list[Applicability]:
    """A verdict (applies or not, with a one-line reason) for every rule, in rule order."""
    values = list(rules.values()) if isinstance(rules, Mapping) else list(rules)
    msp, own = list(msp_policies), list(client_policies)
    return [_decide(rule, client, incident, msp, own) for rule in values]
