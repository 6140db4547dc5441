"""``msptui edit TYPE ID``: the $EDITOR round trip, driven with EDITOR set to a small script.

The script plays the person at the editor: it saves what the test tells it to
(round by round), and leaves a copy of every file it was shown, so the tests
can read what msptui put in front of the user (the allowed values, the error
at the top of a reopened file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from msptui.cli import main
from msptui.models import Agreement, Client
from msptui.store import Store

EDITOR = r'''
import json, pathlib, sys
path = pathlib.Path(sys.argv[-1])
here = pathlib.Path(__file__).parent
rounds = here / "rounds"
n = int(rounds.read_text()) + 1 if rounds.exists() else 1
rounds.write_text(str(n))
text = path.read_text(encoding="utf-8")
(here / f"shown-{n}.txt").write_text(text, encoding="utf-8")
ACTIONS
'''


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "edit.db"
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes <dana@example.net>")
    with Store.open(path, create=True) as store:
        store.put(Client(id="acme", name="Acme \u202eevil \x1b[31mred", engagement="managed", home_tz="UTC",
                         countries=["US"]))
        store.put(Agreement(id="acme-msa", client_id="acme", type="msa", title="MSA", effective_from="2025-01-01",
                            scope=[{"item": "edr", "state": "included"}]))
    return path


def editor(tmp_path: Path, monkeypatch, actions: str) -> Path:
    """EDITOR = a script running ``actions`` (Python, with ``n`` the round, ``text`` the file, ``path``)."""
    folder = tmp_path / "editor"
    folder.mkdir()
    script = folder / "editor.py"
    script.write_text(EDITOR.replace("ACTIONS", actions), encoding="utf-8")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{script}"')
    return folder


def shown(folder: Path, n: int) -> str:
    return (folder / f"shown-{n}.txt").read_text(encoding="utf-8")


def edit(db: Path, *args: str, answer: str | None = "y\n"):
    return CliRunner().invoke(main, ["--db", str(db), "edit", *args], input=answer, catch_exceptions=False)


def event_count(db: Path) -> int:
    with Store.open(db) as store:
        return store.head()[0]


def test_a_change_is_shown_confirmed_and_recorded_as_one_event(db, tmp_path, monkeypatch):
    folder = editor(tmp_path, monkeypatch, 'path.write_text(text.replace(\'"engagement": "managed"\', '
                                           '\'"engagement": "break_fix"\'), encoding="utf-8")')
    before = event_count(db)
    result = edit(db, "client", "acme")
    assert result.exit_code == 0, result.output
    assert '-  "engagement": "managed",' in result.stdout and '+  "engagement": "break_fix",' in result.stdout
    assert "Record this change to client record acme?" in result.stdout
    with Store.open(db) as store:
        assert store.get(Client, "acme").engagement.value == "break_fix"
        events = list(store.events())
    assert event_count(db) == before + 1 and events[-1].kind == "clients.put" and events[-1].operator_name() == "Dana Reyes"
    file = shown(folder, 1)
    assert "# engagement: one of managed, co_managed, security_only, block_hours,\n  # break_fix" in file
    assert "# Editing client record 'acme'. Lines starting with '#' are ignored." in file


def test_text_is_shown_escaped_and_an_unchanged_save_records_nothing(db, tmp_path, monkeypatch):
    folder = editor(tmp_path, monkeypatch, 'path.write_text(text + "\\n", encoding="utf-8")')
    before = event_count(db)
    result = edit(db, "client", "acme")
    assert result.exit_code == 0 and "no changes: nothing recorded" in result.stdout
    file = shown(folder, 1)
    assert "\u202e" not in file and "\x1b" not in file
    assert '"name": "Acme \\u202eevil \\u001b[31mred"' in file
    assert event_count(db) == before


def test_an_invalid_file_reopens_with_the_error_at_the_top(db, tmp_path, monkeypatch):
    folder = editor(tmp_path, monkeypatch, """
if n == 1:
    path.write_text(text.replace('"state": "included"', '"state": "covered"'), encoding="utf-8")
else:
    path.write_text(text.replace('"state": "covered"', '"state": "excluded"'), encoding="utf-8")
""")
    result = edit(db, "agreement", "acme-msa")
    assert result.exit_code == 0, result.output
    second = shown(folder, 2)
    assert second.startswith("# ERROR: agreement field 'scope.0.state': Input should be 'included', 'excluded'")
    assert '"state": "covered"' in second  # what the user typed is kept, not reset
    with Store.open(db) as store:
        assert store.get(Agreement, "acme-msa").scope[0].state.value == "excluded"


def test_saving_the_invalid_file_again_unchanged_gives_up_and_writes_nothing(db, tmp_path, monkeypatch):
    editor(tmp_path, monkeypatch, """
