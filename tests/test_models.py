"""Strict validation: records that would mislead a reader are refused."""

import pytest
from pydantic import ValidationError

from msptui.models import Agreement, Client, InsurancePolicy, RiskAcceptance, Signature

from .conftest import SIGNED, client_rec


def test_client_accepts_a_plain_record():
    c = Client.model_validate(client_rec(us_states=["CA"], data_held=["phi"]))
    assert c.engagement.value == "managed" and c.review_cadence_days == 90


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"home_tz": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"engagement": "free_lunch"}, "engagement"),
        ({"id": "Bad Id!"}, "lower-case"),
        ({"surprise": 1}, "Extra inputs"),
        ({"name": "a\x00b"}, "NUL"),
        ({"us_states": ["California"]}, "pattern"),
    ],
)
def test_client_refuses_bad_fields(change, fragment):
    with pytest.raises(ValidationError) as exc:
        Client.model_validate({**client_rec(), **change})
    assert fragment in str(exc.value)


def test_signed_needs_date_and_both_sides():
    with pytest.raises(ValidationError, match="needs signed_at"):
        Signature(status="signed", signatories=SIGNED["signatories"])
    with pytest.raises(ValidationError, match="each side"):
        Signature(status="signed", signed_at="2025-01-01T00:00:00Z", signatories=[{"name": "x", "side": "msp"}])
    assert Signature.model_validate(SIGNED).signed_at.tzinfo is not None


def test_instants_must_carry_an_offset():
    with pytest.raises(ValidationError, match="UTC offset"):
        Signature.model_validate({**SIGNED, "signed_at": "2025-01-02T10:00:00"})
    sig = Signature.model_validate({**SIGNED, "signed_at": "2025-01-02T10:00:00-05:00"})
    assert sig.signed_at.isoformat() == "2025-01-02T15:00:00+00:00"


def test_agreement_dates_and_duplicate_items():
    base = {"id": "m", "client_id": "acme", "type": "msa", "title": "MSA", "effective_from": "2025-01-01"}
    with pytest.raises(ValidationError, match="before effective_from"):
        Agreement.model_validate({**base, "effective_to": "2024-12-31"})
    with pytest.raises(ValidationError, match="twice"):
        Agreement.model_validate({**base, "scope": [{"item": "mfa", "state": "included"}, {"item": "mfa", "state": "excluded"}]})
    with pytest.raises(ValidationError, match="state"):
        Agreement.model_validate({**base, "scope": [{"item": "mfa", "state": "maybe"}]})


def test_policy_owner_rules():
    base = {
        "id": "p", "owner": "client", "type": "cyber", "carrier": "C", "policy_number": "1",
        "period_start": "2026-01-01", "period_end": "2026-12-31", "limit_aggregate": 1000000,
        "notice": {"kind": "fixed", "hours": 72},
    }
    with pytest.raises(ValidationError, match="needs client_id"):
        InsurancePolicy.model_validate(base)
    with pytest.raises(ValidationError, match="hours or days"):
        InsurancePolicy.model_validate({**base, "client_id": "acme", "notice": {"kind": "fixed"}})
    with pytest.raises(ValidationError, match="period_end"):
        InsurancePolicy.model_validate({**base, "client_id": "acme", "period_end": "2025-01-01"})


def test_risk_acceptance_decision_needs_date():
    base = {"id": "r", "client_id": "acme", "item": "mdr_soc", "recommendation": "Buy MDR", "recommended_on": "2026-01-10"}
    with pytest.raises(ValidationError, match="needs decided_on"):
        RiskAcceptance.model_validate({**base, "decision": "declined"})
    with pytest.raises(ValidationError, match="before recommended_on"):
        RiskAcceptance.model_validate({**base, "decision": "declined", "decided_on": "2026-01-01"})
