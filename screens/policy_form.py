"""Add or renew an insurance policy: the form behind ``msptui policy add`` / ``policy renew`` (y on a client).

Choosing a policy under "Renews" makes it a renewal: the fields are filled in
from that policy (the next period starts the day after it ends) and whose
policy it is and its type stay as they were. Otherwise it is a new policy,
the client's or the MSP's own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select

from msptui.record_inputs import POLICY_TYPES, PolicyDraft
from screens.formkit import RecordForm, select, value
from screens.widgets import SafeInput

NOTICE = [("within N hours of discovery", "hours"), ("within N days", "days"),
          ("as soon as practicable (N = internal target hours)", "asap")]


def load(store, client_id: str):
    from msptui.records import get_client, policies_for

    return get_client(store, client_id), policies_for(store, client_id)


def add_policy(store, values: dict[str, str]):
    from msptui.records import add_policy as add

    return add(store, draft(values))


def renew_policy(store, renewed: str, values: dict[str, str]):
    from msptui.records import renew_policy as renew

    return renew(store, renewed, draft(values, renewing=True))


def draft(values: dict[str, str], *, renewing: bool = False) -> PolicyDraft:
    """The form's strings as the input model ``policy add`` / ``policy renew`` builds."""
    notice, n = values["notice"], values["notice_n"]
    owner = values["owner"]
    return PolicyDraft(
        client_id=None if renewing or owner != "client" else values["client_id"], msp=not renewing and owner == "msp",
        type=None if renewing else values["type"], carrier=values["carrier"], number=values["number"],
        start=values["start"], end=values["end"], limit=values["limit"], currency=values["currency"],
        retention=values["retention"] or None, notice_hours=n if notice == "hours" else None,
        notice_days=n if notice == "days" else None, notice_asap=notice == "asap",
        target_hours=n if notice == "asap" else None, hotline=values["hotline"] or None,
        claims_email=values["claims_email"] or None)


def policy_label(p: Any) -> str:
    whose = "MSP" if p.owner == "msp" else "client"
    return f"{whose} {p.type} {p.carrier} #{p.policy_number} {p.period_start}..{p.period_end} ({p.id})"


class PolicyScreen(RecordForm):
    TITLE_TEXT = "insurance policy"
    HELP = ("Add an insurance policy (the client's or the MSP's own), or choose one under 'Renews' to record its "
            "renewal for the next period. One notice condition: hours, days, or as soon as practicable with an "
            "internal target. ctrl+s or F10 saves; Esc leaves.")
    FIELDS = ("renews", "owner", "type", "carrier", "number", "start", "end", "limit", "currency", "retention",
              "notice", "notice_n", "hotline", "claims_email")

    def __init__(self, client_id: str, renew_id: str | None = None) -> None:
        super().__init__(client_id)
        self.renew_id = renew_id
        self.policies: list[Any] = []

    def fields(self) -> ComposeResult:
        yield Label("Renews (leave empty for a new policy)")
        yield Select([], prompt="(a new policy, not a renewal)", id="renews", compact=True)
        yield Label("Whose policy / type")
        with Horizontal(classes="row"):
            yield select([("the client's", "client"), ("the MSP's own", "msp")], prompt="whose", id="owner",
                         value="client")
            yield select([(t.replace("_", " "), t) for t in POLICY_TYPES], prompt="type", id="type")
        yield Label("Carrier / policy number")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="carrier", placeholder="insurer")
            yield SafeInput(compact=True, id="number", placeholder="policy number")
        yield Label("Period: from / to (YYYY-MM-DD, both days included)")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="start", placeholder="YYYY-MM-DD")
            yield SafeInput(compact=True, id="end", placeholder="YYYY-MM-DD")
        yield Label("Aggregate limit / currency / retention (e.g. 1M, 1,000,000)")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="limit", placeholder="limit")
            yield SafeInput(compact=True, id="currency", value="USD")
            yield SafeInput(compact=True, id="retention", placeholder="retention")
        yield Label("Notice to the insurer / N")
        with Horizontal(classes="row"):
            yield select(NOTICE, prompt="notice condition", id="notice")
            yield SafeInput(compact=True, id="notice_n", placeholder="N")
        yield Label("Breach hotline / claims email")
        with Horizontal(classes="row"):
            yield SafeInput(compact=True, id="hotline", placeholder="+1 ...")
            yield SafeInput(compact=True, id="claims_email", placeholder="claims@...")

    def on_mount(self) -> None:
        super().on_mount()
        self.say_who("loading client...")
        self.db("context", load, self.client_id)

    def loaded_context(self, value: tuple[Any, list[Any]]) -> None:
        client, self.policies = value
        self.say_who(f"Client: {client.name} ({client.id}). A new policy, or the renewal of one on record.")
        renews = self.query_one("#renews", Select)
        from screens.widgets import lit

        renews.set_options([(lit(policy_label(p), limit=120), p.id) for p in self.policies])
        if self.renew_id and any(p.id == self.renew_id for p in self.policies):
            renews.value = self.renew_id
        self.query_one("#renews", Select).focus()

    def failed_context(self, error: str) -> None:
        self.say_who(f"! {error}")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "renews":
            self.fill_from(event.value if isinstance(event.value, str) else None)

    def fill_from(self, policy_id: str | None) -> None:
        """Renewing: the old policy's terms, the next period; whose and type are the old policy's."""
        old = next((p for p in self.policies if p.id == policy_id), None)
        owner, kind = self.query_one("#owner", Select), self.query_one("#type", Select)
        owner.disabled = kind.disabled = old is not None
        if old is None:
            return
        owner.value, kind.value = old.owner, old.type
        start = old.period_end + timedelta(days=1)
        end = start + (old.period_end - old.period_start)
        notice = old.notice
        filled = {"carrier": old.carrier, "number": old.policy_number, "start": start.isoformat(),
                  "end": end.isoformat(), "limit": f"{old.limit_aggregate:,}", "currency": old.currency,
                  "retention": f"{old.retention:,}" if old.retention else "", "hotline": old.hotline or "",
                  "claims_email": old.claims_email or "",
                  "notice_n": str(notice.hours or notice.days or notice.internal_target_hours or "")}
        for name, text in filled.items():
            self.query_one(f"#{name}", Input).value = text
        self.query_one("#notice", Select).value = "asap" if notice.kind == "asap" else ("hours" if notice.hours else "days")

    def values(self) -> dict[str, str]:
        out = {name: value(self.query_one(f"#{name}")) for name in self.FIELDS}
        out["client_id"] = self.client_id or ""
        return out

    def check(self) -> tuple[Callable[..., Any], tuple]:
        values = self.values()
        if values["renews"]:
            draft(values, renewing=True).parse(renewing=True)
            return renew_policy, (values["renews"], values)
        draft(values).parse()
        return add_policy, (values,)

    def saved(self, outcome: Any) -> None:
        self.app.say(f"policy {outcome.record.id} recorded")  # type: ignore[attr-defined]
        self.app.pop_screen()
