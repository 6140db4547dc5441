"""The demo portfolio (data/demo.json) is valid, self-consistent import data.

Fast checks only: every record validates against its model, ids are unique,
every reference resolves, every scope item is in the catalogue, and the
declines, reviews and risk acceptances tell one consistent story.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from msptui.models import RECORD_TYPES

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo.json"
CATALOG = ROOT / "data" / "scope-catalog.json"
RECORD_KEYS = ("clients", "agreements", "risk_acceptances", "policies", "reviews")


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dupes = [k for k, n in Counter(keys).items() if n > 1]
    assert not dupes, f"duplicate JSON key(s) {dupes}"
    return dict(pairs)


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)


@pytest.fixture(scope="module")
def models(raw) -> dict:
    return {key: [RECORD_TYPES[key].model_validate(r) for r in raw.get(key, [])] for key in RECORD_TYPES}


@pytest.fixture(scope="module")
def catalog_ids() -> set[str]:
    return {item["id"] for item in json.loads(CATALOG.read_text(encoding="utf-8"))["items"]}


@pytest.fixture(scope="module")
def reference(raw) -> date:
    return date.fromisoformat(raw["reference_date"])


def test_header(raw):
    assert raw["format"] == "msptui"
    assert raw["version"] == 1
    assert raw["reference_date"] == "2026-11-01"
    assert "fictional" in raw["source"]
    assert set(raw) <= {"format", "version", "reference_date", "source", *RECORD_TYPES}
    for key in RECORD_KEYS:
        assert isinstance(raw[key], list) and raw[key], key


def test_every_record_validates(raw, models):
    for key in RECORD_TYPES:
        assert len(models[key]) == len(raw.get(key, []))


def test_records_are_in_model_json_shape(raw, models):
    """The file holds records exactly as model_dump(mode='json') writes them."""
    for key in RECORD_KEYS:
        for record, model in zip(raw[key], models[key]):
            dumped = model.model_dump(mode="json")
            assert set(record) == set(dumped), (key, record["id"])


def test_ids_unique_per_type(models):
    for key, records in models.items():
        counts = Counter(r.id for r in records)
        assert not [i for i, n in counts.items() if n > 1], key
    for review in models["reviews"]:
        ids = [r.id for r in review.recommendations]
        assert len(ids) == len(set(ids)), review.id


def test_references_resolve(models):
    clients = {c.id for c in models["clients"]}
    agreements = {a.id: a for a in models["agreements"]}
    reviews = {r.id: r for r in models["reviews"]}
    for key in ("agreements", "risk_acceptances", "reviews"):
        for record in models[key]:
            assert record.client_id in clients, (key, record.id, record.client_id)
    for policy in models["policies"]:
        if policy.owner == "client":
            assert policy.client_id in clients, policy.id
        else:
            assert policy.client_id is None, policy.id
    seen: set[str] = set()
    for agreement in models["agreements"]:  # file order: parents and superseded versions come first
        for ref in (agreement.parent_id, agreement.supersedes):
            if ref is None:
                continue
            assert ref in agreements, (agreement.id, ref)
            assert ref in seen, f"{agreement.id} refers to {ref}, which comes later in the file"
            assert agreements[ref].client_id == agreement.client_id, (agreement.id, ref)
        if agreement.supersedes:
            old = agreements[agreement.supersedes]
            assert old.type == agreement.type, agreement.id
            assert old.version < agreement.version, agreement.id
            assert old.effective_from < agreement.effective_from, agreement.id
        if agreement.parent_id:
            assert agreements[agreement.parent_id].type == "msa", agreement.id
        seen.add(agreement.id)
    for acceptance in models["risk_acceptances"]:
        if acceptance.review_id is None:
            continue
        review = reviews.get(acceptance.review_id)
        assert review is not None, (acceptance.id, acceptance.review_id)
        assert review.client_id == acceptance.client_id, acceptance.id
        assert review.held_on == acceptance.recommended_on, acceptance.id
        matching = [r for r in review.recommendations if r.item == acceptance.item]
        assert matching, f"{acceptance.id}: review {review.id} has no recommendation on {acceptance.item}"
        assert matching[0].decision == acceptance.decision, acceptance.id
        assert matching[0].decided_on == acceptance.decided_on, acceptance.id


def test_scope_items_are_in_catalogue(models, catalog_ids):
    for agreement in models["agreements"]:
        for line in agreement.scope:
            assert line.item in catalog_ids, (agreement.id, line.item)
    for acceptance in models["risk_acceptances"]:
        assert acceptance.item in catalog_ids, acceptance.id
    for review in models["reviews"]:
        for rec in review.recommendations:
            assert rec.item is None or rec.item in catalog_ids, (review.id, rec.id, rec.item)


def test_declines_point_at_risk_acceptances(models):
    """A declined scope line or recommendation has a risk-acceptance record behind it."""
    acceptances = {(a.client_id, a.item, a.decision) for a in models["risk_acceptances"]}
    by_review = {(a.review_id, a.item) for a in models["risk_acceptances"]}
    for agreement in models["agreements"]:
        for line in agreement.scope:
            if line.state.value == "declined":
                assert (agreement.client_id, line.item, "declined") in acceptances, (agreement.id, line.item)
    for review in models["reviews"]:
        for rec in review.recommendations:
            if rec.decision == "declined":
                assert (review.id, rec.item) in by_review, (review.id, rec.id)
            if rec.decision != "pending":
                assert rec.decided_on is not None and rec.decided_on >= review.held_on, (review.id, rec.id)


def test_past_events_are_not_in_the_future(models, reference):
    def instant_day(value: datetime) -> date:
        return value.date()

    for agreement in models["agreements"]:
        if agreement.signature.signed_at:
            assert instant_day(agreement.signature.signed_at) <= agreement.effective_from + timedelta(days=31), agreement.id
            assert instant_day(agreement.signature.signed_at) <= reference, agreement.id
    for review in models["reviews"]:
        assert review.held_on <= reference, review.id
        for rec in review.recommendations:
            assert rec.decided_on is None or rec.decided_on <= reference, (review.id, rec.id)
    for acceptance in models["risk_acceptances"]:
        assert acceptance.recommended_on <= reference, acceptance.id
        assert acceptance.decided_on is None or acceptance.decided_on <= reference, acceptance.id
        if acceptance.acknowledgement:
            assert instant_day(acceptance.acknowledgement.signed_at) <= reference, acceptance.id
        for again in acceptance.reaffirmations:
            assert acceptance.decided_on and acceptance.decided_on <= again.on <= reference, acceptance.id


def test_hashes_are_lowercase_in_the_file(raw):
    def walk(value):
        if isinstance(value, dict):
            if "sha256" in value:
                assert value["sha256"] == value["sha256"].lower() and len(value["sha256"]) == 64, value
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(raw)


def test_portfolio_covers_the_postures(models):
    clients = {c.id: c for c in models["clients"]}
    assert len(clients) >= 9
    assert all(c.notes.startswith("Posture:") for c in clients.values())
    assert any(c.public_company for c in clients.values())
    assert any(c.nydfs_regulated for c in clients.values())
    assert any(c.nis2_entity and {"DE", "FR"} <= set(c.countries) for c in clients.values())
    assert any(
        c.engagement.value == "co_managed" and "phi" in c.data_held and c.hipaa_role == "covered_entity"
        and {"CA", "TX"} <= set(c.us_states)
        for c in clients.values()
    )
    assert len({c.home_tz for c in clients.values()}) >= 5
    msp = {p.type for p in models["policies"] if p.owner == "msp"}
    assert {"tech_eo", "cyber"} <= msp


def test_clean_client_states_every_security_item(models, reference):
    from msptui.catalog import load_catalog
    from msptui.scope import scope_as_of

    client = next(c for c in models["clients"] if c.id == "lakeshore-cpa")
    scope = scope_as_of(
        client, models["agreements"], reference, acceptances=models["risk_acceptances"], catalog=load_catalog()
    )
    gaps = [s.item for s in scope.values() if s.security_relevant and s.state == "not_addressed"]
    assert gaps == []
    assert all(s.signed for s in scope.values() if s.state != "not_addressed")
    declined = [s for s in scope.values() if s.state == "declined"]
    assert declined and all(s.acceptance_signed for s in declined)


def test_markup_like_text_is_present_once(raw):
    """One harmless string with square brackets, for the UI to show literally."""
    text = json.dumps(raw, ensure_ascii=False)
    assert text.count("[/prod]") == 1


def test_demo_shifts_to_today(raw):
    from msptui.demo import _shift

    shifted = _shift(raw, timedelta(days=100))
    for key in RECORD_KEYS:
        for record in shifted[key]:
            RECORD_TYPES[key].model_validate(record)
    assert shifted["reviews"][0]["held_on"] == (
        date.fromisoformat(raw["reviews"][0]["held_on"]) + timedelta(days=100)
    ).isoformat()


def test_import_validator_accepts_demo(raw):
    import copy

    from msptui.recordfile import validate

    records = validate(DEMO, copy.deepcopy(raw))
    assert len(records) == sum(len(raw.get(k, [])) for k in RECORD_TYPES)


def test_demo_has_a_multi_state_client_whose_breach_runs_the_msps_vendor_clocks(models):
    """Meridian's policyholders span five states: each state's residents' notice and the MSP's own vendor notice apply."""
    from msptui.applicability import applicable
    from msptui.models import Incident, Instant
    from msptui.obligations import load_rules
    from msptui.rulecoverage import state_coverage

    rules = load_rules()
    spanning = [c for c in models["clients"] if len(c.us_states) >= 3]
    assert any(any("vendor" in state_coverage(s).on_file for s in c.us_states) for c in spanning)

    meridian = next(c for c in models["clients"] if c.id == "meridian-insurance")
    assert set(meridian.us_states) == {"NY", "NJ", "CT", "PA", "MA"} and meridian.sectors == ["insurance"]
    incident = Incident(id="meridian-demo-1", client_id=meridian.id, category="ransomware", summary="AMS server encrypted",
                        discovered=Instant(at=datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc), tz="America/New_York"),
                        us_states=list(meridian.us_states), data_types=["pii", "financial"])
    applying = {a.rule_id: a for a in applicable(rules, meridian, incident) if a.applies}

    def states_with(duty: str) -> set[str]:
        return {rules[r].jurisdiction for r in applying if rules[r].duty == duty and rules[r].jurisdiction.startswith("US-")}

    expected = {f"US-{s}" for s in meridian.us_states}
    assert states_with("individuals") == expected
    assert states_with("vendor") == expected
    assert all(applying[r].party == "msp" for r in applying if rules[r].duty == "vendor")
    assert "us.nj.56_8_163.state_police" in applying
    assert "us.ftc.safeguards.314_4j" not in applying  # an insurance broker: state-regulated, not the FTC
