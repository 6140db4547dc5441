"""Pilot tests of the record forms at 80x24: new client, agreement, scope editor, signature, business review,
insurance policy. Each form saves one transaction through the same act the CLI command calls, refuses bad
input inline with the command's one-line message (and writes nothing), and shows hostile text literally."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from msptui.models import Agreement, Client, InsurancePolicy, Review, RiskAcceptance
from msptui.record_inputs import AgreementDraft, ClientDraft, SignDraft
from msptui.records import add_agreement, add_client, sign_agreement
from msptui.store import Store
from screens.testing import demo_db, screen_text
from tests.test_tui import SIZE, make_app, run, wait_for, wait_text

HOSTILE = "Acme [/prod] [@click=app.quit]x \x1b[31mred \u202eevil"
SHOWN = "Acme [/prod] [@click=app.quit]x \\x1b[31mred \\u202eevil"
CID = "cove-dental"
TZ = "America/Chicago"


@pytest.fixture(scope="session")
def forms_template(tmp_path_factory) -> Path:
    """The demo portfolio plus a new client with one unsigned MSA."""
    path = demo_db(tmp_path_factory.mktemp("tui-forms") / "forms.db")
    with Store.open(path) as store:
        add_client(store, ClientDraft(id=CID, name="Cove Dental", engagement="break_fix", tz=TZ, countries="US"))
        add_agreement(store, AgreementDraft(client_id=CID, type="msa", title="Master Services Agreement",
                                            effective_from=(today() - timedelta(days=30)).isoformat(), id="cove-msa"))
    return path


@pytest.fixture
def db(forms_template, tmp_path) -> Path:
    target = tmp_path / "tui.db"
    shutil.copy(forms_template, target)
    return target


def today() -> date:
    return datetime.now(ZoneInfo(TZ)).date()


def head(db: Path) -> int:
    with Store.open(db) as store:
        return store.head()[0]


def problem(app) -> str:
    return str(app.screen.query_one("#problem").render())


async def open_client(pilot, cid: str = CID) -> None:
    await wait_for(pilot, lambda: pilot.app.screen.all_rows, what="home rows")
    pilot.app.open_client(cid)
    await wait_text(pilot, "1 AGREEMENTS IN FORCE")


async def settle_form(pilot, loaded) -> None:
    await wait_for(pilot, loaded, what="form loaded")
    await pilot.pause(0.1)


def fill(screen, **values) -> None:
    for name, text in values.items():
        screen.query_one(f"#{name}").value = text


# ---------------------------------------------------------------------------
# new client (home: ctrl+n)
# ---------------------------------------------------------------------------


def test_new_client_form_refuses_inline_then_saves_and_opens_the_client(db):
    from screens.client import ClientScreen
    from screens.client_form import NewClientScreen

    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_for(pilot, lambda: app.screen.all_rows, what="home rows")
            await wait_text(pilot, "^n New")
            await pilot.press("ctrl+n")
            await wait_text(pilot, "Needed: name, id, engagement, home zone")
            form = app.screen
            assert isinstance(form, NewClientScreen)
            await pilot.press(*"Lake Dental")
            assert form.query_one("#id").value == "lake-dental"  # filled in from the name
            before = head(db)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "engagement:" in problem(app), what="engagement refused")
            assert "engagement: give the engagement: one of managed, co_managed, security_only" in problem(app)
            fill(form, engagement="managed", tz="Mars/Base")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "tz: unknown time zone 'Mars/Base'" in problem(app), what="zone refused")
            fill(form, name=HOSTILE)
            await pilot.pause(0.1)  # the id follows the name until it is typed in
            assert form.query_one("#id").value == "acme-prod-click-app.quit-x-31mred-evil"
            fill(form, id="lake-dental", tz=TZ, countries="us, ca", us_states="IL", data_held="phi")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ClientScreen), what="client screen")
            await wait_text(pilot, SHOWN[:30])
            assert app.return_code is None
        with Store.open(db) as store:
            client = store.get(Client, "lake-dental")
            events = list(store.events(after=before))
        assert client.name == HOSTILE and client.countries == ["US", "CA"] and client.data_held == ["phi"]
        assert [e.kind for e in events] == ["clients.put"]
    run(go())


def test_leaving_a_typed_form_asks_first_and_writes_nothing(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.screen.all_rows, what="home rows")
            before = head(db)
            await pilot.press("f7")
            await wait_text(pilot, "Needed: name, id")
            await pilot.press(*"Someone")
            await pilot.press("escape")
            await wait_text(pilot, "Discard this new client? Nothing has been saved.")
            await pilot.press("y")
            await wait_text(pilot, "clients")
        assert head(db) == before
    run(go())


# ---------------------------------------------------------------------------
# the client screen's record menu and palette
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pick, screen", [(0, "AgreementScreen"), (1, "ScopeScreen"), (2, "SignScreen"),
                                          (3, "ReviewScreen"), (4, "PolicyScreen")])
def test_record_menu_opens_each_form(db, pick, screen):
    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await open_client(pilot)
            await wait_text(pilot, "r Record")
            await pilot.press("r")
            await wait_text(pilot, "Record for this client")
            await pilot.press(*["j"] * pick, "enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == screen, what=screen)
            await wait_text(pilot, "Cove Dental")
    run(go())


def test_palette_offers_the_record_forms_on_a_client(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await open_client(pilot)
            await pilot.press("ctrl+p")
            await pilot.press(*"business review")
            await wait_text(pilot, "Record a business review")
            await pilot.press("enter")
            await wait_text(pilot, "Security education given")
    run(go())


# ---------------------------------------------------------------------------
# agreement with clauses (a)
# ---------------------------------------------------------------------------


def test_agreement_form_records_the_agreement_and_its_clauses_in_one_event(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await open_client(pilot)
            await pilot.press("a")
            await wait_text(pilot, "recorded unsigned")
            form = app.screen
            before = head(db)
            fill(form, type="schedule", title=HOSTILE, effective_from="2025-06-01", effective_to="2025-05-01")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "effective-to: 2025-05-01 is before effective-from 2025-06-01" in problem(app),
                           what="range refused")
            assert head(db) == before
            fill(form, effective_to="")
            form.query_one("#parent").value = "cove-msa"
            fill(form, **{"cl1-kind": "security_disclaimer", "cl1-section": "§7.1", "cl1-text": "No guarantee [b]"})
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: form.query("#cl2-kind"), what="second clause row")
            fill(form, **{"cl2-kind": "client_insurance_required", "cl2-section": "§11", "cl2-text": "Cyber cover",
                          "cl2-amount": "1M"})
            await pilot.press("ctrl+s")
            await wait_text(pilot, "1 AGREEMENTS IN FORCE")
        with Store.open(db) as store:
            events = list(store.events(after=before))
            schedule = store.get(Agreement, events[0].payload["id"])
        assert [e.kind for e in events] == ["agreements.put"]
        assert (schedule.title, schedule.type, schedule.parent_id) == (HOSTILE, "schedule", "cove-msa")
        assert [(c.kind, c.section, c.text, c.amount) for c in schedule.clauses] == [
            ("security_disclaimer", "§7.1", "No guarantee [b]", None), ("client_insurance_required", "§11", "Cyber cover", 1_000_000)]
    run(go())


# ---------------------------------------------------------------------------
# scope editor (o)
# ---------------------------------------------------------------------------


def test_scope_editor_sets_states_and_clauses_with_keys_and_saves_once(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await open_client(pilot)
            await pilot.press("o")
            await wait_text(pilot, "items stated")
            text = screen_text(app)
            assert "cove-msa" in text and "GAP" in text and "i incl  x excl" in text
            before = head(db)
            await pilot.press("i", "x", "c")  # rows 1-3; the cursor moves down after each
            await pilot.press("k", "enter")
            await wait_text(pilot, "Clause reference for")
            await pilot.press(*"Sched B s3 [/x]", "enter")
            await wait_text(pilot, "3 unsaved")
            assert "*CLIENT" in screen_text(app) and "Sched B s3 [/x]" in screen_text(app)
            await pilot.press("ctrl+s")
            await wait_text(pilot, "0 unsaved")
        with Store.open(db) as store:
            events = list(store.events(after=before))
            scope = store.get(Agreement, "cove-msa").scope
        assert [e.kind for e in events] == ["agreements.put"]
        assert [(line.item, line.state.value, line.clause) for line in scope] == [
            ("rmm_monitoring", "included", None), ("asset_inventory", "excluded", None),
            ("patch_os", "client_responsibility", "Sched B s3 [/x]")]
    run(go())


def test_scope_editor_is_read_only_on_a_signed_agreement(db):
    with Store.open(db) as store:
        sign_agreement(store, "cove-msa", SignDraft(signed_at=f"{today() - timedelta(days=3)}T10:00", msp=["Pat"],
                                                      client=["Ana"]))

    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await open_client(pilot)
            await pilot.press("o")
            await wait_text(pilot, "choose the agreement whose scope to state")  # no unsigned one to preselect
            app.screen.query_one("#agreement").value = "cove-msa"
            app.screen.query_one("#items").focus()
            await wait_text(pilot, "SIGNED: read only")
            before = head(db)
            await pilot.press("i")
            await wait_text(pilot, "cove-msa is signed: its scope is what was signed")
            await pilot.press("ctrl+s")
            await wait_text(pilot, "nothing to save")
        assert head(db) == before
    run(go())


# ---------------------------------------------------------------------------
# signature (s)
# ---------------------------------------------------------------------------


def test_signature_form_hashes_the_signed_file_and_records_both_sides(db, tmp_path):
    signed = tmp_path / "signed MSA.pdf"
    signed.write_bytes(b"%PDF signed\n" * 50_000)

    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await open_client(pilot)
            await pilot.press("s")
            await settle_form(pilot, lambda: app.screen.client is not None)
            form = app.screen
            assert form.query_one("#agreement").value == "cove-msa"  # the one unsigned agreement is preselected
            before = head(db)
            fill(form, signed_at=f"{today() - timedelta(days=2)}T16:45", msp="Pat Kim, CEO", client=HOSTILE,
                 method="electronic", document=str(tmp_path / "missing.pdf"))
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "document: no such file:" in problem(app), what="missing file refused")
            fill(form, document=str(signed))
            await pilot.press("ctrl+s")
            await wait_text(pilot, "1 AGREEMENTS IN FORCE")
            assert app.return_code is None
        with Store.open(db) as store:
            agreement = store.get(Agreement, "cove-msa")
            events = list(store.events(after=before))
        assert [e.kind for e in events] == ["agreements.put"]
        sig = agreement.signature
        assert sig.status == "signed" and sig.method == "e_signature"
        assert [(s.name, s.title, s.side) for s in sig.signatories] == [("Pat Kim", "CEO", "msp"),
                                                                         (HOSTILE, None, "client")]
        assert agreement.document.sha256 == hashlib.sha256(signed.read_bytes()).hexdigest()
        assert agreement.document.file_name == "signed MSA.pdf"
    run(go())


def test_signing_again_needs_resign_and_hashing_can_be_cancelled(db, tmp_path):
    with Store.open(db) as store:
        sign_agreement(store, "cove-msa", SignDraft(signed_at=f"{today() - timedelta(days=3)}T10:00", msp=["Pat"],
                                                      client=["Ana"]))
    big = tmp_path / "scan.img"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024 ** 3)  # sparse: hashing takes seconds

    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await open_client(pilot)
            await pilot.press("s")
            await settle_form(pilot, lambda: app.screen.client is not None)
            form = app.screen
            form.query_one("#agreement").value = "cove-msa"
            fill(form, signed_at=f"{today() - timedelta(days=1)}T09:00", msp="Pat", client="Ana", document=str(big))
            before = head(db)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "is already signed" in problem(app) and "re-sign (--resign)" in problem(app),
                           what="second signature refused")
            form.query_one("#resign").value = True
            await pilot.press("ctrl+s")
            await wait_text(pilot, "hashing")
            await pilot.press("escape")
            await wait_for(pilot, lambda: not form.hashing, timeout=10, what="hash cancelled")
            assert "cancelled" in problem(app) and "nothing recorded" in problem(app)
        assert head(db) == before
    run(go())


# ---------------------------------------------------------------------------
# business review (v)
# ---------------------------------------------------------------------------


def test_review_form_records_education_recommendations_and_declines(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await open_client(pilot)
            await pilot.press("v")
            await settle_form(pilot, lambda: app.screen.client is not None)
            form = app.screen
            assert form.query_one("#held_on").value == today().isoformat()
            before = head(db)
            fill(form, held_on="2999-01-01")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "held-on: 2999-01-01 is in the future" in problem(app), what="future refused")
            fill(form, held_on=(today() - timedelta(days=3)).isoformat(), attendees_msp="Pat Kim; Lee Park",
                 attendees_client=HOSTILE, minutes="")
            form.query_one("#education").text = f"Phishing of billing staff\n\n{HOSTILE}"
            form.query_one("#topics").text = "Backups"
            fill(form, **{"rec1-item": "mdr_soc", "rec1-decision": "declined", "rec1-text": "Add 24x7 MDR [b]"})
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: form.query("#rec2-item"), what="second recommendation row")
            fill(form, **{"rec2-item": "mfa", "rec2-decision": "accepted", "rec2-text": "MFA on email"})
            await pilot.press("ctrl+n")  # a third row left empty is ignored
            await pilot.press("ctrl+s")
            await wait_text(pilot, "1 AGREEMENTS IN FORCE")
        with Store.open(db) as store:
            events = list(store.events(after=before))
            review = store.get(Review, events[0].payload["id"])
            risk = store.get(RiskAcceptance, events[1].payload["id"])
        assert [e.kind for e in events] == ["reviews.put", "risk_acceptances.put"]  # one transaction
        assert review.attendees_msp == ["Pat Kim", "Lee Park"] and review.attendees_client == [HOSTILE]
        assert review.security_education == ["Phishing of billing staff", HOSTILE] and review.topics == ["Backups"]
        assert [(r.item, r.decision, r.text) for r in review.recommendations] == [
            ("mdr_soc", "declined", "Add 24x7 MDR [b]"), ("mfa", "accepted", "MFA on email")]
        assert (risk.item, risk.decision, risk.review_id, risk.acknowledgement) == ("mdr_soc", "declined", review.id, None)
    run(go())


# ---------------------------------------------------------------------------
# insurance policy (y)
# ---------------------------------------------------------------------------


def test_policy_form_adds_a_policy_then_renews_it(db):
    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await open_client(pilot)
            await pilot.press("y")
            await settle_form(pilot, lambda: "Client: Cove Dental" in screen_text(app))
            form = app.screen
            before = head(db)
            form.query_one("#type").value = "cyber"
            fill(form, carrier=HOSTILE, number="C-1", start="2026-01-01", end="2025-12-31", limit="2M",
                 notice="hours", notice_n="72", hotline="+1 800 555 0100")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "to: 2025-12-31 is before from 2026-01-01" in problem(app), what="refused")
            fill(form, start="2025-01-01")
            await pilot.press("ctrl+s")
            await wait_text(pilot, "1 AGREEMENTS IN FORCE")
            await pilot.press("y")
            await settle_form(pilot, lambda: app.screen.policies)
            form = app.screen
            form.query_one("#renews").value = "cove-dental-cyber-2025"
            await wait_for(pilot, lambda: form.query_one("#start").value == "2026-01-01", what="renewal filled in")
            assert form.query_one("#end").value == "2026-12-31" and form.query_one("#type").disabled
            fill(form, number="C-2")
            await pilot.press("ctrl+s")
            await wait_text(pilot, "1 AGREEMENTS IN FORCE")
        with Store.open(db) as store:
            events = list(store.events(after=before))
            old = store.get(InsurancePolicy, "cove-dental-cyber-2025")
            new = store.get(InsurancePolicy, "cove-dental-cyber-2026")
        assert [e.kind for e in events] == ["policies.put", "policies.put"]
        assert (old.carrier, old.limit_aggregate, old.notice.hours, old.hotline) == (HOSTILE, 2_000_000, 72, "+1 800 555 0100")
        assert (new.carrier, new.policy_number, new.limit_aggregate, new.notice) == (HOSTILE, "C-2", 2_000_000, old.notice)
        assert (new.period_start, new.period_end) == (date(2026, 1, 1), date(2026, 12, 31))
    run(go())


# ---------------------------------------------------------------------------
# attacker-written text through the forms
# ---------------------------------------------------------------------------


def test_hostile_strings_are_stored_exactly_through_a_form_and_listed_literally(db):
    import json

    display = json.loads((Path(__file__).with_name("data") / "hostile.json").read_text(encoding="utf-8"))["display"]
    texts = [s for s in display if s.strip() and "\x00" not in s and "\n" not in s]  # one per line, kept exactly
    with Store.open(db) as store:
        add_agreement(store, AgreementDraft(client_id=CID, type="sow", title=HOSTILE, effective_from="2025-01-01",
                                            id="cove-sow"))

    async def go():
        app = make_app(db)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await open_client(pilot)
            await pilot.press("v")
            await settle_form(pilot, lambda: app.screen.client is not None)
            app.screen.query_one("#education").text = "\n".join(texts)
            before = head(db)
            await pilot.press("ctrl+s")
            await wait_text(pilot, "1 AGREEMENTS IN FORCE")
            with Store.open(db) as store:
                review = store.get(Review, list(store.events(after=before))[0].payload["id"])
            assert review.security_education == texts
            await pilot.press("s")  # the hostile title in the signature form's agreement list
            await settle_form(pilot, lambda: app.screen.client is not None)
            app.screen.query_one("#agreement").value = "cove-sow"
            await wait_text(pilot, "SOW Acme [/prod] [@click=app.quit]x \\x1b[31mred")
            await pilot.press("escape")
            await wait_text(pilot, "1 AGREEMENTS IN FORCE")
            await pilot.press("o")  # and in the scope editor's
            await wait_text(pilot, "items stated")
            app.screen.query_one("#agreement").value = "cove-sow"
            await wait_text(pilot, "SOW Acme [/prod] [@click=app.quit]x \\x1b[31mred")
            assert app.return_code is None
    run(go())
