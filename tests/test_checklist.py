"""The incident checklist template and the items built from it.

Why these tests: the checklist is what an engineer follows on the worst day of
a client's year. A template typo must fail loudly on load (naming the step),
conditional steps must appear for the right incidents only, and obligation
deadlines must land on the items in due order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from msptui.checklist import SECTIONS, TemplateError, build_items, load_template, notify_step_id
from msptui.errors import UserError
from msptui.models import ChecklistItem, Client, Incident, InsurancePolicy

TEMPLATE_FILE = Path(__file__).resolve().parent.parent / "data" / "checklists" / "incident.toml"

BEC_ONLY = {"con-wire-recall", "con-inbox-rules", "con-oauth-grants", "comm-wire-ic3", "ev-mailbox"}
RANSOM_ONLY = {"ev-ransom-artifacts", "con-protect-backups", "ins-ransom-consent"}


@dataclass
class Obligation:
    rule_id: str
    title: str
    recipient: str | None
    due: datetime | None
    party: str = "client"


@pytest.fixture(scope="module")
def template():
    return load_template()


def make_client(**extra) -> Client:
    return Client.model_validate(
        {"id": "acme", "name": "Acme Clinic", "engagement": "managed", "home_tz": "America/New_York", **extra}
    )


def make_incident(category: str, **extra) -> Incident:
    return Incident.model_validate(
        {
            "id": f"acme-20250310-{category}",
            "client_id": "acme",
            "category": category,
            "summary": "test incident",
            "discovered": {"at": "2025-03-10T14:30:00Z", "tz": "America/New_York"},
            **extra,
        }
    )


def client_cyber(**extra) -> InsurancePolicy:
    return InsurancePolicy.model_validate(
        {
            "id": "acme-cyber-2025",
            "owner": "client",
            "client_id": "acme",
            "type": "cyber",
            "carrier": "Beazley",
            "policy_number": "BZ-123",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "limit_aggregate": 1_000_000,
            "notice": {"kind": "asap", "internal_target_hours": 24},
            "hotline": "555-0100",
            "claims_email": "claims@example.test",
            "prior_consent_required": True,
            **extra,
        }
    )


def msp_eo(**extra) -> InsurancePolicy:
    return InsurancePolicy.model_validate(
        {
            "id": "msp-eo-2025",
            "owner": "msp",
            "type": "tech_eo",
            "carrier": "Hiscox",
            "policy_number": "EO-9",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "limit_aggregate": 2_000_000,
            "notice": {"kind": "asap"},
            **extra,
        }
    )


def steps(items: list[ChecklistItem]) -> set[str]:
    return {i.step for i in items}


# ---------------------------------------------------------------------------
# Template
# ---------------------------------------------------------------------------


def test_template_loads_and_validates(template):
    assert template.id == "incident"
    assert template.version == "1.3.0"
    assert 25 <= len(template.steps) <= 50
    assert len({s.id for s in template.steps}) == len(template.steps)
    assert {s.section for s in template.steps} == set(SECTIONS)
    ranks = [SECTIONS.index(s.section) for s in template.steps]
    assert ranks == sorted(ranks), "steps are listed in section order"
    for step in template.steps:
        assert len(step.title) <= 70 and step.detail and step.source


def test_sha256_is_of_the_file_bytes(template):
    assert template.sha256 == hashlib.sha256(TEMPLATE_FILE.read_bytes()).hexdigest()
    assert template.info() == {"id": "incident", "version": "1.3.0", "sha256": template.sha256}


def test_evidence_rules_are_tied(template):
    rules = {s.id: s.rule for s in template.steps}
    assert rules["ev-m365-audit"] == "ev.m365.audit_standard"
    assert rules["ev-entra-signin"] == "ev.entra.signin_audit"
    assert rules["ev-cloudtrail"] == "ev.aws.cloudtrail_event_history"
    assert rules["ev-google-workspace"] == "ev.google_workspace.audit_logs"
    assert rules["ev-edr-defender"] == "ev.defender_endpoint.advanced_hunting"
    assert rules["ev-edr-other"] == "ev.edr.other_telemetry"
    assert rules["ev-rmm-logs"] == "ev.rmm.activity_logs"
    assert rules["ins-written-notice"] == "ins.cyber.notice_incident"


def test_every_step_rule_is_a_rule_on_file(template):
    from msptui.obligations import load_rules

    rules = load_rules()
    for step in template.steps:
        assert step.rule is None or step.rule in rules, step.id


@pytest.mark.parametrize("policies", [[], "client_cyber"])
def test_ofac_screen_and_law_enforcement_report_do_not_depend_on_insurance(template, policies):
    policies = [client_cyber()] if policies else []
    got = steps(build_items(template, make_client(), make_incident("ransomware"), policies=policies))
    assert {"comm-ofac-screen", "comm-ransomware-report"} <= got
    assert ("ins-ransom-consent" in got) is bool(policies)  # the insurer's consent only with a policy
    extortion = steps(build_items(template, make_client(), make_incident("data_exfiltration")))
    assert "comm-ofac-screen" in extortion and "comm-ransomware-report" not in extortion
    assert not {"comm-ofac-screen", "comm-ransomware-report"} & steps(build_items(template, make_client(), make_incident("bec")))


# ---------------------------------------------------------------------------
# Building items
# ---------------------------------------------------------------------------


def test_ransomware_with_phi_and_client_cyber_policy(template):
    client = make_client(data_held=["phi", "pii"], hipaa_role="covered_entity")
    incident = make_incident("ransomware", data_types=["phi"])
    items = build_items(template, client, incident, policies=[client_cyber(), msp_eo()])
    got = steps(items)
    assert RANSOM_ONLY <= got
    assert {"ev-log", "ev-isolate", "ev-memory", "ev-disk-images", "ev-custody", "ev-legal-hold"} <= got
    assert {"ins-hotline", "ins-written-notice", "ins-consent", "ins-panel", "ins-msp-eo"} <= got
    assert "ntf-hipaa-risk" in got
    assert not got & BEC_ONLY
    assert "ins-no-policy" not in got and "ins-msp-cyber" not in got
    by_step = {i.step: i for i in items}
    assert by_step["ins-hotline"].title == "Call the Beazley breach hotline 555-0100 and log the call"
    assert "claims@example.test" in by_step["ins-written-notice"].title
    assert "Hiscox" in by_step["ins-msp-eo"].title and "EO-9" in by_step["ins-msp-eo"].title
    # evidence in order of volatility: log, isolate, memory, then disk
    order = {i.step: i.order for i in items}
    assert order["ev-log"] < order["ev-isolate"] < order["ev-memory"] < order["ev-disk-images"]
    assert order["ev-disk-images"] < order["con-restore"]


def test_bec_gets_inbox_oauth_and_wire_recall(template):
    items = build_items(template, make_client(), make_incident("bec"))
    got = steps(items)
    assert BEC_ONLY <= got
    assert not got & RANSOM_ONLY
    # no client policy on record: ask for one, no carrier steps
    assert "ins-no-policy" in got and "ins-hotline" not in got


def test_phishing_gets_mailbox_steps_but_not_wire_recall(template):
    got = steps(build_items(template, make_client(), make_incident("phishing")))
    assert {"con-inbox-rules", "con-oauth-grants", "ev-mailbox"} <= got
    assert "con-wire-recall" not in got


def test_flag_and_data_conditions(template):
    plain = steps(build_items(template, make_client(), make_incident("data_exfiltration")))
    assert "ntf-sec-materiality" not in plain and "ntf-ransom-paid" not in plain
    assert "ev-dfars-images" not in plain and "ntf-hipaa-risk" not in plain
    flagged = steps(
        build_items(
            template,
            make_client(public_company=True, data_held=["cui"]),
            make_incident("ransomware", ransom_paid=True),
        )
    )
    # incident lists no data types: the client's data_held is used
    assert {"ntf-sec-materiality", "ntf-ransom-paid", "ev-dfars-images"} <= flagged


def test_lapsed_and_foreign_policies_do_not_match(template):
    lapsed = client_cyber(id="old", period_start="2024-01-01", period_end="2024-12-31")
    other = client_cyber(id="other", client_id="globex")
    got = steps(build_items(template, make_client(), make_incident("ransomware"), policies=[lapsed, other]))
    assert "ins-hotline" not in got and "ins-no-policy" in got


def test_several_matching_policies_repeat_the_step(template):
    second = client_cyber(id="acme-excess", carrier="Coalition", hotline=None, claims_email=None)
    items = build_items(template, make_client(), make_incident("other"), policies=[client_cyber(), second])
    hotline = [i for i in items if i.step.startswith("ins-hotline")]
    assert [i.step for i in hotline] == ["ins-hotline.acme-cyber-2025", "ins-hotline.acme-excess"]
    assert hotline[1].title == "Call the Coalition breach hotline (number not on file) and log the call"
    notice = next(i for i in items if i.step == "ins-written-notice.acme-excess")
    assert notice.title.endswith("the notice address in the policy")


def test_obligations_become_sorted_notification_items(template):
    t0 = datetime(2025, 3, 10, 14, 30, tzinfo=timezone.utc)
    new_york = datetime(2025, 3, 12, 10, 30, tzinfo=timezone(timedelta(hours=-4)))
    obligations = [
        Obligation("us.ny.899_aa.individuals", "Notify affected New York residents", "Individuals", t0 + timedelta(days=30)),
        Obligation("us.ma.93h_3", "Notify the Massachusetts AG and OCABR", "AG", None),
        Obligation("eu.gdpr.art33.sa", "Notify the supervisory authority (GDPR Art. 33)", "SA", new_york),
        Obligation("eu.gdpr.art33_2.processor", "Notify the controller", "Client", t0 + timedelta(hours=24), "msp"),
        Obligation("ev.m365.audit_standard", "Export the unified audit log", None, t0 + timedelta(days=100)),
    ]
    items = build_items(template, make_client(), make_incident("ransomware"), obligations=obligations)
    notif = [i for i in items if i.section == "notification" and i.step.startswith("notify-")]
    assert [i.step for i in notif] == [
        "notify-eu-gdpr-art33_2-processor",
        "notify-eu-gdpr-art33-sa",
        "notify-us-ny-899_aa-individuals",
        "notify-us-ma-93h_3",
    ]
    assert [i.rule for i in notif] == ["eu.gdpr.art33_2.processor", "eu.gdpr.art33.sa", "us.ny.899_aa.individuals", "us.ma.93h_3"]
    assert notif[0].title == "MSP: Notify the controller"
    assert notif[1].due == datetime(2025, 3, 12, 14, 30, tzinfo=timezone.utc)
    assert notif[1].due.utcoffset() == timedelta(0)
    assert notif[-1].due is None
    # a rule tied to a template step gives that step its due instead of a second item
    m365 = next(i for i in items if i.step == "ev-m365-audit")
    assert m365.due == t0 + timedelta(days=100) and m365.rule == "ev.m365.audit_standard"
    assert "notify-ev-m365-audit_standard" not in steps(items)
    # template notification steps first, obligations after them
    section = [i for i in items if i.section == "notification"]
    assert section[0].step == "ntf-assess" and section[-1].step == "notify-us-ma-93h_3"
    # a tied step without a matching obligation has no due
    assert next(i for i in items if i.step == "ev-entra-signin").due is None


def test_naive_obligation_due_is_refused(template):
    bad = Obligation("eu.gdpr.art33.sa", "Notify", None, datetime(2025, 3, 12, 10, 0))
    with pytest.raises(ValueError, match="eu.gdpr.art33.sa"):
        build_items(template, make_client(), make_incident("other"), obligations=[bad])


def test_items_are_valid_records_in_order(template):
    incident = make_incident("credential_compromise")
    items = build_items(template, make_client(), incident, policies=[client_cyber(), msp_eo()])
    for item in items:
        assert ChecklistItem.model_validate(item.model_dump()) == item
        assert item.id == f"{incident.id}:{item.step}"
        assert item.incident_id == incident.id and item.client_id == "acme"
        assert item.status == "open" and item.reason == ""
    assert len({i.id for i in items}) == len(items)
    assert items == sorted(items, key=lambda i: i.order)
    assert [i.section for i in items] == sorted((i.section for i in items), key=SECTIONS.index)


def test_wrong_client_is_refused(template):
    with pytest.raises(ValueError, match="globex"):
        build_items(template, make_client(id="globex"), make_incident("other"))


# ---------------------------------------------------------------------------
# Bad templates
# ---------------------------------------------------------------------------

HEADER = 'id = "incident"\nversion = "1.0.0"\nsource = "test"\n'
GOOD_STEP = '[[steps]]\nid = "ok-step"\nsection = "insurance"\ntitle = "Do a thing"\ndetail = "Why."\nsource = "test"\n'


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(HEADER + GOOD_STEP + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[steps]]\nid = "no-title"\nsection = "evidence"\ndetail = "x"\nsource = "x"\n', "title"),
        ('[[steps]]\nid = "bad-section"\nsection = "cleanup"\ntitle = "T"\ndetail = "x"\nsource = "x"\n', "section"),
        (
            '[[steps]]\nid = "bad-when"\nsection = "evidence"\ntitle = "T"\ndetail = "x"\nsource = "x"\n'
            'when = { cloud = true }\n',
            "unknown key 'when.cloud'",
        ),
        (
            '[[steps]]\nid = "bad-cat"\nsection = "evidence"\ntitle = "T"\ndetail = "x"\nsource = "x"\n'
            'when = { categories = ["ransom"] }\n',
            "when.categories",
        ),
        ('[[steps]]\nid = "long-title"\nsection = "evidence"\ntitle = "' + "x" * 71 + '"\ndetail = "x"\nsource = "x"\n', "70"),
        (
            '[[steps]]\nid = "bad-placeholder"\nsection = "insurance"\ntitle = "Call {carrier}"\ndetail = "x"\nsource = "x"\n',
            "when.policy",
        ),
        ('[[steps]]\nid = "ok-step"\nsection = "evidence"\ntitle = "T"\ndetail = "x"\nsource = "x"\n', "earlier step"),
    ],
)
def test_bad_step_is_rejected_naming_the_step(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(TemplateError) as info:
        load_template(path=path)
    text = str(info.value)
    step_id = body.split('id = "', 1)[1].split('"', 1)[0]
    assert f"step {step_id!r}" in text
    assert message in text
    assert isinstance(info.value, UserError)


def test_section_out_of_order_is_rejected(tmp_path):
    body = '[[steps]]\nid = "late"\nsection = "notification"\ntitle = "T"\ndetail = "x"\nsource = "x"\n'
    body += '[[steps]]\nid = "early"\nsection = "evidence"\ntitle = "T"\ndetail = "x"\nsource = "x"\n'
    with pytest.raises(TemplateError, match="step 'early'.*section order"):
        load_template(path=write(tmp_path, body))


def test_step_without_id_is_named_by_position(tmp_path):
    body = '[[steps]]\nsection = "evidence"\ntitle = "T"\ndetail = "x"\nsource = "x"\n'
    with pytest.raises(TemplateError, match=r"step #2 \(no id\): id"):
        load_template(path=write(tmp_path, body))


def test_good_tmp_template_loads_and_bad_toml_is_reported(tmp_path):
    path = write(tmp_path, "")
    loaded = load_template(path=path)
    assert [s.id for s in loaded.steps] == ["ok-step"]
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text("id = [", encoding="utf-8")
    with pytest.raises(TemplateError, match="not valid TOML"):
        load_template(path=path)
    with pytest.raises(TemplateError, match="not found"):
        load_template(path=tmp_path / "missing.toml")


def test_notify_step_id():
    assert notify_step_id("eu.gdpr.art33.sa") == "notify-eu-gdpr-art33-sa"
