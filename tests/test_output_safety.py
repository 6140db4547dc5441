"""Output that cannot be spoofed: every human-readable line, error and JSON document shows record text literally.

Each test plants attacker-written text where the CLI prints it and checks
that no control, bidi or line-separator character reaches the terminal raw,
and that no field can print a line of its own.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from msptui.errors import UserError
from msptui.recordfile import import_file

from .conftest import client_rec, record_file

SPOOF = "ALL STEPS DONE - NOTHING OVERDUE"
RAW = ["\x1b", "\r", "\x07", "\x85", "\u202e", "\u2028", "\u2029", "\x9b"]


def _incident_records(section: str = "general", title: str = "Call the insurer", item_id: str = "inc-1:call") -> dict:
    return {
        "clients": [client_rec("acme")],
        "incidents": [{"id": "inc-1", "client_id": "acme", "category": "ransomware", "summary": "boom",
                       "discovered": {"at": "2025-06-10T14:30:00Z", "tz": "America/New_York"}}],
        "checklist_items": [{"id": item_id, "incident_id": "inc-1", "client_id": "acme", "step": "call",
                             "title": title, "section": section, "order": 1}],
    }


def _no_raw_controls(text: str) -> None:
    for ch in RAW:
        assert ch not in text, f"{ch!r} reached the terminal raw"


def test_checklist_section_cannot_clear_the_screen_or_print_its_own_line(cli, tmp_path):
    hostile = f"\x1b[2J\x1b[H\n{SPOOF}\r\u2028{SPOOF}"
    cli("import", str(record_file(tmp_path, **_incident_records(section=hostile, title=f"t\n{SPOOF}"))))
    result = cli("checklist", "inc-1", "--by-section")
    assert result.exit_code == 0, result.stderr
    _no_raw_controls(result.stdout)
    lines = result.stdout.splitlines()
    assert SPOOF not in [line.strip() for line in lines], "a record field printed a line of its own"
    assert any("\\x1b[2J\\x1b[H\\x0a" + SPOOF.upper() in line for line in lines)


def test_verify_tampered_message_cannot_be_overwritten_by_a_planted_id(cli, tmp_path, db_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    planted = "x\r\x1b[2KOK: 1 events, chain intact, records match; head 00\n"
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("INSERT INTO notes (id, client_id, incident_id, data, event_id) VALUES (?, 'acme', NULL, '{}', 1)", (planted,))
    conn.close()
    result = cli("verify")
    assert result.exit_code == 1
    assert result.stdout == ""
    _no_raw_controls(result.stderr)
    (line,) = [ln for ln in result.stderr.splitlines() if not ln.startswith("msptui: database")]
    assert line.startswith("TAMPERED: ") and "record notes/x\\x0d\\x1b[2KOK:" in line


def test_json_output_escapes_c1_bidi_and_line_separators(cli, tmp_path):
    name = "Acme \x85next \u202eevil \u2028sep \u2029para \x9b31m \u200bzw \x7fdel"
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme", name=name)])))
    result = cli("clients", "--json")
    _no_raw_controls(result.stdout)
    assert "\u200b" not in result.stdout and "\x7f" not in result.stdout
    assert "\\u202e" in result.stdout and "\\u2028" in result.stdout and "\\u0085" in result.stdout
    assert json.loads(result.stdout)[0]["name"] == name, "the escapes decode to the exact name"


def test_json_output_keeps_ordinary_non_ascii_readable(cli, tmp_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme", name="Zahnärzte Müller 東京")])))
    out = cli("clients", "--json").stdout
    assert "Zahnärzte Müller 東京" in out


def test_every_human_line_of_show_is_one_line(cli, tmp_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme", name=f"Acme\n{SPOOF}\r\x1b]0;title\x07")])))
    out = cli("show", "acme").stdout
    _no_raw_controls(out)
    assert SPOOF not in [line.strip() for line in out.splitlines()]


def test_error_messages_are_one_escaped_line(cli, tmp_path):
    result = cli("show", f"nobody\x1b[2J\n{SPOOF}")
    assert result.exit_code in (1, 2)
    _no_raw_controls(result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_errors_are_one_line_and_escape_the_value(cli):
    result = cli("incident", "open", "--client", "acme", "--discovered", "2025-01-01T10:00Z", "--summary", "x",
                 "--category", f"nope\u202e\x9b")
    assert result.exit_code == 1, "an unknown category is bad input, exit 1"
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "--category" in line and "--help" in line
    _no_raw_controls(result.stderr)
    extra = cli("clients", f"extra\x1b[2J{SPOOF}\n")
    assert extra.exit_code == 2 and len(extra.stderr.strip().splitlines()) == 1
    _no_raw_controls(extra.stderr)
# ---------------------------------------------------------------------------
# ids, slugs and zones
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["acme\n", "acme\r", "ACME", "acme corp", "-acme"])
def test_slug_matches_the_whole_string(store, tmp_path, bad):
    with pytest.raises(UserError, match="field 'id'"):
        import_file(store, record_file(tmp_path, clients=[client_rec(bad)]))


@pytest.mark.parametrize("bad", ["inc-1:call\n", "inc-1:call\r\x1b[2K", "inc 1", "inc-1:\u202ecall", "inc-1/../x", ":call"])
def test_free_form_ids_are_limited_to_a_safe_character_set(store, tmp_path, bad):
    with pytest.raises(UserError, match="field 'id'") as exc:
        import_file(store, record_file(tmp_path, **_incident_records(item_id=bad)))
    assert "\n" not in str(exc.value)
    assert store.count("checklist_items") == 0


def test_generated_ids_stay_within_the_safe_set(store, tmp_path):
    from msptui.incidents import add_note

    import_file(store, record_file(tmp_path, **_incident_records(item_id="inc-1:call.policy_x-2")))
    note = add_note(store, "inc-1", "text")
    assert note.id == "inc-1:note-1"


@pytest.mark.parametrize("zone", ["localtime", "posix/Europe/Berlin", "right/UTC", "right/America/New_York", "posixrules"])
def test_machine_dependent_and_leap_second_zones_are_refused(store, tmp_path, cli, zone):
    from msptui.timeutil import TimeError, get_zone

    with pytest.raises(TimeError, match="not allowed"):
        get_zone(zone)
    with pytest.raises(UserError, match="home_tz"):
        import_file(store, record_file(tmp_path, clients=[client_rec("acme", home_tz=zone)]))
    result = cli("deadline", "--rule", "eu.gdpr.art33.sa", "--trigger", "2025-06-10T09:00", "--tz", zone)
    assert result.exit_code == 1 and "not allowed" in result.stderr


# ---------------------------------------------------------------------------
# clients --csv and its round trip through import
# ---------------------------------------------------------------------------

CSV_NAMES = [
    "\r=1+1", "\n=HYPERLINK(\"http://x\")", "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tTAB",
    "'quoted", "''twice", "'=already", "plain, with comma", 'say "hi"', "mid\rline", "two\nlines", "Zahnärzte",
    # an ANSI sequence in a name was stripped from the CSV by click.echo when stdout was not a terminal
    "Clear\x1b[2Jscreen", "\x1b[31mred\x1b[0m", "Title\x1b]0;pwned\x07", "A\u202eB",
]


def test_csv_quotes_cr_and_lf_so_no_row_is_smuggled(cli, tmp_path):
    import csv
    import io

    cli("import", str(record_file(tmp_path, clients=[client_rec(f"c{i:02d}", name=n) for i, n in enumerate(CSV_NAMES)])))
    out = cli("clients", "--csv").stdout
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert len(rows) == 1 + len(CSV_NAMES), "a cell started a row of its own"
    assert all(len(r) == len(rows[0]) for r in rows)
    by_id = {r[0]: r[1] for r in rows[1:]}
    assert by_id["c00"] == "'\r=1+1" and by_id["c01"].startswith("'\n")
    for cell in by_id.values():  # nothing a spreadsheet would evaluate
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
    assert '"\'\r=1+1"' in out, "a cell with a carriage return is quoted"


def test_csv_round_trip_through_import_keeps_names_exact(cli, tmp_path):
    from msptui.models import Client
    from msptui.store import Store

    first = tmp_path / "first.db"
    second = tmp_path / "second.db"
    cli("import", str(record_file(tmp_path, clients=[client_rec(f"c{i:02d}", name=n) for i, n in enumerate(CSV_NAMES)])), db=first)
    exported = tmp_path / "clients.csv"
    exported.write_bytes(cli("clients", "--csv", db=first).stdout.encode("utf-8"))
    result = cli("import", str(exported), db=second)
    assert result.exit_code == 0, result.stderr
    with Store.open(second) as store:
        names = {c.id: c.name for c in store.all(Client)}
    assert names == {f"c{i:02d}": n for i, n in enumerate(CSV_NAMES)}


def test_csv_on_a_terminal_shows_escapes_instead_of_driving_it(cli, tmp_path, monkeypatch):
    """Piped or redirected, the CSV is exact (above); printed on a terminal, its control characters are escaped."""
    import sys

    cli("import", str(record_file(tmp_path, clients=[client_rec("c1", name="Clear\x1b[2Jscreen\u202e")])))
    from click.testing import CliRunner

    from msptui.cli import main

    class Tty:
        def isatty(self):
            return True

    runner = CliRunner()
    with runner.isolation() as (out, _err, *_):
        monkeypatch.setattr(sys.stdout, "isatty", Tty().isatty, raising=False)
        try:
            main.main(["--db", str(tmp_path / "msptui.db"), "clients", "--csv"], standalone_mode=False)
        finally:
            monkeypatch.undo()
        text = out.getvalue().decode("utf-8")
    assert "\x1b" not in text and "\u202e" not in text
    assert "Clear\\x1b[2Jscreen\\u202e" in text
