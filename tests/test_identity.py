"""People, not logins: the operator identity every event records beside the OS login."""

from __future__ import annotations

import json

import pytest

from msptui import environment, identity
from msptui.store import Store

from .conftest import client_rec, record_file


def test_operator_set_and_show(cli):
    result = cli("operator", "set", "Dana Reyes <dana@example.net>", "--role", "incident lead", db=None)
    assert result.exit_code == 0, result.output
    shown = json.loads(cli("operator", "show", "--json", db=None).stdout)
    assert shown["name"] == "Dana Reyes" and shown["email"] == "dana@example.net" and shown["role"] == "incident lead"
    assert shown["os_login"] == environment.actor()
    assert (identity.config_path().stat().st_mode & 0o777) == 0o600


def test_bad_operator_is_one_line_and_saves_nothing(cli):
    for bad in ("Dana <not-an-email>", "<dana@example.net>", "Dana\x1b[2J <d@example.net>", ""):
        result = cli("operator", "set", bad, db=None)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, (bad, result.stderr)
    assert not identity.config_path().exists()


def test_events_and_records_name_the_person(cli, db_path, monkeypatch):
    cli("operator", "set", "Dana Reyes <dana@example.net>", db=None)
    assert cli("demo").exit_code == 0
    opened = json.loads(cli("incident", "open", "--client", "lakeshore-cpa", "--discovered", "2026-11-29T10:00",
                            "--category", "phishing", "--summary", "credential phish", "--json").stdout)
    assert cli("note", opened["id"], "called the client").exit_code == 0
    with Store.open(db_path) as store:
        last = list(store.events())[-1]
        assert last.operator == {"name": "Dana Reyes", "email": "dana@example.net"}
        assert last.actor == environment.actor() and last.v == 2
        note = store.conn.execute("SELECT data FROM notes").fetchone()["data"]
    assert json.loads(note)["author"] == "Dana Reyes"


def test_environment_variable_overrides_the_saved_identity(cli, monkeypatch):
    cli("operator", "set", "Dana Reyes", db=None)
    monkeypatch.setenv("MSPTUI_OPERATOR", "Sam Okafor <sam@example.net>")
    assert identity.person() == "Sam Okafor"


def test_without_an_identity_writes_remind_and_record_the_login(cli, db_path):
    result = cli("demo")
    assert result.exit_code == 0 and "no operator name set" in result.stderr
    assert "no operator name set" not in cli("clients").stderr  # reads do not nag
    with Store.open(db_path) as store:
        first = next(store.events())
    assert first.operator is None and first.operator_name() == environment.actor()


def test_a_damaged_identity_file_is_an_error_not_silence(cli):
    identity.config_dir().mkdir(parents=True, exist_ok=True)
    identity.config_path().write_text("{not json")
    result = cli("operator", "show", db=None)
    assert result.exit_code == 1 and "damaged" in result.stderr


def test_operator_set_says_when_the_environment_variable_still_wins(cli, monkeypatch):
    """'operator set' saved one person and 'operator show' then named another (the $MSPTUI_OPERATOR of the
    shell) without a word."""
    monkeypatch.setenv("MSPTUI_OPERATOR", "Sam Okafor <sam@example.net>")
    result = cli("operator", "set", "Dana Reyes <dana@example.net>", db=None)
    assert result.exit_code == 0 and "$MSPTUI_OPERATOR is set (Sam Okafor <sam@example.net>)" in result.stderr
    monkeypatch.delenv("MSPTUI_OPERATOR")
    quiet = cli("operator", "set", "Dana Reyes <dana@example.net>", db=None)
    assert quiet.exit_code == 0 and "MSPTUI_OPERATOR" not in quiet.stderr


@pytest.mark.parametrize("value, message", [
    ("Eve\x1b[2J <eve@example.net>", "control characters"),
    ("Eve\u202eevil <eve@example.net>", "bidi or line-separator"),
    ("Eve\u2028Mallory", "bidi or line-separator"),
])
def test_a_hostile_operator_in_the_environment_is_refused_and_named(cli, db_path, monkeypatch, value, message):
    """$MSPTUI_OPERATOR let a right-to-left override into every event's operator (the argument of 'operator set'
    refuses it), and a refusal did not say it came from the variable."""
    assert cli("import", str(record_file(db_path.parent, clients=[client_rec("acme")]))).exit_code == 0
    monkeypatch.setenv("MSPTUI_OPERATOR", value)
    result = cli("client", "edit", "acme", "--name", "Acme 2")
    assert result.exit_code == 1 and "$MSPTUI_OPERATOR: " in result.stderr and message in result.stderr, result.stderr
    monkeypatch.setenv("MSPTUI_OPERATOR", "Ana\u200dRuiz")  # a joiner, which some scripts need in names, is kept
    assert cli("operator", "show", "--json", db=None).exit_code == 0
