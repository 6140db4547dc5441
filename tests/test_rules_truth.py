"""What the rules, clocks and records say must be what is known: a verdict or a default never passes for a
fact, an unknown fact is shown as unknown, and a rule not in force carries no clock. Driven through the CLI
as a user types it (README "Keeping the record")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from msptui.obligations import load_rules

TZ = "America/Chicago"


def ok(result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def refused(result) -> str:
    """A one-line refusal, exit 1."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("msptui: database")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def recent(hours: int = 2) -> str:
    """A local time a little in the past, as typed (no offset)."""
    from zoneinfo import ZoneInfo

    return (datetime.now(timezone.utc) - timedelta(hours=hours)).astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------------------
# 7. `rules` says each rule's source quality and when it was checked
# ---------------------------------------------------------------------------


def test_rules_text_shows_source_quality_and_checked_on(cli):
    out = ok(cli("rules", db=None))
    rules = load_rules()
    for rule in (rules["us.hipaa.164_404.individuals"], rules["ins.cyber.proof_of_loss"], rules["us.circia.incident"]):
        lines = out.splitlines()
        at = next(n for n, line in enumerate(lines) if line.startswith(rule.id + " "))
        block = "\n".join(lines[at:at + 4])
        assert f"{rule.source_quality} source" in block
        assert f"checked {rule.checked_on.isoformat()}" in block
    assert out.count(" source, checked ") == len(rules)


def test_rules_json_is_unchanged_by_the_text_output(cli):
    rows = json.loads(ok(cli("rules", "--json", db=None)))
    assert {"source_quality", "checked_on", "confidence", "citation"} <= set(rows[0])
