"""Typed navigation messages: a screen asks the app to show another screen; no screen imports another.

Posted from a screen, they bubble to ``MspApp`` (screens/shell.py), the one
place that knows every screen class.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.message import Message


class OpenClient(Message):
    """Show a client's liability picture; ``highlight`` = (section, record or scope item) to mark;
    ``replace`` swaps it for the current screen (the new-client form)."""

    def __init__(self, client_id: str, *, highlight: tuple[str, str | None] | None = None, at: datetime | None = None,
                 replace: bool = False) -> None:
        super().__init__()
        self.client_id = client_id
        self.highlight = highlight
        self.at = at
        self.replace = replace


class OpenIncident(Message):
    """Show an incident; ``view`` (an IncidentView already read) saves a second read; ``replace``
    swaps it for the current screen (the breach form)."""

    def __init__(self, incident_id: str, *, view: Any = None, replace: bool = False) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.view = view
        self.replace = replace


class ReportBreach(Message):
    def __init__(self, client_id: str) -> None:
        super().__init__()
        self.client_id = client_id


class NewClient(Message):
    """Open the new-client form."""


class RecordForClient(Message):
    """Open one of a client's record forms: ``form`` is agreement, review, signature, scope or policy;
    ``record_id`` preselects the agreement (signature, scope) or the policy to renew."""

    FORMS = ("agreement", "review", "signature", "scope", "policy")

    def __init__(self, client_id: str, form: str, record_id: str | None = None) -> None:
        super().__init__()
        if form not in self.FORMS:
            raise ValueError(f"unknown form {form!r}")
        self.client_id = client_id
        self.form = form
        self.record_id = record_id