body = '\\n'.join(l for l in text.splitlines() if not l.startswith('#'))
path.write_text(body.replace('"home_tz": "UTC"', '"home_tz": "Mars/Base"'), encoding="utf-8")
""")
    before = event_count(db)
    result = edit(db, "client", "acme")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: edit abandoned (saved again unchanged), nothing recorded: client record field 'home_tz': "
        "unknown IANA time zone 'Mars/Base'")
    assert event_count(db) == before


@pytest.mark.parametrize("actions, said", [
    ('path.write_text("", encoding="utf-8")', "edit cancelled (the file was emptied): nothing recorded"),
    ("pass", "edit cancelled (the file was not saved): nothing recorded"),
])
def test_emptying_the_file_or_not_saving_cancels(db, tmp_path, monkeypatch, actions, said):
    editor(tmp_path, monkeypatch, actions)
    before = event_count(db)
    result = edit(db, "client", "acme")
    assert result.exit_code == 0 and said in result.stdout
    assert event_count(db) == before


def test_answering_no_records_nothing(db, tmp_path, monkeypatch):
    editor(tmp_path, monkeypatch, 'path.write_text(text.replace(\'"title": "MSA"\', \'"title": "Master"\'), encoding="utf-8")')
    before = event_count(db)
    result = edit(db, "agreement", "acme-msa", answer="n\n")
    assert result.exit_code == 0 and result.stdout.rstrip().endswith("not recorded")
    assert event_count(db) == before


@pytest.mark.parametrize("old, new, error", [
    ('"id": "acme"', '"id": "acme-2"', "id: cannot be changed in an edit (it is 'acme'"),
    ('"US"', '"XX1"', "client record field 'countries.0': String should match pattern"),
    ('"id": "acme",', '"id": "acme", "id": "acme",', "field 'id' appears twice"),
    ('"engagement": "managed"', '"engagement": managed', "not valid JSON (Expecting value)"),
])
def test_changes_an_edit_may_not_make(db, tmp_path, monkeypatch, old, new, error):
    """Each is refused, reopened, and (saved again the same) given up: exit 1, nothing written."""
    body = "'\\n'.join(l for l in text.splitlines() if not l.startswith('#'))"
    editor(tmp_path, monkeypatch, f"body = {body}\n"
                                  f"path.write_text(body if {new!r} in body else body.replace({old!r}, {new!r}), encoding='utf-8')")
    before = event_count(db)
    result = edit(db, "client", "acme")
    assert result.exit_code == 1 and error in result.stderr, result.output
    assert event_count(db) == before


def test_a_record_changed_by_someone_else_meanwhile_is_not_overwritten(db, tmp_path, monkeypatch):
    editor(tmp_path, monkeypatch, f"""
from msptui.store import Store
from msptui.models import Client
with Store.open({str(db)!r}) as store:
    store.put(Client(id="acme", name="Renamed by Sam", engagement="managed", home_tz="UTC"))
path.write_text(text.replace('"industry": null', '"industry": "Dental"'), encoding="utf-8")
""")
    result = edit(db, "client", "acme", "--yes")
    assert result.exit_code == 1 and "was changed by someone else while you edited it" in result.stderr
    with Store.open(db) as store:
        client = store.get(Client, "acme")
    assert (client.name, client.industry) == ("Renamed by Sam", None)


def test_edit_names_the_types_it_accepts(db):
    result = edit(db, "incidents", "x")
    assert result.exit_code == 1
    assert "TYPE: 'incidents' cannot be edited; expected one of: client, agreement, policy, review, risk, msp" in result.stderr
    missing = edit(db, "agreement", "nope")
    assert missing.exit_code == 1 and "ID: no agreement with id 'nope'" in missing.stderr


def test_the_msp_record_is_edited_without_an_id(db, tmp_path, monkeypatch):
    runner = CliRunner()
    assert "create it with msptui msp set" in edit(db, "msp").stderr
    runner.invoke(main, ["--db", str(db), "msp", "set", "--name", "Northwind IT"])
    folder = editor(tmp_path, monkeypatch, """
path.write_text(text.replace('"contacts": []', '"contacts": [{"name": "NOC", "role": "emergency"}]'), encoding="utf-8")
""")
    result = edit(db, "msp", "--yes")
    assert result.exit_code == 0, result.output
    out = json.loads(runner.invoke(main, ["--db", str(db), "msp", "show", "--json"]).stdout)
    assert out["contacts"] == [{"name": "NOC", "role": "emergency", "email": None, "phone": None, "organisation": None}]
    assert '# contacts: a list of {"name": text; "role": one of primary, emergency' in shown(folder, 1)
